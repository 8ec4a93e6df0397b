//! The HTTP client's request options and response shapes, end to end against raw servers on
//! 127.0.0.1 that assert the exact bytes the client sends.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use cyclone::httpclient::{
    AsyncHttpClient, ClientOptions, DEFAULT_USER_AGENT, HeaderValue, HttpClientError, HttpRequest,
    Method, TimeoutPhase, header,
};
use support::raw_server::{
    Request, echo, ok, read_request, read_request_body, read_request_head, serve, serve_each,
};
use support::wait::{self, bounded};

/// `b"hello, inflated world! "` twenty times, gzipped (RFC 1952) and zlib-wrapped (RFC 1950).
const INFLATED: &[u8] = b"hello, inflated world! ";
const GZIPPED: [u8; 48] = [
    31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 215, 81, 200, 204, 75, 203, 73, 44,
    73, 77, 81, 40, 207, 47, 202, 73, 81, 84, 200, 24, 21, 30, 122, 194, 0, 100, 255, 236, 34, 204,
    1, 0, 0,
];
const ZLIBBED: [u8; 36] = [
    120, 156, 203, 72, 205, 201, 201, 215, 81, 200, 204, 75, 203, 73, 44, 73, 77, 81, 40, 207, 47,
    202, 73, 81, 84, 200, 24, 21, 30, 122, 194, 0, 201, 17, 163, 193,
];

fn echoed(body: &Bytes) -> String {
    String::from_utf8_lossy(body).into_owned()
}

#[actix_rt::test]
async fn get_returns_code_headers_body_and_effective_url() {
    let server = serve_each(|_: &Request| {
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: yes\r\n\r\nhello".to_vec()
    })
    .await;
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(server.url("/path?q=1")))
        .await
        .unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(response.reason, "OK");
    assert_eq!(&response.body[..], b"hello");
    assert_eq!(response.headers["x-test"], "yes");
    assert_eq!(response.effective_url, server.url("/path?q=1"));
    assert!(response.error.is_none());
    assert!(response.request_time >= response.time_info.queue);
}

#[actix_rt::test]
async fn the_request_carries_host_user_agent_and_accept_encoding() {
    let server = serve_each(echo).await;
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(server.url("/a%20b?x=1")))
        .await
        .unwrap();
    let text = echoed(&response.body);
    assert!(text.starts_with("GET /a%20b?x=1 HTTP/1.1\n"), "{text}");
    assert!(text.contains(&format!("host: {}\n", server.addr)), "{text}");
    assert!(
        text.contains(&format!("user-agent: {DEFAULT_USER_AGENT}\n")),
        "{text}"
    );
    assert!(text.contains("accept-encoding: gzip, deflate\n"), "{text}");

    let request = HttpRequest::new(server.url("/"))
        .user_agent("probe/1")
        .decompress_response(false)
        .if_modified_since(SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777));
    let text = echoed(&bounded(client.fetch(request)).await.unwrap().body);
    assert!(text.contains("user-agent: probe/1\n"), "{text}");
    assert!(!text.contains("accept-encoding"), "{text}");
    assert!(
        text.contains("if-modified-since: Sun, 06 Nov 1994 08:49:37 GMT\n"),
        "{text}"
    );
}

#[actix_rt::test]
async fn post_sends_body_with_length_type_and_basic_auth() {
    let server = serve_each(echo).await;
    let client = AsyncHttpClient::new();
    let request = HttpRequest::new(server.url("/form"))
        .method(Method::POST)
        .body("a=1&b=2")
        .auth("Aladdin", "open sesame");
    let text = echoed(&bounded(client.fetch(request)).await.unwrap().body);
    assert!(text.starts_with("POST /form HTTP/1.1\n"), "{text}");
    assert!(text.contains("content-length: 7\n"), "{text}");
    assert!(
        text.contains("content-type: application/x-www-form-urlencoded\n"),
        "{text}"
    );
    assert!(
        text.contains("authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\n"),
        "{text}"
    );
    assert!(text.ends_with("\n\na=1&b=2"), "{text}");
}

#[actix_rt::test]
async fn a_body_producer_is_sent_chunked() {
    let server = serve_each(echo).await;
    let client = AsyncHttpClient::new();
    let request = HttpRequest::new(server.url("/upload"))
        .method(Method::PUT)
        .body_producer(|| {
            futures::stream::iter(
                ["one,", "two,", "", "three"]
                    .map(|piece| Ok::<_, std::io::Error>(Bytes::from_static(piece.as_bytes()))),
            )
        });
    let text = echoed(&bounded(client.fetch(request)).await.unwrap().body);
    assert!(text.contains("transfer-encoding: chunked\n"), "{text}");
    assert!(text.ends_with("\n\none,two,three"), "{text}");
}

