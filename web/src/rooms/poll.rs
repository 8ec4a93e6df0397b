//! Tornado's long-polling chat handlers (`demos/chat`): [`MessageNew`] posts, and
//! [`MessageUpdates`] waits for the messages after a cursor. Both are `POST`s, so with the
//! `xsrf_cookies` setting they need the `_xsrf` argument (or `X-XSRFToken` header).

use std::sync::Arc;

use http::Method;
use serde_json::{Value, json};

use super::cursor::Cursor;
use super::registry::{RoomHandle, Rooms};
use super::room::{Updates, Wait, WaiterId};
use crate::{HttpError, RequestContext, RequestHandler};

/// `POST /a/message/new`: posts the `body` argument to the room and answers the message as
/// JSON (`{"id": ..., "body": ...}`), or redirects to `next` when given (a path on this
/// site only: anything else is 400, as in Tornado's demo). Too long or refused: 400; the
/// broker down: 503.
#[derive(Debug)]
pub struct MessageNew {
    /// The registry the room is in.
    rooms: Rooms,
    /// The room's name.
    room: Arc<str>,
}

impl MessageNew {
    /// Posts to `room` in `rooms`.
    pub fn new(rooms: Rooms, room: impl Into<Arc<str>>) -> MessageNew {
        MessageNew {
            rooms,
            room: room.into(),
        }
    }
}

impl RequestHandler for MessageNew {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::POST];

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let body = cx.get_argument("body")?;
        let next = cx.get_argument_or("next", "")?;
        if !next.is_empty() && (next.starts_with("//") || !next.starts_with('/')) {
            // An absolute URL would make this an open redirect.
            return Err(HttpError::bad_request().log_message("next must be a local path"));
        }
        let message = self.rooms.room(&self.room)?.post(body).await?;
        if next.is_empty() {
            cx.write_json(&message.to_json())
        } else {
            cx.redirect(&next, false).await
        }
    }
}

/// `POST /a/message/updates`: answers `{"messages": [...]}` with the messages after the
/// `cursor` argument (all kept, without one) as soon as there is at least one. The wait ends
/// at once when the client goes away (the room forgets the request), and after
/// [`RoomOptions::poll_timeout`](super::RoomOptions::poll_timeout) with `{"messages": []}`.
/// A `cursor` that is not one is 400; a room with too many waiting requests, 503.
#[derive(Debug)]
pub struct MessageUpdates {
    /// The registry the room is in.
    rooms: Rooms,
    /// The room's name.
    room: Arc<str>,
    /// The room and this request's place in it while it waits, to leave it if the client
    /// goes.
    waiting: Option<(RoomHandle, WaiterId)>,
}

impl MessageUpdates {
    /// Waits on `room` in `rooms`.
    pub fn new(rooms: Rooms, room: impl Into<Arc<str>>) -> MessageUpdates {
        MessageUpdates {
            rooms,
            room: room.into(),
            waiting: None,
        }
    }
}

impl RequestHandler for MessageUpdates {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::POST];

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let since = match cx.get_argument_or("cursor", "")?.as_str() {
            "" => None,
            text => Some(
                text.parse::<Cursor>()
                    .map_err(|error| HttpError::bad_request().log_message(error.to_string()))?,
            ),
        };
        let room = self.rooms.room(&self.room)?;
        let waiter = WaiterId::next();
        room.addr().do_send(Wait {
            waiter,
            since,
            reply: cx.recipient::<Updates>(),
        });
        self.waiting = Some((room.clone(), waiter));
        let timeout = self.rooms.options().poll_timeout;
        let updates = tokio::time::timeout(timeout, cx.receive::<Updates>()).await;
        self.waiting = None;
        let messages = match updates {
            Ok(updates) => updates?.0?,
            Err(_) => {
                room.cancel_wait(waiter);
                Vec::new()
            }
        };
        let messages: Vec<Value> = messages.iter().map(|message| message.to_json()).collect();
        cx.write_json(&json!({ "messages": messages }))
    }

    fn on_connection_close(&mut self) {
        if let Some((room, waiter)) = self.waiting.take() {
            room.cancel_wait(waiter);
        }
    }
}
