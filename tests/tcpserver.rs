//! TcpServer over real sockets: echo under load over two workers, the spread of connections,
//! `max_connections`, the registry (counts, notify_all, close_all), panics, the
//! `ServeConnection` hook and `bind_sockets`.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::Duration;

use actix::prelude::*;
use cyclone::iostream::IoStream;
use cyclone::netutil::{DEFAULT_BACKLOG, Family, bind_sockets};
use cyclone::tcpserver::{
    ConnectionControl, ConnectionInfo, ConnectionSlot, Delivery, ServeConnection, StreamFactory,
    TcpServer,
};
use dashmap::DashMap;
use support::lines::{LineClient, echo};
use support::servers::{listen_tcp, start_tcp};
use support::wait::{self, WAIT};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

#[actix_rt::test]
async fn a_thousand_clients_over_two_workers_all_get_their_bytes_back() {
    let workers: Arc<DashMap<ThreadId, usize>> = Arc::default();
    let seen = workers.clone();
    let mut server = TcpServer::new(move |stream: IoStream<TcpStream>, info: ConnectionInfo| {
        *seen.entry(std::thread::current().id()).or_default() += 1;
        echo(stream, info)
    });
    let addr = start_tcp(&mut server, 2);

    let clients = (0..1000).map(|index| async move {
        let mut client = LineClient::connect(addr).await;
        let line = format!("client {index} says hello\n");
        assert_eq!(client.exchange(&line).await, line);
    });
    timeout(Duration::from_secs(60), futures::future::join_all(clients))
        .await
        .expect("1000 echoes did not finish in 60 s");

    let counts: Vec<usize> = workers.iter().map(|entry| *entry.value()).collect();
    assert_eq!(counts.iter().sum::<usize>(), 1000);
    assert_eq!(counts.len(), 2, "connections went to {counts:?} workers");
    assert!(
        counts.iter().all(|&count| count >= 100),
        "SO_REUSEPORT should spread connections: {counts:?}"
    );
    assert!(server.registry().wait_empty(WAIT).await);
}

#[actix_rt::test]
async fn at_max_connections_the_next_client_is_served_only_after_one_closes() {
    let mut server = TcpServer::new(echo).max_connections(2);
    let addr = start_tcp(&mut server, 2);

    let mut first = LineClient::connect(addr).await;
    let mut second = LineClient::connect(addr).await;
    assert_eq!(first.exchange("one\n").await, "one\n");
    assert_eq!(second.exchange("two\n").await, "two\n");

    // The third connect succeeds (the kernel completes it) but nobody serves it yet.
    let mut third = LineClient::connect(addr).await;
    third.send(b"three\n").await;
    let mut early = String::new();
    let served_early = timeout(
        Duration::from_millis(500),
        third.stream.read_line(&mut early),
    )
    .await;
    assert!(served_early.is_err(), "served past the limit: {early:?}");
    assert_eq!(server.registry().len(), 2);

    drop(first);
    assert_eq!(third.line().await, "three\n");
    assert_eq!(second.exchange("still here\n").await, "still here\n");
    assert_eq!(server.registry().len(), 2);
}

/// Echoes lines and writes every String notification to the client.
async fn echo_and_relay(mut stream: IoStream<TcpStream>, mut info: ConnectionInfo) {
    loop {
        tokio::select! {
            line = stream.read_until(b"\n", None) => match line {
                Ok(line) => {
                    if stream.write(line).await.is_err() {
                        break;
                    }
                }
                Err(_) => break,
            },
            Some(note) = info.next_notification() => {
                let text = note.downcast_ref::<String>().cloned().unwrap_or_default();
                if stream.write(text).await.is_err() {
                    break;
                }
            }
        }
    }
}

