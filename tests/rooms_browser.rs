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

use std::time::Duration;
use support::browser::{Browsers, STEP_TIMEOUT, finish, wait_for};
use support::scratch::fresh_dir;

use fantoccini::{Client, Locator};
use rooms_client::Chat;
use support::redis::RedisServer;

/// The most the browser part may take, start to finish.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

#[actix_rt::test]
async fn a_websocket_page_and_a_long_poll_page_on_two_processes_talk_through_redis() {
    let Some(binaries) = support::browser::require_browser() else {
        return;
    };
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (one, two) = (Chat::start(&redis.url()), Chat::start(&redis.url()));
    let browsers = Browsers::start(
        &binaries,
        fresh_dir("rooms-browser"),
        &["websocket", "poll"],
        &[],
        STEP_TIMEOUT,
    )
    .await;
    let outcome = browsers
        .run(TEST_TIMEOUT, async |browsers| {
            scenario(&browsers[0], &browsers[1], &one, &two).await
        })
        .await;
    finish(outcome, TEST_TIMEOUT);
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
