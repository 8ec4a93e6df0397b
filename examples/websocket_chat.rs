//! Tornado's two chat demos in one application, on cyclone's rooms: the WebSocket chat at `/`
//! (socket at `/chatsocket`) and the long-polling chat at `/poll` (Tornado's `demos/chat`:
//! `POST /a/message/new`, `POST /a/message/updates`, XSRF-protected). Both are members of
//! the same room, `chat`: a message posted from either page reaches both.
//!
//! ```text
//! cargo run --release --example websocket_chat                  # then open http://localhost:8888/ and /poll
//! cargo run --release --example websocket_chat -- --port 8889   # a second process (add --redis to join them)
//! ```

use std::time::Duration;

use cyclone::options::{define, options, parse_command_line};
use cyclone::rooms::{MessageNew, MessageUpdates, RoomOptions, RoomSocket, Rooms};
use cyclone::web::{
    Application, CookieSecret, HttpError, RequestContext, RequestHandler, RouteError, Settings,
    handler_with, url,
};
use cyclone::websocket::websocket_with;

/// The one room both pages are in.
pub const ROOM: &str = "chat";

/// A page: sets the XSRF cookie the long-poll posts send back, then answers `html`.
#[derive(Debug)]
pub struct Page(&'static str);

impl RequestHandler for Page {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.xsrf_token()?;
        cx.set_header("Content-Type", "text/html; charset=UTF-8")?;
        cx.write(self.0);
        Ok(())
    }
}

/// The chat application on `rooms`, its cookies signed with `cookie_secret`.
pub fn application(rooms: Rooms, cookie_secret: &str) -> Result<Application, RouteError> {
    let (socket, new, updates) = (rooms.clone(), rooms.clone(), rooms);
    Application::with_settings(
        [
            url("/", handler_with(|| Page(WEBSOCKET_PAGE))),
            url("/poll", handler_with(|| Page(POLL_PAGE))),
            url(
                "/chatsocket",
                websocket_with(move || RoomSocket::new(socket.clone(), ROOM)),
            ),
            url(
                "/a/message/new",
                handler_with(move || MessageNew::new(new.clone(), ROOM)),
            ),
            url(
                "/a/message/updates",
                handler_with(move || MessageUpdates::new(updates.clone(), ROOM)),
            ),
        ],
        Settings::default()
            .cookie_secret(CookieSecret::new(cookie_secret))
            .xsrf_cookies(true),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    define("port", 8888u16)?.help("run on the given port");
    define("redis", String::new())?
        .help("a redis:// URL: share the rooms with every process using the same Redis");
    define(
        "cookie_secret",
        "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__".to_owned(),
    )?
    .help("signs cookies; the same in every process behind one balancer");
    parse_command_line();
    let port: u16 = options().get("port")?;
    let redis: String = options().get("redis")?;
    let secret: String = options().get("cookie_secret")?;
    cyclone::run(async move {
        let rooms = if redis.is_empty() {
            Rooms::local(RoomOptions::default())
        } else {
            Rooms::redis(&redis, RoomOptions::default())?
        };
        let server = application(rooms, &secret)?.listen_on(port, Some("127.0.0.1"))?;
        println!("listening on http://{}", server.local_addrs()[0]);
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}

/// The WebSocket page: reconnects after a drop and asks for what it missed (`since`).
const WEBSOCKET_PAGE: &str = r#"<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>cyclone chat (WebSocket)</title>
<style>body{font-family:sans-serif;margin:2em}#inbox{min-height:10em}.message{padding:2px 0}</style>
</head><body>
<p>WebSocket chat · <a href="/poll">long-polling chat</a> (same room) · <span id="members"></span></p>
<div id="inbox"></div>
<form id="form"><input id="body" autocomplete="off" style="width:30em" autofocus>
<input type="submit" value="Post"></form>
<script>
const inbox = document.getElementById("inbox");
let cursor = null, ws = null, retry = 500;
function show(message) {
  if (document.getElementById("m" + message.id)) return;
  const div = document.createElement("div");
  div.className = "message"; div.id = "m" + message.id; div.textContent = message.body;
  inbox.appendChild(div); cursor = message.id;
  window.scrollTo(0, document.body.scrollHeight);
}
function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  ws = new WebSocket(scheme + location.host + "/chatsocket" + (cursor ? "?since=" + cursor : ""));
  ws.onopen = () => { retry = 500; };
  ws.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "history") data.messages.forEach(show);
    else if (data.type === "message") show(data);
    else if (data.type === "join" || data.type === "leave") document.getElementById("members").textContent = data.members + " on WebSocket here";
    else if (data.type === "error") console.log("not posted:", data.error);
  };
  ws.onclose = () => { setTimeout(connect, retry); retry = Math.min(retry * 2, 10000); };
}
connect();
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  const input = document.getElementById("body");
  if (input.value && ws.readyState === WebSocket.OPEN) { ws.send(input.value); input.value = ""; }
};
</script></body></html>
"#;

/// The long-polling page (Tornado's `demos/chat`, without jQuery).
const POLL_PAGE: &str = r#"<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>cyclone chat (long polling)</title>
<style>body{font-family:sans-serif;margin:2em}#inbox{min-height:10em}.message{padding:2px 0}</style>
</head><body>
<p>Long-polling chat · <a href="/">WebSocket chat</a> (same room)</p>
<div id="inbox"></div>
<form id="messageform" action="/a/message/new" method="post">
<input id="message" name="body" autocomplete="off" style="width:30em" autofocus>
<input type="submit" value="Post"></form>
<script>
const inbox = document.getElementById("inbox");
let cursor = null, errorSleepTime = 500;
function xsrf() { const r = document.cookie.match("\\b_xsrf=([^;]*)\\b"); return r ? r[1] : ""; }
function form(args) { const body = new URLSearchParams(args); body.set("_xsrf", xsrf()); return body; }
function show(message) {
  if (document.getElementById("m" + message.id)) return;
  const div = document.createElement("div");
  div.className = "message"; div.id = "m" + message.id; div.textContent = message.body;
  inbox.appendChild(div);
}
async function poll() {
  try {
    const response = await fetch("/a/message/updates", {method: "POST", body: form(cursor ? {cursor} : {})});
    if (!response.ok) throw new Error(response.status);
    const data = await response.json();
    for (const message of data.messages) { show(message); cursor = message.id; }
    errorSleepTime = 500; setTimeout(poll, 0);
  } catch (error) {
    errorSleepTime = Math.min(errorSleepTime * 2, 30000);
    console.log("Poll error; sleeping for", errorSleepTime, "ms");
    setTimeout(poll, errorSleepTime);
  }
}
document.getElementById("messageform").onsubmit = async (event) => {
  event.preventDefault();
  const input = document.getElementById("message");
  if (!input.value) return;
  const response = await fetch("/a/message/new", {method: "POST", body: form({body: input.value})});
  if (response.ok) { input.value = ""; } else { console.log("not posted:", response.status); }
};
poll();
</script></body></html>
"#;
