//! Tornado's WebSocket chat demo, with the room as an actor: the page at `/` (plain HTML and
//! JavaScript), the socket at `/chatsocket`. A [`ChatRoom`] actor holds the members and the
//! last 200 messages; a new member gets the history, every message is HTML-escaped and
//! broadcast through the room's mailbox, and a member leaves when its socket closes.
//!
//! ```text
//! cargo run --example websocket_chat -- --port 8888   # then open http://localhost:8888/ in two tabs
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix::prelude::*;
use cyclone::httpserver::{HttpResponse, HttpServerRequest};
use cyclone::options::{define, options, parse_command_line};
use cyclone::web::{Application, PathArgs, RouteError, function, html_escape, url};
use cyclone::websocket::{
    CloseCode, Message, Utf8Bytes, WebSocket, WebSocketContext, WebSocketHandler, websocket_with,
};
use http::header::{CONTENT_TYPE, HeaderValue};

/// Messages the room keeps for newcomers (Tornado's `cache_size`).
pub const HISTORY_SIZE: usize = 200;
/// Longest message accepted from a member, in bytes; longer ones are cut.
pub const MAX_BODY: usize = 4096;

/// The room: who is in it and what was said. One actor, so its state needs no lock; members on
/// any worker thread reach it through its mailbox.
#[derive(Debug, Default)]
pub struct ChatRoom {
    /// Each member's connection, by member id.
    members: HashMap<u64, WebSocket>,
    /// The last [`HISTORY_SIZE`] messages, already rendered; each shares its bytes with the
    /// frames that carried it to the members.
    history: VecDeque<Utf8Bytes>,
    /// Numbers messages, for their HTML ids.
    next_message: u64,
}

impl Actor for ChatRoom {
    type Context = Context<Self>;
}

/// A member arrives: send it the history, then the new messages.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Join {
    /// The member's id.
    pub id: u64,
    /// Its connection.
    pub socket: WebSocket,
}

/// A member's socket closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    /// The member's id.
    pub id: u64,
}

/// A member said something.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Say {
    /// The text, unescaped.
    pub body: Utf8Bytes,
}

/// How many members the room has (for monitoring and tests).
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Members;

impl Handler<Members> for ChatRoom {
    type Result = usize;

    fn handle(&mut self, _: Members, _: &mut Context<Self>) -> usize {
        self.members.len()
    }
}

impl Handler<Join> for ChatRoom {
    type Result = ();

    fn handle(&mut self, join: Join, _: &mut Context<Self>) {
        // The history goes as one frame: it cannot be overtaken by a broadcast, and it takes
        // one slot of the member's bounded mailbox however long it is.
        if !self.history.is_empty() {
            let history: String = self.history.iter().map(Utf8Bytes::as_str).collect();
            let _ = join.socket.try_write(Message::text(history));
        }
        self.members.insert(join.id, join.socket);
    }
}

impl Handler<Leave> for ChatRoom {
    type Result = ();

    fn handle(&mut self, leave: Leave, _: &mut Context<Self>) {
        self.members.remove(&leave.id);
    }
}

impl Handler<Say> for ChatRoom {
    type Result = ();

    fn handle(&mut self, say: Say, _: &mut Context<Self>) {
        self.next_message += 1;
        let html = Utf8Bytes::from(format!(
            "<div class=\"message\" id=\"m{}\">{}</div>\n",
            self.next_message,
            html_escape(&say.body)
        ));
        if self.history.len() == HISTORY_SIZE {
            self.history.pop_front();
        }
        self.history.push_back(html.clone());
        // try_write never waits: a member whose mailbox is full misses this message rather
        // than slowing the room for everyone (Tornado logs and skips it too). Every member's
        // message shares the one rendered text: a clone is a reference count.
        self.members.retain(
            |id, socket| match socket.try_write(Message::Text(html.clone())) {
                Ok(()) => true,
                Err(error) => {
                    tracing::debug!(member = id, %error, "chat message not delivered");
                    socket.is_connected()
                }
            },
        );
    }
}

/// Gives each member a distinct id.
static NEXT_MEMBER: AtomicU64 = AtomicU64::new(1);

/// `/chatsocket`: one per member, on its connection's loop.
#[derive(Debug)]
pub struct ChatSocket {
    /// The room's mailbox.
    room: Addr<ChatRoom>,
    /// This member's id.
    id: u64,
}

impl WebSocketHandler for ChatSocket {
    fn open(&mut self, cx: &mut WebSocketContext<'_>, _: &PathArgs, _: &HttpServerRequest) {
        self.room.do_send(Join {
            id: self.id,
            socket: cx.handle(),
        });
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        let Message::Text(mut body) = message else {
            cx.close(CloseCode::UNSUPPORTED_DATA, "text only");
            return;
        };
        if body.len() > MAX_BODY {
            let mut end = MAX_BODY;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body = Utf8Bytes::from(&body[..end]);
        }
        self.room.do_send(Say { body });
    }

    fn on_close(&mut self, _: Option<CloseCode>, _: Option<&str>) {
        self.room.do_send(Leave { id: self.id });
    }
}

/// The page: a message list, a form, and the script that joins them to the socket.
const PAGE: &str = r#"<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>cyclone chat</title>
<style>body{font-family:sans-serif;margin:2em}#inbox{min-height:10em}.message{padding:2px 0}</style>
</head><body>
<div id="inbox"></div>
<form id="form"><input id="body" autocomplete="off" style="width:30em" autofocus>
<input type="submit" value="Post"></form>
<script>
const inbox = document.getElementById("inbox");
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chatsocket");
// The server sends escaped HTML fragments (the history arrives as one).
ws.onmessage = (event) => { inbox.insertAdjacentHTML("beforeend", event.data); window.scrollTo(0, document.body.scrollHeight); };
ws.onclose = () => { inbox.insertAdjacentHTML("beforeend", "<p><em>disconnected</em></p>"); };
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  const input = document.getElementById("body");
  if (input.value) { ws.send(input.value); input.value = ""; }
};
</script></body></html>
"#;

/// The chat application around `room`.
pub fn application(room: Addr<ChatRoom>) -> Result<Application, RouteError> {
    let page = function(|_: HttpServerRequest, _| async {
        HttpResponse::ok()
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=UTF-8"),
            )
            .body(PAGE)
    });
    let socket = websocket_with(move || ChatSocket {
        room: room.clone(),
        id: NEXT_MEMBER.fetch_add(1, Ordering::Relaxed),
    });
    Application::new([url("/", page), url("/chatsocket", socket)])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    define("port", 8888u16)?.help("run on the given port");
    parse_command_line();
    let port: u16 = options().get("port")?;
    cyclone::run(async move {
        let room = ChatRoom::default().start();
        let server = application(room)?.listen_on(port, Some("127.0.0.1"))?;
        println!("listening on http://{}", server.local_addrs()[0]);
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}
