//! Every answer of an application carries `Server: cyclone/0.1` (Tornado's `Server:
//! TornadoServer/x`) and the `default_headers` setting's fields where it sets none itself
//! (Tornado's `set_default_headers`), whatever kind of target answered, whole or streamed.

mod support;

use cyclone::httpserver::{HttpResponse, HttpServerRequest};
use cyclone::testing::TestServer;
use cyclone::web::{
    Application, DEFAULT_SERVER_HEADER, HeaderFieldError, HttpError, PathArgs, RequestContext,
    RequestHandler, Settings, function, handler, url,
};
use support::raw_http::{Answer, Client, loopback};

#[derive(Default)]
struct Page;

impl RequestHandler for Page {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        if cx.get_query_argument_or("wait", "")? == "1" {
            // Answered after a turn of the loop: the answer reaches the connection through
            // its channel after the work ran, not at once.
            tokio::task::yield_now().await;
        }
        if cx.get_query_argument_or("stream", "")? == "1" {
            cx.write("part one,");
            cx.flush().await?;
        }
        if cx.get_query_argument_or("own", "")? == "1" {
            cx.set_header("Server", "my-server")?;
            cx.set_header("X-Frame-Options", "SAMEORIGIN")?;
        }
        cx.write("page");
        Ok(())
    }
}

/// A page answered at once, after an await, and streamed; a function's answer; a 404.
const EVERY_KIND: [&str; 5] = [
    "/page",
    "/page?wait=1",
    "/page?stream=1",
    "/function",
    "/missing",
];

fn app(settings: Settings) -> Application {
    Application::with_settings(
        [
            url("/page", handler::<Page>()),
            url(
                "/function",
                function(|_: HttpServerRequest, _: PathArgs| async {
                    HttpResponse::ok().text("f")
                }),
            ),
        ],
        settings,
    )
    .unwrap()
}

async fn get(server: &TestServer, path: &str) -> Answer {
    let mut client = Client::connect(loopback(server.port())).await;
    client
        .send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await;
    client.answer().await.expect("an answer")
}

fn all(answer: &Answer, name: &str) -> Vec<String> {
    answer
        .headers
        .iter()
        .filter(|(field, _)| field == name)
        .map(|(_, value)| value.clone())
        .collect()
}

#[cyclone::test]
async fn every_kind_of_answer_carries_the_server_field() {
    assert_eq!(DEFAULT_SERVER_HEADER, "cyclone/0.1");
    let server = TestServer::start(app(Settings::default())).unwrap();
    for path in EVERY_KIND {
        let answer = get(&server, path).await;
        assert_eq!(all(&answer, "server"), ["cyclone/0.1"], "{path}");
    }
    // An answer that sets its own keeps it.
    for path in ["/page?own=1", "/page?own=1&wait=1"] {
        assert_eq!(
            all(&get(&server, path).await, "server"),
            ["my-server"],
            "{path}"
        );
    }
    server.stop().await;
}

#[cyclone::test]
async fn default_headers_and_no_server_field() {
    let settings = Settings::default()
        .server_header("")
        .default_header("X-Frame-Options", "DENY")
        .default_header("Link", "</a>; rel=preload")
        .default_header("Link", "</b>; rel=preload");
    let server = TestServer::start(app(settings)).unwrap();
    for path in EVERY_KIND {
        let answer = get(&server, path).await;
        assert!(all(&answer, "server").is_empty(), "{path}");
        assert_eq!(all(&answer, "x-frame-options"), ["DENY"], "{path}");
        assert_eq!(
            all(&answer, "link"),
            ["</a>; rel=preload", "</b>; rel=preload"],
            "{path}"
        );
    }
    for path in ["/page?own=1", "/page?own=1&wait=1"] {
        let own = get(&server, path).await;
        assert_eq!(all(&own, "x-frame-options"), ["SAMEORIGIN"], "{path}");
        assert_eq!(all(&own, "server"), ["my-server"], "{path}");
    }
    server.stop().await;
}

