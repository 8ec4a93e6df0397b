//! `compress_response` for streamed (flushed) answers through real HTTP: one gzip stream,
//! sync-flushed at every `flush`, so the client inflates the first piece while the handler is
//! still running.

mod support;

use std::io::Write;
use std::sync::Arc;

use cyclone::testing::TestServer;
use cyclone::web::{
    Application, HttpError, RequestContext, RequestHandler, Settings, handler_with, url,
};
use http::{HeaderValue, header};
use support::raw_http::{Client, loopback};
use support::wait::WAIT;
use tokio::sync::Notify;

const FIRST: &str = "the first piece, flushed before the handler goes on. ";
const SECOND: &str = "the second piece, written after the test saw the first.";

/// Flushes a first piece, waits for the test to say it decoded it, then finishes.
struct Streamer {
    /// Rung by the test once it has inflated the first piece.
    go_on: Arc<Notify>,
}

impl RequestHandler for Streamer {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        if cx.get_argument_or("type", "")? == "binary" {
            cx.set_header("Content-Type", "application/octet-stream")?;
        } else {
            cx.set_header("Content-Type", "text/plain; charset=utf-8")?;
        }
        cx.write(FIRST);
        cx.flush().await?;
        if cx.get_argument_or("wait", "")? == "1" {
            // Longer than any read of the test (each is bounded by WAIT), so a first piece
            // held back until the end fails the test; bounded, so a test that never rings
            // still ends.
            let _ = tokio::time::timeout(WAIT * 2, self.go_on.notified()).await;
        }
        cx.write(SECOND);
        Ok(())
    }
}

fn app(go_on: Arc<Notify>) -> Application {
    Application::with_settings(
        [url(
            "/stream",
            handler_with(move || Streamer {
                go_on: go_on.clone(),
            }),
        )],
        Settings::default().compress_response(true),
    )
    .unwrap()
}

/// The chunked body's data so far (complete chunks only) and whether the last chunk came.
fn dechunk(body: &[u8]) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    let mut rest = body;
    loop {
        let Some(line_end) = rest.windows(2).position(|pair| pair == b"\r\n") else {
            return (data, false);
        };
        let size_text = std::str::from_utf8(&rest[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.trim(), 16).unwrap();
        if size == 0 {
            return (data, true);
        }
        let start = line_end + 2;
        if rest.len() < start + size + 2 {
            return (data, false);
        }
        data.extend_from_slice(&rest[start..start + size]);
        rest = &rest[start + size + 2..];
    }
}

fn split_head(received: &[u8]) -> Option<(String, &[u8])> {
    let end = received.windows(4).position(|four| four == b"\r\n\r\n")?;
    let head = String::from_utf8(received[..end].to_vec()).unwrap();
    Some((head.to_ascii_lowercase(), &received[end + 4..]))
}

/// Inflates a gzip stream that may not have ended yet.
fn inflate_so_far(gzip: &[u8]) -> String {
    let mut decoder = flate2::write::GzDecoder::new(Vec::new());
    decoder.write_all(gzip).unwrap();
    decoder.flush().unwrap();
    String::from_utf8(decoder.get_ref().clone()).unwrap()
}

#[actix_rt::test]
async fn a_flushed_answer_is_one_gzip_stream_decodable_as_it_arrives() {
    let go_on = Arc::new(Notify::new());
    let server = TestServer::start(app(go_on.clone())).unwrap();
    let mut client = Client::connect(loopback(server.port())).await;
    client
        .send(b"GET /stream?wait=1 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, deflate\r\n\r\n")
        .await;
    // The first piece alone must inflate: the handler is parked until we ring.
    client
        .read_until(|bytes| {
            split_head(bytes).is_some_and(|(_, body)| inflate_so_far(&dechunk(body).0) == FIRST)
        })
        .await;
    let (head, _) = split_head(&client.buf).unwrap();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(head.contains("\r\ncontent-encoding: gzip"), "{head}");
    assert!(head.contains("\r\nvary: accept-encoding"), "{head}");
    assert!(head.contains("\r\ntransfer-encoding: chunked"), "{head}");
    assert!(!head.contains("content-length"), "{head}");

    go_on.notify_one();
    client
        .read_until(|bytes| split_head(bytes).is_some_and(|(_, body)| dechunk(body).1))
        .await;
    let (_, body) = split_head(&client.buf).unwrap();
    let (gzip, _) = dechunk(body);
    // The whole stream is one valid gzip member (trailer and CRC included).
    let mut whole = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gzip[..]), &mut whole)
        .unwrap();
    assert_eq!(whole, format!("{FIRST}{SECOND}"));

    // cyclone's own client inflates it too.
    let response = server.fetch("/stream").await.unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(
        response.body.as_ref(),
        format!("{FIRST}{SECOND}").as_bytes()
    );
    server.stop().await;
}

#[actix_rt::test]
async fn streams_stay_plain_for_clients_without_gzip_and_incompressible_types() {
    let server = TestServer::start(app(Arc::new(Notify::new()))).unwrap();
    for (path, gzip) in [("/stream", false), ("/stream?type=binary", true)] {
        let mut request = server.request(path).decompress_response(false);
        if gzip {
            request = request.header(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let response = server.fetch_request(request).await.unwrap();
        assert_eq!(response.code, 200, "{path}");
        assert!(!response.headers.contains_key("content-encoding"), "{path}");
        assert_eq!(response.headers["vary"], "Accept-Encoding", "{path}");
        assert_eq!(
            response.body.as_ref(),
            format!("{FIRST}{SECOND}").as_bytes(),
            "{path}"
        );
    }
    server.stop().await;
}
