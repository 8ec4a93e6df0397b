//! TcpClient over real loopback sockets: resolution, fall-through, the dual-stack race,
//! timeouts, and source binding.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cyclone::iostream::StreamError;
use cyclone::netutil::Family;
use cyclone::netutil::{OverrideResolver, ResolveError};
use cyclone::tcpclient::{ConnectError, ConnectOptions, TcpClient};
use support::net::{StubResolver, free_port, refusing_address};
use support::wait::WAIT;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn listener(ip: &str) -> TcpListener {
    TcpListener::bind((ip, 0)).await.unwrap()
}

/// An IPv6 loopback listener, or `None` (and the test is skipped, or under CI fails) where
/// `::1` is unavailable.
async fn v6_listener() -> Option<TcpListener> {
    support::deps::require_ipv6_loopback()?;
    Some(TcpListener::bind("[::1]:0").await.unwrap())
}

/// A loopback listener whose accept queue is full and never drained: on Linux, further SYNs
/// are dropped, so a connect to it hangs. The returned values must be kept alive.
struct BlackHole {
    /// The listener with backlog 0, never accepted from.
    _listener: socket2::Socket,
    /// The connection that fills the accept queue.
    _filler: std::net::TcpStream,
    /// Where connects hang.
    address: SocketAddr,
}

/// A hanging address on `ip`, or `None` (and the test is skipped, or under CI fails) where
/// the platform answers a full accept queue some other way.
fn black_hole(ip: &str) -> Option<BlackHole> {
    use socket2::{Domain, Socket, Type};
    let bind: SocketAddr = SocketAddr::new(ip.parse().unwrap(), 0);
    let listener = Socket::new(Domain::for_address(bind), Type::STREAM, None).unwrap();
    listener.bind(&bind.into()).unwrap();
    listener.listen(0).unwrap();
    let address = listener.local_addr().unwrap().as_socket().unwrap();
    let filler = std::net::TcpStream::connect_timeout(&address, WAIT).unwrap();
    // Probe: if a second connect completes, this platform does not black-hole.
    match std::net::TcpStream::connect_timeout(&address, Duration::from_millis(300)) {
        Err(error) if error.kind() == std::io::ErrorKind::TimedOut => Some(BlackHole {
            _listener: listener,
            _filler: filler,
            address,
        }),
        other => support::deps::missing(
            &format!("a loopback whose full accept queue drops connects ({other:?})"),
            "run on Linux, where it does",
        ),
    }
}

/// Accepts one connection and returns the client's address as the server sees it.
async fn accept_peer(listener: &TcpListener) -> SocketAddr {
    let (_stream, peer) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .expect("a connection arrived within the limit")
        .unwrap();
    peer
}

/// Whether a connection is waiting on `listener` right now, without waiting for one.
async fn has_pending(listener: &TcpListener) -> bool {
    tokio::time::timeout(Duration::from_millis(200), listener.accept())
        .await
        .is_ok()
}

async fn connect(
    client: &TcpClient,
    host: &str,
    port: u16,
    options: &ConnectOptions,
) -> Result<cyclone::iostream::IoStream<tokio::net::TcpStream>, ConnectError> {
    tokio::time::timeout(WAIT * 2, client.connect_with(host, port, options))
        .await
        .expect("connect finished within the limit")
}

#[actix_rt::test]
async fn connects_to_an_ip_literal_and_exchanges_bytes() {
    let server = listener("127.0.0.1").await;
    let server_address = server.local_addr().unwrap();
    let client = TcpClient::new();
    let mut stream = connect(
        &client,
        "127.0.0.1",
        server_address.port(),
        &ConnectOptions::new(),
    )
    .await
    .unwrap();
    let (mut accepted, peer) = tokio::time::timeout(WAIT, server.accept())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap(), server_address);
    assert_eq!(stream.local_addr().unwrap(), peer);

    accepted.write_all(b"hello\n").await.unwrap();
    let line = tokio::time::timeout(WAIT, stream.read_until(b"\n", None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&line[..], b"hello\n");

    tokio::time::timeout(WAIT, stream.write(&b"ping\n"[..]))
        .await
        .unwrap()
        .unwrap();
    let mut received = [0u8; 5];
    tokio::time::timeout(WAIT, accepted.read_exact(&mut received))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&received, b"ping\n");
}

#[actix_rt::test]
async fn max_buffer_size_limits_the_resulting_stream() {
    let server = listener("127.0.0.1").await;
    let port = server.local_addr().unwrap().port();
    let client = TcpClient::new();
    let options = ConnectOptions::new().max_buffer_size(16);
    let mut stream = connect(&client, "127.0.0.1", port, &options).await.unwrap();
    let (mut accepted, _) = tokio::time::timeout(WAIT, server.accept())
        .await
        .unwrap()
        .unwrap();
    accepted.write_all(&[b'x'; 64]).await.unwrap();
    match tokio::time::timeout(WAIT, stream.read_until(b"\n", None))
        .await
        .unwrap()
    {
        Err(StreamError::BufferFull(full)) => assert_eq!(full.limit, 16),
        other => panic!("expected BufferFull, got {other:?}"),
    }
}