#[actix_rt::test]
async fn a_failing_body_producer_is_a_typed_error() {
    let server = serve_each(echo).await;
    let client = AsyncHttpClient::new();
    let request = HttpRequest::new(server.url("/upload"))
        .method(Method::POST)
        .body_producer(|| {
            futures::stream::iter([
                Ok(Bytes::from_static(b"start")),
                Err(std::io::Error::other("disk gone")),
            ])
        });
    let error = bounded(client.fetch(request)).await.unwrap_err();
    assert!(
        matches!(error, HttpClientError::BodyProducer(_)),
        "{error:?}"
    );
}

#[actix_rt::test]
async fn methods_and_bodies_are_checked_like_tornado() {
    let client = AsyncHttpClient::new();
    let url = "http://127.0.0.1:9/";
    let get_with_body = HttpRequest::new(url).body("x");
    let post_without = HttpRequest::new(url).method(Method::POST);
    let custom = HttpRequest::new(url).method(Method::from_bytes(b"PURGE").unwrap());
    for request in [get_with_body, post_without, custom] {
        let error = client.fetch(request).await.unwrap_err();
        assert!(
            matches!(error, HttpClientError::InvalidRequest(_)),
            "{error:?}"
        );
    }
    let server = serve_each(echo).await;
    let allowed = HttpRequest::new(server.url("/"))
        .method(Method::from_bytes(b"PURGE").unwrap())
        .allow_nonstandard_methods(true);
    let text = echoed(&bounded(client.fetch(allowed)).await.unwrap().body);
    assert!(text.starts_with("PURGE / HTTP/1.1\n"), "{text}");
    let error = client.fetch("ftp://example.com/").await.unwrap_err();
    assert!(
        matches!(error, HttpClientError::UnsupportedScheme(_)),
        "{error:?}"
    );
    let error = client.fetch("not a url").await.unwrap_err();
    assert!(
        matches!(error, HttpClientError::InvalidUrl { .. }),
        "{error:?}"
    );
}

#[actix_rt::test]
async fn non_2xx_is_an_error_carrying_the_response_unless_raise_error_is_off() {
    let server = serve_each(|_: &Request| {
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\nmissing".to_vec()
    })
    .await;
    let client = AsyncHttpClient::new();
    match bounded(client.fetch(server.url("/x"))).await {
        Err(HttpClientError::Http { code, response }) => {
            assert_eq!(code, 404);
            assert_eq!(&response.body[..], b"missing");
            assert_eq!(response.reason, "Not Found");
        }
        other => panic!("expected an HTTP error, got {other:?}"),
    }
    let response = bounded(client.fetch(HttpRequest::new(server.url("/x")).raise_error(false)))
        .await
        .unwrap();
    assert_eq!(response.code, 404);
    assert_eq!(response.error.as_ref().unwrap().code, 404);
    assert!(matches!(
        response.rethrow(),
        Err(HttpClientError::Http { code: 404, .. })
    ));
}

#[actix_rt::test]
async fn keep_alive_reuses_one_connection() {
    let server = serve_each(|_: &Request| ok(b"again")).await;
    let client = AsyncHttpClient::new();
    for _ in 0..5 {
        let response = bounded(client.fetch(server.url("/"))).await.unwrap();
        assert_eq!(&response.body[..], b"again");
    }
    assert_eq!(server.accepted(), 1);
    assert_eq!(client.idle_connections(), 1);
    client.close();
    assert_eq!(client.idle_connections(), 0);
    bounded(client.fetch(server.url("/"))).await.unwrap();
    assert_eq!(server.accepted(), 2);
}

#[actix_rt::test]
async fn connection_close_and_zero_pool_turn_reuse_off() {
    let server = serve_each(|_: &Request| {
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".to_vec()
    })
    .await;
    let client = AsyncHttpClient::new();
    for _ in 0..3 {
        bounded(client.fetch(server.url("/"))).await.unwrap();
    }
    assert_eq!(server.accepted(), 3);
    assert_eq!(client.idle_connections(), 0);

    let server = serve_each(|_: &Request| ok(b"ok")).await;
    let client = AsyncHttpClient::with_options(ClientOptions::new().max_idle_per_host(0));
    for _ in 0..3 {
        bounded(client.fetch(server.url("/"))).await.unwrap();
    }
    assert_eq!(server.accepted(), 3);
}

#[actix_rt::test]
async fn idle_connections_close_after_the_idle_timeout() {
    let server = serve_each(|_: &Request| ok(b"ok")).await;
    let options = ClientOptions::new().idle_timeout(Duration::from_millis(100));
    let client = AsyncHttpClient::with_options(options);
    bounded(client.fetch(server.url("/"))).await.unwrap();
    assert_eq!(client.idle_connections(), 1);
    wait::until("the idle connection is closed", || {
        client.idle_connections() == 0
    })
    .await;
    bounded(client.fetch(server.url("/"))).await.unwrap();
    assert_eq!(server.accepted(), 2);
}

