//! [`Rooms`], the registry of rooms by name, and [`RoomHandle`], what a handler holds to use
//! one room.

use std::fmt;
use std::sync::Arc;

use actix::{Addr, Supervisor};
use cyclone_protocol::websocket::WebSocket;
use dashmap::DashMap;

use super::cursor::Cursor;
use super::error::RoomError;
use super::message::RoomMessage;
use super::redis::{RedisBroker, read_loop};
use super::room::{CancelWait, GetStats, Join, Leave, MemberId, Post, Room, Since, WaiterId};
use super::{RoomOptions, RoomStats};

/// Longest room name, in bytes. 128.
pub const MAX_ROOM_NAME: usize = 128;

/// What the registry and its rooms share.
pub(crate) struct RoomsInner {
    /// The live rooms by name. Sharded, so workers finding their rooms do not queue on one
    /// lock; a room removes itself when it retires.
    pub(crate) rooms: DashMap<Arc<str>, Addr<Room>>,
    /// Every room's limits and hooks.
    pub(crate) options: Arc<RoomOptions>,
    /// The Redis broker, or none for the local one.
    pub(crate) redis: Option<RedisBroker>,
}

/// The rooms of this process, by name: cloneable and `Send`, one registry shared by every
/// worker thread. A room is made the first time it is asked for, on the asking thread's
/// loop, and leaves the registry after it has been empty for
/// [`RoomOptions::empty_grace`].
#[derive(Clone)]
pub struct Rooms {
    /// The shared registry.
    inner: Arc<RoomsInner>,
}

impl fmt::Debug for Rooms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rooms")
            .field("rooms", &self.inner.rooms.len())
            .field("options", &self.inner.options)
            .finish()
    }
}

impl Rooms {
    /// Rooms that live in this process (the local broker: no dependencies; members in other
    /// processes do not see them).
    pub fn local(options: RoomOptions) -> Rooms {
        Rooms {
            inner: Arc::new(RoomsInner {
                rooms: DashMap::new(),
                options: Arc::new(options),
                redis: None,
            }),
        }
    }

    /// Rooms shared by every process using the Redis at `url` (`redis://host:port/db`):
    /// messages go through one Redis stream per room, and one reader per process hands them
    /// to the rooms here (see `docs/rooms.md`). Nothing connects yet: a Redis that is down
    /// now is retried, and posts fail with [`RoomError::Unavailable`] until it is up.
    ///
    /// Call it inside a running loop: the reader starts on this thread's loop.
    pub fn redis(url: &str, options: RoomOptions) -> Result<Rooms, RoomError> {
        let (broker, client) = RedisBroker::new(url, options.history_size)?;
        let inner = Arc::new(RoomsInner {
            rooms: DashMap::new(),
            options: Arc::new(options),
            redis: Some(broker),
        });
        actix::spawn(read_loop(Arc::downgrade(&inner), client));
        Ok(Rooms { inner })
    }

    /// The room called `name`, made (and started under a supervisor on this thread's loop)
    /// if there is none. Names are 1 to [`MAX_ROOM_NAME`] printable ASCII characters.
    ///
    /// Call it inside a running loop (a handler, an actor, `cyclone::run`).
    pub fn room(&self, name: &str) -> Result<RoomHandle, RoomError> {
        if name.is_empty()
            || name.len() > MAX_ROOM_NAME
            || !name
                .bytes()
                .all(|byte| byte.is_ascii_graphic() || byte == b' ')
        {
            return Err(RoomError::InvalidName {
                limit: MAX_ROOM_NAME,
            });
        }
        if let Some(addr) = self.inner.rooms.get(name)
            && addr.connected()
        {
            return Ok(self.handle(name, addr.clone()));
        }
        let start = || {
            let (name, options) = (Arc::<str>::from(name), Arc::clone(&self.inner.options));
            let registry = Arc::downgrade(&self.inner);
            Supervisor::start(move |_| Room::new(name, options, registry))
        };
        let addr = self
            .inner
            .rooms
            .entry(Arc::from(name))
            .and_modify(|addr| {
                if !addr.connected() {
                    *addr = start();
                }
            })
            .or_insert_with(start)
            .clone();
        Ok(self.handle(name, addr))
    }