#[actix_rt::test]
async fn the_registry_counts_notifies_and_closes_every_connection() {
    let mut server = TcpServer::new(echo_and_relay);
    let addr = start_tcp(&mut server, 2);
    let registry = server.registry().clone();

    let mut clients = Vec::new();
    for index in 0..10 {
        let mut client = LineClient::connect(addr).await;
        assert_eq!(
            client.exchange(&format!("{index}\n")).await,
            format!("{index}\n")
        );
        clients.push(client);
    }
    assert_eq!(registry.len(), 10);
    let mut peers: Vec<SocketAddr> = registry.summaries().iter().map(|s| s.peer).collect();
    let mut client_addrs: Vec<SocketAddr> = clients
        .iter()
        .map(|client| client.stream.get_ref().local_addr().unwrap())
        .collect();
    peers.sort();
    client_addrs.sort();
    assert_eq!(peers, client_addrs);

    let delivery = registry.notify_all(Arc::new("news\n".to_string()));
    assert_eq!(
        delivery,
        Delivery {
            delivered: 10,
            dropped: 0
        }
    );
    for client in &mut clients {
        assert_eq!(client.line().await, "news\n");
    }

    assert_eq!(registry.close_all(), 10);
    for client in &mut clients {
        assert!(client.sees_close().await, "a client was not closed");
    }
    assert!(registry.wait_empty(WAIT).await);
    assert!(registry.is_empty());
}

/// Echoes, never reading its notifications.
async fn echo_ignoring_notifications(stream: IoStream<TcpStream>, info: ConnectionInfo) {
    echo(stream, info).await
}

#[actix_rt::test]
async fn notifications_beyond_the_inbox_bound_are_dropped_and_counted() {
    let factory = StreamFactory::new(echo_ignoring_notifications).inbox_capacity(2);
    let mut server = TcpServer::with_factory(factory);
    let addr = start_tcp(&mut server, 1);
    let mut client = LineClient::connect(addr).await;
    assert_eq!(client.exchange("up\n").await, "up\n");

    let registry = server.registry().clone();
    for round in 0..5 {
        let delivery = registry.notify_all(Arc::new(round));
        // Five messages fit the actor's mailbox (16); the bound that bites is the inbox.
        assert_eq!(
            delivery,
            Delivery {
                delivered: 1,
                dropped: 0
            }
        );
    }
    // Two fit the unread inbox; the actor drops and counts the other three.
    wait::until("three dropped notifications", || {
        registry.dropped_notifications() == 3
    })
    .await;
    assert_eq!(client.exchange("still echoing\n").await, "still echoing\n");
}

#[actix_rt::test]
async fn a_panicking_handler_closes_its_connection_and_the_worker_serves_on() {
    let mut server = TcpServer::new(
        |mut stream: IoStream<TcpStream>, _info: ConnectionInfo| async move {
            while let Ok(line) = stream.read_until(b"\n", None).await {
                if &line[..] == b"panic\n" {
                    panic!("the client asked for it");
                }
                if stream.write(line).await.is_err() {
                    break;
                }
            }
        },
    );
    let addr = start_tcp(&mut server, 1);

    let mut bystander = LineClient::connect(addr).await;
    assert_eq!(bystander.exchange("before\n").await, "before\n");
    let mut victim = LineClient::connect(addr).await;
    victim.send(b"panic\n").await;
    assert!(victim.sees_close().await);
    assert_eq!(bystander.exchange("after\n").await, "after\n");
    let mut newcomer = LineClient::connect(addr).await;
    assert_eq!(newcomer.exchange("new\n").await, "new\n");
    let registry = server.registry().clone();
    wait::until("the panicked connection leaves the registry", || {
        registry.len() == 2
    })
    .await;
}

#[actix_rt::test]
async fn listen_serves_on_the_current_loop() {
    let server_thread = std::thread::current().id();
    let mut server = TcpServer::new(move |stream: IoStream<TcpStream>, info: ConnectionInfo| {
        assert_eq!(std::thread::current().id(), server_thread);
        echo(stream, info)
    });
    let mut client = LineClient::connect(listen_tcp(&mut server)).await;
    assert_eq!(client.exchange("here\n").await, "here\n");
}

/// A connection actor of our own, through the `ServeConnection` hook: greets with its
/// connection id and closes on `Close`.
struct Greeter {
    /// Kept so the slot drops (deregisters) with the actor.
    slot: ConnectionSlot,
    /// Written once in `started`, then held until closed.
    stream: Option<TcpStream>,
}

