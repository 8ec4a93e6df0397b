//! The protocol switch of the HTTP server (`Reply::upgrade`) over real sockets, with a toy
//! protocol: after `101 Switching Protocols` to `echo`, an actor owning the `Upgraded`
//! connection echoes every byte. Covers bytes sent in the same packet as the request, the
//! registry count, `close_all` and graceful shutdown reaching the new owner, a request with a
//! body, an upgrade the handler declines, and upgrades the server refuses.

mod support;

use std::time::Duration;

use actix::prelude::*;
use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest, Reply, Upgraded};
use cyclone::tcpserver::{ConnectionControl, ConnectionSlot};
use http::StatusCode;
use http::header::{HeaderValue, UPGRADE};
use support::raw_http::Client;
use support::servers::listen_http;
use support::wait::{WAIT, bounded};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The actor owning an upgraded connection: it echoes until the client closes, and stops (so
/// the socket closes) on `ConnectionControl::Close` or `Shutdown`.
struct Echo {
    /// Keeps the connection in the server's registry while the actor lives.
    _slot: ConnectionSlot,
}

impl Actor for Echo {
    type Context = Context<Self>;
}

impl Handler<ConnectionControl> for Echo {
    type Result = ();

    fn handle(&mut self, control: ConnectionControl, ctx: &mut Context<Self>) {
        if !matches!(control, ConnectionControl::Notify(_)) {
            ctx.stop();
        }
    }
}

/// The `on_upgrade` callback: starts an [`Echo`] that owns the connection.
fn start_echo(upgraded: Upgraded) {
    let Upgraded {
        mut io,
        read_buf,
        slot,
        ..
    } = upgraded;
    Echo::create(move |ctx| {
        slot.register(ctx.address().recipient());
        let echo = async move {
            let mut buf = read_buf.to_vec();
            loop {
                if io.write_all(&buf).await.is_err() || io.flush().await.is_err() {
                    return;
                }
                buf.resize(4096, 0);
                match io.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(read) => buf.truncate(read),
                }
            }
        };
        ctx.spawn(actix::fut::wrap_future::<_, Echo>(echo).map(|(), _, ctx| ctx.stop()));
        Echo { _slot: slot }
    });
}

/// `/echo` switches to echo when asked; `/force` switches whether asked or not; `/slow`
/// switches after 300 ms; anything else says hello, also to upgrade requests.
async fn service(request: HttpServerRequest) -> Reply {
    let switch = || HttpResponse::ok().header(UPGRADE, HeaderValue::from_static("echo"));
    match request.path() {
        "/echo" if request.head().upgrade => Reply::upgrade(switch(), start_echo),
        "/echo" => HttpResponse::new(StatusCode::UPGRADE_REQUIRED).into(),
        "/force" => Reply::upgrade(switch(), start_echo),
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Reply::upgrade(switch(), start_echo)
        }
        _ => HttpResponse::ok()
            .text(format!("hello {}", request.body().len()))
            .into(),
    }
}

const UPGRADE_REQUEST: &[u8] =
    b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

/// Reads the 101 head and checks it.
async fn expect_switch(client: &mut Client) {
    let answer = client.head_answer().await;
    assert_eq!(answer.status_line, "HTTP/1.1 101 Switching Protocols");
    assert_eq!(answer.header("upgrade"), Some("echo"));
    assert_eq!(answer.header("connection"), Some("upgrade"));
    assert_eq!(answer.header("content-length"), None);
}

#[actix_rt::test]
async fn bytes_after_the_request_head_belong_to_the_new_protocol() {
    let (server, addr) = listen_http(HttpServer::new(service));
    let mut client = Client::connect(addr).await;
    // An HTTP request pipelined after the upgrade is the new protocol's: echoed, not answered.
    let mut packet = UPGRADE_REQUEST.to_vec();
    packet.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    client.send(&packet).await;
    expect_switch(&mut client).await;
    client
        .expect_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    client.send(b"more bytes").await;
    client.expect_bytes(b"more bytes").await;

    let registry = server.registry().unwrap();
    assert_eq!(
        registry.len(),
        1,
        "the upgraded connection stays listed once"
    );
    drop(client);
    assert!(
        registry.wait_empty(WAIT).await,
        "the slot goes with the echo actor"
    );
}

#[actix_rt::test]
async fn upgrade_after_a_request_body_and_after_earlier_answers() {
    let (_server, addr) = listen_http(HttpServer::new(service));
    let mut client = Client::connect(addr).await;
    let mut packet = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    packet.extend_from_slice(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\
          Content-Length: 5\r\n\r\nhelloEARLY",
    );
    client.send(&packet).await;
    let first = client.answer().await.unwrap();
    assert_eq!(first.body, b"hello 0");
    expect_switch(&mut client).await;
    client.expect_bytes(b"EARLY").await;
}

