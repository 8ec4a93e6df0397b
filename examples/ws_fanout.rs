//! The WebSocket fan-out server: every client of `/ws` joins a room, and a client that sends
//! `broadcast:<payload>` makes the rooms send `<payload>` to every member of this process. The
//! benchmark driver is `bench/fanout/` (run both with `bench/fanout.sh`); the numbers are in
//! `docs/performance.md`, "WebSocket fan-out".
//!
//! ```text
//! ulimit -n "$(ulimit -Hn)"   # one descriptor per connection
//! cargo run --release --example ws_fanout -- --port 8888 --workers 1
//! ```
//!
//! Flags: `--port N` (8888), `--address A` (127.0.0.1), `--workers N` (0: one per core),
//! `--max-connections N` (100 000: the descriptor limit is the real cap), `--text` (send the
//! payload as a text message, which costs one copy of it per member, instead of binary, which
//! shares one buffer), `--deflate` (accept permessage-deflate with `DeflateConfig::new()`: no
//! context takeover, so the loop compresses each broadcast once and every member gets the same
//! compressed payload), `--broker local|redis` with `--redis_url URL` (redis://127.0.0.1:6379):
//! members join the library's room `fanout` ([`cyclone::rooms`]) instead of this example's
//! per-worker rooms, and a `broadcast:` posts to it: with `local` it reaches this process's
//! members, with `redis` every member of every process on that Redis (the message goes out as
//! the room's JSON frame, `{"type":"message","id":...,"body":"<payload>"}`).
//!
//! # Rooms, one per worker
//!
//! Each worker thread has its own [`Room`] actor, started on that worker's loop the first time
//! the worker serves a request, so joining, leaving and the fan-out to the worker's members
//! never cross a thread. A broadcast goes to every room of the process through [`Rooms`] (a
//! `dashmap` of their addresses). The first message a member gets is `pid:<process id>`, so a
//! driver can tell which of several processes sharing the port it reached.
//!
//! # Several processes on one port
//!
//! The TCP server binds every listening socket with `SO_REUSEPORT` (`TcpServer::reuse_port`,
//! on by default), so starting this example K times with the same `--port` gives K processes
//! whose sockets the kernel picks from by a hash of the client's address and port: Tornado's
//! multi-process mode, without a shared parent. Each process has its own rooms. `bench/fanout.sh`
//! shows it: six processes started on one port each told about a sixth of 100 000 clients their
//! own pid (16 439 to 16 808 each).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest, HttpService, Reply};
use cyclone::options::{define, options, parse_command_line};
use cyclone::rooms::{MemberId, RoomHandle, RoomOptions, Rooms as LibraryRooms};
use cyclone::web::PathArgs;
use cyclone::websocket::{
    CloseCode, DeflateConfig, Message, Utf8Bytes, WebSocket, WebSocketConfig, WebSocketContext,
    WebSocketHandler, upgrade,
};
use dashmap::DashMap;
use http::{Method, StatusCode};

/// What a member sends to make the rooms broadcast the rest of the message.
pub const BROADCAST_PREFIX: &str = "broadcast:";
/// Live connections the server accepts unless told otherwise: far above one process's
/// descriptor limit, so the operating system, not this setting, is what caps a run.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100_000;

/// One worker's members. An actor on the worker's loop: its map needs no lock, and the members
/// it writes to live on the same thread, so a broadcast wakes no other thread.
#[derive(Debug, Default)]
pub struct Room {
    /// Each member's connection, by member id.
    members: HashMap<u64, WebSocket>,
    /// Send text instead of binary; either way every member shares one buffer.
    text: bool,
}

impl Actor for Room {
    type Context = Context<Self>;
}

/// A member arrived.
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

/// Send `payload` to every member of this room.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Broadcast {
    /// The payload, shared by every member's message.
    pub payload: Bytes,
}

/// How many members the room has (for tests and monitoring).
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Members;

impl Handler<Join> for Room {
    type Result = ();

    fn handle(&mut self, join: Join, _: &mut Context<Self>) {
        self.members.insert(join.id, join.socket);
    }
}

impl Handler<Leave> for Room {
    type Result = ();

    fn handle(&mut self, leave: Leave, _: &mut Context<Self>) {
        self.members.remove(&leave.id);
    }
}

impl Handler<Members> for Room {
    type Result = usize;

    fn handle(&mut self, _: Members, _: &mut Context<Self>) -> usize {
        self.members.len()
    }
}

impl Handler<Broadcast> for Room {
    type Result = ();