impl Actor for Greeter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.slot.register(ctx.address().recipient());
        let greeting = format!("hello {}\n", self.slot.id());
        if let Some(stream) = self.stream.take() {
            async move {
                let mut stream = stream;
                let _ = stream.write_all(greeting.as_bytes()).await;
                stream
            }
            .into_actor(self)
            .map(|stream, greeter, _| greeter.stream = Some(stream))
            .spawn(ctx);
        }
    }
}

impl Handler<ConnectionControl> for Greeter {
    type Result = ();

    fn handle(&mut self, control: ConnectionControl, ctx: &mut Context<Self>) {
        if let ConnectionControl::Close = control {
            ctx.stop();
        }
    }
}

/// Starts a [`Greeter`] per connection.
struct Greeters;

impl ServeConnection for Greeters {
    fn serve(&self, stream: TcpStream, _peer: SocketAddr, slot: ConnectionSlot) {
        Greeter {
            slot,
            stream: Some(stream),
        }
        .start();
    }
}

#[actix_rt::test]
async fn a_custom_connection_actor_uses_the_same_accept_loop_registry_and_limits() {
    let mut server = TcpServer::with_factory(Greeters);
    let addr = start_tcp(&mut server, 2);
    let mut client = LineClient::connect(addr).await;
    let greeting = client.line().await;
    assert!(greeting.starts_with("hello conn-"), "{greeting:?}");
    assert_eq!(server.registry().len(), 1);
    assert_eq!(server.registry().close_all(), 1);
    assert!(client.sees_close().await);
    assert!(server.registry().wait_empty(WAIT).await);
}

#[test]
fn bind_sockets_on_ipv4() {
    let listeners = bind_sockets(0, Some("127.0.0.1"), Family::V4, DEFAULT_BACKLOG, false).unwrap();
    assert_eq!(listeners.len(), 1);
    let addr = listeners[0].local_addr().unwrap();
    assert!(addr.is_ipv4());
    assert_ne!(addr.port(), 0);
    std::net::TcpStream::connect(addr).unwrap();
    // Another socket may share the port only with SO_REUSEPORT on both.
    assert!(bind_sockets(addr.port(), Some("127.0.0.1"), Family::V4, 16, false).is_err());
    let shared = bind_sockets(0, Some("127.0.0.1"), Family::V4, 16, true).unwrap();
    let port = shared[0].local_addr().unwrap().port();
    bind_sockets(port, Some("127.0.0.1"), Family::V4, 16, true).unwrap();
}

#[test]
fn bind_sockets_on_ipv6() {
    if support::deps::require_ipv6_loopback().is_none() {
        return;
    }
    let listeners = bind_sockets(0, Some("::1"), Family::V6, DEFAULT_BACKLOG, false).unwrap();
    assert_eq!(listeners.len(), 1);
    let addr = listeners[0].local_addr().unwrap();
    assert!(addr.is_ipv6());
    std::net::TcpStream::connect(addr).unwrap();
}

#[test]
fn bind_sockets_every_interface_binds_both_families_on_one_port() {
    let listeners = bind_sockets(0, None, Family::Unspec, DEFAULT_BACKLOG, false).unwrap();
    let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
    assert!(addrs[0].is_ipv4(), "{addrs:?}");
    assert!(
        addrs.iter().all(|addr| addr.port() == addrs[0].port()),
        "{addrs:?}"
    );
    // Without ::1 only the IPv4 half is checked (and CI fails: see `support::deps`).
    if support::deps::require_ipv6_loopback().is_some() {
        // IPV6_V6ONLY is what lets the two share the port.
        assert_eq!(addrs.len(), 2, "{addrs:?}");
        assert!(addrs[1].is_ipv6());
        std::net::TcpStream::connect(("::1", addrs[1].port())).unwrap();
    }
    std::net::TcpStream::connect(("127.0.0.1", addrs[0].port())).unwrap();
}

#[test]
fn bind_sockets_reports_a_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let error = bind_sockets(port, Some("127.0.0.1"), Family::V4, 16, false).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
}