    /// A handle on `addr`, the room `name`.
    fn handle(&self, name: &str, addr: Addr<Room>) -> RoomHandle {
        RoomHandle {
            name: Arc::from(name),
            addr,
            rooms: self.clone(),
        }
    }

    /// The names of the rooms alive now.
    pub fn names(&self) -> Vec<String> {
        self.inner
            .rooms
            .iter()
            .map(|entry| entry.key().to_string())
            .collect()
    }

    /// Every room's options.
    pub fn options(&self) -> &RoomOptions {
        &self.inner.options
    }
}

/// One room, as a handler uses it: cloneable and `Send`. Every call goes to the room actor
/// through its mailbox.
#[derive(Clone)]
pub struct RoomHandle {
    /// The room's name.
    name: Arc<str>,
    /// The room actor (its supervisor keeps this address across restarts).
    addr: Addr<Room>,
    /// The registry, to find the room again if it retired meanwhile.
    rooms: Rooms,
}

impl fmt::Debug for RoomHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoomHandle")
            .field("name", &self.name)
            .finish()
    }
}

impl RoomHandle {
    /// The room's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Posts `body` to the room and returns it as the room numbered it, once every member
    /// has been sent it (sent, not read: the room waits on nobody). Fails without posting
    /// when it is too long, the `on_post` hook refuses it, or the room restarted.
    pub async fn post(&self, body: impl Into<String>) -> Result<RoomMessage, RoomError> {
        let mut body = body.into();
        let options = self.rooms.options();
        if body.len() > options.max_message_size {
            return Err(RoomError::TooLong {
                size: body.len(),
                limit: options.max_message_size,
            });
        }
        if let Some(hook) = &options.on_post {
            body = hook(&body).map_err(RoomError::Rejected)?;
        }
        if let Some(redis) = &self.rooms.inner.redis {
            return redis.post(&self.name, body).await;
        }
        // A room retires only after its grace period with nobody in it; a handle kept
        // past that finds its successor.
        let addr = if self.addr.connected() {
            self.addr.clone()
        } else {
            self.rooms.room(&self.name)?.addr
        };
        addr.send(Post { body })
            .await
            .map_err(|_| RoomError::Restarted)?
    }

    /// Adds `socket` as a member: it is sent the messages after `since` (all kept, without
    /// one) as one frame, then every new message, and presence frames. Returns its id, for
    /// [`leave`](Self::leave).
    pub fn join(&self, socket: WebSocket, since: Option<Cursor>) -> MemberId {
        let member = MemberId::next();
        self.addr.do_send(Join {
            member,
            socket,
            since,
        });
        member
    }

    /// Removes a member (its connection closed).
    pub fn leave(&self, member: MemberId) {
        self.addr.do_send(Leave { member });
    }

    /// The messages after `since` (all kept, without one), now.
    pub async fn since(&self, since: Option<Cursor>) -> Result<Vec<RoomMessage>, RoomError> {
        self.addr
            .send(Since(since))
            .await
            .map_err(|_| RoomError::Restarted)
    }

    /// The room's counters.
    pub async fn stats(&self) -> Result<RoomStats, RoomError> {
        self.addr
            .send(GetStats)
            .await
            .map_err(|_| RoomError::Restarted)
    }

    /// The room actor, for [`MessageUpdates`](super::MessageUpdates)'s wait.
    pub(crate) fn addr(&self) -> &Addr<Room> {
        &self.addr
    }

    /// Stops a long-poll request's wait (its client left).
    pub(crate) fn cancel_wait(&self, waiter: WaiterId) {
        self.addr.do_send(CancelWait(waiter));
    }
}