#[actix_rt::test]
async fn a_declined_upgrade_goes_on_as_http() {
    let (_server, addr) = listen_http(HttpServer::new(service));
    let mut client = Client::connect(addr).await;
    let mut packet =
        b"GET /other HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n".to_vec();
    packet.extend_from_slice(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    client.send(&packet).await;
    assert_eq!(client.answer().await.unwrap().body, b"hello 0");
    assert_eq!(client.answer().await.unwrap().body, b"hello 3");
}

#[actix_rt::test]
async fn a_switch_nobody_asked_for_is_refused() {
    let (_server, addr) = listen_http(HttpServer::new(service));
    // No Upgrade field.
    let mut client = Client::connect(addr).await;
    client.send(b"GET /force HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(client.answer().await.unwrap().status, 500);
    assert!(client.closed().await);
    // HTTP/1.0 upgrade requests are ignored (RFC 9110 §7.8).
    let mut client = Client::connect(addr).await;
    client
        .send(b"GET /force HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n")
        .await;
    assert_eq!(client.answer().await.unwrap().status, 500);
    assert!(client.closed().await);
}

#[actix_rt::test]
async fn close_all_reaches_the_upgraded_connection() {
    let (server, addr) = listen_http(HttpServer::new(service));
    let mut client = Client::connect(addr).await;
    client.send(UPGRADE_REQUEST).await;
    expect_switch(&mut client).await;
    client.send(b"ping").await;
    client.expect_bytes(b"ping").await;

    let registry = server.registry().unwrap().clone();
    assert_eq!(registry.close_all(), 1);
    assert!(
        client.closed().await,
        "close_all closes the upgraded socket"
    );
    assert!(registry.wait_empty(WAIT).await);
}

#[actix_rt::test]
async fn graceful_shutdown_reaches_the_upgraded_connection() {
    let (mut server, addr) = listen_http(HttpServer::new(service));
    let mut client = Client::connect(addr).await;
    client.send(UPGRADE_REQUEST).await;
    expect_switch(&mut client).await;
    client.send(b"ping").await;
    client.expect_bytes(b"ping").await;

    let report = tokio::time::timeout(WAIT, server.shutdown(Duration::from_secs(5)))
        .await
        .expect("shutdown timed out");
    assert_eq!((report.finished, report.forced), (1, 0));
    assert!(client.closed().await);
}

#[actix_rt::test]
async fn many_upgraded_connections_keep_the_count_right() {
    let (server, addr) = listen_http(HttpServer::new(service).max_connections(8));
    let registry = server.registry().unwrap().clone();
    let mut clients = Vec::new();
    for round in 0..8u8 {
        let mut client = Client::connect(addr).await;
        client.send(UPGRADE_REQUEST).await;
        expect_switch(&mut client).await;
        client.send(&[round]).await;
        client.expect_bytes(&[round]).await;
        clients.push(client);
    }
    assert_eq!(registry.len(), 8);
    // Every permit is still held by an upgraded connection: a ninth is not served...
    let mut ninth = Client::connect(addr).await;
    ninth.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(ninth.quiet_for(Duration::from_millis(300)).await);
    // ...until one leaves.
    clients.pop();
    assert_eq!(ninth.answer().await.unwrap().body, b"hello 0");
    drop(clients);
    drop(ninth);
    assert!(registry.wait_empty(WAIT).await);
}

#[actix_rt::test]
async fn continue_goes_before_the_switch() {
    let (_server, addr) = listen_http(HttpServer::new(service));
    let mut client = Client::connect(addr).await;
    client
        .send(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\
              Expect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        )
        .await;
    assert_eq!(client.answer().await.unwrap().status, 100);
    client.send(b"helloX").await;
    expect_switch(&mut client).await;
    client.expect_bytes(b"X").await;
}

#[actix_rt::test]
async fn an_upgrade_answered_during_a_graceful_shutdown_is_refused() {
    let (reached_sender, mut reached) = tokio::sync::mpsc::unbounded_channel();
    let (mut server, addr) = listen_http(HttpServer::new(move |request: HttpServerRequest| {
        let _ = reached_sender.send(());
        service(request)
    }));
    let mut client = Client::connect(addr).await;
    client
        .send(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n")
        .await;
    // The request reached its handler before the shutdown starts.
    bounded(reached.recv()).await;
    let (report, answer) = tokio::join!(server.shutdown(WAIT), async {
        let answer = client.answer().await;
        (answer, client.closed().await)
    });
    let (answer, closed) = answer;
    assert_eq!(answer.unwrap().status, 503);
    assert!(closed);
    assert_eq!((report.finished, report.forced), (1, 0));
}