#[actix_rt::test]
async fn connects_to_localhost_through_the_default_resolver() {
    let v4 = listener("127.0.0.1").await;
    let port = v4.local_addr().unwrap().port();
    // localhost may resolve to ::1 first; listen there too on the same port if we can.
    let v6 = TcpListener::bind(("::1", port)).await.ok();
    let client = TcpClient::new();
    let _stream = connect(&client, "localhost", port, &ConnectOptions::new())
        .await
        .unwrap();
    let accepted = async {
        match &v6 {
            Some(v6) => tokio::select! {
                peer = v4.accept() => peer.unwrap().1,
                peer = v6.accept() => peer.unwrap().1,
            },
            None => v4.accept().await.unwrap().1,
        }
    };
    let peer = tokio::time::timeout(WAIT, accepted).await.unwrap();
    assert!(peer.ip().is_loopback());
}

#[actix_rt::test]
async fn override_resolver_pins_a_fake_host() {
    let server = listener("127.0.0.1").await;
    let port = server.local_addr().unwrap().port();
    let client = TcpClient::with_resolver(OverrideResolver::new().map_host_port(
        "example.test",
        80,
        "127.0.0.1",
        port,
    ));
    let _stream = connect(&client, "example.test", 80, &ConnectOptions::new())
        .await
        .unwrap();
    accept_peer(&server).await;
}

#[actix_rt::test]
async fn refused_connect_names_the_address() {
    let dead = refusing_address("127.0.0.1");
    let client = TcpClient::new();
    match connect(&client, "127.0.0.1", dead.port(), &ConnectOptions::new()).await {
        Err(ConnectError::Io { address, source }) => {
            assert_eq!(address, dead);
            assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
        }
        other => panic!("expected a refused Io error, got {other:?}"),
    }
}

#[actix_rt::test]
async fn a_failed_address_falls_through_to_the_next() {
    let dead = refusing_address("127.0.0.1");
    let server = listener("127.0.0.1").await;
    let live = server.local_addr().unwrap();
    let client = TcpClient::with_resolver(StubResolver::Answers(vec![dead, live]));
    let _stream = connect(&client, "anything", 0, &ConnectOptions::new())
        .await
        .unwrap();
    accept_peer(&server).await;
}

#[actix_rt::test]
async fn when_every_address_fails_the_last_one_is_named() {
    let first = refusing_address("127.0.0.1");
    let last = refusing_address("127.0.0.1");
    let client = TcpClient::with_resolver(StubResolver::Answers(vec![first, last]));
    match connect(&client, "anything", 0, &ConnectOptions::new()).await {
        Err(ConnectError::Io { address, .. }) => assert_eq!(address, last),
        other => panic!("expected an Io error, got {other:?}"),
    }
}

#[actix_rt::test]
async fn no_addresses_is_its_own_error() {
    let client = TcpClient::with_resolver(StubResolver::Answers(Vec::new()));
    match connect(&client, "nowhere.test", 7, &ConnectOptions::new()).await {
        Err(ConnectError::NoAddresses { host, port }) => {
            assert_eq!((host.as_str(), port), ("nowhere.test", 7));
        }
        other => panic!("expected NoAddresses, got {other:?}"),
    }
}

#[actix_rt::test]
async fn a_resolve_failure_is_reported_as_such() {
    let client = TcpClient::new();
    let options = ConnectOptions::new().family(Family::V6);
    match connect(&client, "127.0.0.1", 80, &options).await {
        Err(ConnectError::Resolve { host, source, .. }) => {
            assert_eq!(host, "127.0.0.1");
            assert!(matches!(source, ResolveError::NotFound { .. }));
        }
        other => panic!("expected a Resolve error, got {other:?}"),
    }
}

