//! Tornado 6.6's cross-origin protection through real sockets: `cross_origin_protection` with
//! `trusted_origins` for unsafe requests to a `RequestHandler`, the same rule always on for
//! WebSocket upgrades (`check_origin`), and `xsrf_cookie_version`.
//!
//! Each attack is a request a browser would send for a page on another site: a form posted
//! cross-site (`Sec-Fetch-Site: cross-site`), the same from a browser without Fetch Metadata
//! (only `Origin`), and a cross-site WebSocket opened by a hostile page.

mod support;

use cyclone::httpclient::HttpResponse;
use cyclone::testing::TestServer;
use cyclone::web::{
    Application, HttpError, RequestContext, RequestHandler, Settings, XsrfCookieVersion, handler,
    url,
};
use cyclone::websocket::ConnectRequest;
use cyclone::websocket::{Message, WebSocketContext, WebSocketHandler, websocket};
use http::Method;
use http::header::{HeaderName, HeaderValue};
use support::ws::next_message;

/// A site whose pages change state on POST.
#[derive(Default)]
struct Transfer;

impl RequestHandler for Transfer {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("form");
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("transferred");
        Ok(())
    }
}

/// An endpoint meant to be called from anywhere (no cookies): it opts out.
#[derive(Default)]
struct PublicApi;

impl RequestHandler for PublicApi {
    fn check_trusted_origin(&self, _origin: &str, _cx: &RequestContext) -> bool {
        true
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("accepted");
        Ok(())
    }
}

/// Echoes WebSocket messages, with every default (the 6.6 `check_origin`).
#[derive(Default)]
struct Echo;

impl WebSocketHandler for Echo {
    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        cx.write_message(message);
    }
}

const TRUSTED: &str = "https://partner.example";
const EVIL: &str = "https://evil.example";

fn start(protect: bool) -> TestServer {
    let settings = Settings::default()
        .cross_origin_protection(protect)
        .trusted_origins([TRUSTED]);
    let app = Application::with_settings(
        [
            url("/transfer", handler::<Transfer>()),
            url("/api", handler::<PublicApi>()),
            url("/ws", websocket::<Echo>()),
        ],
        settings,
    )
    .unwrap();
    TestServer::start(app).unwrap()
}

