//! Graceful shutdown over real sockets: an exchange in flight finishes while new connects are
//! refused, stragglers are force-closed after the timeout, handlers can see the shutdown
//! coming, `stop` keeps live connections, and SIGTERM triggers `serve_until_signal`.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use cyclone::iostream::IoStream;
use cyclone::tcpserver::{ConnectionInfo, ServeConnection, ShutdownReport, TcpServer};
use support::lines::{LineClient, echo};
use support::servers::{listen_tcp, start_tcp};
use support::wait::{self, WAIT};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long a signal is given to stop the server before it is sent again.
const RESIGNAL_AFTER: Duration = Duration::from_millis(50);

/// Waits until `server` lists `count` connections.
async fn wait_for_connections<F: ServeConnection>(server: &TcpServer<F>, count: usize) {
    wait::until(&format!("the server lists {count} connections"), || {
        server.registry().len() == count
    })
    .await;
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

#[actix_rt::test]
async fn an_exchange_in_flight_finishes_while_new_connects_are_refused() {
    let mut server = TcpServer::new(echo);
    let addr = start_tcp(&mut server, 2);

    let mut client = LineClient::connect(addr).await;
    client.send(b"half a ").await;
    wait_for_connections(&server, 1).await;

    let shutdown = actix_rt::spawn(async move { server.shutdown(WAIT).await });
    let probes = wait_until_refused(addr).await;

    client.send(b"line\n").await;
    assert_eq!(client.line().await, "half a line\n");
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
    let addr = start_tcp(&mut server, 2);

    let mut quiet = LineClient::connect(addr).await;
    let mut chatty = LineClient::connect(addr).await;
    chatty.send(b"hi\n").await;
    assert_eq!(chatty.line().await, "hi\n");
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
    assert!(quiet.sees_close().await);
    assert!(chatty.sees_close().await);
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
    let addr = start_tcp(&mut server, 1);

    let mut client = LineClient::connect(addr).await;
    wait_for_connections(&server, 1).await;
    // A timeout far longer than the test's own: the handler must end the connection itself.
    let report = timeout(WAIT, server.shutdown(Duration::from_secs(60)))
        .await
        .expect("the handler did not see the shutdown");
    assert_eq!(report.finished, 1);
    assert_eq!(report.forced, 0);
    assert_eq!(client.line().await, "bye\n");
    assert!(client.sees_close().await);
}

#[actix_rt::test]
async fn stop_closes_the_listeners_and_keeps_live_connections() {
    let mut server = TcpServer::new(echo);
    let addr = listen_tcp(&mut server);

    let mut client = LineClient::connect(addr).await;
    client.send(b"one\n").await;
    assert_eq!(client.line().await, "one\n");

    timeout(WAIT, server.stop()).await.unwrap();
    match TcpStream::connect(addr).await {
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused),
        // The freed port can be handed to a listener of a test running alongside (bind to
        // port 0); what matters is that this server no longer takes the connection.
        Ok(_other_listener) => {
            wait::holds_for(
                Duration::from_millis(100),
                "a stopped server accepted",
                || server.registry().len() == 1,
            )
            .await;
        }
    }
    client.send(b"two\n").await;
    assert_eq!(client.line().await, "two\n");
    assert_eq!(server.registry().len(), 1);
}

#[actix_rt::test]
async fn sigterm_shuts_down_a_server_waiting_in_serve_until_signal() {
    // Held for the whole test so SIGTERM never falls back to its default (killing the test
    // process) while serve_until_signal installs its own handler.
    let mut keep_alive =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();

    let mut server = TcpServer::new(echo);
    let addr = start_tcp(&mut server, 1);
    let mut client = LineClient::connect(addr).await;
    client.send(b"ping\n").await;
    assert_eq!(client.line().await, "ping\n");

    let mut serving = actix_rt::spawn(server.serve_until_signal(Duration::from_millis(200)));
    // serve_until_signal may not have installed its handler yet: repeat the signal until it
    // returns.
    let report = timeout(WAIT, async {
        loop {
            let status = std::process::Command::new("kill")
                .args(["-TERM", &std::process::id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            if let Ok(served) = timeout(RESIGNAL_AFTER, &mut serving).await {
                break served.unwrap().unwrap();
            }
        }
    })
    .await
    .expect("SIGTERM did not stop the server");
    assert_eq!(report.forced, 1);
    assert!(client.sees_close().await);
    wait_until_refused(addr).await;
    keep_alive.recv().await;
}