    fn handle(&mut self, broadcast: Broadcast, _: &mut Context<Self>) {
        // Both kinds share the payload: a clone is a reference count, not a copy.
        let text = if self.text {
            Some(Utf8Bytes::from(
                String::from_utf8_lossy(&broadcast.payload).into_owned(),
            ))
        } else {
            None
        };
        // try_write never waits: a member whose mailbox is full misses this message rather
        // than holding up everyone else.
        self.members.retain(|id, socket| {
            let message = match &text {
                Some(text) => Message::Text(text.clone()),
                None => Message::Binary(broadcast.payload.clone()),
            };
            match socket.try_write(message) {
                Ok(()) => true,
                Err(error) => {
                    tracing::debug!(member = id, %error, "broadcast not delivered");
                    socket.is_connected()
                }
            }
        });
    }
}

/// Every room of this process, one per worker, by the worker's number.
#[derive(Debug, Clone, Default)]
pub struct Rooms {
    /// The rooms' addresses; written once per worker, read on every broadcast.
    rooms: Arc<DashMap<usize, Addr<Room>>>,
    /// Numbers the workers' rooms.
    next_room: Arc<AtomicU64>,
    /// Whether rooms send text instead of binary (see [`Room`]).
    text: bool,
    /// Whether members accept permessage-deflate (`DeflateConfig::new()`: no context takeover,
    /// so each broadcast is compressed once per loop).
    deflate: bool,
    /// The library's room every member joins instead (`--broker`), when set.
    library: Option<RoomHandle>,
}

impl Rooms {
    /// No rooms yet; each worker adds its own. `text` makes broadcasts text messages.
    pub fn new(text: bool) -> Self {
        Rooms {
            text,
            ..Rooms::default()
        }
    }

    /// Members accept permessage-deflate when the client offers it.
    pub fn with_deflate(mut self, on: bool) -> Self {
        self.deflate = on;
        self
    }

    /// Members join `room` (a library room, local or on Redis) instead of this worker's
    /// room, and a broadcast posts to it.
    pub fn with_library_room(mut self, room: RoomHandle) -> Self {
        self.library = Some(room);
        self
    }

    /// Starts a room on the current loop and lists it.
    fn start_room(&self) -> Addr<Room> {
        let room = Room {
            members: HashMap::new(),
            text: self.text,
        }
        .start();
        let number = self.next_room.fetch_add(1, Ordering::Relaxed) as usize;
        self.rooms.insert(number, room.clone());
        room
    }

    /// Sends `payload` to every room.
    fn broadcast(&self, payload: &Bytes) {
        for room in self.rooms.iter() {
            room.do_send(Broadcast {
                payload: payload.clone(),
            });
        }
    }

    /// Members over all rooms.
    pub async fn members(&self) -> usize {
        if let Some(room) = &self.library {
            return room.stats().await.map_or(0, |stats| stats.members);
        }
        let rooms: Vec<Addr<Room>> = self.rooms.iter().map(|room| room.clone()).collect();
        let mut total = 0;
        for room in rooms {
            total += room.send(Members).await.unwrap_or(0);
        }
        total
    }
}

/// Gives each member a distinct id.
static NEXT_MEMBER: AtomicU64 = AtomicU64::new(1);

/// `/ws`: one per connection, on its worker's loop.
#[derive(Debug)]
pub struct Member {
    /// This worker's room.
    room: Addr<Room>,
    /// Every room, for broadcasts.
    rooms: Rooms,
    /// This member's id.
    id: u64,
    /// Its id in the library room, once joined (`--broker`).
    library_member: Option<MemberId>,
}

impl WebSocketHandler for Member {
    fn check_origin(&self, _origin: &str, _request: &HttpServerRequest) -> bool {
        // A benchmark target: load tools send any Origin.
        true
    }

    fn get_compression_options(&self) -> Option<DeflateConfig> {
        self.rooms.deflate.then(DeflateConfig::new)
    }

    fn open(&mut self, cx: &mut WebSocketContext<'_>, _: &PathArgs, _: &HttpServerRequest) {
        if let Some(room) = &self.rooms.library {
            // The pid first, then the room's frames (its history frame comes on joining).
            drop(cx.write_message(Message::text(format!("pid:{}", std::process::id()))));
            self.library_member = Some(room.join(cx.handle(), None));
            return;
        }
        // Joined before the pid goes out: a driver that saw the pid may broadcast at once.
        self.room.do_send(Join {
            id: self.id,
            socket: cx.handle(),
        });
        drop(cx.write_message(Message::text(format!("pid:{}", std::process::id()))));
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        match message {
            Message::Text(text) => {
                let Some(payload) = text.strip_prefix(BROADCAST_PREFIX) else {
                    return;
                };
                match &self.rooms.library {
                    Some(room) => {
                        let room = room.clone();
                        let body = payload.to_owned();
                        actix::spawn(async move {
                            if let Err(error) = room.post(body).await {
                                tracing::warn!(%error, "broadcast not posted");
                            }
                        });
                    }
                    None => self
                        .rooms
                        .broadcast(&Bytes::copy_from_slice(payload.as_bytes())),
                }
            }
            _ => cx.close(CloseCode::UNSUPPORTED_DATA, "text only"),
        }
    }

