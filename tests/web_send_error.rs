//! `RequestContext::send_error` through real HTTP: the pending answer is dropped, the
//! handler's `write_error` renders the page, the request finishes; after a flush the response
//! is cut instead.

mod support;

use cyclone::testing::TestServer;
use cyclone::web::{
    Application, HttpError, RequestContext, RequestHandler, Settings, handler, url,
};
use http::StatusCode;
use support::logs::AccessLog;
use support::raw_http::{Client, loopback};
use support::wait::bounded;
use tokio::io::AsyncReadExt;

#[derive(Default)]
struct Refuser;

impl RequestHandler for Refuser {
    async fn prepare(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        if cx.get_argument_or("in", "")? == "prepare" {
            cx.send_error_with(HttpError::new(StatusCode::SERVICE_UNAVAILABLE).reason("Busy"))?;
        }
        Ok(())
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_header("X-Dropped", "yes")?;
        cx.write("pending output that never leaves");
        if cx.get_argument_or("flush", "")? == "1" {
            cx.flush().await?;
            cx.send_error(StatusCode::IM_A_TEAPOT)?;
            return Ok(());
        }
        cx.send_error(StatusCode::IM_A_TEAPOT)?;
        assert!(cx.is_finished(), "send_error finishes the request");
        cx.write("written after send_error: ignored");
        Ok(())
    }

    fn write_error(&mut self, cx: &mut RequestContext, error: &HttpError) {
        cx.set_header("Content-Type", "text/plain").unwrap();
        cx.write(format!(
            "custom page: {} {}",
            error.status.as_u16(),
            error.reason_phrase()
        ));
    }
}

#[actix_rt::test]
async fn send_error_renders_write_error_and_finishes() {
    let (settings, log) = AccessLog::record(Settings::default());
    let app = Application::with_settings([url("/", handler::<Refuser>())], settings).unwrap();
    let server = TestServer::start(app).unwrap();

    let response = server.fetch("/").await.unwrap();
    assert_eq!(response.code, 418);
    assert_eq!(response.body.as_ref(), b"custom page: 418 I'm a teapot");
    assert_eq!(response.headers["content-type"], "text/plain");
    assert!(
        !response.headers.contains_key("x-dropped"),
        "send_error clears the header fields"
    );

    let response = server.fetch("/?in=prepare").await.unwrap();
    assert_eq!(response.code, 503);
    assert_eq!(
        response.body.as_ref(),
        b"custom page: 503 Busy",
        "the method did not run"
    );

    let lines = log.lines();
    assert!(lines[0].starts_with("418 GET / (127.0.0.1) "), "{lines:?}");
    assert!(
        lines[1].starts_with("503 GET /?in=prepare (127.0.0.1) "),
        "{lines:?}"
    );
    server.stop().await;
}

#[actix_rt::test]
async fn send_error_after_a_flush_cuts_the_response() {
    let (settings, log) = AccessLog::record(Settings::default());
    let app = Application::with_settings([url("/", handler::<Refuser>())], settings).unwrap();
    let server = TestServer::start(app).unwrap();
    let mut client = Client::connect(loopback(server.port())).await;
    client
        .send(b"GET /?flush=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    // The server closes the connection, cleanly: a reset would fail the read.
    let mut received = Vec::new();
    bounded(client.stream.read_to_end(&mut received))
        .await
        .unwrap();
    let received = String::from_utf8_lossy(&received);
    assert!(received.starts_with("HTTP/1.1 200 OK\r\n"), "{received}");
    assert!(
        received.contains("pending output that never leaves"),
        "{received}"
    );
    assert!(!received.contains("custom page"), "{received}");
    assert!(
        !received.ends_with("0\r\n\r\n"),
        "no last chunk: the body is visibly cut: {received}"
    );
    let lines = log.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("200 GET /?flush=1 (127.0.0.1) "),
        "the status sent: {lines:?}"
    );
    server.stop().await;
}

/// Sets a session cookie, then fails.
#[derive(Default)]
struct CookieThenError;

impl RequestHandler for CookieThenError {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_cookie("session", "fresh")?;
        cx.set_header("X-Dropped", "yes")?;
        match cx.get_argument_or("how", "")?.as_str() {
            "send_error" => cx.send_error(StatusCode::FORBIDDEN),
            "panic" => panic!("after setting a cookie"),
            _ => Err(HttpError::new(StatusCode::CONFLICT)),
        }
    }
}

/// Tornado keeps cookies apart from the header fields, so `clear()` (and the error page)
/// keeps them: a log-out that clears a cookie and then fails still logs out.
#[actix_rt::test]
async fn cookies_set_before_an_error_survive_it() {
    let app = Application::new([url("/", handler::<CookieThenError>())]).unwrap();
    let server = TestServer::start(app).unwrap();
    for (how, status) in [("send_error", 403), ("error", 409), ("panic", 500)] {
        let response = server.fetch(&format!("/?how={how}")).await.unwrap();
        assert_eq!(response.code, status, "{how}");
        let cookies: Vec<_> = response.headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies.len(), 1, "{how}: {cookies:?}");
        assert!(
            cookies[0].to_str().unwrap().starts_with("session=fresh;"),
            "{how}: {cookies:?}"
        );
        assert!(!response.headers.contains_key("x-dropped"), "{how}");
    }
    server.stop().await;
}
