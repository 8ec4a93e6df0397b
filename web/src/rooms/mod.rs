//! Rooms: named groups of WebSocket connections and long-poll requests that see every
//! message posted to the room, in one order, with a bounded history a client can resume
//! from (Tornado's chat demos, as a library).
//!
//! # Layout
//!
//! - [`Rooms`] (`registry.rs`): the registry, shared by every worker thread (a sharded map):
//!   rooms are made on demand by name and leave it when they have been empty for
//!   [`RoomOptions::empty_grace`].
//! - [`Room`] (`room.rs`): the actor, one per room, under an actix `Supervisor`: its WebSocket
//!   members, its waiting long-poll requests, its [`History`], its [`RoomStats`].
//! - [`RoomHandle`] (`registry.rs`): what handlers hold: post, join, leave, wait, stats.
//! - [`RoomSocket`] (`socket.rs`): a ready `WebSocketHandler` that joins a room;
//!   [`MessageNew`] and [`MessageUpdates`] (`poll.rs`): Tornado's long-poll chat handlers
//!   (`POST /a/message/new`, `POST /a/message/updates`).
//! - [`Cursor`], [`RoomMessage`]: a message's place and its JSON forms.
//!
//! # Example
//!
//! ```
//! use cyclone_web::rooms::{MessageNew, MessageUpdates, RoomOptions, RoomSocket, Rooms};
//! use cyclone_web::{Application, Settings, handler_with, url, websocket_with};
//!
//! # cyclone_actors::runtime::run(async {
//! let rooms = Rooms::local(RoomOptions::default());
//! let (a, b, c) = (rooms.clone(), rooms.clone(), rooms.clone());
//! let app = Application::with_settings(
//!     [
//!         url("/chatsocket", websocket_with(move || RoomSocket::new(a.clone(), "chat"))),
//!         url("/a/message/new", handler_with(move || MessageNew::new(b.clone(), "chat"))),
//!         url("/a/message/updates", handler_with(move || MessageUpdates::new(c.clone(), "chat"))),
//!     ],
//!     Settings::default().xsrf_cookies(true),
//! )
//! .unwrap();
//! # drop(app);
//! let room = rooms.room("chat").unwrap();
//! let said = room.post("hello").await.unwrap();
//! assert_eq!(room.since(None).await.unwrap(), vec![said]);
//! # });
//! ```
//!
//! # What a client sees
//!
//! A WebSocket member gets JSON text frames: first `{"type": "history", "messages": [...]}`
//! (the messages after the `since` query argument, or all kept), then
//! `{"type": "message", "id": "0-7", "body": "..."}` for each message, `{"type": "join" |
//! "leave", "members": n}` as members come and go, and `{"type": "error", "error": "..."}`
//! when its post failed. What it sends (text) is posted. A long-poll client posts `body` to
//! `/a/message/new` and gets the message back; it posts `cursor` to `/a/message/updates` and
//! gets `{"messages": [...]}` once there is at least one after it.
//!
//! # Limits and defaults
//!
//! | what | default | setting |
//! |---|---|---|
//! | messages kept per room | 200 (Tornado's `cache_size`) | [`RoomOptions::history_size`] |
//! | longest message | 4 KiB | [`RoomOptions::max_message_size`] |
//! | long-poll requests waiting per room | 10 000 | [`RoomOptions::max_waiters`] |
//! | how long a long-poll request waits | 60 s, then `{"messages": []}` | [`RoomOptions::poll_timeout`] |
//! | how long an empty room lives | 30 s | [`RoomOptions::empty_grace`] |
//! | a member's queue | its connection's mailbox (64) and write queue (1 MiB) | `WebSocketConfig` |
//! | how long a member's mailbox may stay full (what it misses waits in the history) | 10 s | [`RoomOptions::slow_member_timeout`] |
//! | how often members are told the member count | at most every 250 ms, × members / 1 000 past 1 000 | [`RoomOptions::presence_interval`] |
//!
//! # Panics
//!
//! A panic inside a room (the [`RoomOptions::on_deliver`] hook, the broadcast) is caught,
//! logged, answered to its poster as [`RoomError::Restarted`], and the room restarts with its
//! history and the members still connected.

