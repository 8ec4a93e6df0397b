//! The server's timeouts over real sockets: a partial head gets 408, a stalled body 408, an idle
//! or silent connection is closed without an answer, and a slow but moving body is not cut.

mod support;

use std::time::{Duration, Instant};

use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest, HttpService};
use support::raw_http::Client;
use support::servers::listen_http;

async fn echo(request: HttpServerRequest) -> HttpResponse {
    HttpResponse::ok().body(request.body().clone())
}

/// Short timeouts so that each test waits well under a second per timeout.
fn server() -> HttpServer<impl HttpService> {
    HttpServer::new(echo)
        .header_timeout(Duration::from_millis(300))
        .body_timeout(Duration::from_millis(300))
        .idle_connection_timeout(Duration::from_millis(300))
}

#[actix_rt::test]
async fn a_head_that_never_ends_gets_408_then_close() {
    let (_server, addr) = listen_http(server());
    let mut client = Client::connect(addr).await;
    let start = Instant::now();
    client.send(b"GET / HTTP/1.1\r\nHost: h\r\n").await;
    // Trickle header lines: progress on the head does not extend its deadline.
    for index in 0..3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = tokio::io::AsyncWriteExt::write_all(
            &mut client.stream,
            format!("X-Slow-{index}: a\r\n").as_bytes(),
        )
        .await;
    }
    let answer = client.answer().await.unwrap();
    assert_eq!(answer.status_line, "HTTP/1.1 408 Request Timeout");
    assert!(client.closed().await);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[actix_rt::test]
async fn a_connection_that_sends_nothing_is_closed_without_an_answer() {
    let (_server, addr) = listen_http(server());
    let mut client = Client::connect(addr).await;
    assert!(client.closed().await);
    assert!(client.buf.is_empty());
}

#[actix_rt::test]
async fn an_idle_keep_alive_connection_is_closed_without_an_answer() {
    let (_server, addr) = listen_http(server());
    let mut client = Client::connect(addr).await;
    client
        .send(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi")
        .await;
    assert_eq!(client.answer().await.unwrap().body, b"hi");
    assert!(client.closed().await);
    assert!(client.buf.is_empty(), "sent {:?}", client.buf);
}

#[actix_rt::test]
async fn a_stalled_body_gets_408_then_close() {
    let (_server, addr) = listen_http(server());
    let mut client = Client::connect(addr).await;
    client
        .send(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
        .await;
    let answer = client.answer().await.unwrap();
    assert_eq!(answer.status_line, "HTTP/1.1 408 Request Timeout");
    assert!(client.closed().await);
}

#[actix_rt::test]
async fn a_slow_body_that_keeps_moving_is_not_cut() {
    let (_server, addr) = listen_http(server());
    let mut client = Client::connect(addr).await;
    client
        .send(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\n")
        .await;
    for byte in b"abcdefgh" {
        tokio::time::sleep(Duration::from_millis(100)).await;
        client.send(std::slice::from_ref(byte)).await;
    }
    let answer = client.answer().await.unwrap();
    assert_eq!(answer.body, b"abcdefgh");
}
