//! HTTP/2 over real sockets (`HttpServer::http2`), against curl (built with nghttp2) and a raw
//! frame client: an `Application` served unchanged over cleartext HTTP/2 with prior knowledge
//! (GET, POST with a body larger than one window, a streamed answer whose first DATA frame
//! arrives before the handler ends, a 404, several streams multiplexed on one connection, the
//! access log), HTTP/1.1 on the same listener, HTTP/2 chosen by ALPN over TLS (and HTTP/1.1 for
//! a client offering only that), streams beyond `max_concurrent_streams` refused, a handler
//! writing into a window the client never opens paused in `flush`, and how connections end:
//! keep-alive PINGs, the idle GOAWAY, and graceful shutdown (the stream in flight finished, no
//! new one served, the close once drained or at the deadline). The raw frame client is
//! `support::raw_http2`; the attacks are in `tests/http2_attacks.rs`.

mod support;

use std::io::{BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use cyclone::httpserver::{
    Http2Config, HttpResponse, HttpServer, HttpServerRequest, ResponseWriter, streaming,
};
use cyclone::tcpserver::ShutdownReport;
use cyclone::web::{
    Application, HttpError, RequestContext, RequestHandler, Settings, handler, handler_with, url,
};
use support::hostile::until_stalled;
use support::logs::AccessLog;
use support::raw_http2::{self, FrameReader, frame};
use support::servers::start_http;
use support::tls::Pki;
use support::wait::WAIT;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// curl, which must be built with nghttp2 for these tests (Debian's is).
fn curl() -> Option<PathBuf> {
    support::deps::require_binary(
        "CURL",
        &["/usr/bin/curl", "/usr/local/bin/curl"],
        "curl built with HTTP/2 (Debian: apt-get install curl)",
    )
}

/// Runs curl with `args` off the test's loop; returns its standard output.
async fn run_curl(curl: &Path, args: Vec<String>) -> String {
    let curl = curl.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(curl)
            .args(["--silent", "--show-error", "--max-time", "20"])
            .args(args)
            .output()
            .expect("curl runs")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("curl's output is text")
}

/// Answers GET with a greeting and the client's port (which tells connections apart).
#[derive(Default)]
struct Hello;

impl RequestHandler for Hello {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let request = cx.request();
        let line = format!(
            "hello {:?} port {}\n",
            request.version(),
            request.peer().port()
        );
        cx.write(line);
        Ok(())
    }
}

/// Answers POST with the body's length and a checksum of it.
#[derive(Default)]
struct Echo;

impl RequestHandler for Echo {
    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let body = cx.request().body().clone();
        let sum: u64 = body.iter().map(|byte| u64::from(*byte)).sum();
        cx.write(format!("{} bytes, sum {sum};", body.len()));
        // Answer with the body too: more than one window's worth goes back.
        cx.write(body);
        Ok(())
    }
}

/// Flushes a first piece, waits for the test to say go, then writes the rest.
struct Flusher {
    go: Arc<Notify>,
}

impl RequestHandler for Flusher {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("first;");
        cx.flush().await?;
        self.go.notified().await;
        for piece in ["second;", "last"] {
            cx.write(piece);
            cx.flush().await?;
        }
        Ok(())
    }
}

/// The test application, its access log and the streaming handler's go signal.
fn application() -> (Application, AccessLog, Arc<Notify>) {
    let go = Arc::new(Notify::new());
    let handler_go = go.clone();
    let (settings, log) = AccessLog::record(Settings::default());
    let app = Application::with_settings(
        [
            url("/hello", handler::<Hello>()),
            url("/echo", handler::<Echo>()),
            url(
                "/stream",
                handler_with(move || Flusher {
                    go: handler_go.clone(),
                }),
            ),
        ],
        settings,
    )
    .unwrap();
    (app, log, go)
}

/// The application on its own worker thread with h2c on.
fn h2c_server() -> (HttpServer<Application>, SocketAddr, AccessLog, Arc<Notify>) {
    let (app, log, go) = application();
    let mut server = HttpServer::new(app).http2(true);
    let addr = start_http(&mut server, 1);
    (server, addr, log, go)
}

/// `-w` format printing the protocol version and status after the body.
const VERSION_AND_STATUS: &str = "\n%{http_version} %{http_code}";

