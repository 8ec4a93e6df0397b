//! Bad servers get typed errors, never hangs: each raw server here misbehaves in one way.

mod support;

use std::time::Duration;

use cyclone::httpclient::{
    AsyncHttpClient, ClientOptions, HttpClientError, HttpRequest, Method, TimeoutPhase,
};
use cyclone::tcpclient::TcpClient;
use cyclone_protocol::h1::{BodyError, ParseError};
use support::client_errors::timeout_phase;
use support::net::{StubResolver, free_port};
use support::raw_server::{RawServer, ok, read_request, serve};
use support::wait::bounded;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server that reads one request, writes `answer`, then closes.
async fn answer_once(answer: &'static [u8]) -> RawServer {
    serve(move |mut stream: TcpStream| async move {
        let mut buf = Vec::new();
        if read_request(&mut stream, &mut buf).await.is_some() {
            let _ = stream.write_all(answer).await;
        }
    })
    .await
}

fn parse_error(error: &HttpClientError) -> &ParseError {
    match error {
        HttpClientError::InvalidResponse(parse) => parse,
        other => panic!("expected an invalid response, got {other:?}"),
    }
}

#[actix_rt::test]
async fn a_truncated_body_is_incomplete() {
    let server = answer_once(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b").await;
    let error = bounded(AsyncHttpClient::new().fetch(server.url("/")))
        .await
        .unwrap_err();
    assert_eq!(
        parse_error(&error),
        &ParseError::Body(BodyError::Incomplete)
    );
    let server =
        answer_once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel").await;
    let error = bounded(AsyncHttpClient::new().fetch(server.url("/")))
        .await
        .unwrap_err();
    assert_eq!(
        parse_error(&error),
        &ParseError::Body(BodyError::Incomplete)
    );
}

#[actix_rt::test]
async fn an_oversize_head_is_refused_at_max_header_size() {
    let server = serve(|mut stream: TcpStream| async move {
        let mut buf = Vec::new();
        if read_request(&mut stream, &mut buf).await.is_some() {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n").await;
            // An endless head: the client must stop at its limit, not wait for the end.
            let field = format!("X-Pad: {}\r\n", "p".repeat(1000));
            for _ in 0..200 {
                if stream.write_all(field.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    let request = HttpRequest::new(server.url("/")).max_header_size(8 * 1024);
    let error = bounded(AsyncHttpClient::new().fetch(request))
        .await
        .unwrap_err();
    assert_eq!(parse_error(&error), &ParseError::HeadTooLarge);
}

#[actix_rt::test]
async fn an_invalid_chunk_size_is_refused() {
    let server = answer_once(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    let error = bounded(AsyncHttpClient::new().fetch(server.url("/")))
        .await
        .unwrap_err();
    assert_eq!(
        parse_error(&error),
        &ParseError::Body(BodyError::InvalidChunkSize)
    );
}

#[actix_rt::test]
async fn a_server_that_never_answers_times_out_during_the_request() {
    let server = serve(|mut stream: TcpStream| async move {
        let mut buf = Vec::new();
        let _ = read_request(&mut stream, &mut buf).await;
        // Silent until the client gives up and closes.
        let _ = stream.read(&mut [0u8; 1]).await;
    })
    .await;
    let request = HttpRequest::new(server.url("/")).request_timeout(Duration::from_millis(300));
    let error = bounded(AsyncHttpClient::new().fetch(request))
        .await
        .unwrap_err();
    assert_eq!(timeout_phase(&error), TimeoutPhase::Request);
    assert_eq!(error.code(), 599);
}

#[actix_rt::test]
async fn a_connect_that_never_completes_times_out_while_connecting() {
    let options = ClientOptions::new().tcp_client(TcpClient::with_resolver(StubResolver::Silent));
    let client = AsyncHttpClient::with_options(options);
    let request =
        HttpRequest::new("http://nowhere.test/").connect_timeout(Duration::from_millis(200));
    let error = bounded(client.fetch(request)).await.unwrap_err();
    assert_eq!(timeout_phase(&error), TimeoutPhase::Connect);
}

#[actix_rt::test]
async fn a_refused_connection_is_a_connect_error() {
    let port = free_port();
    let error = bounded(AsyncHttpClient::new().fetch(format!("http://127.0.0.1:{port}/")))
        .await
        .unwrap_err();
    assert!(matches!(error, HttpClientError::Connect(_)), "{error:?}");
}

#[actix_rt::test]
async fn a_server_that_closes_without_answering_is_connection_closed() {
    let server = serve(|mut stream: TcpStream| async move {
        let mut buf = Vec::new();
        let _ = read_request(&mut stream, &mut buf).await;
    })
    .await;
    let error = bounded(AsyncHttpClient::new().fetch(server.url("/")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, HttpClientError::ConnectionClosed),
        "{error:?}"
    );
}

#[actix_rt::test]
async fn bodies_above_max_body_size_are_refused() {
    let server = answer_once(b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n").await;
    let request = HttpRequest::new(server.url("/")).max_body_size(1000);
    let error = bounded(AsyncHttpClient::new().fetch(request))
        .await
        .unwrap_err();
    assert_eq!(parse_error(&error), &ParseError::ContentLengthTooLarge);

    let server = serve(|mut stream: TcpStream| async move {
        let mut buf = Vec::new();
        if read_request(&mut stream, &mut buf).await.is_some() {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await;
            let chunk = format!("100\r\n{}\r\n", "c".repeat(256));
            for _ in 0..100 {
                if stream.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    let request = HttpRequest::new(server.url("/")).max_body_size(1000);
    let error = bounded(AsyncHttpClient::new().fetch(request))
        .await
        .unwrap_err();
    assert_eq!(parse_error(&error), &ParseError::Body(BodyError::TooLarge));
}

#[actix_rt::test]
async fn a_pooled_connection_the_server_dropped_is_replaced_once() {
    // Answers one request per connection but claims keep-alive, like a server whose idle
    // timeout is shorter than the client's.
    let (closed_sender, mut closed) = tokio::sync::mpsc::unbounded_channel();
    let server = serve(move |mut stream: TcpStream| {
        let closed = closed_sender.clone();
        async move {
            let mut buf = Vec::new();
            if read_request(&mut stream, &mut buf).await.is_some() {
                let _ = stream.write_all(&ok(b"fresh")).await;
            }
            drop(stream);
            let _ = closed.send(());
        }
    })
    .await;
    let client = AsyncHttpClient::new();
    bounded(client.fetch(server.url("/"))).await.unwrap();
    // The server has closed the pooled connection before the client reuses it.
    bounded(closed.recv()).await;
    for _ in 0..3 {
        let request = HttpRequest::new(server.url("/"))
            .method(Method::POST)
            .body("again");
        let response = bounded(client.fetch(request)).await.unwrap();
        assert_eq!(&response.body[..], b"fresh");
    }
    assert_eq!(server.accepted(), 4);
}

#[actix_rt::test]
async fn garbage_instead_of_http_is_an_invalid_status_line() {
    let server = answer_once(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
    let error = bounded(AsyncHttpClient::new().fetch(server.url("/")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, HttpClientError::InvalidResponse(_)),
        "{error:?}"
    );
}

#[actix_rt::test]
async fn a_reused_connection_closed_before_answering_is_retried_on_a_new_one() {
    // Answers the first request on each connection, then drops the connection on reading the
    // second one without a byte of answer: the race a client loses when a server's idle
    // timeout fires just as a pooled connection is reused.
    let server = serve(|mut stream: TcpStream| async move {
        let mut buf = Vec::new();
        if read_request(&mut stream, &mut buf).await.is_some() {
            let _ = stream.write_all(&ok(b"first")).await;
        }
        let _ = read_request(&mut stream, &mut buf).await;
    })
    .await;
    let client = AsyncHttpClient::new();
    bounded(client.fetch(server.url("/"))).await.unwrap();
    let response = bounded(client.fetch(server.url("/"))).await.unwrap();
    assert_eq!(&response.body[..], b"first");
    assert_eq!(server.accepted(), 2);
}
