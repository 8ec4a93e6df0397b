//! The blog example in a real browser: Debian's headless Chromium, driven through chromedriver
//! (WebDriver) by fantoccini, against the blog started in this process on 127.0.0.1:0 with a
//! fresh database. It signs up, logs out and in, composes an entry in Markdown, finds it on the
//! home page and in the feed, and sees a forged form refused.
//!
//! Needs the `chromium` and `chromium-driver` packages (`$CHROMIUM` / `$CHROMEDRIVER` name
//! other binaries). Without them the test says so and passes, except under CI (`CI=true`),
//! where it fails: CI must never pass by skipping (`support::deps`). The whole run is bounded
//! by [`TEST_TIMEOUT`].

mod support;

#[allow(dead_code)] // the example's helpers this test does not call
#[path = "../examples/blog/site/mod.rs"]
mod site;

use std::time::Duration;
use support::browser::{Browsers, STEP_TIMEOUT, finish, wait_for};
use support::scratch::fresh_dir;

use cyclone::testing::TestServer;
use fantoccini::{Client, Locator};

/// The most the browser part may take, start to finish.
const TEST_TIMEOUT: Duration = Duration::from_secs(180);

#[actix_rt::test]
async fn a_browser_signs_up_writes_an_entry_and_is_refused_a_forged_form() {
    let Some(binaries) = support::browser::require_browser() else {
        return;
    };

    let dir = fresh_dir("blog-browser");
    let app = site::application(&site::BlogOptions {
        database: dir.join("blog.db"),
        debug: false,
    })
    .await
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let browsers = Browsers::start(&binaries, dir, &["profile"], &[], STEP_TIMEOUT).await;
    let outcome = browsers
        .run(TEST_TIMEOUT, async |browsers| {
            scenario(&browsers[0], &server).await
        })
        .await;
    finish(outcome, TEST_TIMEOUT);
}

/// What a person does, step by step.
async fn scenario(browser: &Client, server: &TestServer) {
    let url = |path: &str| server.url(path);

    // An empty blog: composing sends the visitor to log in, which sends them to sign up.
    browser.goto(&url("/compose")).await.unwrap();
    let email = wait_for(browser, Locator::Css("form#signup #email")).await;
    assert!(path_of(browser).await.starts_with("/auth/create"));
    email.send_keys("ada@example.com").await.unwrap();
    fill(browser, "#name", "Ada Lovelace").await;
    fill(browser, "#password", "analytical engine").await;
    find(browser, "#submit").await.click().await.unwrap();
    wait_for(browser, Locator::Css("form#compose")).await;
    assert_eq!(path_of(browser).await, "/compose");
    assert_eq!(
        find(browser, ".user").await.text().await.unwrap(),
        "Ada Lovelace"
    );

    // Log out and back in.
    browser.goto(&url("/auth/logout")).await.unwrap();
    browser
        .goto(&url("/auth/login?next=%2Fcompose"))
        .await
        .unwrap();
    wait_for(browser, Locator::Css("form#login")).await;
    fill(browser, "#email", "ada@example.com").await;
    fill(browser, "#password", "wrong password").await;
    find(browser, "#submit").await.click().await.unwrap();
    let error = wait_for(browser, Locator::Css("#error")).await;
    assert_eq!(error.text().await.unwrap(), "Incorrect password.");
    fill(browser, "#password", "analytical engine").await;
    find(browser, "#submit").await.click().await.unwrap();
    wait_for(browser, Locator::Css("form#compose")).await;

    // Compose in Markdown.
    fill(browser, "#title", "Notes on the Engine").await;
    fill(
        browser,
        "#markdown",
        "The engine **weaves** patterns.\n\n- cards\n- gears\n\n<b>raw</b>",
    )
    .await;
    find(browser, "#publish").await.click().await.unwrap();
    let strong = wait_for(browser, Locator::Css(".entry .body strong")).await;
    assert_eq!(strong.text().await.unwrap(), "weaves");
    assert_eq!(path_of(browser).await, "/entry/notes-on-the-engine");
    let items = browser
        .find_all(Locator::Css(".entry .body li"))
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    // Raw HTML is shown as text.
    let body = find(browser, ".entry .body").await.text().await.unwrap();
    assert!(body.contains("<b>raw</b>"), "{body}");
    // The page's stylesheet and script came through static_url and loaded.
    let styled = browser
        .execute(
            "return getComputedStyle(document.querySelector('#header')).borderBottomStyle",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(styled, serde_json::json!("solid"));

    // On the home page, and in the feed.
    browser.goto(&url("/")).await.unwrap();
    let title = wait_for(browser, Locator::Css(".entry h1 a")).await;
    assert_eq!(title.text().await.unwrap(), "Notes on the Engine");
    let feed = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/feed').then(r => r.text()).then(done, e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    let feed = feed.as_str().unwrap_or_default().to_owned();
    assert!(
        feed.contains("<title type=\"text\">Notes on the Engine</title>"),
        "{feed}"
    );
    assert!(
        feed.contains("&lt;strong&gt;weaves&lt;/strong&gt;"),
        "{feed}"
    );

    // A forged form: the page's XSRF token replaced before submitting. Refused, nothing written.
    browser.goto(&url("/compose")).await.unwrap();
    wait_for(browser, Locator::Css("form#compose")).await;
    fill(browser, "#title", "Forged entry").await;
    fill(browser, "#markdown", "should not exist").await;
    browser
        .execute(
            "document.querySelector('input[name=_xsrf]').value = '2|00000000|0123456789abcdef0123456789abcdef|1';",
            vec![],
        )
        .await
        .unwrap();
    find(browser, "#publish").await.click().await.unwrap();
    wait_for(browser, Locator::XPath("//title[contains(., '403')]")).await;
    browser.goto(&url("/archive")).await.unwrap();
    wait_for(browser, Locator::Css("ul.archive")).await;
    let archive = browser.source().await.unwrap();
    assert!(archive.contains("Notes on the Engine"));
    assert!(!archive.contains("Forged entry"));
}

async fn find(browser: &Client, css: &str) -> fantoccini::elements::Element {
    wait_for(browser, Locator::Css(css)).await
}

/// Types `text` into the field `css`, once it is shown: each form step of the scenario is
/// one line.
async fn fill(browser: &Client, css: &str, text: &str) {
    find(browser, css).await.send_keys(text).await.unwrap();
}

/// The path of the page shown.
async fn path_of(browser: &Client) -> String {
    browser.current_url().await.unwrap().path().to_owned()
}