/// One connection's answers of every kind, pipelined: each gets the defaults it should and no
/// other answer's (the connection encodes each defaults map once and reuses the lines). A page
/// gets `text/html`, a 304 no `Content-Type`, a function's answer its own type and no
/// `text/html`, a handler that sets fields keeps its own.
#[cyclone::test]
async fn one_connection_mixes_answers_with_and_without_a_pages_defaults() {
    let settings = Settings::default().default_header("X-Frame-Options", "DENY");
    let server = TestServer::start(app(settings)).unwrap();
    let mut client = Client::connect(loopback(server.port())).await;
    client.send(b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let page = client.answer().await.expect("the page");
    let etag = page.header("etag").expect("an etag").to_owned();
    const HTML: &str = "text/html; charset=UTF-8";
    const TEXT: &str = "text/plain; charset=utf-8";
    let not_modified = format!("If-None-Match: {etag}\r\n");
    const OURS: &str = "cyclone/0.1";
    // Target, a field to send, then the answer's status, Content-Type (none for a 304),
    // Server and X-Frame-Options.
    let exchanges = [
        ("/function", "", 200, Some(TEXT), OURS, "DENY"),
        ("/page", &*not_modified, 304, None, OURS, "DENY"),
        (
            "/page?own=1",
            "",
            200,
            Some(HTML),
            "my-server",
            "SAMEORIGIN",
        ),
        ("/page", "", 200, Some(HTML), OURS, "DENY"),
        ("/missing", "", 404, Some(HTML), OURS, "DENY"),
        ("/function", "", 200, Some(TEXT), OURS, "DENY"),
    ];
    let mut batch = String::new();
    for (target, field, ..) in &exchanges {
        batch.push_str(&format!("GET {target} HTTP/1.1\r\nHost: x\r\n{field}\r\n"));
    }
    client.send(batch.as_bytes()).await;
    assert_eq!(all(&page, "content-type"), [HTML]);
    assert_eq!(all(&page, "x-frame-options"), ["DENY"]);
    for (target, field, status, content_type, server_field, frame) in exchanges {
        let answer = client.answer().await.expect("an answer");
        let what = format!("{target} {field}");
        assert_eq!(answer.status, status, "{what}");
        assert_eq!(
            all(&answer, "content-type"),
            Vec::from_iter(content_type),
            "{what}"
        );
        assert_eq!(all(&answer, "server"), [server_field], "{what}");
        assert_eq!(all(&answer, "x-frame-options"), [frame], "{what}");
    }
    server.stop().await;
}

/// A default the HTTP/1.1 encoder writes itself (`Date` here) is not written twice: it goes
/// into the answer's fields, where the encoder sees it and leaves its own out.
#[cyclone::test]
async fn a_default_date_replaces_the_connections_own() {
    let date = "Thu, 01 Jan 2026 00:00:00 GMT";
    let settings = Settings::default().default_header("Date", date);
    let server = TestServer::start(app(settings)).unwrap();
    for path in ["/page", "/page?stream=1", "/function", "/missing"] {
        let answer = get(&server, path).await;
        assert_eq!(all(&answer, "date"), [date], "{path}");
        assert_eq!(all(&answer, "server"), ["cyclone/0.1"], "{path}");
    }
    server.stop().await;
}

/// A field read from configuration is checked without a panic: a bad name or a value that
/// would split the head is a typed error, and a good one is sent.
#[cyclone::test]
async fn try_default_header_refuses_what_cannot_be_sent() {
    assert_eq!(
        Settings::default()
            .try_default_header("Bad Name", "x")
            .err(),
        Some(HeaderFieldError::Name("Bad Name".into()))
    );
    assert!(matches!(
        Settings::default().try_default_header("X-Split", "a\r\nSet-Cookie: evil=1"),
        Err(HeaderFieldError::Value { name, .. }) if name == "x-split"
    ));
    let settings = Settings::default()
        .try_default_header("X-From-Config", "yes")
        .unwrap();
    let server = TestServer::start(app(settings)).unwrap();
    let answer = get(&server, "/page").await;
    assert_eq!(all(&answer, "x-from-config"), ["yes"]);
    server.stop().await;
}
