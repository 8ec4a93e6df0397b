//! [`Room`]: the actor that holds one room's members (WebSocket handles and long-poll
//! waiters) and its history, its messages, and the broadcast that never waits on a member.
//!
//! A room runs under an actix `Supervisor` (started by [`Rooms`](super::Rooms)). Code that
//! may panic inside it (the application's `on_post` hook, the broadcast) runs under
//! `catch_unwind`: a panic is logged, the poster told [`RoomError::Restarted`], and the room
//! stops so that the supervisor restarts it. The supervisor keeps the actor's value across
//! the restart, so the history and the members are what `restarting` starts again from: the
//! members still connected stay attached, and the history (the last N messages, a bounded
//! buffer with no half-done state: a message is either in it or not) is kept as it was.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use actix::prelude::*;
use cyclone_protocol::websocket::{CloseCode, WebSocket, WebSocketError};

use super::cursor::Cursor;
use super::error::RoomError;
use super::history::History;
use super::message::{RoomMessage, history_frame, presence_frame};
use super::registry::RoomsInner;
use super::{RoomOptions, RoomStats};

/// A WebSocket member's id in its room (unique in the process).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemberId(u64);

/// A waiting long-poll request's id in its room (unique in the process).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WaiterId(u64);

/// Numbers members and waiters; ids are never reused in a process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl MemberId {
    /// A fresh id.
    pub fn next() -> MemberId {
        MemberId(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }
}

impl WaiterId {
    /// A fresh id.
    pub fn next() -> WaiterId {
        WaiterId(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }
}

/// What a waiting long-poll request is sent: the messages after its cursor (at least one),
/// or why there will be none.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Updates(pub Result<Vec<RoomMessage>, RoomError>);

/// A long-poll request waiting for messages after `since`.
#[derive(Debug)]
struct Waiter {
    /// The last message the client has.
    since: Option<Cursor>,
    /// Where to send them: the request handler's mailbox.
    reply: Recipient<Updates>,
}

/// A WebSocket member's place in the room.
#[derive(Debug)]
struct Seat {
    /// Its connection.
    socket: WebSocket,
    /// The newest message it has (sent in its history frame, asked for with `since`, or
    /// sent since): it is not sent that one or older again.
    floor: Option<Cursor>,
    /// Since when its mailbox was full, and the first message it did not get then: until it
    /// has room, new messages wait in the history for it.
    behind: Option<(Instant, Cursor)>,
}

/// Presence frames a room sends per `presence_interval` at most: a room of more members
/// tells them the count less often (19 000 members: every 19 × 250 ms), so that presence costs
/// a bounded share of the loop however large the room (telling 19 000 members four times a
/// second took more than the whole machine while they connected).
const PRESENCE_FRAMES_PER_INTERVAL: usize = 1000;

/// How often a room tries again to send members that were full what they missed.
const CATCH_UP_INTERVAL: Duration = Duration::from_millis(20);

/// One room: its members, its history, its counters. One actor, so none of it needs a
/// lock; members on any worker thread reach it through its mailbox.
pub struct Room {
    /// Its name in the registry.
    name: Arc<str>,
    /// Limits and hooks, shared by every room of a registry.
    options: Arc<RoomOptions>,
    /// The registry, to leave it when empty (weak: the registry holds the rooms).
    registry: Weak<RoomsInner>,
    /// The last `history_size` messages.
    history: History,
    /// WebSocket members, by id.
    sockets: HashMap<MemberId, Seat>,
    /// Long-poll requests waiting for a message.
    waiters: HashMap<WaiterId, Waiter>,
    /// The local broker's last sequence number (the Redis broker's cursors come from Redis).
    sequence: u64,
    /// Counts bumped as things happen; members and waiters are filled in when asked.
    stats: RoomStats,
    /// Bumped each time the room empties: a grace timer acts only if it is still current.
    emptied: u64,
    /// The member count changed (`join` or `leave`, the latest) and the members have not
    /// been told yet.
    presence: Option<&'static str>,
    /// When the members were last told the count.
    last_presence: Option<Instant>,
    /// A timer will tell them (the last announcement was less than `presence_interval` ago).
    presence_scheduled: bool,
    /// A timer will send the members that are behind what they missed.
    catch_up_scheduled: bool,
    /// A member fell behind in the last delivery: the handler schedules a catch-up.
    fell_behind: bool,
}

impl std::fmt::Debug for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("name", &self.name)
            .field("members", &self.sockets.len())
            .field("waiters", &self.waiters.len())
            .field("history", &self.history.len())
            .finish()
    }
}

