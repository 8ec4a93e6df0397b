//! Routing through real HTTP requests: anchoring, groups, names, hosts, nesting, defaults.

use std::sync::Arc;

use cyclone::httpserver::HttpResponse;
use cyclone::testing::TestServer;
use cyclone::web::{
    Application, HttpError, RequestContext, RequestHandler, Router, function, handler,
    handler_with, url,
};
use http::{HeaderName, HeaderValue};

/// Echoes its path arguments: positional as `a,b`, named as `k=v`.
#[derive(Default)]
struct Args;

impl RequestHandler for Args {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let args = cx.path_args().clone();
        let positional: Vec<&str> = args
            .positional()
            .iter()
            .map(|value| value.as_deref().unwrap_or("-"))
            .collect();
        let named: Vec<String> = args
            .named_groups()
            .iter()
            .map(|(name, value)| format!("{name}={}", value.as_deref().unwrap_or("-")))
            .collect();
        cx.write(format!("[{}][{}]", positional.join(","), named.join(",")));
        Ok(())
    }
}

/// Writes a fixed text given by its rule (Tornado's `initialize`).
struct Text(Arc<str>);

impl RequestHandler for Text {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write(self.0.to_string());
        Ok(())
    }
}

fn text(body: &'static str) -> cyclone::web::Target {
    handler_with(move || Text(body.into()))
}

async fn body(server: &TestServer, path: &str) -> (u16, String) {
    let response = server.fetch(path).await.unwrap();
    (
        response.code,
        String::from_utf8_lossy(&response.body).into_owned(),
    )
}

#[actix_rt::test]
async fn patterns_are_anchored_and_groups_decoded() {
    let app = Application::new([
        url("/", text("home")),
        url(r"/story/([^/]+)", handler::<Args>()),
        url(r"/pair/(\w+)/(\w+)?", handler::<Args>()),
        url(
            r"/named/(?P<year>[0-9]{4})/(?P<slug>[^/]+)$",
            handler::<Args>(),
        ),
    ])
    .unwrap();
    let server = TestServer::start(app).unwrap();

    assert_eq!(body(&server, "/").await, (200, "home".into()));
    assert_eq!(
        body(&server, "/story/a%20b%2Fc").await,
        (200, "[a b/c][]".into())
    );
    assert_eq!(body(&server, "/story/1?x=y").await, (200, "[1][]".into()));
    // `$` is implied: a longer path does not match.
    assert_eq!(body(&server, "/story/1/more").await.0, 404);
    // An optional group that took no part is None.
    assert_eq!(body(&server, "/pair/a/").await, (200, "[a,-][]".into()));
    assert_eq!(
        body(&server, "/named/2024/hello%21").await,
        (200, "[][year=2024,slug=hello!]".into())
    );
    // Not UTF-8 once decoded: 400, as Tornado.
    assert_eq!(body(&server, "/story/%FF").await.0, 400);
    server.stop().await;
}

#[actix_rt::test]
async fn first_matching_rule_wins_and_404_is_tornados_page() {
    let app = Application::new([
        url(r"/items/.*", text("regex")),
        url("/items/new", text("literal")),
        url("/other", text("literal other")),
    ])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    assert_eq!(body(&server, "/items/new").await, (200, "regex".into()));
    assert_eq!(body(&server, "/other").await, (200, "literal other".into()));
    assert_eq!(
        body(&server, "/missing").await,
        (
            404,
            "<html><title>404: Not Found</title><body>404: Not Found</body></html>".into()
        )
    );
    server.stop().await;
}

#[actix_rt::test]
async fn named_rules_reverse_into_urls() {
    struct Links;
    impl RequestHandler for Links {
        async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
            let link = cx
                .reverse_url("story", &["a b", "7"])
                .map_err(HttpError::internal)?;
            cx.write(link);
            Ok(())
        }
    }
    let app = Application::new([
        url(r"/story/(\w+)/([0-9]+)", handler::<Args>()).name("story"),
        url("/links", handler_with(|| Links)),
    ])
    .unwrap();
    assert_eq!(app.reverse_url("story", &["x", "1"]).unwrap(), "/story/x/1");
    assert!(app.reverse_url("nope", &[]).is_err());
    assert!(app.reverse_url("story", &["only one"]).is_err());
    let server = TestServer::start(app).unwrap();
    assert_eq!(
        body(&server, "/links").await,
        (200, "/story/a%20b/7".into())
    );
    server.stop().await;
}

#[actix_rt::test]
async fn host_rule_sets_come_before_the_any_host_rules() {
    let mut app = Application::new([url("/", text("any host"))]).unwrap();
    app.add_handlers(r"api\.example\.com", [url("/", text("api"))])
        .unwrap();
    app.add_handlers(r".*\.admin\.example", [url("/only-admin", text("admin"))])
        .unwrap();
    let server = TestServer::start(app).unwrap();
    let with_host = |path: &str, host: &'static str| {
        server.request(path).header(
            HeaderName::from_static("host"),
            HeaderValue::from_static(host),
        )
    };
    let response = server
        .fetch_request(with_host("/", "API.example.com:8080"))
        .await
        .unwrap();
    assert_eq!(response.body.as_ref(), b"api");
    let response = server
        .fetch_request(with_host("/", "www.example.com"))
        .await
        .unwrap();
    assert_eq!(response.body.as_ref(), b"any host");
    let response = server
        .fetch_request(with_host("/only-admin", "x.admin.example"))
        .await
        .unwrap();
    assert_eq!(response.body.as_ref(), b"admin");
    let response = server
        .fetch_request(with_host("/only-admin", "www.example.com"))
        .await
        .unwrap();
    assert_eq!(response.code, 404);
    server.stop().await;
}

