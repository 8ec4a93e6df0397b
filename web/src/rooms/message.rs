//! [`RoomMessage`]: one message said in a room, with its cursor, and the JSON forms it
//! travels in (rendered once, shared by every member's frame).

use std::sync::Arc;

use cyclone_protocol::websocket::{Message, Utf8Bytes};
use serde_json::{Value, json};

use super::cursor::Cursor;

/// One message in a room: its cursor and its text. Cheap to clone (shared text and frame).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomMessage {
    /// Its place in the room's history.
    pub id: Cursor,
    /// What was said, as posted (escape it when you put it in HTML).
    pub body: Arc<str>,
    /// The WebSocket frame every member gets, rendered once: a clone shares the bytes.
    frame: Utf8Bytes,
}

impl RoomMessage {
    /// The message `body` at `id`.
    pub fn new(id: Cursor, body: impl Into<Arc<str>>) -> RoomMessage {
        let body = body.into();
        let mut value = json!({ "id": id.to_string(), "body": &*body });
        value["type"] = Value::from("message");
        let frame = Utf8Bytes::from(value.to_string());
        RoomMessage { id, body, frame }
    }

    /// The message as JSON, the way the long-poll answer lists it (Tornado's chat message):
    /// `{"id": "0-1", "body": "hello"}`.
    pub fn to_json(&self) -> Value {
        json!({ "id": self.id.to_string(), "body": &*self.body })
    }

    /// The WebSocket frame for it: `{"type": "message", "id": "0-1", "body": "hello"}`. Every
    /// member's frame shares these bytes.
    pub fn frame(&self) -> Message {
        Message::Text(self.frame.clone())
    }
}

/// The frame a (re)joining WebSocket member gets first: the messages it missed, in order, as
/// `{"type": "history", "messages": [...]}`: one frame however many, so it takes one slot of
/// the member's bounded mailbox and cannot be overtaken by a broadcast.
pub(crate) fn history_frame(messages: &[RoomMessage]) -> Message {
    let messages: Vec<Value> = messages.iter().map(RoomMessage::to_json).collect();
    Message::text(json!({ "type": "history", "messages": messages }).to_string())
}

/// The presence frame: `{"type": "join" | "leave", "members": <count>}`.
pub(crate) fn presence_frame(kind: &str, members: usize) -> Message {
    Message::text(json!({ "type": kind, "members": members }).to_string())
}

/// The frame that tells a WebSocket member its post failed: `{"type": "error", "error": ...}`.
pub(crate) fn error_frame(error: &str) -> Message {
    Message::text(json!({ "type": "error", "error": error }).to_string())
}