impl Room {
    /// A room called `name` in `registry`.
    pub(crate) fn new(
        name: Arc<str>,
        options: Arc<RoomOptions>,
        registry: Weak<RoomsInner>,
    ) -> Room {
        Room {
            history: History::new(options.history_size),
            name,
            options,
            registry,
            sockets: HashMap::new(),
            waiters: HashMap::new(),
            sequence: 0,
            stats: RoomStats::default(),
            emptied: 0,
            presence: None,
            last_presence: None,
            presence_scheduled: false,
            catch_up_scheduled: false,
            fell_behind: false,
        }
    }

    /// Whether nobody is in the room or waiting on it.
    fn is_empty(&self) -> bool {
        self.sockets.is_empty() && self.waiters.is_empty()
    }

    /// Starts the grace period after the room emptied: if it is still empty at the end, it
    /// leaves the registry, and stops once the last address to it is dropped.
    fn arm_retirement(&mut self, ctx: &mut Context<Self>) {
        if !self.is_empty() {
            return;
        }
        self.emptied += 1;
        let emptied = self.emptied;
        ctx.run_later(self.options.empty_grace, move |room, ctx| {
            if room.emptied != emptied || !room.is_empty() {
                return;
            }
            if let Some(registry) = room.registry.upgrade() {
                let me = ctx.address();
                registry.rooms.remove_if(&room.name, |_, addr| *addr == me);
                tracing::debug!(room = %room.name, "empty room retired");
            }
        });
    }

    /// Puts the room back in the registry if it retired and someone came back through an
    /// address they held (the registry hands out a fresh room otherwise).
    fn ensure_registered(&mut self, ctx: &mut Context<Self>) {
        self.emptied += 1; // cancels a pending retirement
        if let Some(registry) = self.registry.upgrade() {
            let me = ctx.address();
            let held = registry
                .rooms
                .entry(Arc::clone(&self.name))
                .or_insert(me.clone());
            if *held != me {
                tracing::warn!(room = %self.name, "a retired room was joined; another room has its name now");
            }
        }
    }

    /// Adds `messages` (in cursor order) to the history and sends the new ones to every
    /// member and waiter, waiting on none. One new message goes as a message frame; several
    /// (a broker catching up) as one history frame, so a catch-up takes one mailbox slot. A
    /// member whose mailbox is full is not closed for it: it falls behind, and
    /// [`Room::catch_up`] sends it what it missed as one history frame once it has room (a
    /// burst of posts larger than a mailbox must not cost everyone their connection). A
    /// waiter that cannot take them is dropped (counted in `waiters_dropped`).
    fn deliver(&mut self, messages: Vec<RoomMessage>) {
        let mut fresh = Vec::with_capacity(messages.len());
        for message in messages {
            if self.history.last().is_some_and(|last| message.id <= last) {
                continue; // delivered before (a broker resuming after a fault): none twice
            }
            if let Some(hook) = &self.options.on_deliver {
                // The application's code, inside the room: a panic here restarts the room.
                hook(&self.name, &message);
            }
            self.history.push(message.clone());
            self.stats.posted += 1;
            fresh.push(message);
        }
        let Some(newest) = fresh.last().map(|message| message.id) else {
            return;
        };
        let single = (fresh.len() == 1).then(|| fresh[0].frame());
        let now = Instant::now();
        let before = self.sockets.len();
        let mut fell_behind = false;
        self.sockets.retain(|_, seat| {
            if seat.floor.is_some_and(|floor| floor >= newest) || seat.behind.is_some() {
                return true; // has it, or will get it from the history
            }
            let start = fresh.partition_point(|message| Some(message.id) <= seat.floor);
            let frame = match &single {
                Some(frame) => frame.clone(),
                None => history_frame(&fresh[start..]),
            };
            match seat.socket.try_write(frame) {
                Ok(()) => {
                    seat.floor = Some(newest);
                    true
                }
                Err(WebSocketError::Full) => {
                    seat.behind = Some((now, fresh[start].id));
                    fell_behind = true;
                    true
                }
                Err(_) => false, // its connection closed; its Leave is on the way
            }
        });
        self.fell_behind |= fell_behind;
        if self.sockets.len() < before {
            self.announce("leave");
        }
        for (_, waiter) in self.waiters.drain() {
            let messages = self.history.since(waiter.since);
            match waiter.reply.try_send(Updates(Ok(messages))) {
                Ok(()) => {}
                Err(SendError::Full(_)) => self.stats.waiters_dropped += 1,
                Err(SendError::Closed(_)) => {} // its client left
            }
        }
    }

