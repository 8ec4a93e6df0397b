//! The HTTP server end to end over real sockets: keep-alive, pipelining, HEAD, handlers that
//! stream, panic or are actors, requests' arguments and proxies' headers.

mod support;

use std::time::{Duration, Instant};

use actix::prelude::*;
use bytes::Bytes;
use cyclone::httpserver::{
    HttpRequestMessage, HttpResponse, HttpServer, HttpServerRequest, ResponseWriter, actor,
    streaming,
};
use http::StatusCode;
use http::header::{HeaderName, HeaderValue};
use support::raw_http::{Client, one_shot};
use support::servers::{listen_http, start_http};
use support::wait::{self, bounded};

async fn hello(_request: HttpServerRequest) -> HttpResponse {
    HttpResponse::ok().text("Hello, world")
}

#[actix_rt::test]
async fn hello_keeps_the_connection_alive() {
    let (_server, addr) = listen_http(HttpServer::new(hello));
    let mut client = Client::connect(addr).await;
    for _ in 0..3 {
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let answer = client.answer().await.unwrap();
        assert_eq!(answer.status_line, "HTTP/1.1 200 OK");
        assert_eq!(answer.body, b"Hello, world");
        assert_eq!(answer.header("content-length"), Some("12"));
        assert_eq!(
            answer.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert!(
            answer
                .header("date")
                .is_some_and(|date| date.ends_with("GMT"))
        );
        assert_eq!(answer.header("connection"), None);
    }
    assert!(!client.closed_soon().await);
}

async fn echo(request: HttpServerRequest) -> HttpResponse {
    HttpResponse::ok().body(request.body().clone())
}

#[actix_rt::test]
async fn echoes_length_and_chunked_bodies() {
    let (_server, addr) = listen_http(HttpServer::new(echo));
    let mut client = Client::connect(addr).await;
    client
        .send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        .await;
    assert_eq!(client.answer().await.unwrap().body, b"hello");
    client
        .send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer-Field: 1\r\n\r\n")
        .await;
    assert_eq!(client.answer().await.unwrap().body, b"abcdefg");
}

async fn slow_then_fast(request: HttpServerRequest) -> HttpResponse {
    if request.path() == "/slow" {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    HttpResponse::ok().body(request.path().to_string())
}

#[actix_rt::test]
async fn pipelined_answers_keep_request_order_behind_a_slow_handler() {
    let (_server, addr) = listen_http(HttpServer::new(slow_then_fast));
    let mut client = Client::connect(addr).await;
    let mut pipeline = Vec::new();
    pipeline.extend_from_slice(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    for index in 0..40 {
        pipeline
            .extend_from_slice(format!("GET /fast{index} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    client.send(&pipeline).await;
    assert_eq!(client.answer().await.unwrap().body, b"/slow");
    for index in 0..40 {
        let answer = client.answer().await.unwrap();
        assert_eq!(answer.body, format!("/fast{index}").as_bytes());
    }
}

#[actix_rt::test]
async fn head_gets_the_headers_of_get_without_the_body() {
    let (_server, addr) = listen_http(HttpServer::new(hello));
    let mut client = Client::connect(addr).await;
    client
        .send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let head = client.head_answer().await;
    assert_eq!(head.status_line, "HTTP/1.1 200 OK");
    assert_eq!(head.header("content-length"), Some("12"));
    // The next bytes are the GET's answer, so the HEAD answer carried no body.
    let get = client.answer().await.unwrap();
    assert_eq!(get.status_line, "HTTP/1.1 200 OK");
    assert_eq!(get.body, b"Hello, world");
}

#[actix_rt::test]
async fn http10_closes_unless_asked_to_keep_alive() {
    let (_server, addr) = listen_http(HttpServer::new(hello));
    let (answer, closed) = one_shot(addr, b"GET / HTTP/1.0\r\n\r\n").await;
    assert_eq!(answer.status_line, "HTTP/1.0 200 OK");
    assert!(closed);

    let mut client = Client::connect(addr).await;
    for _ in 0..2 {
        client
            .send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .await;
        let answer = client.answer().await.unwrap();
        assert_eq!(answer.status_line, "HTTP/1.0 200 OK");
        assert_eq!(answer.header("connection"), Some("keep-alive"));
    }
    assert!(!client.closed_soon().await);
}

#[actix_rt::test]
async fn connection_close_and_no_keep_alive_close_after_the_answer() {
    let (_server, addr) = listen_http(HttpServer::new(hello));
    let (answer, closed) = one_shot(
        addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(closed);

    let (_server, addr) = listen_http(HttpServer::new(hello).no_keep_alive(true));
    let (answer, closed) = one_shot(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(closed);
}

async fn panics_on_boom(request: HttpServerRequest) -> HttpResponse {
    if request.path() == "/boom" {
        panic!("handler bug");
    }
    HttpResponse::ok().text("fine")
}

#[actix_rt::test]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    let (_server, addr) = listen_http(HttpServer::new(panics_on_boom));
    let (answer, closed) = one_shot(addr, b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(answer.status_line, "HTTP/1.1 500 Internal Server Error");
    assert!(closed);
    let (answer, _) = one_shot(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(answer.body, b"fine");
}

#[actix_rt::test]
async fn streamed_answers_are_chunked_for_http11_and_close_delimited_for_http10() {
    let service = streaming(|_request, mut writer: ResponseWriter| async move {
        writer.set_header(
            HeaderName::from_static("x-streamed"),
            HeaderValue::from_static("yes"),
        );
        for piece in ["one ", "two ", "three"] {
            writer.write(piece);
            writer.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        writer.finish().await.unwrap();
    });
    let (_server, addr) = listen_http(HttpServer::new(service));
    let mut client = Client::connect(addr).await;
    for _ in 0..2 {
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let answer = client.answer().await.unwrap();
        assert!(answer.chunked);
        assert_eq!(answer.header("x-streamed"), Some("yes"));
        assert_eq!(answer.body, b"one two three");
    }
    let (answer, closed) = one_shot(addr, b"GET / HTTP/1.0\r\n\r\n").await;
    assert_eq!(answer.status_line, "HTTP/1.0 200 OK");
    assert!(!answer.chunked);
    assert_eq!(answer.header("content-length"), None);
    assert_eq!(answer.body, b"one two three");
    assert!(closed);
}

#[actix_rt::test]
async fn a_writer_finished_without_flushing_sends_a_content_length() {
    let service = streaming(|_request, mut writer: ResponseWriter| async move {
        writer.set_status(StatusCode::CREATED);
        writer.write("whole");
        writer.finish().await.unwrap();
    });
    let (_server, addr) = listen_http(HttpServer::new(service));
    let (answer, _) = one_shot(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(answer.status_line, "HTTP/1.1 201 Created");
    assert_eq!(answer.header("content-length"), Some("5"));
    assert_eq!(answer.body, b"whole");
}

#[actix_rt::test]
async fn a_writer_dropped_before_the_head_answers_500() {
    let service = streaming(|_request, writer: ResponseWriter| async move {
        drop(writer);
    });
    let (_server, addr) = listen_http(HttpServer::new(service));
    let (answer, closed) = one_shot(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(answer.status, 500);
    assert!(closed);
}

/// Answers requests from another thread's actor.
struct Greeter;

impl Actor for Greeter {
    type Context = Context<Self>;
}

impl Handler<HttpRequestMessage> for Greeter {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
        let text = format!("hello {}", message.request.path());
        message
            .writer
            .respond(HttpResponse::ok().text(text))
            .unwrap();
    }
}

#[actix_rt::test]
async fn an_actor_can_be_the_service() {
    let greeter = Greeter.start().recipient::<HttpRequestMessage>();
    let (_server, addr) = listen_http(HttpServer::new(actor(greeter)));
    let mut client = Client::connect(addr).await;
    client
        .send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    assert_eq!(client.answer().await.unwrap().body, b"hello /a");
    assert_eq!(client.answer().await.unwrap().body, b"hello /b");
}

async fn describe(request: HttpServerRequest) -> HttpResponse {
    let arguments = request.arguments().unwrap();
    let names: Vec<String> = arguments
        .iter()
        .map(|(name, values)| format!("{name}={}", values.len()))
        .collect();
    let tags = arguments.get_all_str("tag").unwrap().join(",");
    let files = request.files().unwrap();
    let upload = files
        .get("upload")
        .map(|file| format!("{}:{}", file.filename, file.body.len()))
        .unwrap_or_default();
    let text = format!(
        "{} {} {} tags={tags} session={} upload={upload} ip={} proto={} url={}",
        request.method(),
        request.path(),
        names.join("&"),
        request.cookie("session").unwrap_or("-"),
        request.remote_ip(),
        request.protocol(),
        request.full_url(),
    );
    HttpResponse::ok().text(text)
}

#[actix_rt::test]
async fn arguments_files_and_cookies_are_parsed_on_demand() {
    let (_server, addr) = listen_http(HttpServer::new(describe));
    let form = b"tag=b&tag=c";
    let request = format!(
        "POST /form?tag=a&page=2 HTTP/1.1\r\nHost: example.com:8080\r\nCookie: theme=dark; session=s1\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        form.len()
    );
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(form);
    let (answer, _) = one_shot(addr, &bytes).await;
    let text = String::from_utf8(answer.body).unwrap();
    assert_eq!(
        text,
        "POST /form tag=3&page=1 tags=a,b,c session=s1 upload= ip=127.0.0.1 proto=http \
         url=http://example.com:8080/form?tag=a&page=2"
    );

    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.txt\"\r\n\
                Content-Type: text/plain\r\n\r\n12345\r\n--XyZ--\r\n";
    let request = format!(
        "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (answer, _) = one_shot(addr, request.as_bytes()).await;
    let text = String::from_utf8(answer.body).unwrap();
    assert!(text.contains("upload=a.txt:5"), "{text}");
}

#[actix_rt::test]
async fn xheaders_report_the_proxied_client_only_when_enabled() {
    let request = b"GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.9, 10.0.0.7\r\n\
                    X-Forwarded-Proto: https\r\n\r\n";
    let (_plain, addr) = listen_http(HttpServer::new(describe));
    let (answer, _) = one_shot(addr, request).await;
    let text = String::from_utf8(answer.body).unwrap();
    assert!(text.contains("ip=127.0.0.1 proto=http "), "{text}");

    let trusted = ["10.0.0.7".parse().unwrap()];
    let (_proxied, addr) = listen_http(
        HttpServer::new(describe)
            .xheaders(true)
            .trusted_downstream(trusted),
    );
    let (answer, _) = one_shot(addr, request).await;
    let text = String::from_utf8(answer.body).unwrap();
    assert!(text.contains("ip=203.0.113.9 proto=https "), "{text}");
}

#[actix_rt::test]
async fn gzip_bodies_are_inflated_within_the_body_limit() {
    use std::io::Write;
    let gzip = |data: &[u8]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    };
    let (_server, addr) = listen_http(
        HttpServer::new(echo)
            .decompress_request(true)
            .max_body_size(100_000),
    );
    let packed = gzip(b"inflate me");
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        packed.len()
    )
    .into_bytes();
    request.extend_from_slice(&packed);
    let (answer, _) = one_shot(addr, &request).await;
    assert_eq!(answer.body, b"inflate me");

    // A bomb: 1 KiB on the wire, 1 MB inflated, against a 100 kB limit.
    let bomb = gzip(&vec![0u8; 1_000_000]);
    assert!(bomb.len() < 100_000);
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        bomb.len()
    )
    .into_bytes();
    request.extend_from_slice(&bomb);
    let (answer, closed) = one_shot(addr, &request).await;
    assert_eq!(answer.status, 413);
    assert!(closed);
}

#[actix_rt::test]
async fn graceful_shutdown_finishes_the_request_in_flight() {
    let slow = |_request: HttpServerRequest| async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        HttpResponse::ok().text("finished")
    };
    let (mut server, addr) = listen_http(HttpServer::new(slow));
    let mut busy = Client::connect(addr).await;
    busy.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut idle = Client::connect(addr).await;
    let registry = server.registry().unwrap().clone();
    wait::until("both connections are accepted", || registry.len() == 2).await;
    let client = async move {
        let answer = busy.answer().await.unwrap();
        let closed = busy.closed().await;
        (answer, closed)
    };
    let (report, (answer, closed)) =
        futures::join!(server.shutdown(Duration::from_secs(5)), client);
    assert_eq!(answer.body, b"finished");
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(closed);
    assert!(idle.closed().await);
    assert_eq!(report.forced, 0);
    assert_eq!(report.finished, 2);
}

#[actix_rt::test]
async fn a_handler_gets_the_body_as_it_arrives_in_bounded_chunks() {
    use futures::StreamExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const TOTAL: usize = 64 * 1024 * 1024;
    /// How long the upload must not move to count as stalled.
    const STALL: Duration = Duration::from_millis(200);
    let sent = Arc::new(AtomicUsize::new(0));
    let (paused_sender, mut paused) = tokio::sync::mpsc::unbounded_channel();
    let resume = Arc::new(tokio::sync::Notify::new());
    let handler_resume = resume.clone();
    let service = streaming(
        move |mut request: HttpServerRequest, writer: ResponseWriter| {
            let (paused_sender, resume) = (paused_sender.clone(), handler_resume.clone());
            async move {
                let mut body = request.take_body_stream().unwrap();
                let (mut total, mut chunks, mut largest) = (0usize, 0usize, 0usize);
                let mut was_paused = false;
                while let Some(chunk) = body.next().await {
                    let chunk: Bytes = chunk.unwrap();
                    total += chunk.len();
                    chunks += 1;
                    largest = largest.max(chunk.len());
                    if !was_paused && total > 1024 * 1024 {
                        // Stop reading until the test saw the upload stall: it must stall,
                        // not pile up here.
                        was_paused = true;
                        let _ = paused_sender.send(());
                        let _ = tokio::time::timeout(wait::WAIT, resume.notified()).await;
                    }
                }
                let text = format!("{total} {chunks} {largest}");
                writer.respond(HttpResponse::ok().text(text)).unwrap();
            }
        },
    )
    .stream_request_body(true);
    let (_server, addr) = listen_http(HttpServer::new(service).max_body_size(TOTAL as u64));
    let mut client = Client::connect(addr).await;
    client
        .send(format!("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {TOTAL}\r\n\r\n").as_bytes())
        .await;
    let (reader, mut writer) = client.stream.into_split();
    let counter = sent.clone();
    let upload = actix_rt::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let piece = vec![b'u'; 256 * 1024];
        let mut left = TOTAL;
        while left > 0 {
            let size = left.min(piece.len());
            writer.write_all(&piece[..size]).await.unwrap();
            counter.fetch_add(size, Ordering::Relaxed);
            left -= size;
        }
        writer
    });
    // While the handler reads nothing, the client can only fill the socket buffers and the
    // small queue, far from the whole body: the upload stops moving.
    bounded(paused.recv()).await;
    let mut last_change = (sent.load(Ordering::Relaxed), Instant::now());
    wait::until("the upload stalls", || {
        let now = sent.load(Ordering::Relaxed);
        if now != last_change.0 {
            last_change = (now, Instant::now());
        }
        last_change.1.elapsed() >= STALL
    })
    .await;
    let in_flight = sent.load(Ordering::Relaxed);
    assert!(
        in_flight < 24 * 1024 * 1024,
        "{in_flight} bytes accepted while the handler read nothing"
    );
    resume.notify_one();
    let writer = tokio::time::timeout(Duration::from_secs(60), upload)
        .await
        .unwrap()
        .unwrap();
    let mut client = Client::from_stream(reader.reunite(writer).unwrap());
    let answer = client.answer().await.unwrap();
    let body = String::from_utf8(answer.body).unwrap();
    let numbers: Vec<usize> = body.split(' ').map(|n| n.parse().unwrap()).collect();
    assert_eq!(numbers[0], TOTAL);
    assert!(numbers[2] <= 64 * 1024, "a chunk of {} bytes", numbers[2]);
    assert!(numbers[1] >= TOTAL / (64 * 1024), "{} chunks", numbers[1]);
}

#[actix_rt::test]
async fn workers_each_build_their_own_service() {
    use std::rc::Rc;
    // The service holds an Rc, so it is not Send: only a per-worker factory can serve it.
    let mut server = HttpServer::with_factory(|| {
        let greeting = Rc::new(String::from("from a worker"));
        move |_request: HttpServerRequest| {
            let greeting = greeting.clone();
            async move { HttpResponse::ok().text(greeting.as_str().to_owned()) }
        }
    });
    let addr = start_http(&mut server, 2);
    for _ in 0..4 {
        let (answer, _) = one_shot(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert_eq!(answer.body, b"from a worker");
    }
    let report = server.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.forced, 0);
}

#[actix_rt::test]
async fn a_streaming_handler_learns_that_the_client_left_mid_body() {
    use futures::StreamExt;
    let (received_sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let (outcome_sender, mut outcomes) = tokio::sync::mpsc::unbounded_channel();
    let service = streaming(
        move |mut request: HttpServerRequest, writer: ResponseWriter| {
            let (received, report) = (received_sender.clone(), outcome_sender.clone());
            async move {
                let mut body = request.take_body_stream().unwrap();
                let mut outcome = String::from("ended cleanly");
                while let Some(chunk) = body.next().await {
                    match chunk {
                        Ok(_) => {
                            let _ = received.send(());
                        }
                        Err(error) => outcome = error.to_string(),
                    }
                }
                let _ = report.send(outcome);
                drop(writer);
            }
        },
    )
    .stream_request_body(true);
    let (_server, addr) = listen_http(HttpServer::new(service));
    let mut client = Client::connect(addr).await;
    client
        .send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
        .await;
    // The handler has the first piece of the body; then the client goes away.
    bounded(received.recv()).await;
    drop(client);
    let outcome = bounded(outcomes.recv()).await;
    assert_eq!(
        outcome.as_deref(),
        Some("the connection closed before the end of the body")
    );
}

/// Sends on its channel when dropped: tells the test that a handler's future was dropped.
struct DropSignal(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(signal) = self.0.take() {
            let _ = signal.send(());
        }
    }
}

#[actix_rt::test]
async fn a_client_that_closes_cancels_its_unfinished_handler_at_once() {
    let (dropped, on_drop) = tokio::sync::oneshot::channel();
    let signal = std::sync::Arc::new(std::sync::Mutex::new(Some(dropped)));
    let (started_sender, mut started) = tokio::sync::mpsc::unbounded_channel();
    let (_server, addr) = listen_http(HttpServer::new(move |_request: HttpServerRequest| {
        let guard = DropSignal(signal.lock().ok().and_then(|mut slot| slot.take()));
        let started = started_sender.clone();
        async move {
            // A long poll that never answers by itself.
            let _guard = guard;
            let _ = started.send(());
            std::future::pending::<()>().await;
            HttpResponse::ok()
        }
    }));
    let mut client = Client::connect(addr).await;
    client.send(b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n").await;
    // Once the handler runs, the client goes away.
    bounded(started.recv()).await;
    drop(client);
    let cancelled = tokio::time::timeout(Duration::from_secs(5), on_drop).await;
    assert!(
        matches!(cancelled, Ok(Ok(()))),
        "the handler's future was not dropped after the client closed"
    );
}

#[actix_rt::test]
async fn a_half_closed_client_still_gets_an_answer_that_was_ready() {
    let (_server, addr) = listen_http(HttpServer::new(hello));
    let mut client = Client::connect(addr).await;
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    client.finish_sending().await;
    let mut answer = Vec::new();
    let read = bounded(tokio::io::AsyncReadExt::read_to_end(
        &mut client.stream,
        &mut answer,
    ))
    .await;
    assert!(read.is_ok(), "{read:?}");
    assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(answer.ends_with(b"Hello, world"));
}

#[actix_rt::test]
async fn on_sent_reports_the_status_a_reply_went_out_with() {
    use cyclone::httpserver::Reply;
    let (sent, mut reported) = tokio::sync::mpsc::unbounded_channel();
    let (_server, addr) = listen_http(HttpServer::new(move |request: HttpServerRequest| {
        let sent = sent.clone();
        async move {
            let status = if request.path() == "/created" {
                StatusCode::CREATED
            } else {
                StatusCode::NOT_FOUND
            };
            Reply::from(HttpResponse::new(status)).on_sent(move |status| {
                let _ = sent.send(status);
            })
        }
    }));
    for (path, status) in [("/created", 201), ("/missing", 404)] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        let (answer, _) = one_shot(addr, request.as_bytes()).await;
        assert!(answer.status_line.contains(&status.to_string()));
        let got = bounded(reported.recv()).await;
        assert_eq!(got.map(|sent| sent.as_u16()), Some(status));
    }
}