#[actix_rt::test]
async fn nested_routers_and_default_handler() {
    let api = Router::new([
        url("/api/ping", text("pong")),
        url(r"/api/echo/(\w+)", handler::<Args>()),
    ])
    .unwrap();
    let app = Application::new([url("/api/.*", api), url("/api/fallthrough", text("outer"))])
        .unwrap()
        .default_handler(function(|request, _| async move {
            HttpResponse::new(http::StatusCode::IM_A_TEAPOT)
                .text(format!("default for {}", request.path()))
        }));
    let server = TestServer::start(app).unwrap();
    assert_eq!(body(&server, "/api/ping").await, (200, "pong".into()));
    assert_eq!(body(&server, "/api/echo/hi").await, (200, "[hi][]".into()));
    // The nested router matches nothing: the search goes on, as Tornado's.
    assert_eq!(
        body(&server, "/api/fallthrough").await,
        (200, "outer".into())
    );
    assert_eq!(
        body(&server, "/elsewhere").await,
        (418, "default for /elsewhere".into())
    );
    server.stop().await;
}

#[actix_rt::test]
async fn invalid_patterns_are_errors_not_panics() {
    assert!(Application::new([url(r"/broken/(", text("x"))]).is_err());
}

/// Found by the `routing` fuzz target: the literal-prefix shortcut took `/x` as certain in
/// `/x+*` (which is `/(x+)*` and matches `/` too), so the router refused paths its own regex
/// matches. Requests now reach the rule whenever the pattern matches.
#[actix_rt::test]
async fn a_quantified_repetition_does_not_make_its_character_certain() {
    let app = Application::new([
        url(
            "/x+*",
            function(|_, _| async { HttpResponse::ok().text("starred") }),
        ),
        url(
            "/.*",
            function(|_, _| async { HttpResponse::ok().text("fallback") }),
        ),
    ])
    .unwrap();
    let router = Router::new([url("a+*b", function(|_, _| async { HttpResponse::ok() }))]).unwrap();
    assert!(router.matches("b"));
    assert!(router.matches("aab"));
    let server = TestServer::start(app).unwrap();
    for (path, body) in [("/", "starred"), ("/xxx", "starred"), ("/y", "fallback")] {
        let response = server.fetch(path).await.unwrap();
        assert_eq!(response.body.as_ref(), body.as_bytes(), "{path}");
    }
    server.stop().await;
}

/// Found by the `routing` fuzz target: an unbalanced `)` in a pattern closed the group that
/// anchors it, so `/admin)|(.*` compiled to `^(?:/admin)|(.*)$` and matched every path. Such
/// a pattern is refused, as Tornado's `re.compile` refuses it; host patterns too.
#[test]
fn a_pattern_that_would_break_out_of_its_anchoring_is_refused() {
    let target = || function(|_, _| async { HttpResponse::ok() });
    for pattern in [r"/admin)|(.*", r"/)?(", r"/a)(b"] {
        assert!(
            Application::new([url(pattern, target())]).is_err(),
            "{pattern} was accepted"
        );
    }
    let mut app = Application::new([url("/", target())]).unwrap();
    assert!(
        app.add_handlers(r"example\.com)|(.*", [url("/", target())])
            .is_err()
    );
    assert!(
        app.add_handlers(r"(www\.)?example\.com", [url("/", target())])
            .is_ok()
    );
}

/// Found by the `routing` fuzz target: `\<` and `\>` are the characters `<` and `>` to
/// Python's `re` (and so to Tornado's routes), but word boundaries to the regex crate, so
/// `/a\<b` (a literal) matched `/a<b` while `/(\d+)\<(\d+)` (a regex) matched nothing. Both
/// now read them as Tornado does (a request target cannot hold a raw `<`: the server answers
/// 400 before routing, so the router is asked directly). `\Z`, Python's end of text, which the
/// regex crate refuses, made `Application::new` fail; it routes now.
#[actix_rt::test]
async fn escaped_angle_brackets_and_end_of_text_read_as_tornado_reads_them() {
    let target = || function(|_, _| async { HttpResponse::ok() });
    let router = Router::new([
        url(r"/lt/(\d+)\<(\d+)", target()),
        url(r"/tag/\<b\>", target()),
    ])
    .unwrap();
    for (path, routed) in [
        ("/lt/1<2", true),
        ("/lt/1", false),
        ("/tag/<b>", true),
        ("/tag/b", false),
    ] {
        assert_eq!(router.matches(path), routed, "{path}");
    }
    let app = Application::new([url(r"/end/(\w+)\Z", handler::<Args>())]).unwrap();
    let server = TestServer::start(app).unwrap();
    assert_eq!(body(&server, "/end/abc").await, (200, "[abc][]".into()));
    assert_eq!(body(&server, "/end/abc/").await.0, 404);
    server.stop().await;
}