#[actix_rt::test]
async fn chunked_bodies_and_their_trailers_arrive_whole() {
    let server = serve_each(|_: &Request| {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Checksum: 42\r\n\r\n"
            .to_vec()
    })
    .await;
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(server.url("/"))).await.unwrap();
    assert_eq!(&response.body[..], b"hello, world");
    assert_eq!(response.trailers.as_ref().unwrap()["x-checksum"], "42");
    bounded(client.fetch(server.url("/"))).await.unwrap();
    assert_eq!(
        server.accepted(),
        1,
        "a chunked response keeps the connection"
    );
}

#[actix_rt::test]
async fn a_close_delimited_body_ends_at_eof_and_is_not_pooled() {
    let server = serve(|mut stream| async move {
        use tokio::io::AsyncWriteExt;
        let mut buf = Vec::new();
        read_request(&mut stream, &mut buf).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
            .await;
    })
    .await;
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(server.url("/"))).await.unwrap();
    assert_eq!(&response.body[..], b"until the end");
    assert_eq!(client.idle_connections(), 0);
}

#[actix_rt::test]
async fn head_has_no_body_despite_content_length_and_keeps_the_connection() {
    let server = serve_each(|request: &Request| {
        if request.method() == "HEAD" {
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_vec()
        } else {
            ok(b"body")
        }
    })
    .await;
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(HttpRequest::new(server.url("/")).method(Method::HEAD)))
        .await
        .unwrap();
    assert_eq!(response.headers[header::CONTENT_LENGTH], "1000");
    assert!(response.body.is_empty());
    let response = bounded(client.fetch(server.url("/"))).await.unwrap();
    assert_eq!(&response.body[..], b"body");
    assert_eq!(server.accepted(), 1);
}

#[actix_rt::test]
async fn interim_1xx_responses_are_skipped() {
    let server = serve_each(|_: &Request| {
        b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"
            .to_vec()
    })
    .await;
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(server.url("/"))).await.unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(&response.body[..], b"done");
    assert!(response.headers.get("link").is_none());
}

#[actix_rt::test]
async fn expect_100_continue_holds_the_body_until_the_server_asks() {
    use tokio::io::AsyncWriteExt;
    let server = serve(|mut stream| async move {
        let mut buf = Vec::new();
        let Some(mut request) = read_request_head(&mut stream, &mut buf).await else {
            return;
        };
        // Nothing of the body may have arrived with the head.
        let early = buf.len();
        if request.target() == "/refuse" {
            let _ = stream
                .write_all(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n")
                .await;
            return;
        }
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
        read_request_body(&mut stream, &mut buf, &mut request).await;
        let text = format!(
            "expect={} early={early} body={}",
            request.header("expect").unwrap_or("-"),
            String::from_utf8_lossy(&request.body)
        );
        let _ = stream.write_all(&ok(text.as_bytes())).await;
    })
    .await;
    let client = AsyncHttpClient::new();
    let request = HttpRequest::new(server.url("/accept"))
        .method(Method::POST)
        .body("payload")
        .expect_100_continue(true);
    let response = bounded(client.fetch(request)).await.unwrap();
    assert_eq!(
        echoed(&response.body),
        "expect=100-continue early=0 body=payload"
    );

    let request = HttpRequest::new(server.url("/refuse"))
        .method(Method::POST)
        .body("payload")
        .expect_100_continue(true)
        .raise_error(false);
    let response = bounded(client.fetch(request)).await.unwrap();
    assert_eq!(response.code, 413);
}

#[actix_rt::test]
async fn gzip_and_deflate_bodies_are_inflated_unless_turned_off() {
    let server = serve_each(|request: &Request| {
        let (coding, body): (&str, &[u8]) = if request.target() == "/gzip" {
            ("gzip", &GZIPPED)
        } else {
            ("deflate", &ZLIBBED)
        };
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    })
    .await;
    let client = AsyncHttpClient::new();
    let expected = INFLATED.repeat(20);
    for (path, coding) in [("/gzip", "gzip"), ("/deflate", "deflate")] {
        let response = bounded(client.fetch(server.url(path))).await.unwrap();
        assert_eq!(&response.body[..], &expected[..], "{path}");
        assert!(response.headers.get(header::CONTENT_ENCODING).is_none());
        assert_eq!(response.headers["x-consumed-content-encoding"], coding);
    }
    let raw =
        bounded(client.fetch(HttpRequest::new(server.url("/gzip")).decompress_response(false)))
            .await
            .unwrap();
    assert_eq!(&raw.body[..], &GZIPPED[..]);
    assert_eq!(raw.headers[header::CONTENT_ENCODING], "gzip");

    let error = bounded(client.fetch(HttpRequest::new(server.url("/gzip")).max_body_size(100)))
        .await
        .unwrap_err();
    assert!(
        matches!(error, HttpClientError::InvalidResponse(_)),
        "the inflated size is held to max_body_size: {error:?}"
    );
}

#[actix_rt::test]
async fn streaming_and_header_callbacks_see_the_response_as_it_arrives() {
    let server = serve_each(|_: &Request| {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"
            .to_vec()
    })
    .await;
    let chunks = Rc::new(RefCell::new(Vec::<Bytes>::new()));
    let lines = Rc::new(RefCell::new(Vec::<String>::new()));
    let request = HttpRequest::new(server.url("/"))
        .streaming_callback({
            let chunks = Rc::clone(&chunks);
            move |chunk| chunks.borrow_mut().push(chunk)
        })
        .header_callback({
            let lines = Rc::clone(&lines);
            move |line| lines.borrow_mut().push(line.to_owned())
        });
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(request)).await.unwrap();
    assert!(response.body.is_empty());
    assert_eq!(chunks.borrow().concat(), b"abcdef");
    assert_eq!(
        *lines.borrow(),
        [
            "HTTP/1.1 200 OK\r\n",
            "transfer-encoding: chunked\r\n",
            "x-a: 1\r\n",
            "\r\n"
        ]
    );
}

