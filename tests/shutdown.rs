//! Graceful shutdown over real sockets: an exchange in flight finishes while new connects are
//! refused, stragglers are force-closed after the timeout, handlers can see the shutdown
//! coming, `stop` keeps live connections, and SIGTERM triggers `serve_until_signal`.

use std::net::SocketAddr;
use std::time::Duration;

use cyclone::iostream::IoStream;
use cyclone::tcpserver::{ConnectionInfo, ShutdownReport, TcpServer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Upper bound for any single wait in these tests.
const WAIT: Duration = Duration::from_secs(10);

/// Tornado's echo handler: each line back to the sender.
async fn echo(mut stream: IoStream<TcpStream>, _info: ConnectionInfo) {
    while let Ok(line) = stream.read_until(b"\n", None).await {
        if stream.write(line).await.is_err() {
            break;
        }
    }
}

/// Connects, panicking after [`WAIT`].
async fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    BufReader::new(
        timeout(WAIT, TcpStream::connect(addr))
            .await
            .unwrap()
            .unwrap(),
    )
}

/// The next line, or an empty string at EOF.
async fn line(client: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    timeout(WAIT, client.read_line(&mut line))
        .await
        .expect("no line in time")
        .unwrap();
    line
}

/// Whether the server closes the connection (EOF or reset) within the wait, sending nothing.
async fn sees_close(client: &mut BufReader<TcpStream>) -> bool {
    let mut rest = Vec::new();
    matches!(
        timeout(WAIT, client.read_to_end(&mut rest)).await,
        Ok(Ok(_)) | Ok(Err(_))
    ) && rest.is_empty()
}

/// Waits until connecting to `addr` is refused, that is every listening socket is closed.
/// Returns how many probe connects got through before that: the server may have accepted
/// them just before its listeners closed, and then they count as connections that finished.
async fn wait_until_refused(addr: SocketAddr) -> usize {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut got_through = 0;
    loop {
        match TcpStream::connect(addr).await {
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                return got_through;
            }
            Ok(_) => got_through += 1,
            Err(_) => {}
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still accepting connects"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `server` lists `count` connections.
async fn wait_for_connections<F: cyclone::tcpserver::ServeConnection>(
    server: &TcpServer<F>,
    count: usize,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.registry().len() != count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never saw {count} connections"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[actix_rt::test]
async fn an_exchange_in_flight_finishes_while_new_connects_are_refused() {
    let mut server = TcpServer::new(echo);
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(2).unwrap();
    let addr = server.local_addrs()[0];

    let mut client = connect(addr).await;
    client.get_mut().write_all(b"half a ").await.unwrap();
    wait_for_connections(&server, 1).await;

    let shutdown = actix_rt::spawn(async move { server.shutdown(WAIT).await });
    let probes = wait_until_refused(addr).await;

    client.get_mut().write_all(b"line\n").await.unwrap();
    assert_eq!(line(&mut client).await, "half a line\n");
    drop(client);

    let report = timeout(WAIT * 2, shutdown).await.unwrap().unwrap();
    // Our exchange, plus any probe the server accepted in the instant before its listener
    // closed (each closed at once by the probe): none forced, none left.
    assert!(
        (1..=1 + probes).contains(&report.finished),
        "{report:?} with {probes} probes through"
    );
    assert_eq!(
        report,
        ShutdownReport {
            finished: report.finished,
            forced: 0,
            remaining: 0
        }
    );
}

#[actix_rt::test]
async fn stragglers_are_closed_when_the_timeout_runs_out() {
    let mut server = TcpServer::new(echo);
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(2).unwrap();
    let addr = server.local_addrs()[0];

    let mut quiet = connect(addr).await;
    let mut chatty = connect(addr).await;
    chatty.get_mut().write_all(b"hi\n").await.unwrap();
    assert_eq!(line(&mut chatty).await, "hi\n");
    wait_for_connections(&server, 2).await;

    let report = timeout(WAIT, server.shutdown(Duration::from_millis(200)))
        .await
        .unwrap();
    assert_eq!(
        report,
        ShutdownReport {
            finished: 0,
            forced: 2,
            remaining: 0
        }
    );
    assert!(sees_close(&mut quiet).await);
    assert!(sees_close(&mut chatty).await);
    assert!(server.registry().is_empty());
}

#[actix_rt::test]
async fn a_handler_that_watches_for_shutdown_finishes_before_the_timeout() {
    let mut server = TcpServer::new(
        |mut stream: IoStream<TcpStream>, info: ConnectionInfo| async move {
            info.shutting_down().await;
            let _ = stream.write(&b"bye\n"[..]).await;
        },
    );
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(1).unwrap();
    let addr = server.local_addrs()[0];

    let mut client = connect(addr).await;
    wait_for_connections(&server, 1).await;
    // A timeout far longer than the test's own: the handler must end the connection itself.
    let report = timeout(WAIT, server.shutdown(Duration::from_secs(60)))
        .await
        .expect("the handler did not see the shutdown");
    assert_eq!(report.finished, 1);
    assert_eq!(report.forced, 0);
    assert_eq!(line(&mut client).await, "bye\n");
    assert!(sees_close(&mut client).await);
}

#[actix_rt::test]
async fn stop_closes_the_listeners_and_keeps_live_connections() {
    let mut server = TcpServer::new(echo);
    server.listen(0, Some("127.0.0.1")).unwrap();
    let addr = server.local_addrs()[0];

    let mut client = connect(addr).await;
    client.get_mut().write_all(b"one\n").await.unwrap();
    assert_eq!(line(&mut client).await, "one\n");

    timeout(WAIT, server.stop()).await.unwrap();
    match TcpStream::connect(addr).await {
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused),
        // The freed port can be handed to a listener of a test running alongside (bind to
        // port 0); what matters is that this server no longer takes the connection.
        Ok(_other_listener) => {
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(server.registry().len(), 1, "a stopped server accepted");
        }
    }
    client.get_mut().write_all(b"two\n").await.unwrap();
    assert_eq!(line(&mut client).await, "two\n");
    assert_eq!(server.registry().len(), 1);
}

#[actix_rt::test]
async fn sigterm_shuts_down_a_server_waiting_in_serve_until_signal() {
    // Held for the whole test so SIGTERM never falls back to its default (killing the test
    // process) while serve_until_signal installs its own handler.
    let mut keep_alive =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();

    let mut server = TcpServer::new(echo);
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(1).unwrap();
    let addr = server.local_addrs()[0];
    let mut client = connect(addr).await;
    client.get_mut().write_all(b"ping\n").await.unwrap();
    assert_eq!(line(&mut client).await, "ping\n");

    let serving = actix_rt::spawn(server.serve_until_signal(Duration::from_millis(200)));
    // serve_until_signal may not have installed its handler yet: repeat the signal until it
    // returns.
    let report = timeout(WAIT, async {
        loop {
            let status = std::process::Command::new("kill")
                .args(["-TERM", &std::process::id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            tokio::time::sleep(Duration::from_millis(50)).await;
            if serving.is_finished() {
                break serving.await.unwrap().unwrap();
            }
        }
    })
    .await
    .expect("SIGTERM did not stop the server");
    assert_eq!(report.forced, 1);
    assert!(sees_close(&mut client).await);
    wait_until_refused(addr).await;
    keep_alive.recv().await;
}