#[actix_rt::test]
async fn an_application_is_served_over_h2c_with_prior_knowledge() {
    let Some(curl) = curl() else { return };
    let (mut server, addr, log, _go) = h2c_server();
    let base = format!("http://{addr}");

    let get = run_curl(
        &curl,
        vec![
            "--http2-prior-knowledge".into(),
            "-w".into(),
            VERSION_AND_STATUS.into(),
            format!("{base}/hello"),
        ],
    )
    .await;
    let (body, tail) = get.rsplit_once('\n').unwrap();
    assert!(body.starts_with("hello HTTP/2.0 port "), "{get}");
    assert_eq!(tail, "2 200");

    // The ETag, kept beside the answer's header map on its way out, reaches an HTTP/2 client
    // as a field too, and a matching If-None-Match is 304 there as well.
    let etag_of = |extra: Vec<String>| {
        let mut args = vec![
            "--http2-prior-knowledge".into(),
            "-o".into(),
            "/dev/null".into(),
            "-w".into(),
            "%{http_code} %header{etag}".into(),
        ];
        args.extend(extra);
        args.push(format!("{base}/hello"));
        run_curl(&curl, args)
    };
    let tagged = etag_of(Vec::new()).await;
    let (code, etag) = tagged.split_once(' ').unwrap();
    assert_eq!(code, "200");
    assert!(
        etag.len() == 18 && etag.starts_with('"') && etag.ends_with('"'),
        "{tagged}"
    );
    // The greeting names the client's port, so each curl gets another tag: `*` matches any.
    let cached = etag_of(vec!["-H".into(), "If-None-Match: *".into()]).await;
    let (code, etag) = cached.split_once(' ').unwrap();
    assert_eq!((code, etag.len()), ("304", 18), "{cached}");

    let missing = run_curl(
        &curl,
        vec![
            "--http2-prior-knowledge".into(),
            "-o".into(),
            "/dev/null".into(),
            "-w".into(),
            "%{http_version} %{http_code}".into(),
            format!("{base}/missing"),
        ],
    )
    .await;
    assert_eq!(missing, "2 404");

    // A body of 300 000 bytes: several DATA frames each way and more than the 64 KiB window
    // the client starts with.
    let dir = tempdir();
    let upload: Vec<u8> = (0..300_000u32).map(|index| (index % 251) as u8).collect();
    let sum: u64 = upload.iter().map(|byte| u64::from(*byte)).sum();
    let file = dir.join("upload.bin");
    std::fs::write(&file, &upload).unwrap();
    let posted = run_curl(
        &curl,
        vec![
            "--http2-prior-knowledge".into(),
            "--data-binary".into(),
            format!("@{}", file.display()),
            "-H".into(),
            "Content-Type: application/octet-stream".into(),
            "-w".into(),
            "%{http_version} %{http_code}".into(),
            "-o".into(),
            dir.join("answer.bin").display().to_string(),
            format!("{base}/echo"),
        ],
    )
    .await;
    assert_eq!(posted, "2 200");
    let answer = std::fs::read(dir.join("answer.bin")).unwrap();
    let prefix = format!("300000 bytes, sum {sum};");
    assert!(answer.starts_with(prefix.as_bytes()));
    assert_eq!(&answer[prefix.len()..], &upload[..]);

    let lines = wait_for_lines(&log, 3).await;
    for expected in ["200 GET /hello ", "404 GET /missing ", "200 POST /echo "] {
        assert!(
            lines.iter().any(|line| line.starts_with(expected)),
            "no {expected:?} in {lines:#?}"
        );
    }
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[actix_rt::test]
async fn flush_sends_data_frames_before_the_handler_ends() {
    let Some(curl) = curl() else { return };
    let (mut server, addr, _log, go) = h2c_server();
    let url = format!("http://{addr}/stream");
    let read = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(curl)
            .args(["--silent", "--no-buffer", "--max-time", "20"])
            .args(["--http2-prior-knowledge", "-w", "\n%{http_version}", &url])
            .stdout(Stdio::piped())
            .spawn()
            .expect("curl runs");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = [0u8; 6];
        stdout.read_exact(&mut first).unwrap();
        // The handler is still waiting: only a flushed DATA frame can have carried this.
        go.notify_one();
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        let status = child.wait().unwrap();
        (first, rest, status)
    });
    let (first, rest, status) = tokio::time::timeout(WAIT, read).await.unwrap().unwrap();
    assert!(status.success());
    assert_eq!(&first, b"first;");
    assert_eq!(rest, "second;last\n2");
    server.stop().await;
}