    /// Sends each member that fell behind the messages it missed, as one history frame, if
    /// its mailbox has room now, and tries again in [`CATCH_UP_INTERVAL`] while some are
    /// still behind. A member is closed with 1008 (counted in `slow_closed`) when what it
    /// missed has left the history (it would lose messages) or it has been full for
    /// `slow_member_timeout`.
    fn catch_up(&mut self, ctx: &mut Context<Self>) {
        let oldest = self.history.first();
        let timeout = self.options.slow_member_timeout;
        let history = &self.history;
        let mut slow = 0;
        let mut still_behind = false;
        let before = self.sockets.len();
        self.sockets.retain(|member, seat| {
            let Some((since, missed_from)) = seat.behind else {
                return true;
            };
            let reason = if oldest.is_some_and(|oldest| oldest > missed_from) {
                "missed more than the room keeps"
            } else if since.elapsed() >= timeout {
                "too slow for the room"
            } else {
                let missed = history.since(seat.floor);
                let Some(newest) = missed.last().map(|message| message.id) else {
                    seat.behind = None;
                    return true;
                };
                match seat.socket.try_write(history_frame(&missed)) {
                    Ok(()) => {
                        seat.floor = Some(newest);
                        seat.behind = None;
                        return true;
                    }
                    Err(WebSocketError::Full) => {
                        still_behind = true;
                        return true;
                    }
                    Err(_) => return false,
                }
            };
            tracing::debug!(?member, reason, "closing a room member with 1008");
            seat.socket.close(CloseCode::POLICY_VIOLATION, reason);
            slow += 1;
            false
        });
        self.stats.slow_closed += slow;
        if self.sockets.len() < before {
            self.announce("leave");
            self.tell_presence(ctx);
        }
        if still_behind {
            self.schedule_catch_up(ctx);
        }
    }

    /// Runs [`Room::catch_up`] in [`CATCH_UP_INTERVAL`], unless it is already due.
    fn schedule_catch_up(&mut self, ctx: &mut Context<Self>) {
        if self.catch_up_scheduled {
            return;
        }
        self.catch_up_scheduled = true;
        ctx.run_later(CATCH_UP_INTERVAL, |room, ctx| {
            room.catch_up_scheduled = false;
            room.catch_up(ctx);
        });
    }

    /// After messages were delivered: members that fell behind are caught up soon, and the
    /// member count told if it changed.
    fn after_delivery(&mut self, ctx: &mut Context<Self>) {
        if std::mem::take(&mut self.fell_behind) {
            self.schedule_catch_up(ctx);
        }
        self.tell_presence(ctx);
    }

    /// Sends `frame` (the bytes are shared by every clone) to every WebSocket member with
    /// `try_write`; a member with a full mailbox goes without it (presence is not history).
    fn broadcast(&mut self, frame: &cyclone_protocol::websocket::Message) {
        self.sockets
            .retain(|_, seat| match seat.socket.try_write(frame.clone()) {
                Ok(()) | Err(WebSocketError::Full) => true,
                Err(_) => false,
            });
    }

    /// Notes that the member count changed (`join` or `leave`); [`Room::tell_presence`]
    /// tells the members.
    fn announce(&mut self, kind: &'static str) {
        self.presence = Some(kind);
    }