mod cursor;
mod error;
mod history;
mod message;
mod poll;
mod redis;
mod registry;
mod room;
mod socket;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use cursor::{Cursor, CursorError};
pub use error::RoomError;
pub use history::History;
pub use message::RoomMessage;
pub use poll::{MessageNew, MessageUpdates};
pub use redis::{READ_BLOCK, READ_COUNT, REDIS_TIMEOUT, STREAM_PREFIX};
pub use registry::{MAX_ROOM_NAME, RoomHandle, Rooms};
pub use room::{MemberId, Room, Updates, WaiterId};
pub use socket::RoomSocket;

/// Messages a room keeps for newcomers and resuming clients (Tornado's `cache_size`). 200.
pub const DEFAULT_HISTORY_SIZE: usize = 200;
/// Longest message a room accepts, in bytes. 4 KiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 * 1024;
/// Long-poll requests one room holds waiting at once; more are answered 503. 10 000.
pub const DEFAULT_MAX_WAITERS: usize = 10_000;
/// How long a long-poll request waits before it is answered with no messages (the client
/// polls again). 60 s.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a room with nobody in it lives before it leaves the registry. 30 s.
pub const DEFAULT_EMPTY_GRACE: Duration = Duration::from_secs(30);
/// How often at most a room tells its members the member count.
pub const DEFAULT_PRESENCE_INTERVAL: Duration = Duration::from_millis(250);
/// How long a member's mailbox may stay full before the room closes it with 1008.
pub const DEFAULT_SLOW_MEMBER_TIMEOUT: Duration = Duration::from_secs(10);

/// The hook a room calls with each message before it sends it (see
/// [`RoomOptions::on_deliver`]).
pub type DeliverHook = Arc<dyn Fn(&str, &RoomMessage) + Send + Sync>;
/// The hook a post goes through first (see [`RoomOptions::on_post`]).
pub type PostHook = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

/// Limits and hooks for every room of a [`Rooms`] registry.
#[derive(Clone)]
pub struct RoomOptions {
    /// Messages kept per room.
    pub(crate) history_size: usize,
    /// Longest message, in bytes.
    pub(crate) max_message_size: usize,
    /// Long-poll requests waiting per room.
    pub(crate) max_waiters: usize,
    /// How long a long-poll request waits.
    pub(crate) poll_timeout: Duration,
    /// How long an empty room lives.
    pub(crate) empty_grace: Duration,
    /// How often at most members are told the member count.
    pub(crate) presence_interval: Duration,
    /// How long a member may stay too full to be sent messages.
    pub(crate) slow_member_timeout: Duration,
    /// Checks or rewrites a post before it is posted.
    pub(crate) on_post: Option<PostHook>,
    /// Sees each message inside the room before it is sent.
    pub(crate) on_deliver: Option<DeliverHook>,
}

impl Default for RoomOptions {
    fn default() -> Self {
        RoomOptions {
            history_size: DEFAULT_HISTORY_SIZE,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_waiters: DEFAULT_MAX_WAITERS,
            poll_timeout: DEFAULT_POLL_TIMEOUT,
            empty_grace: DEFAULT_EMPTY_GRACE,
            presence_interval: DEFAULT_PRESENCE_INTERVAL,
            slow_member_timeout: DEFAULT_SLOW_MEMBER_TIMEOUT,
            on_post: None,
            on_deliver: None,
        }
    }
}

impl fmt::Debug for RoomOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoomOptions")
            .field("history_size", &self.history_size)
            .field("max_message_size", &self.max_message_size)
            .field("max_waiters", &self.max_waiters)
            .field("poll_timeout", &self.poll_timeout)
            .field("empty_grace", &self.empty_grace)
            .field("presence_interval", &self.presence_interval)
            .field("slow_member_timeout", &self.slow_member_timeout)
            .field("on_post", &self.on_post.is_some())
            .field("on_deliver", &self.on_deliver.is_some())
            .finish()
    }
}