#[actix_rt::test]
async fn max_clients_queues_and_the_queue_times_out() {
    use tokio::io::AsyncWriteExt;
    let server = serve(|mut stream| async move {
        let mut buf = Vec::new();
        while let Some(request) = read_request(&mut stream, &mut buf).await {
            if request.target() == "/slow" {
                tokio::time::sleep(Duration::from_millis(600)).await;
            }
            if stream.write_all(&ok(b"done")).await.is_err() {
                return;
            }
        }
    })
    .await;
    let client = AsyncHttpClient::with_options(ClientOptions::new().max_clients(1));
    let slow = client.fetch(server.url("/slow"));
    let queued = async {
        // The slow fetch takes the only slot first.
        wait::until("the slow fetch is active", || client.active() == 1).await;
        let waiting = client.fetch(server.url("/fast"));
        let timed_out = client.fetch(
            HttpRequest::new(server.url("/fast")).connect_timeout(Duration::from_millis(100)),
        );
        let (waiting, timed_out) = futures::join!(waiting, timed_out);
        (waiting, timed_out)
    };
    let (slow, (waiting, timed_out)) = bounded(async { futures::join!(slow, queued) }).await;
    slow.unwrap();
    let waiting = waiting.unwrap();
    assert!(
        waiting.time_info.queue >= Duration::from_millis(300),
        "{:?}",
        waiting.time_info
    );
    match timed_out {
        Err(HttpClientError::Timeout { phase, .. }) => assert_eq!(phase, TimeoutPhase::Queue),
        other => panic!("expected a queue timeout, got {other:?}"),
    }
    assert_eq!(client.queued(), 0);

    let client =
        AsyncHttpClient::with_options(ClientOptions::new().max_clients(1).max_queue_size(0));
    let first = client.fetch(server.url("/slow"));
    let second = async {
        wait::until("the first fetch is active", || client.active() == 1).await;
        client.fetch(server.url("/fast")).await
    };
    let (first, second) = bounded(async { futures::join!(first, second) }).await;
    first.unwrap();
    assert!(
        matches!(second, Err(HttpClientError::QueueFull(0))),
        "{second:?}"
    );
}

#[actix_rt::test]
async fn network_interface_binds_the_local_address() {
    let server = serve_each(echo).await;
    let client = AsyncHttpClient::new();
    let request = HttpRequest::new(server.url("/")).network_interface("127.0.0.1".parse().unwrap());
    let response = bounded(client.fetch(request)).await.unwrap();
    assert_eq!(response.code, 200);
}

#[actix_rt::test]
async fn user_headers_are_sent_and_win_over_defaults() {
    let server = serve_each(echo).await;
    let client = AsyncHttpClient::new();
    let request = HttpRequest::new(server.url("/"))
        .header(header::USER_AGENT, HeaderValue::from_static("mine"))
        .header(
            header::HeaderName::from_static("x-multi"),
            HeaderValue::from_static("1"),
        )
        .header(
            header::HeaderName::from_static("x-multi"),
            HeaderValue::from_static("2"),
        );
    let text = echoed(&bounded(client.fetch(request)).await.unwrap().body);
    assert!(text.contains("user-agent: mine\n"), "{text}");
    assert!(text.contains("x-multi: 1\nx-multi: 2\n"), "{text}");
}