#[actix_rt::test]
async fn a_hanging_connect_times_out() {
    let Some(hole) = black_hole("127.0.0.1") else {
        return;
    };
    let client = TcpClient::new();
    let options = ConnectOptions::new().timeout(Duration::from_millis(300));
    let started = Instant::now();
    match connect(&client, "127.0.0.1", hole.address.port(), &options).await {
        Err(ConnectError::Timeout { host, port, after }) => {
            assert_eq!((host.as_str(), port), ("127.0.0.1", hole.address.port()));
            assert_eq!(after, Duration::from_millis(300));
        }
        other => panic!("expected a Timeout, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[actix_rt::test]
async fn the_timeout_covers_resolution_too() {
    let client = TcpClient::with_resolver(StubResolver::Silent);
    let options = ConnectOptions::new().timeout(Duration::from_millis(200));
    match connect(&client, "slow.test", 80, &options).await {
        Err(ConnectError::Timeout { host, port, .. }) => {
            assert_eq!((host.as_str(), port), ("slow.test", 80));
        }
        other => panic!("expected a Timeout, got {other:?}"),
    }
}

#[actix_rt::test]
async fn a_hanging_primary_loses_to_the_secondary_after_the_delay() {
    let Some(v6) = v6_listener().await else {
        return;
    };
    let Some(hole) = black_hole("127.0.0.1") else {
        return;
    };
    let live = v6.local_addr().unwrap();
    let client = TcpClient::with_resolver(StubResolver::Answers(vec![hole.address, live]));
    let options = ConnectOptions::new()
        .secondary_delay(Duration::from_millis(200))
        .timeout(WAIT);
    let started = Instant::now();
    let _stream = connect(&client, "dual.test", 0, &options).await.unwrap();
    // The secondary waited for its delay: the race did not start both at once.
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(accept_peer(&v6).await.is_ipv6());
}

#[actix_rt::test]
async fn a_hanging_v6_primary_loses_to_a_v4_secondary() {
    let Some(hole) = (match v6_listener().await {
        Some(_) => black_hole("::1"),
        None => None,
    }) else {
        return;
    };
    let server = listener("127.0.0.1").await;
    let live = server.local_addr().unwrap();
    let client = TcpClient::with_resolver(StubResolver::Answers(vec![hole.address, live]));
    let options = ConnectOptions::new().secondary_delay(Duration::from_millis(100));
    let _stream = connect(&client, "dual.test", 0, &options).await.unwrap();
    assert!(accept_peer(&server).await.is_ipv4());
}

#[actix_rt::test]
async fn a_failed_primary_starts_the_secondary_without_waiting() {
    let Some(v6) = v6_listener().await else {
        return;
    };
    let dead = refusing_address("127.0.0.1");
    let live = v6.local_addr().unwrap();
    let client = TcpClient::with_resolver(StubResolver::Answers(vec![dead, live]));
    // If the race waited out this delay, the overall timeout would fire first.
    let options = ConnectOptions::new()
        .secondary_delay(Duration::from_secs(60))
        .timeout(WAIT);
    let _stream = connect(&client, "dual.test", 0, &options).await.unwrap();
    assert!(accept_peer(&v6).await.is_ipv6());
}

#[actix_rt::test]
async fn any_failure_starts_the_secondary_while_primaries_remain() {
    let Some(v6) = v6_listener().await else {
        return;
    };
    let Some(hole) = black_hole("127.0.0.1") else {
        return;
    };
    let dead = refusing_address("127.0.0.1");
    let live = v6.local_addr().unwrap();
    // Tornado's rule: the first failure is a sign the primary family is broken, so the
    // secondary starts at once even though another primary (here a hanging one) is in flight.
    let client = TcpClient::with_resolver(StubResolver::Answers(vec![dead, hole.address, live]));
    let options = ConnectOptions::new()
        .secondary_delay(Duration::from_secs(60))
        .timeout(WAIT);
    let _stream = connect(&client, "dual.test", 0, &options).await.unwrap();
    assert!(accept_peer(&v6).await.is_ipv6());
}

#[actix_rt::test]
async fn a_working_primary_wins_and_the_secondary_is_never_tried() {
    let Some(v6) = v6_listener().await else {
        return;
    };
    let v4 = listener("127.0.0.1").await;
    let addresses = vec![v4.local_addr().unwrap(), v6.local_addr().unwrap()];
    let client = TcpClient::with_resolver(StubResolver::Answers(addresses));
    let options = ConnectOptions::new().secondary_delay(Duration::from_secs(60));
    let _stream = connect(&client, "dual.test", 0, &options).await.unwrap();
    assert!(accept_peer(&v4).await.is_ipv4());
    assert!(!has_pending(&v6).await, "the secondary was tried");
}

#[actix_rt::test]
async fn every_address_of_both_families_failing_is_an_error() {
    let Some(_v6) = v6_listener().await else {
        return;
    };
    let dead4 = refusing_address("127.0.0.1");
    let dead6 = refusing_address("::1");
    let client = TcpClient::with_resolver(StubResolver::Answers(vec![dead4, dead6]));
    match connect(&client, "dual.test", 0, &ConnectOptions::new()).await {
        Err(ConnectError::Io { address, .. }) => {
            assert!(address == dead4 || address == dead6, "named {address}");
        }
        other => panic!("expected an Io error, got {other:?}"),
    }
}

#[actix_rt::test]
async fn source_port_is_what_the_peer_sees() {
    let server = listener("127.0.0.1").await;
    let port = server.local_addr().unwrap().port();
    let source_port = free_port();
    let client = TcpClient::new();
    let options = ConnectOptions::new().source_port(source_port);
    let _stream = connect(&client, "127.0.0.1", port, &options).await.unwrap();
    assert_eq!(accept_peer(&server).await.port(), source_port);
}

#[actix_rt::test]
async fn source_ip_is_what_the_peer_sees_and_picks_the_family() {
    let server = listener("127.0.0.1").await;
    let port = server.local_addr().unwrap().port();
    // 127.0.0.2 is loopback on Linux (127/8); the peer must see it rather than 127.0.0.1.
    let source_ip = "127.0.0.2".parse().unwrap();
    let client = TcpClient::new();
    let options = ConnectOptions::new().source_ip(source_ip);
    let _stream = connect(&client, "localhost", port, &options).await.unwrap();
    assert_eq!(accept_peer(&server).await.ip(), source_ip);
}