impl RoomOptions {
    /// Messages each room keeps (at least 1). Default [`DEFAULT_HISTORY_SIZE`] (200). With
    /// Redis, the stream keeps about as many (`MAXLEN ~`).
    pub fn history_size(mut self, messages: usize) -> Self {
        self.history_size = messages.max(1);
        self
    }

    /// Longest message accepted, in bytes; longer posts fail with [`RoomError::TooLong`].
    /// Default [`DEFAULT_MAX_MESSAGE_SIZE`] (4 KiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Long-poll requests one room holds waiting; more fail with
    /// [`RoomError::TooManyWaiters`] (503). Default [`DEFAULT_MAX_WAITERS`] (10 000).
    pub fn max_waiters(mut self, waiters: usize) -> Self {
        self.max_waiters = waiters;
        self
    }

    /// How long a long-poll request waits for a message before it is answered with none.
    /// Default [`DEFAULT_POLL_TIMEOUT`] (60 s).
    pub fn poll_timeout(mut self, timeout: Duration) -> Self {
        self.poll_timeout = timeout;
        self
    }

    /// How long a room with no member and no waiting request lives. Default
    /// [`DEFAULT_EMPTY_GRACE`] (30 s).
    pub fn empty_grace(mut self, grace: Duration) -> Self {
        self.empty_grace = grace;
        self
    }

    /// How often at most a room tells its WebSocket members the member count (the `join` /
    /// `leave` frame): changes closer together than this are told once, at the end of the
    /// interval, with the count then, so a thousand members arriving at once cost each member
    /// a few frames, not a thousand. A room of more than 1 000 members stretches it in
    /// proportion (2 000 members: twice the interval), so presence sends at most 1 000 frames
    /// per interval whatever the room's size. `Duration::ZERO` tells every change at once.
    /// Default [`DEFAULT_PRESENCE_INTERVAL`] (250 ms).
    pub fn presence_interval(mut self, interval: Duration) -> Self {
        self.presence_interval = interval;
        self
    }

    /// How long a WebSocket member's mailbox may stay full before the room closes it with
    /// 1008. Until then the messages it cannot take wait in the history and are sent to it
    /// as one frame when it has room; one that misses more than the history keeps is closed
    /// at once. Default [`DEFAULT_SLOW_MEMBER_TIMEOUT`] (10 s).
    pub fn slow_member_timeout(mut self, timeout: Duration) -> Self {
        self.slow_member_timeout = timeout;
        self
    }

    /// Every post goes through `hook` first, on the poster's thread: `Ok` with the text to
    /// post (the same, or rewritten), or `Err` with a reason ([`RoomError::Rejected`], 400).
    /// Default none.
    pub fn on_post(
        mut self,
        hook: impl Fn(&str) -> Result<String, String> + Send + Sync + 'static,
    ) -> Self {
        self.on_post = Some(Arc::new(hook));
        self
    }

    /// The room calls `hook` with its name and each new message, inside the room actor,
    /// before it sends the message (metrics, an archive). A panic in it is caught: the room
    /// restarts, the message is not sent by this room. Default none.
    pub fn on_deliver(mut self, hook: impl Fn(&str, &RoomMessage) + Send + Sync + 'static) -> Self {
        self.on_deliver = Some(Arc::new(hook));
        self
    }
}

/// A room's counters, from [`RoomHandle::stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomStats {
    /// WebSocket members now.
    pub members: usize,
    /// Long-poll requests waiting now.
    pub waiters: usize,
    /// Messages kept now.
    pub history: usize,
    /// The newest message's cursor.
    pub last: Option<Cursor>,
    /// Messages this room has delivered since it was made.
    pub posted: u64,
    /// WebSocket members whose mailbox was full when a message came, waiting for room to be
    /// sent what they missed, now.
    pub behind: usize,
    /// Members closed with 1008: what they missed left the history before they had room for
    /// it, or their mailbox stayed full for `slow_member_timeout`.
    pub slow_closed: u64,
    /// Waiting long-poll requests dropped because their mailbox was full.
    pub waiters_dropped: u64,
    /// Times the room restarted after a panic.
    pub restarts: u64,
}