    fn on_close(&mut self, _: Option<CloseCode>, _: Option<&str>) {
        match (&self.rooms.library, self.library_member) {
            (Some(room), Some(member)) => room.leave(member),
            _ => self.room.do_send(Leave { id: self.id }),
        }
    }
}

/// The server: `/ws` joins this worker's room; anything else is 404. Each worker's service,
/// built on the worker's own thread, starts that worker's room.
pub fn fanout_server(rooms: Rooms, max_connections: usize) -> HttpServer<impl HttpService> {
    HttpServer::with_factory(move || {
        let rooms = rooms.clone();
        let room = rooms.start_room();
        move |request: HttpServerRequest| {
            let reply: Reply = match (request.path(), request.method()) {
                ("/ws", &Method::GET) => {
                    let member = Member {
                        room: room.clone(),
                        rooms: rooms.clone(),
                        id: NEXT_MEMBER.fetch_add(1, Ordering::Relaxed),
                        library_member: None,
                    };
                    upgrade(request, member, PathArgs::default(), WebSocketConfig::new())
                }
                _ => HttpResponse::new(StatusCode::NOT_FOUND).into(),
            };
            std::future::ready(reply)
        }
    })
    .max_connections(max_connections)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    define("port", 8888u16)?.help("run on the given port");
    define("address", String::from("127.0.0.1"))?.help("listen on this address");
    define("workers", 0usize)?.help("worker threads, 0 for one per core");
    define("max_connections", DEFAULT_MAX_CONNECTIONS)?.help("most live connections");
    define("text", false)?.help("broadcast text messages instead of binary ones");
    define("deflate", false)?.help("accept permessage-deflate (each broadcast compressed once)");
    define("broker", String::from("none"))?
        .help("none: this example's rooms; local or redis: the library's room `fanout`");
    define("redis_url", String::from("redis://127.0.0.1:6379"))?
        .help("the Redis of --broker redis");
    parse_command_line();
    let port: u16 = options().get("port")?;
    let address: String = options().get("address")?;
    let workers: usize = options().get("workers")?;
    let max_connections: usize = options().get("max_connections")?;
    let text: bool = options().get("text")?;
    let deflate: bool = options().get("deflate")?;
    let broker: String = options().get("broker")?;
    let redis_url: String = options().get("redis_url")?;
    // --logging debug shows why connections closed (timeouts, full queues).
    if let Some((soft, hard)) = open_files_limits()
        && soft < max_connections
    {
        let advice = if soft < hard {
            "raise it with `ulimit -n \"$(ulimit -Hn)\"`"
        } else {
            "the hard limit: more connections need more processes on the same port"
        };
        eprintln!(
            "ws_fanout: pid {} may open {soft} descriptors, so at most that many connections \
             ({advice})",
            std::process::id()
        );
    }
    cyclone::run(async move {
        // Small history: a benchmark's members never catch up on it.
        let room_options = RoomOptions::default().history_size(16);
        let library = match broker.as_str() {
            "none" => None,
            "local" => Some(LibraryRooms::local(room_options)),
            "redis" => Some(LibraryRooms::redis(&redis_url, room_options)?),
            other => return Err(format!("--broker is none, local or redis, not {other}").into()),
        };
        let mut rooms = Rooms::new(text).with_deflate(deflate);
        if let Some(library) = library {
            rooms = rooms.with_library_room(library.room("fanout")?);
        }
        let mut server = fanout_server(rooms, max_connections);
        server.bind(port, Some(&address))?;
        server.start(workers)?;
        println!(
            "listening on http://{} (pid {})",
            server.local_addrs()[0],
            std::process::id()
        );
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}

/// This process's soft and hard limits on open descriptors, from `/proc/self/limits` (Linux only;
/// raising it needs `setrlimit`, which the workspace reaches only through `unsafe` libc, so
/// the shell raises it instead).
fn open_files_limits() -> Option<(usize, usize)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    let mut values = line.split_whitespace().skip(3);
    let soft = values.next()?.parse().ok()?;
    let hard = values.next()?.parse().ok()?;
    Some((soft, hard))
}