#[actix_rt::test]
async fn several_requests_share_one_connection_and_http1_still_works() {
    let Some(curl) = curl() else { return };
    // curl 7.88 (Debian 12's) never sends a second request on a reused prior-knowledge
    // connection (a client bug: it logs "Re-using existing connection" and stops), so the
    // streams in parallel on one connection are nghttp's, from the same nghttp2 library.
    let Some(nghttp) = support::deps::require_binary(
        "NGHTTP",
        &["/usr/bin/nghttp", "/usr/local/bin/nghttp"],
        "nghttp (Debian: apt-get install nghttp2-client)",
    ) else {
        return;
    };
    let (mut server, addr, _log, _go) = h2c_server();
    // nghttp speaks HTTP/2 with prior knowledge to http:// URLs, all on one connection, every
    // request sent before the first answer; -s prints each stream's id and status.
    let mut args = vec!["-s".to_owned()];
    for index in 0..6 {
        args.push(format!("http://{addr}/hello?n={index}"));
    }
    let output = tokio::task::spawn_blocking(move || {
        Command::new(nghttp)
            .args(["--timeout", "20"])
            .args(args)
            .output()
            .expect("nghttp runs")
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let output = String::from_utf8(output.stdout).unwrap();
    let bodies: Vec<&str> = output
        .split("hello ")
        .skip(1)
        .map(|rest| rest.split_whitespace().take(3).last().unwrap())
        .collect();
    assert_eq!(bodies.len(), 6, "{output}");
    // Every answer names the same client port: one connection carried all six streams.
    let ports: std::collections::HashSet<&str> = bodies.iter().copied().collect();
    assert_eq!(ports.len(), 1, "{output}");
    // The statistics table: six streams (odd ids), each answered 200.
    let streams: Vec<Vec<&str>> = output
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|fields| fields.len() == 7 && fields[0].parse::<u32>().is_ok())
        .collect();
    assert_eq!(streams.len(), 6, "{output}");
    assert!(streams.iter().all(|fields| fields[4] == "200"), "{output}");

    // HTTP/1.1 on the same listener.
    let http1 = run_curl(
        &curl,
        vec![
            "--http1.1".into(),
            "-w".into(),
            VERSION_AND_STATUS.into(),
            format!("http://{addr}/hello"),
        ],
    )
    .await;
    let (body, tail) = http1.rsplit_once('\n').unwrap();
    assert!(body.starts_with("hello HTTP/1.1 port "), "{http1}");
    assert_eq!(tail, "1.1 200");
    server.stop().await;
}

#[actix_rt::test]
async fn tls_alpn_picks_h2_and_falls_back_to_http1() {
    let Some(curl) = curl() else { return };
    let pki = Pki::generate();
    let dir = tempdir();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &pki.ca).unwrap();
    let (app, _log, _go) = application();
    let mut server = HttpServer::new(app)
        .ssl_options(pki.server().build().unwrap())
        .http2(true);
    let addr = start_http(&mut server, 1);
    let url = format!("https://localhost:{}/hello", addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", addr.port());
    for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let output = run_curl(
            &curl,
            vec![
                flag.into(),
                "--cacert".into(),
                ca.display().to_string(),
                "--resolve".into(),
                resolve.clone(),
                "-w".into(),
                VERSION_AND_STATUS.into(),
                url.clone(),
            ],
        )
        .await;
        let (body, tail) = output.rsplit_once('\n').unwrap();
        assert_eq!(tail, format!("{version} 200"), "{flag}: {output}");
        let expected = if version == "2" {
            "HTTP/2.0"
        } else {
            "HTTP/1.1"
        };
        assert!(
            body.starts_with(&format!("hello {expected} port ")),
            "{flag}: {output}"
        );
    }
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[actix_rt::test]
async fn streams_beyond_max_concurrent_streams_are_refused() {
    let (release, waiting) = tokio::sync::watch::channel(false);
    // Every request waits until the test releases it: the first two streams stay open.
    let service = move |_request: HttpServerRequest| {
        let mut waiting = waiting.clone();
        async move {
            let _ = waiting.wait_for(|released| *released).await;
            HttpResponse::ok().text("released")
        }
    };
    let mut server =
        HttpServer::new(service).http2_config(Http2Config::default().max_concurrent_streams(2));
    let addr = start_http(&mut server, 1);
    let mut client = TcpStream::connect(addr).await.unwrap();
    // The preface and an empty SETTINGS, then five requests at once, without waiting for the
    // server's SETTINGS (as a client ignoring the limit would).
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend_from_slice(&frame(0x4, 0, 0, &[]));
    for stream in [1u32, 3, 5, 7, 9] {
        out.extend_from_slice(&raw_http2::request(stream, "/slow"));
    }
    client.write_all(&out).await.unwrap();

    let mut frames = FrameReader::default();
    let mut refused = Vec::new();
    while refused.len() < 3 {
        let (kind, flags, stream, payload) = frames.next(&mut client).await;
        if kind == 0x4 && flags & 0x1 == 0 {
            // Acknowledge the server's SETTINGS, as a client must.
            client.write_all(&frame(0x4, 0x1, 0, &[])).await.unwrap();
        }
        if kind == 0x3 {
            let code = u32::from_be_bytes(payload[..4].try_into().unwrap());
            assert_eq!(
                code, 0x7,
                "stream {stream} reset with {code}, not REFUSED_STREAM"
            );
            refused.push(stream);
        }
        assert_ne!(kind, 0x1, "a stream was answered before any was released");
    }
    refused.sort_unstable();
    assert_eq!(refused, vec![5, 7, 9]);

    // The two admitted streams are answered once released.
    release.send_replace(true);
    let mut answered = Vec::new();
    while answered.len() < 2 {
        let (kind, _flags, stream, _payload) = frames.next(&mut client).await;
        if kind == 0x1 {
            answered.push(stream);
        }
    }
    answered.sort_unstable();
    assert_eq!(answered, vec![1, 3]);
    server.stop().await;
}

#[actix_rt::test]
async fn a_handler_writing_faster_than_the_window_opens_is_paused() {
    const PIECE: usize = 64 * 1024;
    const ATTEMPT: u64 = 100 * 1024 * 1024;
    let flushed = Arc::new(AtomicU64::new(0));
    let counter = flushed.clone();
    // Writes 64 KiB pieces, flushing each, until 100 MiB are out or the client is gone.
    let service = streaming(
        move |_request: HttpServerRequest, mut writer: ResponseWriter| {
            let counter = counter.clone();
            async move {
                let piece = Bytes::from(vec![b'x'; PIECE]);
                while counter.load(Ordering::Relaxed) < ATTEMPT {
                    writer.write(piece.clone());
                    if writer.flush().await.is_err() {
                        return;
                    }
                    counter.fetch_add(PIECE as u64, Ordering::Relaxed);
                }
                let _ = writer.finish().await;
            }
        },
    );
    let mut server = HttpServer::new(service).http2(true);
    let addr = start_http(&mut server, 1);
    let mut client = TcpStream::connect(addr).await.unwrap();
    // A client whose streams start with a window of 0 bytes and which never opens it.
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend_from_slice(&frame(0x4, 0, 0, &[0x00, 0x04, 0, 0, 0, 0]));
    let mut block = vec![0x82, 0x86, 0x84]; // GET, http, /
    block.extend_from_slice(&[0x01, 9]);
    block.extend_from_slice(b"127.0.0.1");
    out.extend_from_slice(&frame(0x1, 0x5, 1, &block));
    client.write_all(&out).await.unwrap();
    let mut frames = FrameReader::default();
    loop {
        let (kind, flags, stream, _payload) = frames.next(&mut client).await;
        if kind == 0x4 && flags & 0x1 == 0 {
            client.write_all(&frame(0x4, 0x1, 0, &[])).await.unwrap();
        }
        assert_ne!(kind, 0x0, "DATA sent on stream {stream} into a window of 0");
        if kind == 0x1 && stream == 1 {
            break; // the answer's head: the handler has begun writing
        }
    }
    let stalled = until_stalled(&flushed, Duration::from_millis(300)).await;
    // What a paused handler may have flushed: the writer's queue (16 pieces), the piece being
    // sent and h2's send buffer (400 KiB); nowhere near the 100 MiB it tries to write.
    assert!(
        stalled <= 4 * 1024 * 1024,
        "{stalled} bytes flushed into a closed window"
    );
    server.stop().await;
}

/// A server whose every request waits until the test opens the gate, then answers
/// "released"; the test learns when each request reaches the service, and how many did.
fn gated_server(
    config: Http2Config,
) -> (
    HttpServer<impl cyclone::httpserver::HttpService + Clone + Send + Sync>,
    Gate,
) {
    let (open, gate) = tokio::sync::watch::channel(false);
    let (started, arrivals) = tokio::sync::mpsc::unbounded_channel();
    let calls = Arc::new(AtomicU64::new(0));
    let counter = calls.clone();
    let service = move |request: HttpServerRequest| {
        let mut gate = gate.clone();
        counter.fetch_add(1, Ordering::SeqCst);
        let _ = started.send(request.uri().to_string());
        async move {
            let _ = gate.wait_for(|open| *open).await;
            HttpResponse::ok().text("released")
        }
    };
    let server = HttpServer::new(service).http2_config(config);
    (
        server,
        Gate {
            open,
            arrivals,
            calls,
        },
    )
}

/// The test's side of [`gated_server`].
struct Gate {
    /// Set to `true` to let every request (waiting or to come) answer.
    open: tokio::sync::watch::Sender<bool>,
    /// The target of each request as it reaches the service.
    arrivals: tokio::sync::mpsc::UnboundedReceiver<String>,
    /// Requests the service was called with.
    calls: Arc<AtomicU64>,
}

impl Gate {
    /// Waits until a request has reached the service; its target.
    async fn arrival(&mut self) -> String {
        tokio::time::timeout(WAIT, self.arrivals.recv())
            .await
            .expect("a request reaches the service in time")
            .expect("the service is alive")
    }
}

#[actix_rt::test]
async fn keep_alive_pings_a_silent_client_and_closes_the_connection_when_unanswered() {
    let config = Http2Config::default()
        .keep_alive_interval(Some(Duration::from_millis(100)))
        .keep_alive_timeout(Duration::from_secs(2));
    let service = |_request: HttpServerRequest| async { HttpResponse::ok().text("ok") };
    // The idle timeout (60 s) is longer than any wait here: only the PINGs can close.
    let mut server = HttpServer::new(service).http2_config(config);
    let addr = start_http(&mut server, 1);

    // A client that answers: pinged again and again, and still served after three rounds.
    let mut alive = raw_http2::connect(addr, &[]).await;
    let mut frames = FrameReader::default();
    let mut pings = 0;
    while pings < 3 {
        let frame = frames.next(&mut alive).await;
        let (kind, flags, _, _) = &frame;
        if *kind == raw_http2::PING && flags & raw_http2::ACK == 0 {
            pings += 1;
        }
        assert!(
            raw_http2::answer_control(&mut alive, &frame).await,
            "unexpected frame {frame:?}"
        );
    }
    alive.write_all(&raw_http2::request(1, "/")).await.unwrap();
    assert_eq!(
        raw_http2::answer_status(&mut alive, &mut frames, 1).await,
        200
    );

    // A client that stops answering after the handshake: pinged, then closed.
    let mut silent = raw_http2::connect(addr, &[]).await;
    let mut frames = FrameReader::default();
    let mut pinged = false;
    while let Some(received) = frames.next_or_closed(&mut silent).await {
        match received {
            (raw_http2::SETTINGS, 0, _, _) => {
                silent
                    .write_all(&frame(raw_http2::SETTINGS, raw_http2::ACK, 0, &[]))
                    .await
                    .unwrap();
            }
            (raw_http2::PING, 0, _, _) => pinged = true,
            (raw_http2::SETTINGS, raw_http2::ACK, _, _) | (raw_http2::WINDOW_UPDATE, _, 0, _) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
    assert!(pinged, "closed without a PING first");
    server.stop().await;
}

#[actix_rt::test]
async fn a_connection_with_no_stream_open_for_the_idle_timeout_gets_goaway() {
    let config = Http2Config::default().keep_alive_interval(None);
    let (server, mut gate) = gated_server(config);
    let mut server = server.idle_connection_timeout(Duration::from_millis(300));
    let addr = start_http(&mut server, 1);

    // A stream held open...
    let mut busy = raw_http2::connect(addr, &[]).await;
    busy.write_all(&raw_http2::request(1, "/held"))
        .await
        .unwrap();
    assert_eq!(gate.arrival().await, "/held");
    // ...for longer than the idle timeout: a connection opened after it has been idled.
    let mut idle = raw_http2::connect(addr, &[]).await;
    let frames = FrameReader::default().until_closed(&mut idle).await;
    let goaways = raw_http2::goaways(&frames);
    assert_eq!(goaways, vec![(0, raw_http2::NO_ERROR)], "{frames:?}");

    // The busy connection was not: its answer comes, then its own GOAWAY once idle.
    gate.open.send_replace(true);
    let mut frames = FrameReader::default();
    assert_eq!(
        raw_http2::answer_status(&mut busy, &mut frames, 1).await,
        200
    );
    let rest = frames.until_closed(&mut busy).await;
    let goaways = raw_http2::goaways(&rest);
    assert_eq!(goaways, vec![(1, raw_http2::NO_ERROR)], "{rest:?}");
    server.stop().await;
}

/// Starts a gated server, opens stream 1 on it and, once the request has reached the service,
/// starts a graceful shutdown with `deadline`; the client, the gate and the shutdown's report.
async fn shutdown_with_a_stream_open(
    deadline: Duration,
) -> (TcpStream, Gate, actix_rt::task::JoinHandle<ShutdownReport>) {
    let (mut server, mut gate) = gated_server(Http2Config::default());
    let addr = start_http(&mut server, 1);
    let mut client = raw_http2::connect(addr, &[]).await;
    let request = raw_http2::request(1, "/slow");
    client.write_all(&request).await.unwrap();
    assert_eq!(gate.arrival().await, "/slow");
    let shutdown = actix_rt::spawn(async move { server.shutdown(deadline).await });
    (client, gate, shutdown)
}

#[actix_rt::test]
async fn graceful_shutdown_finishes_the_stream_in_flight_and_serves_no_new_one() {
    let (mut client, gate, shutdown) = shutdown_with_a_stream_open(WAIT).await;
    // GOAWAY(2^31-1), a PING, and once it is answered GOAWAY naming stream 1 the last.
    let mut frames = FrameReader::default();
    loop {
        let frame = frames.next(&mut client).await;
        if raw_http2::answer_control(&mut client, &frame).await {
            continue;
        }
        let (kind, _, stream, payload) = frame;
        assert_eq!(kind, raw_http2::GOAWAY, "frame {kind} on stream {stream}");
        match raw_http2::goaway(&payload) {
            (0x7fff_ffff, raw_http2::NO_ERROR) => {}
            (last, code) => {
                assert_eq!((last, code), (1, raw_http2::NO_ERROR));
                break;
            }
        }
    }
    // A new stream after it, and a PING behind it: once the PING is answered, the server has
    // read the stream's HEADERS.
    let mut out = raw_http2::request(3, "/late");
    out.extend_from_slice(&frame(raw_http2::PING, 0, 0, b"behind-3"));
    client.write_all(&out).await.unwrap();
    loop {
        let frame = frames.next(&mut client).await;
        if frame.0 == raw_http2::PING && frame.1 & raw_http2::ACK != 0 && frame.3 == b"behind-3" {
            break;
        }
        assert!(
            raw_http2::answer_control(&mut client, &frame).await,
            "unexpected {frame:?}"
        );
    }

    gate.open.send_replace(true);
    let rest = frames.until_closed(&mut client).await;
    let on_1: Vec<&(u8, u8, u32, Vec<u8>)> = rest.iter().filter(|frame| frame.2 == 1).collect();
    assert_eq!(on_1.len(), 2, "{rest:?}");
    assert_eq!(on_1[0].0, raw_http2::HEADERS);
    assert_eq!(raw_http2::status(&on_1[0].3), Some(200));
    assert_eq!((on_1[1].0, on_1[1].3.as_slice()), (0x0, &b"released"[..]));
    assert!(
        rest.iter().all(|frame| frame.2 != 3),
        "stream 3 was served: {rest:?}"
    );
    assert_eq!(
        gate.calls.load(Ordering::SeqCst),
        1,
        "the service saw /late"
    );
    let report = tokio::time::timeout(WAIT, shutdown).await.unwrap().unwrap();
    assert_eq!((report.finished, report.forced), (1, 0), "{report:?}");
}

#[actix_rt::test]
async fn graceful_shutdown_closes_once_drained_even_if_the_client_never_answers_its_ping() {
    let (mut client, gate, shutdown) = shutdown_with_a_stream_open(WAIT).await;
    // GOAWAY(2^31-1) and h2's PING come; the PING is never answered, so h2 alone would never
    // send its second GOAWAY nor close.
    let mut frames = FrameReader::default();
    let mut received = Vec::new();
    while !received
        .iter()
        .any(|frame: &raw_http2::RawFrame| frame.0 == raw_http2::PING)
    {
        received.push(frames.next(&mut client).await);
    }
    assert_eq!(
        raw_http2::goaways(&received),
        vec![(0x7fff_ffff, raw_http2::NO_ERROR)],
        "{received:?}"
    );
    gate.open.send_replace(true);
    // The answer, then the close, long before the shutdown's deadline (WAIT).
    while let Some(frame) = frames.next_or_closed(&mut client).await {
        received.push(frame);
    }
    let answer = received
        .iter()
        .find(|frame| frame.0 == raw_http2::HEADERS && frame.2 == 1)
        .expect("stream 1 answered");
    assert_eq!(raw_http2::status(&answer.3), Some(200));
    assert_eq!(
        raw_http2::goaways(&received).last(),
        Some(&(1, raw_http2::NO_ERROR)),
        "{received:?}"
    );
    let report = tokio::time::timeout(WAIT, shutdown).await.unwrap().unwrap();
    assert_eq!((report.finished, report.forced), (1, 0), "{report:?}");
}

#[actix_rt::test]
async fn graceful_shutdown_closes_a_stream_still_open_at_its_deadline() {
    // The gate stays shut until the test ends: the stream never finishes.
    let (mut client, _gate, shutdown) =
        shutdown_with_a_stream_open(Duration::from_millis(300)).await;
    let frames = FrameReader::default().until_closed(&mut client).await;
    assert!(
        frames.iter().any(|frame| frame.0 == raw_http2::GOAWAY),
        "no GOAWAY before the close: {frames:?}"
    );
    assert!(
        frames.iter().all(|frame| frame.2 != 1),
        "stream 1 was answered: {frames:?}"
    );
    let report = tokio::time::timeout(WAIT, shutdown).await.unwrap().unwrap();
    assert_eq!((report.finished, report.forced), (0, 1), "{report:?}");
}

/// Waits until `log` has at least `count` lines; returns them.
async fn wait_for_lines(log: &AccessLog, count: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    while log.len() < count && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    log.lines()
}

/// A fresh directory for this test's files.
fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "cyclone-http2-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A suffix unique within this process.
fn rand_suffix() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Sets the header fields HTTP/2 forbids, and one of its own.
#[derive(Default)]
struct ConnectionFields;

impl RequestHandler for ConnectionFields {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_header("Connection", "close")?;
        cx.set_header("Keep-Alive", "timeout=5")?;
        cx.set_header("Proxy-Connection", "keep-alive")?;
        cx.set_header("Upgrade", "websocket")?;
        cx.set_header("X-Kept", "yes")?;
        cx.write("fields");
        Ok(())
    }
}

#[actix_rt::test]
async fn connection_fields_are_dropped_and_one_date_is_added() {
    let Some(curl) = curl() else { return };
    let app = Application::new([url("/fields", handler::<ConnectionFields>())]).unwrap();
    let mut server = HttpServer::new(app).http2(true);
    let addr = start_http(&mut server, 1);
    for _ in 0..2 {
        // Twice: the second answer's Date is the cached value.
        let output = run_curl(
            &curl,
            vec![
                "--http2-prior-knowledge".into(),
                "--include".into(),
                format!("http://{addr}/fields"),
            ],
        )
        .await;
        let (head, body) = output.split_once("\r\n\r\n").expect("a head");
        assert_eq!(body, "fields");
        let names: Vec<String> = head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        assert!(head.starts_with("HTTP/2 200"), "{head}");
        for forbidden in ["connection", "keep-alive", "proxy-connection", "upgrade"] {
            assert!(!names.iter().any(|name| name == forbidden), "{head}");
        }
        assert!(names.iter().any(|name| name == "x-kept"), "{head}");
        assert_eq!(
            names.iter().filter(|name| *name == "date").count(),
            1,
            "{head}"
        );
    }
    server.stop().await;
}