/// `method path` with `headers`, through the test client.
async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&'static str, &str)],
) -> HttpResponse {
    let mut request = server.request(path).method(method.clone());
    if method == Method::POST {
        request = request.body("amount=1000");
    }
    for (name, value) in headers {
        request = request.header(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    server.fetch_request(request).await.unwrap()
}

#[actix_rt::test]
async fn a_form_posted_from_another_site_is_403() {
    let server = start(true);
    let attack = send(
        &server,
        Method::POST,
        "/transfer",
        &[("sec-fetch-site", "cross-site"), ("origin", EVIL)],
    )
    .await;
    assert_eq!(attack.code, 403);
    // A sibling subdomain is another origin too.
    let sibling = send(
        &server,
        Method::POST,
        "/transfer",
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://blog.site.example"),
        ],
    )
    .await;
    assert_eq!(sibling.code, 403);
    // Fetch Metadata saying cross-site, with the Origin stripped: still refused.
    let no_origin = send(
        &server,
        Method::POST,
        "/transfer",
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(no_origin.code, 403);

    for allowed in [
        vec![("sec-fetch-site", "same-origin"), ("origin", EVIL)],
        vec![("sec-fetch-site", "none")],
        vec![("sec-fetch-site", "cross-site"), ("origin", TRUSTED)],
        // No browser headers at all: curl, another server.
        vec![],
    ] {
        let response = send(&server, Method::POST, "/transfer", &allowed).await;
        assert_eq!(response.code, 200, "{allowed:?}");
        assert_eq!(response.body.as_ref(), b"transferred");
    }
    server.stop().await;
}

#[actix_rt::test]
async fn without_fetch_metadata_the_origin_must_be_this_host_or_trusted() {
    let server = start(true);
    let attack = send(&server, Method::POST, "/transfer", &[("origin", EVIL)]).await;
    assert_eq!(attack.code, 403);
    // The host with another port is another origin.
    let other_port = format!("http://127.0.0.1:{}", server.port().wrapping_add(1));
    let response = send(
        &server,
        Method::POST,
        "/transfer",
        &[("origin", &other_port)],
    )
    .await;
    assert_eq!(response.code, 403);

    let same = format!("http://127.0.0.1:{}", server.port());
    let response = send(&server, Method::POST, "/transfer", &[("origin", &same)]).await;
    assert_eq!(response.code, 200);
    let response = send(&server, Method::POST, "/transfer", &[("origin", TRUSTED)]).await;
    assert_eq!(response.code, 200);
    server.stop().await;
}

#[actix_rt::test]
async fn safe_methods_opt_outs_and_the_setting_off_are_not_checked() {
    let server = start(true);
    let cross = [("sec-fetch-site", "cross-site"), ("origin", EVIL)];
    let get = send(&server, Method::GET, "/transfer", &cross).await;
    assert_eq!(get.code, 200, "a link from another site is fine");
    let api = send(&server, Method::POST, "/api", &cross).await;
    assert_eq!(api.code, 200, "check_trusted_origin opted out");
    server.stop().await;

    let unprotected = start(false);
    let response = send(&unprotected, Method::POST, "/transfer", &cross).await;
    assert_eq!(
        response.code, 200,
        "cross_origin_protection is off by default"
    );
    unprotected.stop().await;
}

/// Opens a WebSocket with `headers`; `Ok` if the upgrade was accepted.
async fn open(server: &TestServer, headers: &[(&str, &str)]) -> Result<(), String> {
    let mut request = ConnectRequest::new(server.ws_url("/ws"));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut client = server
        .websocket_connect_request(request)
        .await
        .map_err(|error| error.to_string())?;
    client.write_message(Message::text("hi")).await.unwrap();
    assert_eq!(next_message(&mut client).await, Some(Message::text("hi")));
    Ok(())
}

#[actix_rt::test]
async fn a_hostile_page_cannot_open_a_websocket_and_same_origin_pages_can() {
    // Protection off: WebSockets are checked anyway (browsers let any page open one).
    let server = start(false);
    for attack in [
        vec![("Origin", EVIL)],
        vec![("Sec-Fetch-Site", "cross-site"), ("Origin", EVIL)],
        vec![("Sec-Fetch-Site", "cross-site")],
    ] {
        let refused = open(&server, &attack)
            .await
            .expect_err("a cross-site upgrade");
        assert!(refused.contains("403"), "{attack:?}: {refused}");
    }
    let same = format!("http://127.0.0.1:{}", server.port());
    for allowed in [
        // Tornado 6.6: Fetch Metadata saying same-origin is enough, whatever Origin says
        // (behind a proxy that rewrites Host, Origin and Host differ).
        vec![
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", "https://public.name.example"),
        ],
        vec![("Origin", same.as_str())],
        vec![("Sec-Fetch-Site", "cross-site"), ("Origin", TRUSTED)],
        vec![],
    ] {
        open(&server, &allowed)
            .await
            .unwrap_or_else(|error| panic!("{allowed:?}: {error}"));
    }
    server.stop().await;
}

/// Shows the XSRF token and accepts POSTs that carry it.
#[derive(Default)]
struct Form;

impl RequestHandler for Form {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let token = cx.xsrf_token()?;
        cx.write(token);
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("posted");
        Ok(())
    }
}

#[actix_rt::test]
async fn xsrf_cookie_version_1_writes_the_plain_hex_token_and_it_still_checks() {
    let settings = Settings::default()
        .xsrf_cookies(true)
        .xsrf_cookie_version(XsrfCookieVersion::V1);
    let app = Application::with_settings([url("/form", handler::<Form>())], settings).unwrap();
    let server = TestServer::start(app).unwrap();
    let page = server.fetch("/form").await.unwrap();
    let token = String::from_utf8(page.body.to_vec()).unwrap();
    assert_eq!(token.len(), 32, "16 random bytes in hex: {token}");
    assert!(
        token.bytes().all(|byte| byte.is_ascii_hexdigit()),
        "{token}"
    );
    let cookie = page.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with(&format!("_xsrf={token};")), "{cookie}");

    let cookie_header = format!("_xsrf={token}");
    let with_token = send(
        &server,
        Method::POST,
        &format!("/form?_xsrf={token}"),
        &[("cookie", &cookie_header)],
    )
    .await;
    assert_eq!(with_token.code, 200);
    let forged = send(
        &server,
        Method::POST,
        "/form?_xsrf=00112233445566778899aabbccddeeff",
        &[("cookie", &cookie_header)],
    )
    .await;
    assert_eq!(forged.code, 403);

    // Version 2 (the default) masks it afresh on every page.
    let app = Application::with_settings(
        [url("/form", handler::<Form>())],
        Settings::default().xsrf_cookies(true),
    )
    .unwrap();
    let default = TestServer::start(app).unwrap();
    let page = default.fetch("/form").await.unwrap();
    assert!(page.body.starts_with(b"2|"), "{:?}", page.body);
    default.stop().await;
    server.stop().await;
}
