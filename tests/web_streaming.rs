//! Streaming through real HTTP: `flush` sends the head and chunks before the handler ends;
//! `STREAM_REQUEST_BODY` handlers get `data_received`; a client that leaves triggers
//! `on_connection_close`.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use cyclone::testing::TestServer;
use cyclone::web::{Application, HttpError, RequestContext, RequestHandler, handler_with, url};
use http::Method;
use support::wait::{self, WAIT};
use tokio::sync::Notify;

/// Flushes a first piece, waits for the test to say go, then writes the rest.
struct Flusher {
    go: Arc<Notify>,
}

impl RequestHandler for Flusher {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_header("X-Streamed", "yes")?;
        cx.write("first;");
        cx.flush().await?;
        self.go.notified().await;
        cx.write("second;");
        cx.flush().await?;
        cx.write("last");
        Ok(())
    }
}

#[actix_rt::test]
async fn flush_streams_chunks_before_the_handler_ends() {
    let go = Arc::new(Notify::new());
    let handler_go = go.clone();
    let app = Application::new([url(
        "/",
        handler_with(move || Flusher {
            go: handler_go.clone(),
        }),
    )])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let seen = Rc::new(RefCell::new(Vec::<u8>::new()));
    let sink = seen.clone();
    let release = go.clone();
    let request = server.request("/").streaming_callback(move |chunk: Bytes| {
        sink.borrow_mut().extend_from_slice(&chunk);
        // The first piece arrived while the handler still waits: let it go on.
        release.notify_one();
    });
    let response = tokio::time::timeout(WAIT, server.fetch_request(request))
        .await
        .expect("the streamed response completes")
        .unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(response.headers["x-streamed"], "yes");
    assert_eq!(response.headers["transfer-encoding"], "chunked");
    assert_eq!(seen.borrow().as_slice(), b"first;second;last");
    server.stop().await;
}

/// Counts streamed body bytes and chunks.
struct Upload {
    bytes: usize,
    chunks: usize,
}

impl RequestHandler for Upload {
    const STREAM_REQUEST_BODY: bool = true;

    async fn data_received(
        &mut self,
        cx: &mut RequestContext,
        chunk: Bytes,
    ) -> Result<(), HttpError> {
        // The body is streamed: it is never also buffered whole.
        assert!(cx.request().body().is_empty());
        self.bytes += chunk.len();
        self.chunks += 1;
        Ok(())
    }

    async fn put(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write(format!(
            "{} bytes in {} chunks",
            self.bytes,
            self.chunks > 1
        ));
        Ok(())
    }
}

#[actix_rt::test]
async fn stream_request_body_handlers_receive_data_in_chunks() {
    let app = Application::new([url(
        "/upload",
        handler_with(|| Upload {
            bytes: 0,
            chunks: 0,
        }),
    )])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let body = vec![b'x'; 300_000];
    let response = server
        .fetch_request(server.request("/upload").method(Method::PUT).body(body))
        .await
        .unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(response.body.as_ref(), b"300000 bytes in true chunks");
    server.stop().await;
}

/// Streams a tick every 20 ms until the client goes; counts connection closes. (A client
/// half-closing its side may still read, so a leaving client is noticed at the next write.)
struct Abandoned {
    closes: Arc<AtomicUsize>,
}

impl RequestHandler for Abandoned {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        loop {
            cx.write("tick;");
            cx.flush().await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn on_connection_close(&mut self) {
        self.closes.fetch_add(1, Ordering::SeqCst);
    }
}

#[actix_rt::test]
async fn a_client_leaving_calls_on_connection_close() {
    let closes = Arc::new(AtomicUsize::new(0));
    let counter = closes.clone();
    let app = Application::new([url(
        "/",
        handler_with(move || Abandoned {
            closes: counter.clone(),
        }),
    )])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let request = server
        .request("/")
        .request_timeout(Duration::from_millis(300));
    assert!(
        server.fetch_request(request).await.is_err(),
        "the handler never finishes"
    );
    server.client().close();
    wait::until("the handler sees its client leave", || {
        closes.load(Ordering::SeqCst) > 0
    })
    .await;
    assert_eq!(closes.load(Ordering::SeqCst), 1);
    // The server still answers.
    let ok = server.fetch("/missing").await.unwrap();
    assert_eq!(ok.code, 404);
    server.stop().await;
}
