//! A Tornado user's tour in one file: log-in with a signed cookie and XSRF, a page for users
//! only, a JSON counter in an actor, a blocking call on the pool that leaves the other pages
//! served, a WebSocket room. `cargo run --example tour`, open <http://127.0.0.1:8888/>.

use std::time::Duration;

use cyclone::escape::xhtml_escape;
use cyclone::options::{define, options, parse_command_line};
use cyclone::prelude::*;
use cyclone::web::PathArgs;

/// What every handler shares (Tornado's `BaseHandler`): the user is the signed `user` cookie.
struct Site;

impl BaseHandler for Site {
    fn get_current_user(&self, cx: &RequestContext) -> Option<String> {
        cx.get_signed_cookie("user")
    }
}

/// `/login`: the form, with its hidden `_xsrf` field, and the log-in it posts.
#[derive(Default)]
struct Login;

impl RequestHandler for Login {
    async fn get(&mut self, cx: &mut RequestContext) -> HandlerResult {
        let xsrf = cx.xsrf_form_html();
        cx.write(format!(
            "<form method=post>{xsrf}Name: <input name=name></form>"
        ));
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> HandlerResult {
        cx.set_signed_cookie("user", &cx.get_argument("name")?)?;
        cx.redirect("/", false).await
    }
}

/// `/`: logged-in users only (Tornado's `@authenticated`: others go to `/login?next=%2F`).
#[derive(Default)]
struct Home;

impl RequestHandler for Home {
    async fn get(&mut self, cx: &mut RequestContext) -> HandlerResult {
        let user = cx.authenticated().await?;
        let page = PAGE.replace("{xsrf}", &cx.xsrf_token()?);
        cx.write(page.replace("{user}", &xhtml_escape(&user)));
        Ok(())
    }
}

/// `/counter`: a JSON count kept in an actor; POST adds one, from any worker, none lost.
struct Counter(StateAddr<u64>);

impl RequestHandler for Counter {
    async fn post(&mut self, cx: &mut RequestContext) -> HandlerResult {
        let count = self.0.update(|count| {
            *count += 1;
            *count
        });
        cx.write_json(&serde_json::json!({ "count": count.await? }))
    }
}

/// `/slow`: a blocking call (a sleep of `--slow-ms`, standing in for a synchronous library)
/// runs on the pool, so this loop goes on serving `/` meanwhile.
struct Slow(u64);

impl RequestHandler for Slow {
    async fn get(&mut self, cx: &mut RequestContext) -> HandlerResult {
        cx.write("sleeping\n");
        cx.flush().await?; // the client sees the call start
        let ms = self.0;
        run_in_executor(move || std::thread::sleep(Duration::from_millis(ms))).await?;
        cx.write(format!("slept {ms} ms\n"));
        Ok(())
    }
}

/// `/room`: a member of the WebSocket room, kept in an actor; every message goes to everyone.
struct Member(StateAddr<Vec<WebSocket>>);

impl WebSocketHandler for Member {
    fn open(&mut self, cx: &mut WebSocketContext<'_>, _: &PathArgs, _: &HttpServerRequest) {
        let me = cx.handle();
        actix::spawn(broadcast(self.0.clone(), move |members| {
            members.push(me);
            WsMessage::text(format!("{} here", members.len()))
        }));
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: WsMessage) {
        // No message is read from this member until this one is sent.
        cx.wait_for(broadcast(self.0.clone(), move |_| message));
    }
}

/// Changes the room in its actor, then sends what `change` returns to every member: those
/// gone leave, one whose queue is full misses it.
async fn broadcast<F>(room: StateAddr<Vec<WebSocket>>, change: F)
where
    F: FnOnce(&mut Vec<WebSocket>) -> WsMessage + Send + 'static,
{
    let send = move |members: &mut Vec<WebSocket>| {
        let message = change(members);
        members.retain(|each| each.try_write(message.clone()).is_ok() || each.is_connected());
    };
    let _ = room.update(send).await;
}

/// The page: the counter's button (its POST carries the XSRF token) and the room.
const PAGE: &str = r#"<!DOCTYPE html><p>Hello, {user}. <button id="add">+1</button> <span id="count"></span></p><form id="say"><input id="text"></form><div id="room"></div><script>
const $ = (id) => document.getElementById(id), ws = new WebSocket(`ws://${location.host}/room`);
$("add").onclick = async () => $("count").textContent = (await (await fetch("/counter",
  {method: "POST", headers: {"X-XSRFToken": "{xsrf}"}})).json()).count;
ws.onmessage = (event) => $("room").append(event.data, document.createElement("br"));
$("say").onsubmit = (event) => { event.preventDefault(); ws.send($("text").value); $("text").value = ""; };
</script>"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    define("port", 8888u16)?.help("run on the given port");
    define("cookie_secret", String::from("__TODO:_CHANGE_ME__"))?.help("signs the log-in cookie");
    define("slow_ms", 1000u64)?.help("how long /slow blocks a pool thread, in milliseconds");
    // `--help` lists the flags; `--logging` sets up Tornado's log lines (enable_pretty_logging).
    parse_command_line();
    let port: u16 = options().get("port")?;
    let secret: String = options().get("cookie_secret")?;
    let slow_ms: u64 = options().get("slow_ms")?;
    cyclone::run(async move {
        let (count, room) = (StateActor::start(0u64), StateActor::start(Vec::new()));
        let settings = Settings::default()
            .cookie_secret(CookieSecret::new(secret))
            .xsrf_cookies(true)
            .login_url("/login")
            .base_handler(Site);
        let rules = [
            url("/", handler::<Home>()),
            url("/login", handler::<Login>()),
            url("/counter", handler_with(move || Counter(count.clone()))),
            url("/slow", handler_with(move || Slow(slow_ms))),
            url("/room", websocket_with(move || Member(room.clone()))),
        ];
        let app = Application::with_settings(rules, settings)?;
        let server = app.listen_on(port, Some("127.0.0.1"))?; // one loop, as Tornado's
        println!("listening on http://{}", server.local_addrs()[0]);
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}
