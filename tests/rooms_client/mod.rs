//! The chat's two kinds of client, for the room tests: a long-polling client speaking raw
//! HTTP/1.1 as the page's script does (XSRF cookie from the page, `_xsrf` in every post), and
//! a WebSocket member that reads the room's JSON frames, and the chat example run as a process.
//!
//! Each test binary uses a part of it.

#![allow(dead_code)]
use std::net::SocketAddr;

use cyclone::escape::url_escape;
use cyclone::websocket::{ClientConnection, Message, websocket_connect};
use serde_json::Value;

use crate::support::examples::{Running, start_listening};
use crate::support::raw_http::{Answer, Client};
use crate::support::wait::bounded;
use crate::support::ws::next_message;

/// A long-polling client of one server: the page's XSRF cookie, and posts that carry it.
#[derive(Debug, Clone)]
pub struct PollClient {
    /// The server.
    pub addr: SocketAddr,
    /// The `_xsrf` cookie the page set.
    pub xsrf: String,
}

impl PollClient {
    /// Loads `/poll` (for its XSRF cookie), as the browser does first.
    pub async fn open(addr: SocketAddr) -> PollClient {
        let mut client = Client::connect(addr).await;
        client
            .send(b"GET /poll HTTP/1.1\r\nHost: chat.test\r\n\r\n")
            .await;
        let page = client.answer().await.expect("the page");
        assert_eq!(page.status, 200);
        assert!(String::from_utf8_lossy(&page.body).contains("/a/message/updates"));
        let xsrf = page
            .headers
            .iter()
            .filter(|(name, _)| name == "set-cookie")
            .find_map(|(_, value)| value.strip_prefix("_xsrf="))
            .and_then(|rest| rest.split(';').next())
            .expect("the page sets the _xsrf cookie")
            .to_owned();
        PollClient { addr, xsrf }
    }

    /// The bytes of a form post of `fields` to `path`, with the XSRF cookie and argument.
    pub fn form(&self, path: &str, fields: &[(&str, &str)]) -> Vec<u8> {
        let mut body: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("{name}={}", url_escape(value, true)))
            .collect();
        body.push(format!("_xsrf={}", url_escape(&self.xsrf, true)));
        let body = body.join("&");
        format!(
            "POST {path} HTTP/1.1\r\nHost: chat.test\r\nCookie: _xsrf={}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            self.xsrf,
            body.len()
        )
        .into_bytes()
    }

    /// Posts `body` to the room; the answer.
    pub async fn post(&self, body: &str) -> Answer {
        let mut client = Client::connect(self.addr).await;
        client
            .send(&self.form("/a/message/new", &[("body", body)]))
            .await;
        client.answer().await.expect("an answer to the post")
    }

    /// Posts `body` and returns the message's id (the post must succeed).
    pub async fn say(&self, body: &str) -> String {
        let answer = self.post(body).await;
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        let message: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(message["body"], body);
        message["id"].as_str().unwrap().to_owned()
    }

    /// Starts a long poll for the messages after `cursor`, without waiting for the answer.
    pub async fn start_updates(&self, cursor: Option<&str>) -> Client {
        let mut client = Client::connect(self.addr).await;
        let fields: Vec<(&str, &str)> = cursor
            .map(|cursor| ("cursor", cursor))
            .into_iter()
            .collect();
        client.send(&self.form("/a/message/updates", &fields)).await;
        client
    }

    /// The messages after `cursor`, as `(id, body)`, once there is at least one.
    pub async fn updates(&self, cursor: Option<&str>) -> Vec<(String, String)> {
        let mut client = self.start_updates(cursor).await;
        let answer = client.answer().await.expect("an answer to the poll");
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        messages(&serde_json::from_slice(&answer.body).unwrap())
    }
}

/// The `messages` of a long-poll answer or a history frame, as `(id, body)`.
pub fn messages(value: &Value) -> Vec<(String, String)> {
    value["messages"]
        .as_array()
        .expect("a list of messages")
        .iter()
        .map(|message| {
            (
                message["id"].as_str().unwrap().to_owned(),
                message["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A WebSocket member of the chat room.
pub struct Member {
    /// Its connection.
    pub client: ClientConnection,
}

impl Member {
    /// Joins through `addr`'s `/chatsocket`, resuming after `since` when given; returns the
    /// member and the history it was sent first.
    pub async fn join(addr: SocketAddr, since: Option<&str>) -> (Member, Vec<(String, String)>) {
        let query = since
            .map(|since| format!("?since={since}"))
            .unwrap_or_default();
        let client = bounded(websocket_connect(format!("ws://{addr}/chatsocket{query}")))
            .await
            .expect("the member connects");
        let mut member = Member { client };
        let history = match since {
            // A member that has everything is sent no history frame.
            Some(_) => Vec::new(),
            None => {
                let first = member.frame().await;
                assert_eq!(first["type"], "history", "{first}");
                messages(&first)
            }
        };
        (member, history)
    }

    /// The next frame, as JSON.
    pub async fn frame(&mut self) -> Value {
        match next_message(&mut self.client).await {
            Some(Message::Text(text)) => serde_json::from_str(&text).unwrap(),
            other => panic!("expected a JSON text frame, got {other:?}"),
        }
    }

    /// The next chat messages, skipping presence frames, until `count` are in hand, as
    /// `(id, body)` (a history frame counts its messages).
    pub async fn messages(&mut self, count: usize) -> Vec<(String, String)> {
        let mut seen = Vec::new();
        while seen.len() < count {
            let frame = self.frame().await;
            match frame["type"].as_str() {
                Some("message") => seen.push((
                    frame["id"].as_str().unwrap().to_owned(),
                    frame["body"].as_str().unwrap().to_owned(),
                )),
                Some("history") => seen.extend(messages(&frame)),
                Some("join" | "leave") => {}
                _ => panic!("unexpected frame {frame}"),
            }
        }
        seen
    }

    /// Posts `body` from this member.
    pub async fn say(&mut self, body: &str) {
        self.client
            .write_message(Message::text(body))
            .await
            .unwrap();
    }
}

/// One chat process, killed when the test ends however it ends.
pub struct Chat {
    /// The process.
    pub process: Running,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Chat {
    /// Starts the chat example on a free port with `--redis url`.
    pub fn start(redis: &str) -> Chat {
        let (process, addr) =
            start_listening("websocket_chat", &["--port=0", &format!("--redis={redis}")]);
        Chat { process, addr }
    }
}
