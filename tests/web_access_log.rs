//! The access log through real HTTP: every request through an `Application` is logged exactly
//! once, with the status the client got, whatever kind of target answered it.

mod support;

use std::time::Duration;

use actix::prelude::*;
use cyclone::httpserver::{HttpRequestMessage, HttpResponse, HttpServerRequest};
use cyclone::testing::TestServer;
use cyclone::web::blocking::blocking;
use cyclone::web::{
    Application, HttpError, PathArgs, RequestContext, RequestHandler, Settings, actor, fallback,
    function, handler, url,
};
use http::StatusCode;
use support::logs::AccessLog;
use support::wait;

#[derive(Default)]
struct Hello;

impl RequestHandler for Hello {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("hello");
        Ok(())
    }
}

/// Answers with the status in `?status=`, whole, streamed, or not at all (drops the writer).
struct Service;

impl Actor for Service {
    type Context = Context<Self>;
}

impl Handler<HttpRequestMessage> for Service {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, ctx: &mut Context<Self>) {
        let mode = message.path_args.get(0).unwrap_or("").to_owned();
        match mode.as_str() {
            "whole" => {
                let _ = message
                    .writer
                    .respond(HttpResponse::new(StatusCode::ACCEPTED).text("whole"));
            }
            "streamed" => {
                let mut writer = message.writer;
                writer.set_status(StatusCode::PARTIAL_CONTENT);
                ctx.spawn(
                    async move {
                        writer.write("first ");
                        let _ = writer.flush().await;
                        writer.write("second");
                        let _ = writer.finish().await;
                    }
                    .into_actor(self),
                );
            }
            _ => drop(message.writer),
        }
    }
}

async fn falls_over(_request: HttpServerRequest, _args: PathArgs) -> HttpResponse {
    panic!("the function fell over")
}

/// How long the log is watched for a duplicate line once the expected ones are in.
const DUPLICATE_WINDOW: Duration = Duration::from_millis(50);

/// Waits until `count` lines are in (an actor's line may land just after the client read its
/// answer), then a little longer, so that a duplicate line would show up too.
async fn wait_for_lines(log: &AccessLog, count: usize) -> Vec<String> {
    wait::until(&format!("{count} access-log lines"), || log.len() >= count).await;
    wait::holds_for(
        DUPLICATE_WINDOW,
        "more access-log lines than requests",
        || log.len() == count,
    )
    .await;
    log.lines()
}

fn assert_logged(lines: &[String], prefix: &str) {
    let hits = lines.iter().filter(|line| line.starts_with(prefix)).count();
    assert_eq!(hits, 1, "want one line starting {prefix:?} in {lines:#?}");
}

#[actix_rt::test]
async fn every_target_kind_is_logged_once_with_its_real_status() {
    let (settings, all_lines) = AccessLog::record(Settings::default());
    let (inner_settings, inner_lines) = AccessLog::record(Settings::default());
    let inner = Application::with_settings(
        [url(
            "/mounted/app",
            function(|_, _| async { HttpResponse::new(StatusCode::IM_A_TEAPOT) }),
        )],
        inner_settings,
    )
    .unwrap();
    let service = Service.start();
    let app = Application::with_settings(
        [
            url("/handler", handler::<Hello>()),
            url(
                "/function",
                function(|_, _| async { HttpResponse::new(StatusCode::CREATED) }),
            ),
            url("/panics", function(falls_over)),
            url("/blocking", blocking(|_| HttpResponse::ok().text("done"))),
            url(r"/actor/(\w+)", actor(service.recipient())),
            url("/mounted/.*", fallback(inner)),
        ],
        settings,
    )
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let expected = [
        ("/handler", 200),
        ("/function", 201),
        ("/panics", 500),
        ("/blocking", 200),
        ("/actor/whole", 202),
        ("/actor/streamed", 206),
        ("/actor/dropped", 500),
        ("/missing", 404),
    ];
    for (path, status) in expected {
        let response = server.fetch(path).await.unwrap();
        assert_eq!(response.code, status, "{path}");
    }
    assert_eq!(
        server.fetch("/actor/streamed").await.unwrap().body.as_ref(),
        b"first second"
    );
    let lines = wait_for_lines(&all_lines, expected.len() + 1).await;
    assert_eq!(lines.len(), expected.len() + 1, "{lines:#?}");
    for (path, status) in expected {
        if path == "/actor/streamed" {
            continue;
        }
        assert_logged(&lines, &format!("{status} GET {path} (127.0.0.1) "));
    }
    let streamed = lines
        .iter()
        .filter(|line| line.starts_with("206 GET /actor/streamed (127.0.0.1) "))
        .count();
    assert_eq!(streamed, 2, "{lines:#?}");
    assert!(lines.iter().all(|line| line.ends_with("ms")), "{lines:#?}");

    // A mounted Application logs its own requests (Tornado's FallbackHandler leaves the line
    // to what it mounts): one line, in the inner application's log.
    assert_eq!(server.fetch("/mounted/app").await.unwrap().code, 418);
    let inner_lines = wait_for_lines(&inner_lines, 1).await;
    assert_eq!(inner_lines.len(), 1, "{inner_lines:#?}");
    assert_logged(&inner_lines, "418 GET /mounted/app (127.0.0.1) ");
    assert_eq!(
        all_lines.len(),
        expected.len() + 1,
        "the mounting application adds no line"
    );
    server.stop().await;
}

/// A bare `actor` target: the protocol's own message and writer, no path arguments.
struct Bare;

impl Actor for Bare {
    type Context = Context<Self>;
}

impl Handler<cyclone::httpserver::HttpRequestMessage> for Bare {
    type Result = ();

    fn handle(&mut self, message: cyclone::httpserver::HttpRequestMessage, _: &mut Context<Self>) {
        let _ = message
            .writer
            .respond(HttpResponse::new(StatusCode::CREATED).text("bare"));
    }
}

async fn legacy(_request: HttpServerRequest) -> HttpResponse {
    HttpResponse::new(StatusCode::IM_A_TEAPOT).text("legacy")
}

#[actix_rt::test]
async fn bare_actors_and_mounted_services_are_logged_with_the_status_they_sent() {
    let (settings, lines) = AccessLog::record(Settings::default());
    let bare = Bare.start();
    let app = Application::with_settings(
        [
            url("/bare", cyclone::web::actor(bare.recipient())),
            url("/legacy/.*", fallback(legacy)),
        ],
        settings,
    )
    .unwrap();
    let server = TestServer::start(app).unwrap();
    assert_eq!(server.fetch("/bare").await.unwrap().code, 201);
    assert_eq!(server.fetch("/legacy/x").await.unwrap().code, 418);
    let lines = wait_for_lines(&lines, 2).await;
    assert_logged(&lines, "201 GET /bare (127.0.0.1) ");
    assert_logged(&lines, "418 GET /legacy/x (127.0.0.1) ");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    server.stop().await;
}