    /// Tells every member how many members there are now, at most once per
    /// `presence_interval` (stretched for rooms of more than [`PRESENCE_FRAMES_PER_INTERVAL`]
    /// members): a change sooner than that after the last announcement is told by a timer
    /// at the interval's end, with the count then. Without this, n members
    /// joining one after another would cost n²/2 frames (180 million for 19 000), filling
    /// every mailbox and closing the members as slow.
    fn tell_presence(&mut self, ctx: &mut Context<Self>) {
        if self.presence_scheduled {
            return;
        }
        let Some(kind) = self.presence else {
            return;
        };
        // A presence frame goes to every member: a large room stretches its interval so that
        // it sends at most PRESENCE_FRAMES_PER_INTERVAL of them per interval.
        let rounds = self
            .sockets
            .len()
            .div_ceil(PRESENCE_FRAMES_PER_INTERVAL)
            .max(1);
        let interval = self
            .options
            .presence_interval
            .saturating_mul(u32::try_from(rounds).unwrap_or(u32::MAX));
        let wait = self.last_presence.map_or(Duration::ZERO, |last| {
            (last + interval).saturating_duration_since(Instant::now())
        });
        let wait = if wait.is_zero() {
            self.presence = None;
            self.last_presence = Some(Instant::now());
            let before = self.sockets.len();
            let frame = presence_frame(kind, before);
            self.broadcast(&frame);
            if self.sockets.len() < before {
                // Members whose connection closed meanwhile are told of by the next one.
                self.presence = Some("leave");
            }
            interval
        } else {
            wait
        };
        if self.presence.is_some() {
            self.presence_scheduled = true;
            ctx.run_later(wait, |room, ctx| {
                room.presence_scheduled = false;
                room.tell_presence(ctx);
            });
        }
    }

    /// Runs `work`; a panic in it is logged and restarts the room (its supervisor starts it
    /// again from the state `restarting` keeps).
    fn guarded<T>(
        &mut self,
        ctx: &mut Context<Self>,
        work: impl FnOnce(&mut Room) -> Result<T, RoomError>,
    ) -> Result<T, RoomError> {
        match catch_unwind(AssertUnwindSafe(|| work(self))) {
            Ok(result) => result,
            Err(panic) => {
                let panic = panic
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(not a string)".to_owned());
                tracing::error!(room = %self.name, %panic, "room panicked; restarting it");
                ctx.stop();
                Err(RoomError::Restarted)
            }
        }
    }
}

impl Actor for Room {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.arm_retirement(ctx);
    }
}

impl Supervised for Room {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        self.stats.restarts += 1;
        // The stopped context dropped any presence or catch-up timer.
        self.presence_scheduled = false;
        self.catch_up_scheduled = false;
        // Members whose connection ended meanwhile go; the others stay attached and keep
        // receiving. The history is kept as it was.
        self.sockets.retain(|_, seat| seat.socket.is_connected());
        self.waiters.retain(|_, waiter| waiter.reply.connected());
        if self.sockets.values().any(|seat| seat.behind.is_some()) {
            self.schedule_catch_up(ctx);
        }
        tracing::warn!(
            room = %self.name,
            members = self.sockets.len(),
            history = self.history.len(),
            "room restarted"
        );
        self.arm_retirement(ctx);
    }
}

/// A WebSocket member joins: it is sent the messages after `since` (all kept without one)
/// as one frame, then every new message.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Join {
    /// The member's id.
    pub(crate) member: MemberId,
    /// Its connection.
    pub(crate) socket: WebSocket,
    /// The last message it has, when it is coming back.
    pub(crate) since: Option<Cursor>,
}

impl Handler<Join> for Room {
    type Result = ();

    fn handle(&mut self, join: Join, ctx: &mut Context<Self>) {
        self.ensure_registered(ctx);
        let missed = self.history.since(join.since);
        if !missed.is_empty() || join.since.is_none() {
            let _ = join.socket.try_write(history_frame(&missed));
        }
        let floor = self.history.last().max(join.since);
        let seat = Seat {
            socket: join.socket,
            floor,
            behind: None,
        };
        self.sockets.insert(join.member, seat);
        self.announce("join");
        self.tell_presence(ctx);
    }
}

