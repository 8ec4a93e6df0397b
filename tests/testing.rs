//! tornado.testing: `#[cyclone::test]` (gen_test: a fresh loop, a timeout), `ExpectLog` over
//! `tracing` (a line was, or was not, logged), `bind_unused_port`, and the `TestServer`
//! fixture's `fetch` and `websocket_connect` over real sockets.

use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest};
use cyclone::testing::{ExpectLog, TestServer, bind_unused_port};
use cyclone::web::{Application, PathArgs, function, url};
use tracing::Level;

fn app() -> Application {
    Application::new([url(
        "/",
        function(|_: HttpServerRequest, _: PathArgs| async { HttpResponse::ok().text("hi") }),
    )])
    .unwrap()
}

#[cyclone::test]
async fn a_test_runs_on_a_fresh_loop_of_its_own() {
    // A System (loop) runs this test: servers can start on it.
    assert!(actix_rt::System::try_current().is_some());
    let server = TestServer::start(app()).unwrap();
    let response = server.fetch("/").await.unwrap();
    assert_eq!((response.code, &response.body[..]), (200, &b"hi"[..]));
    server.stop().await;
}

#[cyclone::test(timeout = 10)]
async fn a_test_may_return_a_result() -> Result<(), Box<dyn std::error::Error>> {
    let server = TestServer::start(app())?;
    assert_eq!(server.fetch("/nowhere").await?.code, 404);
    Ok(())
}

#[cyclone::test(timeout = 0.2)]
#[should_panic(expected = "Async operation timed out after 0.2 seconds")]
async fn a_test_that_hangs_fails_at_its_timeout() {
    std::future::pending::<()>().await;
}

#[cyclone::test]
async fn expect_log_sees_the_access_log() {
    let server = TestServer::start(app()).unwrap();
    // A 404 is logged as a warning by the access log.
    let not_found = ExpectLog::new("cyclone::access", r"^404 GET /missing \(127\.0\.0\.1\)");
    assert_eq!(server.fetch("/missing").await.unwrap().code, 404);
    assert_eq!(not_found.matched(), 1, "{:?}", not_found.lines());
    not_found.finish();
    // A 200 is logged at info: nothing at warning or worse.
    let warnings = ExpectLog::with_level("cyclone::access", "GET /", Level::WARN).required(false);
    assert_eq!(server.fetch("/").await.unwrap().code, 200);
    warnings.assert_not_logged();
    server.stop().await;
}

#[test]
#[should_panic(expected = "did not get expected log message")]
fn expect_log_fails_when_the_line_never_comes() {
    let expected = ExpectLog::new("cyclone", "never logged");
    tracing::info!(target: "cyclone::other", "something else");
    expected.finish();
}

#[test]
#[should_panic(expected = "unexpected log message")]
fn expect_log_fails_when_a_forbidden_line_comes() {
    let forbidden = ExpectLog::new("my_app", "secret").required(false);
    tracing::error!(target: "my_app", "leaked the secret");
    forbidden.assert_not_logged();
}

#[cyclone::test]
async fn bind_unused_port_gives_a_socket_to_serve() {
    let (listener, port) = bind_unused_port().unwrap();
    let mut server =
        HttpServer::new(|_: HttpServerRequest| async { HttpResponse::ok().text("mine") });
    server.add_sockets(vec![listener]).unwrap();
    let client = cyclone::httpclient::AsyncHttpClient::new();
    let response = client
        .fetch(cyclone::httpclient::HttpRequest::new(format!(
            "http://127.0.0.1:{port}/"
        )))
        .await
        .unwrap();
    assert_eq!(&response.body[..], b"mine");
}
