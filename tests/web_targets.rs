//! Rule targets other than handler types, through real HTTP: actors (and actors composed by
//! forwarding), mounted services (FallbackHandler), RedirectHandler and ErrorHandler. Every
//! kind receives the same `HttpRequestMessage`, path arguments included.

mod support;

use actix::prelude::*;
use cyclone::httpserver::{HttpRequestMessage, HttpResponse, HttpServerRequest};
use cyclone::testing::TestServer;
use cyclone::web::{Application, ErrorHandler, actor, fallback, handler_with, redirect, url};
use http::StatusCode;
use support::target_actors::{Counter, TokenGate};

#[actix_rt::test]
async fn actors_answer_and_compose_by_forwarding() {
    let counter = Counter { count: 0 }.start();
    // Lets requests with `?token=ok` through to the counter; 401 otherwise.
    let gate = TokenGate {
        next: counter.clone().recipient(),
        refusal: StatusCode::UNAUTHORIZED,
    }
    .start();
    let app = Application::new([
        url("/count", actor(counter.recipient())),
        url("/guarded", actor(gate.recipient())),
    ])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    assert_eq!(
        server.fetch("/count").await.unwrap().body.as_ref(),
        b"/count #1"
    );
    assert_eq!(
        server.fetch("/count").await.unwrap().body.as_ref(),
        b"/count #2"
    );
    assert_eq!(server.fetch("/guarded").await.unwrap().code, 401);
    let through = server.fetch("/guarded?token=ok").await.unwrap();
    assert_eq!(
        through.body.as_ref(),
        b"/guarded #3",
        "one counter behind both routes"
    );
    server.stop().await;
}

async fn legacy(request: HttpServerRequest) -> HttpResponse {
    HttpResponse::ok().text(format!("legacy saw {}", request.uri()))
}

#[actix_rt::test]
async fn builtin_handlers_redirect_error_and_mount_services() {
    let app = Application::new([
        url(r"/pictures/(.*)", redirect("/photos/{0}", true)),
        url(r"/old/(?P<name>\w+)", redirect("/new/{name}", false)),
        url(
            "/gone",
            handler_with(|| ErrorHandler::new(StatusCode::GONE)),
        ),
        url("/legacy/.*", fallback(legacy)),
    ])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let response = server.fetch("/pictures/cat.jpg?size=2").await.unwrap();
    assert_eq!(response.code, 301);
    assert_eq!(response.headers["location"], "/photos/cat.jpg?size=2");
    let response = server.fetch("/old/page").await.unwrap();
    assert_eq!(response.code, 302);
    assert_eq!(response.headers["location"], "/new/page");
    let response = server.fetch("/gone").await.unwrap();
    assert_eq!(response.code, 410);
    assert_eq!(
        response.body.as_ref(),
        b"<html><title>410: Gone</title><body>410: Gone</body></html>"
    );
    let response = server.fetch("/legacy/x?y=1").await.unwrap();
    assert_eq!(response.body.as_ref(), b"legacy saw /legacy/x?y=1");
    server.stop().await;
}

/// Echoes the path arguments it was routed with.
struct ArgsEcho;

impl Actor for ArgsEcho {
    type Context = Context<Self>;
}

impl Handler<HttpRequestMessage> for ArgsEcho {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
        let args = &message.path_args;
        let body = format!(
            "positional={:?} named={:?}",
            args.positional(),
            args.named_groups()
        );
        let _ = message.writer.respond(HttpResponse::ok().text(body));
    }
}

/// Forwards routed requests whose first group is not "blocked" to `next`, untouched.
struct RoutedGate {
    next: Recipient<HttpRequestMessage>,
}

impl Actor for RoutedGate {
    type Context = Context<Self>;
}

impl Handler<HttpRequestMessage> for RoutedGate {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
        if message.path_args.named("user") == Some("blocked") {
            let _ = message
                .writer
                .respond(HttpResponse::new(StatusCode::FORBIDDEN));
        } else {
            self.next.do_send(message);
        }
    }
}

#[actix_rt::test]
async fn routed_actors_get_positional_and_named_path_arguments_decoded() {
    let echo = ArgsEcho.start();
    let gate = RoutedGate {
        next: echo.clone().recipient(),
    }
    .start();
    let app = Application::new([
        url(r"/files/(\w+)/(.*)", actor(echo.clone().recipient())),
        url(
            r"/users/(?P<user>[^/]+)/(?P<tab>\w+)",
            actor(gate.recipient()),
        ),
        url("/plain", echo.recipient::<HttpRequestMessage>()),
    ])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let response = server.fetch("/files/docs/a%20b%2Fc.txt").await.unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(
        std::str::from_utf8(&response.body).unwrap(),
        r#"positional=[Some("docs"), Some("a b/c.txt")] named=[]"#
    );
    let response = server.fetch("/users/J%C3%BCrgen/posts").await.unwrap();
    assert_eq!(
        std::str::from_utf8(&response.body).unwrap(),
        r#"positional=[] named=[("user", Some("Jürgen")), ("tab", Some("posts"))]"#,
        "forwarded whole through the gate"
    );
    assert_eq!(
        server.fetch("/users/blocked/posts").await.unwrap().code,
        403
    );
    let response = server.fetch("/plain").await.unwrap();
    assert_eq!(
        std::str::from_utf8(&response.body).unwrap(),
        "positional=[] named=[]"
    );
    // A group that cannot be decoded to UTF-8 is 400 before any actor sees it.
    assert_eq!(server.fetch("/files/docs/%FF").await.unwrap().code, 400);
    server.stop().await;
}
