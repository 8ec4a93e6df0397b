//! [`RoomSocket`]: a `WebSocketHandler` that makes its connection a member of one room.

use std::sync::Arc;

use cyclone_protocol::server::{HttpServerRequest, PathArgs};
use cyclone_protocol::websocket::{CloseCode, Message};

use super::cursor::Cursor;
use super::message::error_frame;
use super::registry::{RoomHandle, Rooms};
use super::room::MemberId;
use crate::websocket::{WebSocketContext, WebSocketHandler};

/// A WebSocket member of the room `room` of `rooms`: it joins on open (sent the messages
/// after the `since` query argument, or all kept), posts each text message it receives
/// (reading the next one only once the room has it, so one member's posts stay in order and
/// a fast talker is slowed rather than queued), is told `{"type": "error"}` when a post
/// fails, and leaves when the connection closes.
///
/// A binary message closes the connection with 1003; a `since` that is not a cursor, with
/// 1008.
#[derive(Debug)]
pub struct RoomSocket {
    /// The registry the room is in.
    rooms: Rooms,
    /// The room's name.
    room: Arc<str>,
    /// The room and this member's id, once joined.
    joined: Option<(RoomHandle, MemberId)>,
}

impl RoomSocket {
    /// A member of `room` in `rooms` (the route target's factory makes one per connection).
    pub fn new(rooms: Rooms, room: impl Into<Arc<str>>) -> RoomSocket {
        RoomSocket {
            rooms,
            room: room.into(),
            joined: None,
        }
    }
}

impl WebSocketHandler for RoomSocket {
    fn open(&mut self, cx: &mut WebSocketContext<'_>, _: &PathArgs, request: &HttpServerRequest) {
        let since = match request
            .query_arguments()
            .ok()
            .and_then(|arguments| arguments.get_str("since").ok().flatten())
        {
            None | Some("") => None,
            Some(text) => match text.parse::<Cursor>() {
                Ok(cursor) => Some(cursor),
                Err(error) => {
                    cx.close(CloseCode::POLICY_VIOLATION, error.to_string());
                    return;
                }
            },
        };
        match self.rooms.room(&self.room) {
            Ok(room) => {
                let member = room.join(cx.handle(), since);
                self.joined = Some((room, member));
            }
            Err(error) => cx.close(CloseCode::POLICY_VIOLATION, error.to_string()),
        }
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        let Message::Text(body) = message else {
            cx.close(CloseCode::UNSUPPORTED_DATA, "text only");
            return;
        };
        let Some((room, _)) = &self.joined else {
            return;
        };
        let (room, socket) = (room.clone(), cx.handle());
        cx.wait_for(async move {
            if let Err(error) = room.post(body.as_str()).await {
                // Never a silent loss: the poster learns its message was not posted.
                let _ = socket.try_write(error_frame(&error.to_string()));
            }
        });
    }

    fn on_close(&mut self, _: Option<CloseCode>, _: Option<&str>) {
        if let Some((room, member)) = self.joined.take() {
            room.leave(member);
        }
    }
}
