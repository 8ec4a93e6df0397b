//! A real browser over HTTP/2: Debian's headless Chromium (through chromedriver and
//! `fantoccini`) loads a page from an `Application` served over TLS with `http2(true)`, told
//! to trust the test certificate by its public key's hash (Chromium's
//! `--ignore-certificate-errors-spki-list`, the narrowest way to trust one key). ALPN picks
//! `h2`: the browser's own navigation timing and the handler both say HTTP/2, and a `fetch`
//! from the page reuses the connection as another stream.
//!
//! Needs the `chromium` and `chromium-driver` packages (`$CHROMIUM` / `$CHROMEDRIVER` name
//! others); under `CI=true` their absence fails the test.

mod support;

use std::time::Duration;

use cyclone::httpserver::HttpServer;
use cyclone::web::{Application, HttpError, RequestContext, RequestHandler, handler, url};
use fantoccini::Client;
use support::browser::{Browsers, finish};
use support::servers::start_http;
use support::tls::Pki;

/// The most the browser part may take, start to finish.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The most chromedriver may take to start a session.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The page: says which protocol version carried its request.
#[derive(Default)]
struct Page;

impl RequestHandler for Page {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let version = format!("{:?}", cx.request().version());
        cx.write(format!(
            "<!doctype html><title>h2</title><p id=version>{version}</p>"
        ));
        Ok(())
    }
}

/// What the page fetches: the version again, as text.
#[derive(Default)]
struct Data;

impl RequestHandler for Data {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_header("Content-Type", "text/plain")?;
        let version = format!("{:?}", cx.request().version());
        cx.write(format!("data over {version}"));
        Ok(())
    }
}

#[actix_rt::test]
async fn chromium_loads_a_page_and_fetches_over_http2_with_alpn() {
    let Some(binaries) = support::browser::require_browser() else {
        return;
    };
    let pki = Pki::generate();
    let app =
        Application::new([url("/", handler::<Page>()), url("/data", handler::<Data>())]).unwrap();
    let mut server = HttpServer::new(app)
        .ssl_options(pki.server().build().unwrap())
        .http2(true);
    let addr = start_http(&mut server, 1);

    let browsers =
        Browsers::trusting(&binaries, "h2-browser", &pki.server_key, START_TIMEOUT).await;
    let origin = format!("https://localhost:{}", addr.port());
    let outcome = browsers
        .run(TEST_TIMEOUT, async |browsers| {
            scenario(&browsers[0], &origin).await
        })
        .await;
    server.stop().await;
    finish(outcome, TEST_TIMEOUT);
}

async fn scenario(browser: &Client, origin: &str) {
    browser.goto(&format!("{origin}/")).await.unwrap();
    let seen = browser
        .execute(
            "return [document.getElementById('version').textContent, \
                     performance.getEntriesByType('navigation')[0].nextHopProtocol];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(seen, serde_json::json!(["HTTP/2.0", "h2"]), "the page");

    let fetched = browser
        .execute(
            "return fetch('/data').then((answer) => answer.text()).then((text) => \
                 [text, performance.getEntriesByName(location.origin + '/data')[0] \
                     .nextHopProtocol]);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fetched,
        serde_json::json!(["data over HTTP/2.0", "h2"]),
        "the fetch"
    );
}