/// A WebSocket member left (its connection closed).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Leave {
    /// The member's id.
    pub(crate) member: MemberId,
}

impl Handler<Leave> for Room {
    type Result = ();

    fn handle(&mut self, leave: Leave, ctx: &mut Context<Self>) {
        if self.sockets.remove(&leave.member).is_some() {
            self.announce("leave");
            self.tell_presence(ctx);
        }
        self.arm_retirement(ctx);
    }
}

/// Post a message through the local broker: the room numbers it, keeps it and sends it.
#[derive(Debug, Message)]
#[rtype(result = "Result<RoomMessage, RoomError>")]
pub(crate) struct Post {
    /// What was said.
    pub(crate) body: String,
}

impl Handler<Post> for Room {
    type Result = Result<RoomMessage, RoomError>;

    fn handle(&mut self, post: Post, ctx: &mut Context<Self>) -> Self::Result {
        let posted = self.guarded(ctx, |room| {
            room.sequence += 1;
            let message = RoomMessage::new(Cursor::local(room.sequence), post.body);
            room.deliver(vec![message.clone()]);
            Ok(message)
        });
        self.after_delivery(ctx);
        posted
    }
}

/// Messages already numbered by a broker (Redis), in order: keep them and send them, those
/// not delivered before.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Deliver(pub(crate) Vec<RoomMessage>);

impl Handler<Deliver> for Room {
    type Result = ();

    fn handle(&mut self, Deliver(messages): Deliver, ctx: &mut Context<Self>) {
        let _ = self.guarded(ctx, |room| {
            room.deliver(messages);
            Ok(())
        });
        self.after_delivery(ctx);
    }
}

/// A long-poll request waits for the messages after `since`: answered at once when there
/// are some, otherwise with the next message.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Wait {
    /// Its id, to cancel it.
    pub(crate) waiter: WaiterId,
    /// The last message the client has.
    pub(crate) since: Option<Cursor>,
    /// The request handler's mailbox.
    pub(crate) reply: Recipient<Updates>,
}

impl Handler<Wait> for Room {
    type Result = ();

    fn handle(&mut self, wait: Wait, ctx: &mut Context<Self>) {
        self.ensure_registered(ctx);
        let missed = self.history.since(wait.since);
        if !missed.is_empty() {
            let _ = wait.reply.try_send(Updates(Ok(missed)));
        } else if self.waiters.len() >= self.options.max_waiters {
            let limit = self.options.max_waiters;
            let _ = wait
                .reply
                .try_send(Updates(Err(RoomError::TooManyWaiters { limit })));
        } else {
            self.waiters.insert(
                wait.waiter,
                Waiter {
                    since: wait.since,
                    reply: wait.reply,
                },
            );
        }
        self.arm_retirement(ctx);
    }
}

/// A long-poll request stopped waiting (its client left, or it timed out).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct CancelWait(pub(crate) WaiterId);

impl Handler<CancelWait> for Room {
    type Result = ();

    fn handle(&mut self, CancelWait(waiter): CancelWait, ctx: &mut Context<Self>) {
        self.waiters.remove(&waiter);
        self.arm_retirement(ctx);
    }
}

/// The messages after a cursor (all kept without one), without waiting.
#[derive(Debug, Message)]
#[rtype(result = "Vec<RoomMessage>")]
pub(crate) struct Since(pub(crate) Option<Cursor>);

impl Handler<Since> for Room {
    type Result = MessageResult<Since>;

    fn handle(&mut self, Since(cursor): Since, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.history.since(cursor))
    }
}

/// The room's counters now.
#[derive(Debug, Message)]
#[rtype(result = "RoomStats")]
pub(crate) struct GetStats;

impl Handler<GetStats> for Room {
    type Result = MessageResult<GetStats>;

    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(RoomStats {
            members: self.sockets.len(),
            behind: self
                .sockets
                .values()
                .filter(|seat| seat.behind.is_some())
                .count(),
            waiters: self.waiters.len(),
            history: self.history.len(),
            last: self.history.last(),
            ..self.stats.clone()
        })
    }
}
