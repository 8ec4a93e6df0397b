//! Every rule of the HTTP/1.1 codec, checked over a real socket: the exact status line the
//! server answers each malformed, smuggling-shaped or over-limit request with, and whether it
//! closes after.

mod support;

use std::time::Duration;

use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest, HttpService};
use http::StatusCode;
use support::raw_http::{Client, one_shot};
use support::servers::listen_http;

/// `GET /` says hello, `POST /echo` echoes, `/204` and `/304` answer with those (and try to
/// send a body, which must not go out).
async fn service(request: HttpServerRequest) -> HttpResponse {
    match request.path() {
        "/echo" => HttpResponse::ok().body(request.body().clone()),
        "/204" => HttpResponse::new(StatusCode::NO_CONTENT).body("ignored"),
        "/304" => HttpResponse::new(StatusCode::NOT_MODIFIED).body("ignored"),
        _ => HttpResponse::ok().text("Hello, world"),
    }
}

fn server() -> HttpServer<impl HttpService> {
    HttpServer::new(service)
        .max_body_size(1024)
        .max_header_size(8 * 1024)
}

/// Each malformed request gets exactly this status line, then the connection closes.
#[actix_rt::test]
async fn each_bad_request_gets_its_status_and_a_close() {
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "CL and TE together (smuggling)",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "conflicting Content-Length lines",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "conflicting Content-Length list",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello!",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "Content-Length with a sign",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "Transfer-Encoding not ending in chunked",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "a transfer coding we do not decode",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 501 Not Implemented",
        ),
        (
            "Transfer-Encoding in HTTP/1.0",
            b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "whitespace before the colon",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "obs-fold",
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "NUL in a value",
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "bare CR in a value",
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "invalid chunk size",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "overflowing chunk size",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n100000000000000000000\r\nx\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "chunk data overrun",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "HTTP/1.1 without Host",
            b"GET / HTTP/1.1\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "two Host lines",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "HTTP/2.0 request line",
            b"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
            "HTTP/1.1 505 HTTP Version Not Supported",
        ),
        (
            "a version that is not HTTP/x.y",
            b"GET / HTTP/X.Y\r\nHost: h\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "a target without a slash",
            b"GET foo HTTP/1.1\r\nHost: h\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "Content-Length above max_body_size",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n",
            "HTTP/1.1 413 Payload Too Large",
        ),
        (
            "a chunked body above max_body_size",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n",
            "HTTP/1.1 413 Payload Too Large",
        ),
        (
            "an unknown expectation",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\nhi",
            "HTTP/1.1 417 Expectation Failed",
        ),
    ];
    let (_server, addr) = listen_http(server());
    for (name, request, status_line) in cases {
        let (answer, closed) = one_shot(addr, request).await;
        assert_eq!(&answer.status_line, status_line, "{name}");
        assert_eq!(answer.header("connection"), Some("close"), "{name}");
        assert!(closed, "{name}: the connection stayed open");
    }
}

#[actix_rt::test]
async fn oversize_heads_and_targets_get_431_and_414() {
    let (_server, addr) = listen_http(server());
    let mut big_head = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    for index in 0..500 {
        big_head.extend_from_slice(format!("X-Filler-{index}: aaaaaaaaaaaaaaaa\r\n").as_bytes());
    }
    big_head.extend_from_slice(b"\r\n");
    let (answer, closed) = one_shot(addr, &big_head).await;
    assert_eq!(
        answer.status_line,
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    assert!(closed);

    let long_target = format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(9000));
    let (answer, closed) = one_shot(addr, long_target.as_bytes()).await;
    assert_eq!(answer.status_line, "HTTP/1.1 414 URI Too Long");
    assert!(closed);
}

#[actix_rt::test]
async fn a_smuggled_request_is_never_answered() {
    let (_server, addr) = listen_http(server());
    // A front end using Content-Length would see one request; one using chunked would see a
    // second, smuggled one. The server must refuse, not answer the smuggled GET.
    let request = b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";
    let mut client = Client::connect(addr).await;
    client.send(request).await;
    let answer = client.answer().await.unwrap();
    assert_eq!(answer.status, 400);
    assert!(client.answer().await.is_none(), "answered a second request");
}

#[actix_rt::test]
async fn expect_continue_is_answered_only_when_the_body_fits() {
    let (_server, addr) = listen_http(server());
    let mut client = Client::connect(addr).await;
    client
        .send(
            b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        )
        .await;
    let interim = client.answer().await.unwrap();
    assert_eq!(interim.status_line, "HTTP/1.1 100 Continue");
    client.send(b"hello").await;
    let answer = client.answer().await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, b"hello");

    let mut client = Client::connect(addr).await;
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n")
        .await;
    let answer = client.answer().await.unwrap();
    assert_eq!(answer.status_line, "HTTP/1.1 413 Payload Too Large");
    assert!(client.closed().await);
}

#[actix_rt::test]
async fn accepted_shapes_are_answered_and_keep_the_connection() {
    let (_server, addr) = listen_http(server());
    let mut client = Client::connect(addr).await;
    let requests: &[(&[u8], &[u8])] = &[
        (b"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", b"Hello, world"),
        (b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", b"Hello, world"),
        (
            b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello",
            b"hello",
        ),
        (
            b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
            b"hello",
        ),
        (b"POST /echo HTTP/1.1\r\nHost: h\r\n\r\n", b""),
        (b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", b"Hello, world"),
    ];
    for (request, body) in requests {
        client.send(request).await;
        let answer = client.answer().await.unwrap();
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(request));
        assert_eq!(&answer.body, body);
    }
    assert!(!client.closed_soon().await);
}

#[actix_rt::test]
async fn no_content_and_not_modified_carry_no_body() {
    let (_server, addr) = listen_http(server());
    let mut client = Client::connect(addr).await;
    client
        .send(b"GET /204 HTTP/1.1\r\nHost: h\r\n\r\nGET /304 HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
        .await;
    let no_content = client.answer().await.unwrap();
    assert_eq!(no_content.status_line, "HTTP/1.1 204 No Content");
    assert_eq!(no_content.header("content-length"), None);
    let not_modified = client.answer().await.unwrap();
    assert_eq!(not_modified.status_line, "HTTP/1.1 304 Not Modified");
    // Had either sent "ignored", this would not parse as the hello answer.
    let hello = client.answer().await.unwrap();
    assert_eq!(hello.body, b"Hello, world");
}

#[actix_rt::test]
async fn a_request_split_at_every_byte_is_answered() {
    let (_server, addr) = listen_http(server());
    let request = b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let mut client = Client::connect(addr).await;
    for byte in request.iter() {
        client.send(std::slice::from_ref(byte)).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let answer = client.answer().await.unwrap();
    assert_eq!(answer.body, b"hello");
}
