//! Three of Tornado's handler hooks over real sockets: a handler's own `set_default_headers`
//! (and the application base's), kept through `send_error`; `set_status(code, reason)` in the
//! status line, whole and streamed, with a reason that would split the head refused; and
//! output transforms (`Application(transforms=...)`) rewriting status, fields and body of
//! whole and streamed answers, before the built-in gzip.

mod support;

use std::io::Read;

use bytes::Bytes;
use cyclone::testing::TestServer;
use cyclone::web::{
    Application, BaseHandler, HttpError, OutputTransform, RequestContext, RequestHandler, Settings,
    handler, url,
};
use http::{HeaderMap, HeaderValue, StatusCode};
use support::raw_http::{Answer, Client, loopback};

/// Sets fields of its own by default, and can fail or stream on request.
#[derive(Default)]
struct Page;

impl RequestHandler for Page {
    fn set_default_headers(&mut self, cx: &mut RequestContext) {
        let _ = cx.set_header("X-Handler", "page");
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_header("X-Set-In-Get", "yes")?;
        match cx.get_query_argument_or("do", "")?.as_str() {
            "fail" => return Err(HttpError::new(StatusCode::CONFLICT)),
            "reason" => cx.set_status_with_reason(
                StatusCode::from_u16(599).map_err(HttpError::internal)?,
                "Gone Fishing",
            )?,
            "bad-reason" => {
                cx.set_status_with_reason(StatusCode::OK, "OK\r\nSet-Cookie: evil=1")?
            }
            "stream" => {
                cx.set_status_with_reason(StatusCode::ACCEPTED, "Working On It")?;
                cx.write("first ");
                cx.flush().await?;
                cx.write("second");
                return Ok(());
            }
            "big" => cx.write("page body ".repeat(200)),
            _ => cx.write("page body"),
        }
        Ok(())
    }
}

/// The application's shared defaults.
struct Site;

impl BaseHandler for Site {
    fn set_default_headers(&self, cx: &mut RequestContext) {
        let _ = cx.set_header("X-Site", "cyclone-test");
        let _ = cx.set_header("X-Handler", "base");
    }
}

/// Upper-cases bodies, counts chunks in a trailer-like field, and turns 409 into 410.
struct Shout {
    chunks: usize,
}

impl OutputTransform for Shout {
    fn transform_first_chunk(
        &mut self,
        status: &mut StatusCode,
        headers: &mut HeaderMap,
        chunk: Bytes,
        finishing: bool,
    ) -> Bytes {
        if *status == StatusCode::CONFLICT {
            *status = StatusCode::GONE;
        }
        headers.insert(
            "x-transformed",
            HeaderValue::from_static(if finishing { "whole" } else { "streamed" }),
        );
        self.chunks += 1;
        Bytes::from(chunk.to_ascii_uppercase())
    }

    fn transform_chunk(&mut self, chunk: Bytes, finishing: bool) -> Bytes {
        self.chunks += 1;
        let mut out = chunk.to_ascii_uppercase();
        if finishing {
            out.extend_from_slice(format!(" [{} chunks]", self.chunks).as_bytes());
        }
        Bytes::from(out)
    }
}

fn app(settings: Settings) -> Application {
    Application::with_settings([url("/page", handler::<Page>())], settings).unwrap()
}

async fn get(server: &TestServer, path: &str, extra: &str) -> Answer {
    let mut client = Client::connect(loopback(server.port())).await;
    client
        .send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes())
        .await;
    client.answer().await.expect("an answer")
}

#[cyclone::test]
async fn set_default_headers_runs_for_every_answer_and_again_after_an_error() {
    let server = TestServer::start(app(Settings::default().base_handler(Site))).unwrap();

    let ok = get(&server, "/page", "").await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("x-site"), Some("cyclone-test"));
    // The handler's own runs after the base's and wins.
    assert_eq!(ok.header("x-handler"), Some("page"));
    assert_eq!(ok.header("x-set-in-get"), Some("yes"));

    // send_error clears the fields the method set, and the defaults come back.
    let failed = get(&server, "/page?do=fail", "").await;
    assert_eq!(failed.status, 409);
    assert_eq!(failed.header("x-handler"), Some("page"));
    assert_eq!(failed.header("x-site"), Some("cyclone-test"));
    assert_eq!(failed.header("x-set-in-get"), None);

    // Even a refused method's 405 carries them, as Tornado sets them before anything runs.
    let mut client = Client::connect(loopback(server.port())).await;
    client
        .send(b"DELETE /page HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let refused = client.answer().await.expect("an answer");
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("x-handler"), Some("page"));
    server.stop().await;
}

#[cyclone::test]
async fn a_custom_reason_phrase_reaches_the_status_line() {
    let server = TestServer::start(app(Settings::default())).unwrap();

    let whole = get(&server, "/page?do=reason", "").await;
    assert_eq!(whole.status_line, "HTTP/1.1 599 Gone Fishing");

    let streamed = get(&server, "/page?do=stream", "").await;
    assert_eq!(streamed.status_line, "HTTP/1.1 202 Working On It");
    assert!(streamed.chunked);
    assert_eq!(streamed.body, b"first second");

    // A reason that would add a header line is the application's mistake: 500, standard phrase.
    let bad = get(&server, "/page?do=bad-reason", "").await;
    assert_eq!(bad.status_line, "HTTP/1.1 500 Internal Server Error");
    assert_eq!(bad.header("set-cookie"), None);

    // The next answer on the same handler type has the standard phrase again.
    let plain = get(&server, "/page", "").await;
    assert_eq!(plain.status_line, "HTTP/1.1 200 OK");
    server.stop().await;
}

#[cyclone::test]
async fn output_transforms_rewrite_whole_and_streamed_answers_before_gzip() {
    let settings = Settings::default().transform(|_request| Shout { chunks: 0 });
    let server = TestServer::start(app(settings)).unwrap();

    let whole = get(&server, "/page", "").await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("x-transformed"), Some("whole"));
    assert_eq!(whole.body, b"PAGE BODY");
    assert_eq!(whole.header("content-length"), Some("9"));

    let streamed = get(&server, "/page?do=stream", "").await;
    assert_eq!(streamed.status, 202);
    assert_eq!(streamed.header("x-transformed"), Some("streamed"));
    assert_eq!(streamed.body, b"FIRST SECOND [2 chunks]");

    // The status is the transform's too: the handler's 409 error page goes out as 410.
    let failed = get(&server, "/page?do=fail", "").await;
    assert_eq!(failed.status, 410);
    assert_eq!(failed.header("x-transformed"), Some("whole"));
    server.stop().await;

    // With compress_response, gzip runs after the transforms: the inflated body is theirs.
    let settings = Settings::default()
        .compress_response(true)
        .transform(|_request| Shout { chunks: 0 });
    let server = TestServer::start(app(settings)).unwrap();
    let gzipped = get(&server, "/page?do=big", "Accept-Encoding: gzip\r\n").await;
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    let mut inflated = String::new();
    flate2::read::GzDecoder::new(&gzipped.body[..])
        .read_to_string(&mut inflated)
        .unwrap();
    assert_eq!(inflated, "PAGE BODY ".repeat(200));
    server.stop().await;
}
