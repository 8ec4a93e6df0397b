//! The two chat pages in a real browser, on two processes joined by a real Redis: Debian's
//! headless Chromium (two sessions, through chromedriver and fantoccini, as
//! `tests/blog_browser.rs`) opens the WebSocket page on one process and Tornado's
//! long-polling page on the other, and each sees what the other posts.
//!
//! Needs `chromium`, `chromium-driver` and `redis-server`; without them the test says so and
//! passes, except under CI (`CI=true`), where it fails (`support::deps`).

#[path = "rooms_client/mod.rs"]
mod rooms_client;
mod support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use rooms_client::Chat;
use support::redis::RedisServer;

/// The most the browser part may take, start to finish.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The most one element may take to appear.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);
/// What to install when the browser is missing.
const PACKAGES: &str = "apt-get install -y chromium chromium-driver";

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    /// The process.
    child: Child,
    /// Its WebDriver URL.
    url: String,
}

impl Driver {
    fn start(driver: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", driver.display()));
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < STEP_TIMEOUT,
                "chromedriver did not listen in time"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium in the fresh profile `profile`.
fn capabilities(chromium: &Path, profile: &Path) -> Capabilities {
    let options = serde_json::json!({
        "binary": chromium.display().to_string(),
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-default-apps", "--no-first-run",
            "--no-default-browser-check",
            format!("--user-data-dir={}", profile.display()),
        ],
    });
    let mut capabilities = Capabilities::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    capabilities
}

#[actix_rt::test]
async fn a_websocket_page_and_a_long_poll_page_on_two_processes_talk_through_redis() {
    let install = format!("install them with `{PACKAGES}`");
    let Some(chromium) = support::deps::require_binary(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        &install,
    ) else {
        return;
    };
    let Some(driver) =
        support::deps::require_binary("CHROMEDRIVER", &["/usr/bin/chromedriver"], &install)
    else {
        return;
    };
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (one, two) = (Chat::start(&redis.url()), Chat::start(&redis.url()));
    let dir = std::env::temp_dir().join(format!("cyclone-rooms-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let driver = Driver::start(&driver);
    let mut browsers = Vec::new();
    for profile in ["websocket", "poll"] {
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities(&chromium, &dir.join(profile)));
        browsers.push(
            tokio::time::timeout(STEP_TIMEOUT, builder.connect(&driver.url))
                .await
                .expect("a browser session in time")
                .expect("a browser session"),
        );
    }
    // A failing step must still close the browsers.
    let run = std::panic::AssertUnwindSafe(scenario(&browsers[0], &browsers[1], &one, &two))
        .catch_unwind();
    let outcome = tokio::time::timeout(TEST_TIMEOUT, run).await;
    for browser in browsers {
        let _ = browser.close().await;
    }
    drop(driver);
    let _ = std::fs::remove_dir_all(&dir);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the browser scenario took more than {TEST_TIMEOUT:?}"),
    }
}

async fn scenario(websocket: &Client, poll: &Client, one: &Chat, two: &Chat) {
    websocket
        .goto(&format!("http://{}/", one.addr))
        .await
        .unwrap();
    poll.goto(&format!("http://{}/poll", two.addr))
        .await
        .unwrap();
    // The WebSocket page shows the member count once it has joined.
    wait_for(
        websocket,
        Locator::XPath("//span[@id='members' and normalize-space(text())!='']"),
    )
    .await;

    let input = wait_for(websocket, Locator::Css("#body")).await;
    input
        .send_keys("hello from the websocket page")
        .await
        .unwrap();
    wait_for(websocket, Locator::Css("#form input[type=submit]"))
        .await
        .click()
        .await
        .unwrap();
    wait_for(
        poll,
        Locator::XPath("//div[@class='message' and text()='hello from the websocket page']"),
    )
    .await;

    let input = wait_for(poll, Locator::Css("#message")).await;
    input
        .send_keys("and hello from the long-poll page")
        .await
        .unwrap();
    wait_for(poll, Locator::Css("#messageform input[type=submit]"))
        .await
        .click()
        .await
        .unwrap();
    wait_for(
        websocket,
        Locator::XPath("//div[@class='message' and text()='and hello from the long-poll page']"),
    )
    .await;
    // The poster's own page shows it too (through its own room, as everyone else's).
    wait_for(
        poll,
        Locator::XPath("//div[@class='message' and text()='and hello from the long-poll page']"),
    )
    .await;
}

/// The element, once the page shows it (within [`STEP_TIMEOUT`]).
async fn wait_for(browser: &Client, locator: Locator<'_>) -> fantoccini::elements::Element {
    match browser
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(locator)
        .await
    {
        Ok(element) => element,
        Err(error) => {
            let page = browser.source().await.unwrap_or_default();
            panic!("{locator:?} did not appear: {error}\npage:\n{page}");
        }
    }
}
