//! cyclone-fanout: how long one WebSocket broadcast takes to reach N loopback clients, and what
//! each connection costs the server.
//!
//! ```text
//! cyclone-fanout --url ws://127.0.0.1:8888/ws --connections 19000 --servers 1 --rounds 3
//! ```
//!
//! The server is `examples/ws_fanout.rs` (or anything that sends `pid:<pid>` first and answers
//! `broadcast:<payload>` by sending `<payload>` to every client of its process).
//!
//! 1. Control connections: opened from 127.0.0.1 until `--servers` distinct pids answered (the
//!    processes share the port with `SO_REUSEPORT`, so which one a connection reaches is the
//!    kernel's hash). Each server's RSS is read from `/proc/PID/status` now: the baseline.
//! 2. Shards: one process can hold fewer than its descriptor limit (20 000 here) of sockets, so
//!    N is split over `ceil(N / --per-shard)` child processes of this program (`--shard i/k`),
//!    each binding its clients to its own source address 127.0.0.(base + i) (a source address
//!    has about 28 000 ephemeral ports) and opening them `--concurrency` handshakes at a time,
//!    each bounded by `--handshake-timeout` (a server at its descriptor limit leaves clients
//!    unanswered; they are counted, not waited for). Every client notes the pid it reached.
//! 3. RSS again, once every shard is connected: (after − before) / connections = KiB each.
//! 4. `--rounds` times: the wall-clock time t0 (nanoseconds) goes out as `broadcast:<t0>` on
//!    every control connection at once (`--post-once`: on one only, when a broker such as
//!    Redis carries it to the other processes); every client notes `now − t0` when `<t0>`
//!    arrives, bare or as the body of a room's JSON frame (one clock, one machine); the shards
//!    send their latencies back over stdout.
//!
//! Only loopback URLs are accepted; the whole run is bounded by `--timeout`.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Semaphore;
use tokio::time::timeout;

/// Largest frame a client accepts: the benchmark's messages are a few dozen bytes.
const MAX_FRAME: usize = 64 * 1024;
/// Largest handshake answer a client reads.
const MAX_RESPONSE_HEAD: usize = 4096;
/// Bytes read from a socket at once; small, so 20 000 idle clients stay small.
const READ_CHUNK: usize = 256;
/// A client's handshake key. Any 16 bytes in base64 will do; the server checks the form, and
/// this driver trusts the 101 it gets back (it tests fan-out, not the handshake).
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The command line.
#[derive(Debug, Clone)]
struct Options {
    /// The server's `ws://` URL, as given.
    url: String,
    /// Where the server listens (loopback only).
    address: SocketAddr,
    /// The request path.
    path: String,
    /// Clients to open over all shards (the parent), or in this shard (a child).
    connections: usize,
    /// Distinct server processes expected behind the port.
    servers: usize,
    /// Broadcasts to time.
    rounds: usize,
    /// Handshakes in flight at once, per shard.
    concurrency: usize,
    /// How long one client may take to connect and get its pid.
    handshake_timeout: Duration,
    /// How long the whole run may take.
    timeout: Duration,
    /// How long one round may take to reach every client.
    round_timeout: Duration,
    /// Most clients one shard process holds (under its descriptor limit).
    per_shard: usize,
    /// The last octet of shard 0's source address; shard i uses base + i.
    source_base: u8,
    /// `Some((i, k))` in a child: this is shard i of k.
    shard: Option<(usize, usize)>,
    /// The source address this process binds its clients to.
    source: Ipv4Addr,
    /// Offer permessage-deflate (as a browser does) and inflate what arrives compressed.
    deflate: bool,
    /// Bytes of chat-like JSON padding after `<t0> ` in each broadcast (0: none).
    pad: usize,
    /// Send each broadcast to one server process only (`--post-once`): a broker (Redis)
    /// carries it to the others. Otherwise every process is sent it.
    post_once: bool,
}

impl Options {
    fn parse() -> Result<Options, String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let value = |name: &str| -> Option<&str> {
            let at = args.iter().position(|arg| arg == name)?;
            args.get(at + 1).map(String::as_str)
        };
        fn number<T: std::str::FromStr>(text: Option<&str>, default: T) -> Result<T, String> {
            match text {
                None => Ok(default),
                Some(text) => text.parse().map_err(|_| format!("not a number: {text}")),
            }
        }
        let url = value("--url")
            .unwrap_or("ws://127.0.0.1:8888/ws")
            .to_string();
        let (address, path) = parse_url(&url)?;
        let shard = match value("--shard") {
            None => None,
            Some(text) => {
                let (index, count) = text
                    .split_once('/')
                    .ok_or_else(|| format!("--shard wants i/k, got {text}"))?;
                Some((number(Some(index), 0)?, number(Some(count), 1)?))
            }
        };
        let source = match value("--source") {
            None => Ipv4Addr::LOCALHOST,
            Some(text) => text.parse().map_err(|_| format!("bad --source {text}"))?,
        };
        if !source.is_loopback() {
            return Err(format!("--source {source} is not a loopback address"));
        }
        Ok(Options {
            url,
            address,
            path,
            connections: number(value("--connections").or(value("-n")), 19_000)?,
            servers: number(value("--servers"), 1usize)?.max(1),
            rounds: number(value("--rounds"), 3)?,
            concurrency: number(value("--concurrency"), 256usize)?.max(1),
            handshake_timeout: Duration::from_secs_f64(number(value("--handshake-timeout"), 10.0)?),
            timeout: Duration::from_secs_f64(number(value("--timeout"), 120.0)?),
            round_timeout: Duration::from_secs_f64(number(value("--round-timeout"), 30.0)?),
            per_shard: number(value("--per-shard"), 19_000usize)?.max(1),
            source_base: number(value("--source-base"), 2)?,
            shard,
            source,
            deflate: args.iter().any(|arg| arg == "--deflate"),
            post_once: args.iter().any(|arg| arg == "--post-once"),
            pad: number(value("--pad"), 0usize)?,
        })
    }
}

/// `ws://HOST:PORT/PATH` with a loopback host → the address and the path.
fn parse_url(url: &str) -> Result<(SocketAddr, String), String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| format!("only ws:// URLs: {url}"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], rest[at..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| format!("the URL needs a port: {url}"))?;
    let port: u16 = port.parse().map_err(|_| format!("bad port in {url}"))?;
    let ip: Ipv4Addr = match host {
        "localhost" => Ipv4Addr::LOCALHOST,
        host => host
            .parse()
            .map_err(|_| format!("the host must be an IPv4 loopback address: {url}"))?,
    };
    if !ip.is_loopback() {
        return Err(format!("only loopback servers may be loaded: {url}"));
    }
    Ok((SocketAddr::new(ip.into(), port), path))
}

fn main() {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("cyclone-fanout: {error}");
            std::process::exit(2);
        }
    };
    // One descriptor per client: take all the kernel allows.
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("cyclone-fanout: cannot raise the descriptor limit: {error}");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cyclone-fanout: no runtime: {error}");
            std::process::exit(1);
        }
    };
    let local = tokio::task::LocalSet::new();
    let code = local.block_on(&runtime, async move {
        let limit = options.timeout;
        let run = async {
            if options.shard.is_some() {
                run_shard(&options).await
            } else {
                run_parent(&options).await
            }
        };
        match timeout(limit, run).await {
            Ok(Ok(())) => 0,
            Ok(Err(error)) => {
                eprintln!("cyclone-fanout: {error}");
                1
            }
            Err(_) => {
                eprintln!("cyclone-fanout: gave up after --timeout {limit:?}");
                1
            }
        }
    });
    // Clients still held would otherwise be closed one by one on the way out.
    std::process::exit(code);
}

// ---------------------------------------------------------------------------------------------
// One client connection.

/// Why a client did not get connected.
#[derive(Debug)]
enum Failure {
    /// The socket could not be made, bound or connected.
    Connect(std::io::Error),
    /// The server answered something other than 101 then a `pid:` message, or closed.
    Handshake(String),
}

/// Source ports a shard binds its clients to, in turn, from [`FIRST_SOURCE_PORT`] up.
///
/// Binding port 0 makes the kernel search the ephemeral range for a free port, and that search
/// grows with the ports already taken: at 19 000 clients on one address it made this driver the
/// bottleneck (440 handshakes/s, half a core in `bind`). socket2 has no
/// `IP_BIND_ADDRESS_NO_PORT`, so the shard, which owns its source address, counts ports itself.
#[derive(Debug)]
struct SourcePorts {
    /// The next port to try.
    next: Cell<u16>,
}

/// The first source port a shard tries: above the ports servers here usually listen on.
const FIRST_SOURCE_PORT: u16 = 20_000;

impl SourcePorts {
    fn new() -> Self {
        SourcePorts {
            next: Cell::new(FIRST_SOURCE_PORT),
        }
    }

    /// A socket bound to `source` and the next free port (skipping ports still in use, say in
    /// TIME_WAIT from an earlier run); port 0 (the kernel's pick) once the range is used up.
    fn bind(&self, source: Ipv4Addr) -> std::io::Result<TcpSocket> {
        loop {
            let port = self.next.get();
            let socket = TcpSocket::new_v4()?;
            if port == 0 {
                socket.bind(SocketAddr::new(source.into(), 0))?;
                return Ok(socket);
            }
            self.next.set(port.checked_add(1).unwrap_or(0));
            match socket.bind(SocketAddr::new(source.into(), port)) {
                Ok(()) => return Ok(socket),
                Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => continue,
                Err(error) => return Err(error),
            }
        }
    }
}

/// Connects from `source` (through `ports`, or the kernel's pick of port), upgrades, and reads
/// the first message (`pid:<pid>`). Returns the stream, the pid, and any bytes read past that
/// message.
async fn open_client(
    options: &Options,
    source: Ipv4Addr,
    ports: Option<&SourcePorts>,
) -> Result<(TcpStream, u32, Vec<u8>), Failure> {
    let socket = match ports {
        Some(ports) => ports.bind(source).map_err(Failure::Connect)?,
        None => {
            let socket = TcpSocket::new_v4().map_err(Failure::Connect)?;
            socket
                .bind(SocketAddr::new(source.into(), 0))
                .map_err(Failure::Connect)?;
            socket
        }
    };
    let mut stream = socket
        .connect(options.address)
        .await
        .map_err(Failure::Connect)?;
    stream.set_nodelay(true).map_err(Failure::Connect)?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{}\r\n",
        options.path,
        options.address,
        if options.deflate {
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        } else {
            ""
        }
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(Failure::Connect)?;
    let mut buffer = Vec::with_capacity(512);
    let mut chunk = [0u8; READ_CHUNK];
    let head_end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > MAX_RESPONSE_HEAD {
            return Err(Failure::Handshake("answer head too long".into()));
        }
        match stream.read(&mut chunk).await {
            Ok(0) => return Err(Failure::Handshake("closed during the handshake".into())),
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
            Err(error) => return Err(Failure::Connect(error)),
        }
    };
    if !buffer.starts_with(b"HTTP/1.1 101") {
        let line = String::from_utf8_lossy(&buffer[..head_end.min(40)]).into_owned();
        return Err(Failure::Handshake(format!("answered {line:?}")));
    }
    buffer.drain(..head_end);
    loop {
        match parse_frame(&buffer).map_err(Failure::Handshake)? {
            Some(frame) => {
                let payload = frame.payload(&buffer).map_err(Failure::Handshake)?;
                if frame.opcode == 1 || frame.opcode == 2 {
                    let pid = std::str::from_utf8(&payload)
                        .ok()
                        .and_then(|text| text.strip_prefix("pid:"))
                        .and_then(|pid| pid.parse().ok())
                        .ok_or_else(|| Failure::Handshake("first message is not pid:N".into()))?;
                    buffer.drain(..frame.total);
                    return Ok((stream, pid, buffer));
                }
                buffer.drain(..frame.total);
            }
            None => match stream.read(&mut chunk).await {
                Ok(0) => return Err(Failure::Handshake("closed before the pid".into())),
                Ok(read) => buffer.extend_from_slice(&chunk[..read]),
                Err(error) => return Err(Failure::Connect(error)),
            },
        }
    }
}

/// Reads frames until the connection ends, handing each text or binary payload to `on_data`.
/// Pings are not answered: the fan-out server sends none.
async fn read_messages(
    mut stream: impl AsyncRead + Unpin,
    mut buffer: Vec<u8>,
    mut on_data: impl FnMut(&[u8]),
) {
    let mut chunk = [0u8; READ_CHUNK];
    loop {
        loop {
            match parse_frame(&buffer) {
                Ok(Some(frame)) => {
                    match frame.opcode {
                        1 | 2 => match frame.payload(&buffer) {
                            Ok(payload) => on_data(&payload),
                            Err(_) => return,
                        },
                        8 => return,
                        _ => {}
                    }
                    buffer.drain(..frame.total);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        if buffer.is_empty() && buffer.capacity() > READ_CHUNK {
            buffer = Vec::new();
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
        }
    }
}

/// Where one complete frame lies at the front of a buffer.
struct Frame {
    /// The frame's opcode.
    opcode: u8,
    /// RSV1: a permessage-deflate message (the server sends each in one frame).
    compressed: bool,
    /// Where the payload starts.
    header: usize,
    /// Where the frame ends.
    total: usize,
}

/// The frame at the front of `buffer`, `None` if incomplete. Server frames are unmasked.
fn parse_frame(buffer: &[u8]) -> Result<Option<Frame>, String> {
    if buffer.len() < 2 {
        return Ok(None);
    }
    if buffer[1] & 0x80 != 0 {
        return Err("a masked frame from the server".into());
    }
    let (length, header) = match buffer[1] & 0x7f {
        126 => {
            if buffer.len() < 4 {
                return Ok(None);
            }
            (u16::from_be_bytes([buffer[2], buffer[3]]) as usize, 4)
        }
        127 => {
            if buffer.len() < 10 {
                return Ok(None);
            }
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&buffer[2..10]);
            (
                usize::try_from(u64::from_be_bytes(bytes)).unwrap_or(usize::MAX),
                10,
            )
        }
        length => (length as usize, 2),
    };
    if length > MAX_FRAME {
        return Err(format!("a {length}-byte frame"));
    }
    let total = header + length;
    Ok((buffer.len() >= total).then_some(Frame {
        opcode: buffer[0] & 0x0f,
        compressed: buffer[0] & 0x40 != 0,
        header,
        total,
    }))
}

impl Frame {
    /// The frame's payload, inflated when compressed. The server compresses each message on
    /// its own (`server_no_context_takeover`), so a fresh inflater per message reads it.
    fn payload<'a>(&self, buffer: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>, String> {
        let raw = &buffer[self.header..self.total];
        if !self.compressed {
            return Ok(std::borrow::Cow::Borrowed(raw));
        }
        let mut input = raw.to_vec();
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut inflater = flate2::Decompress::new(false);
        let mut out = Vec::with_capacity(raw.len() * 4 + 64);
        loop {
            let consumed = inflater.total_in() as usize;
            inflater
                .decompress_vec(&input[consumed..], &mut out, flate2::FlushDecompress::Sync)
                .map_err(|error| format!("inflate: {error}"))?;
            if inflater.total_in() as usize == input.len() && out.len() < out.capacity() {
                return Ok(std::borrow::Cow::Owned(out));
            }
            if out.len() > MAX_FRAME * 16 {
                return Err("inflated message too large".into());
            }
            out.reserve(out.capacity().max(256));
        }
    }
}

/// A masked client text frame carrying `text`.
fn text_frame(text: &str, mask: [u8; 4]) -> Vec<u8> {
    let payload = text.as_bytes();
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x81);
    match payload.len() {
        length @ 0..=125 => frame.push(0x80 | length as u8),
        length @ 126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(length as u16).to_be_bytes());
        }
        length => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(length as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(
        payload
            .iter()
            .enumerate()
            .map(|(index, byte)| byte ^ mask[index % 4]),
    );
    frame
}

/// ` ` and `pad` bytes of chat-like JSON for a broadcast (empty for 0).
fn padding(pad: usize) -> String {
    if pad == 0 {
        return String::new();
    }
    let mut text = String::from(r#" {"room":"lobby","user":"ada","text":""#);
    while text.len() + 2 < pad {
        text.push_str("see you at the usual place ");
    }
    text.truncate(pad.saturating_sub(2));
    text.push_str(r#""}"#);
    text
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Nanoseconds since the Unix epoch: one clock every process on this machine reads alike.
fn wall_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

// ---------------------------------------------------------------------------------------------
// A shard: a child process holding its share of the clients.

/// What a shard's clients report, on its one thread.
#[derive(Default)]
struct ShardState {
    /// Clients connected and still open.
    live: Cell<usize>,
    /// Clients whose attempt finished (connected or not).
    attempted: Cell<usize>,
    /// Attempts that failed to connect (refused, reset, no port).
    connect_errors: Cell<usize>,
    /// Attempts unanswered within the handshake timeout.
    timeouts: Cell<usize>,
    /// Attempts answered wrongly.
    handshake_errors: Cell<usize>,
    /// Connected clients the server closed later.
    dropped: Cell<usize>,
    /// Clients per server pid.
    pids: RefCell<BTreeMap<u32, usize>>,
    /// Per broadcast (by its t0): each client's delivery latency, in microseconds.
    received: RefCell<HashMap<u64, Vec<u32>>>,
    /// Failures by their text, for the report.
    errors: RefCell<BTreeMap<String, usize>>,
}

impl ShardState {
    fn note_error(&self, error: String) {
        *self.errors.borrow_mut().entry(error).or_default() += 1;
    }

    /// A broadcast payload (`<t0>`, or a room's JSON frame whose bodies start with it)
    /// arrived now.
    fn record(&self, payload: &[u8]) {
        let now = wall_nanos();
        let Ok(text) = std::str::from_utf8(payload) else {
            return;
        };
        for sent in sent_times(text) {
            let micros = (now.saturating_sub(sent) / 1000).min(u64::from(u32::MAX)) as u32;
            self.received
                .borrow_mut()
                .entry(sent)
                .or_default()
                .push(micros);
        }
    }
}

/// The send times a broadcast carries: `<t0> <padding>` as this example's rooms send it, or
/// the library room's JSON (`{"body":"<t0> ...","id":...}`, several in a history frame).
/// Presence and other frames carry none.
fn sent_times(text: &str) -> Vec<u64> {
    const BODY: &str = "\"body\":\"";
    let leading = |text: &str| {
        let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        text[..digits].parse::<u64>().ok()
    };
    if !text.starts_with('{') {
        return leading(text).into_iter().collect();
    }
    text.match_indices(BODY)
        .filter_map(|(at, _)| leading(&text[at + BODY.len()..]))
        .collect()
}

/// Connects this shard's clients, says `ready ...` on stdout, then answers `round <t0>` lines
/// on stdin with `result ...` lines until `quit` or end of input.
async fn run_shard(options: &Options) -> Result<(), String> {
    let state = Rc::new(ShardState::default());
    let gate = Arc::new(Semaphore::new(options.concurrency));
    let ports = Rc::new(SourcePorts::new());
    let started = Instant::now();
    for _ in 0..options.connections {
        let Ok(permit) = gate.clone().acquire_owned().await else {
            break;
        };
        let state = state.clone();
        let options = options.clone();
        let ports = ports.clone();
        tokio::task::spawn_local(async move {
            let attempt = timeout(
                options.handshake_timeout,
                open_client(&options, options.source, Some(&ports)),
            )
            .await;
            drop(permit);
            state.attempted.set(state.attempted.get() + 1);
            match attempt {
                Ok(Ok((stream, pid, rest))) => {
                    *state.pids.borrow_mut().entry(pid).or_default() += 1;
                    state.live.set(state.live.get() + 1);
                    read_messages(stream, rest, |payload| state.record(payload)).await;
                    state.live.set(state.live.get() - 1);
                    state.dropped.set(state.dropped.get() + 1);
                }
                Ok(Err(Failure::Connect(error))) => {
                    state.connect_errors.set(state.connect_errors.get() + 1);
                    state.note_error(format!("connect: {error}"));
                }
                Ok(Err(Failure::Handshake(error))) => {
                    state.handshake_errors.set(state.handshake_errors.get() + 1);
                    state.note_error(format!("handshake: {error}"));
                }
                Err(_) => {
                    state.timeouts.set(state.timeouts.get() + 1);
                    state.note_error("no answer within the handshake timeout".into());
                }
            }
        });
    }
    while state.attempted.get() < options.connections {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pids: Vec<String> = state
        .pids
        .borrow()
        .iter()
        .map(|(pid, count)| format!("{pid}:{count}"))
        .collect();
    println!(
        "ready {} {} {} {} {:.3} {} {}",
        state.live.get(),
        state.connect_errors.get(),
        state.timeouts.get(),
        state.handshake_errors.get(),
        started.elapsed().as_secs_f64(),
        if pids.is_empty() {
            "-".to_string()
        } else {
            pids.join(",")
        },
        encode_errors(&state.errors.borrow()),
    );

    let mut commands = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(command)) = commands.next_line().await {
        let mut words = command.split_whitespace();
        match (
            words.next(),
            words.next().and_then(|t0| t0.parse::<u64>().ok()),
        ) {
            (Some("round"), Some(t0)) => {
                let deadline = Instant::now() + options.round_timeout;
                loop {
                    let got = state.received.borrow().get(&t0).map_or(0, Vec::len);
                    if got >= state.live.get() || Instant::now() >= deadline {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let latencies = state.received.borrow_mut().remove(&t0).unwrap_or_default();
                let mut line = format!("result {t0} {} {}", state.live.get(), state.dropped.get());
                for micros in latencies {
                    let _ = write!(line, " {micros}");
                }
                println!("{line}");
            }
            _ => break,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The parent: control connections, shards, RSS and the report.

/// A shard process and its pipes.
struct Shard {
    /// Killed if the parent gives up.
    child: Child,
    /// Where `round` commands go.
    commands: ChildStdin,
    /// Where `ready` and `result` lines come from.
    answers: tokio::io::Lines<BufReader<ChildStdout>>,
}

/// A shard's `ready` line.
#[derive(Default)]
struct Ready {
    held: usize,
    connect_errors: usize,
    timeouts: usize,
    handshake_errors: usize,
    seconds: f64,
    pids: BTreeMap<u32, usize>,
    errors: BTreeMap<String, usize>,
}

/// `text=count;...` with no whitespace, for a `ready` line; `-` when empty.
fn encode_errors(errors: &BTreeMap<String, usize>) -> String {
    if errors.is_empty() {
        return "-".into();
    }
    errors
        .iter()
        .map(|(text, count)| format!("{}={count}", text.replace([' ', '=', ';'], "_")))
        .collect::<Vec<_>>()
        .join(";")
}

/// The other way round.
fn decode_errors(text: &str) -> BTreeMap<String, usize> {
    text.split(';')
        .filter_map(|pair| {
            let (text, count) = pair.rsplit_once('=')?;
            Some((text.replace('_', " "), count.parse().ok()?))
        })
        .collect()
}

fn parse_ready(line: &str) -> Result<Ready, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() != 8 || words[0] != "ready" {
        return Err(format!("a shard said {line:?}"));
    }
    let count = |word: &str| {
        word.parse::<usize>()
            .map_err(|_| format!("bad count {word}"))
    };
    let mut pids = BTreeMap::new();
    if words[6] != "-" {
        for pair in words[6].split(',') {
            let (pid, n) = pair.split_once(':').ok_or("bad pid list")?;
            pids.insert(
                pid.parse().map_err(|_| "bad pid")?,
                n.parse().map_err(|_| "bad pid count")?,
            );
        }
    }
    Ok(Ready {
        held: count(words[1])?,
        connect_errors: count(words[2])?,
        timeouts: count(words[3])?,
        handshake_errors: count(words[4])?,
        seconds: words[5].parse().unwrap_or(0.0),
        pids,
        errors: decode_errors(words[7]),
    })
}

/// A process's resident set in KiB (`VmRSS` of `/proc/PID/status`).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) the server processes `pids` have used, in milliseconds, from
/// `/proc/PID/stat` (clock ticks of 10 ms, Linux's `USER_HZ` of 100). Includes the work of
/// receiving the control message; measured from before the broadcast is sent until every
/// shard has reported, so it is the broadcast's whole cost to 10 ms.
fn cpu_ms(pids: &[u32]) -> Option<u64> {
    let mut total = 0;
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces) close with ')'.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let user: u64 = fields.get(11)?.parse().ok()?;
        let system: u64 = fields.get(12)?.parse().ok()?;
        total += (user + system) * 10;
    }
    Some(total)
}

/// The value at quantile `q` of sorted `values`.
fn quantile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[at]) / 1000.0
}

async fn run_parent(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    // 1. One control connection per server process.
    let mut controls: BTreeMap<u32, tokio::net::tcp::OwnedWriteHalf> = BTreeMap::new();
    let mut attempts = 0;
    while controls.len() < options.servers && attempts < 64 * options.servers {
        attempts += 1;
        let attempt = timeout(
            options.handshake_timeout,
            open_client(options, Ipv4Addr::LOCALHOST, None),
        )
        .await;
        match attempt {
            Ok(Ok((stream, pid, rest))) => {
                if controls.contains_key(&pid) {
                    continue; // dropped: this process already has its control connection
                }
                let (read, write) = stream.into_split();
                tokio::task::spawn_local(read_messages(read, rest, |_| {}));
                controls.insert(pid, write);
            }
            Ok(Err(error)) => return Err(format!("control connection: {error:?}")),
            Err(_) => return Err("control connection: no answer".into()),
        }
    }
    if controls.len() < options.servers {
        eprintln!(
            "cyclone-fanout: found {} of {} server processes after {attempts} connections",
            controls.len(),
            options.servers
        );
    }
    // The rooms' join of the dropped extras settles before the baseline is read.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before: BTreeMap<u32, Option<u64>> =
        controls.keys().map(|&pid| (pid, rss_kib(pid))).collect();

    // 2. The shards.
    let shards_wanted = options.connections.div_ceil(options.per_shard).max(1);
    let exe = std::env::current_exe().map_err(|error| format!("own path: {error}"))?;
    let mut shards = Vec::with_capacity(shards_wanted);
    for index in 0..shards_wanted {
        let share = options.connections / shards_wanted
            + usize::from(index < options.connections % shards_wanted);
        let source = Ipv4Addr::new(127, 0, 0, options.source_base.saturating_add(index as u8));
        let mut child = Command::new(&exe)
            .args(["--url", &options.url])
            .args(["--connections", &share.to_string()])
            .args(["--concurrency", &options.concurrency.to_string()])
            .args([
                "--handshake-timeout",
                &options.handshake_timeout.as_secs_f64().to_string(),
            ])
            .args([
                "--round-timeout",
                &options.round_timeout.as_secs_f64().to_string(),
            ])
            .args(["--timeout", &options.timeout.as_secs_f64().to_string()])
            .args(["--shard", &format!("{index}/{shards_wanted}")])
            .args(["--pad", &options.pad.to_string()])
            .args(options.deflate.then_some("--deflate"))
            .args(["--source", &source.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("spawning shard {index}: {error}"))?;
        let commands = child.stdin.take().ok_or("no shard stdin")?;
        let answers = BufReader::new(child.stdout.take().ok_or("no shard stdout")?).lines();
        shards.push(Shard {
            child,
            commands,
            answers,
        });
    }
    let mut total = Ready::default();
    for shard in &mut shards {
        let line = shard
            .answers
            .next_line()
            .await
            .map_err(|error| format!("reading a shard: {error}"))?
            .ok_or("a shard ended before it was ready")?;
        let ready = parse_ready(&line)?;
        total.held += ready.held;
        total.connect_errors += ready.connect_errors;
        total.timeouts += ready.timeouts;
        total.handshake_errors += ready.handshake_errors;
        total.seconds = total.seconds.max(ready.seconds);
        for (pid, count) in ready.pids {
            *total.pids.entry(pid).or_default() += count;
        }
        for (text, count) in ready.errors {
            *total.errors.entry(text).or_default() += count;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after: BTreeMap<u32, Option<u64>> =
        controls.keys().map(|&pid| (pid, rss_kib(pid))).collect();

    println!(
        "## cyclone-fanout {}: {} clients asked for over {} shard process(es), {} server process(es) expected",
        options.url, options.connections, shards_wanted, options.servers
    );
    println!();
    println!(
        "held {} clients (+{} control) after {:.1} s ({:.0} handshakes/s); not connected: {} \
         connect errors, {} unanswered within {:?}, {} bad handshakes{}",
        total.held,
        controls.len(),
        total.seconds,
        total.held as f64 / total.seconds.max(0.001),
        total.connect_errors,
        total.timeouts,
        options.handshake_timeout,
        total.handshake_errors,
        if total.errors.is_empty() {
            String::new()
        } else {
            let kinds: Vec<String> = total
                .errors
                .iter()
                .map(|(text, count)| format!("{count} × {text}"))
                .collect();
            format!(" ({})", kinds.join(", "))
        },
    );
    println!();
    println!("| server pid | clients | RSS before (KiB) | RSS connected (KiB) | KiB per client |");
    println!("|---|---|---|---|---|");
    let mut grown_total = 0u64;
    let mut measured_clients = 0usize;
    for (pid, clients) in &total.pids {
        let before = rss_before.get(pid).copied().flatten();
        let after = rss_after.get(pid).copied().flatten();
        let per = match (before, after) {
            (Some(before), Some(after)) if *clients > 0 => {
                grown_total += after.saturating_sub(before);
                measured_clients += clients;
                format!(
                    "{:.2}",
                    after.saturating_sub(before) as f64 / *clients as f64
                )
            }
            _ => "?".into(),
        };
        let show = |kib: Option<u64>| kib.map_or("?".into(), |kib| kib.to_string());
        println!(
            "| {pid} | {clients} | {} | {} | {per} |",
            show(before),
            show(after)
        );
    }
    let kib_per_client = grown_total as f64 / measured_clients.max(1) as f64;
    println!("| all | {} | | | {kib_per_client:.2} |", total.held);
    println!();

    // 3. The rounds.
    println!(
        "| round | clients with the message | p50 ms | p99 ms | last client (max) ms | server CPU ms |"
    );
    println!("|---|---|---|---|---|---|");
    let server_pids: Vec<u32> = total.pids.keys().copied().collect();
    let mut mask_seed = 0x9e37_79b9u32;
    let mut summaries = Vec::new();
    for round in 1..=options.rounds {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cpu_before = cpu_ms(&server_pids);
        let t0 = wall_nanos();
        let posting = if options.post_once { 1 } else { controls.len() };
        for write in controls.values_mut().take(posting) {
            mask_seed = mask_seed
                .wrapping_mul(1_664_525)
                .wrapping_add(1_013_904_223);
            let frame = text_frame(
                &format!("broadcast:{t0}{}", padding(options.pad)),
                mask_seed.to_be_bytes(),
            );
            write
                .write_all(&frame)
                .await
                .map_err(|error| format!("control write: {error}"))?;
        }
        let mut latencies: Vec<u32> = Vec::with_capacity(total.held);
        let mut expected = 0;
        let mut dropped = 0;
        for shard in &mut shards {
            shard
                .commands
                .write_all(format!("round {t0}\n").as_bytes())
                .await
                .map_err(|error| format!("a shard's stdin: {error}"))?;
        }
        for shard in &mut shards {
            let line = shard
                .answers
                .next_line()
                .await
                .map_err(|error| format!("reading a shard: {error}"))?
                .ok_or("a shard ended during a round")?;
            let mut words = line.split_whitespace();
            if words.next() != Some("result") || words.next() != Some(&t0.to_string()) {
                return Err(format!(
                    "a shard answered {:?}",
                    &line[..line.len().min(60)]
                ));
            }
            expected += words
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0);
            dropped += words
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0);
            latencies.extend(words.filter_map(|word| word.parse::<u32>().ok()));
        }
        let cpu = cpu_ms(&server_pids)
            .zip(cpu_before)
            .map_or("?".into(), |(after, before)| {
                after.saturating_sub(before).to_string()
            });
        latencies.sort_unstable();
        let (p50, p99, max) = (
            quantile(&latencies, 0.50),
            quantile(&latencies, 0.99),
            quantile(&latencies, 1.0),
        );
        println!(
            "| {round} | {} / {expected}{} | {p50:.1} | {p99:.1} | {max:.1} | {cpu} |",
            latencies.len(),
            if dropped > 0 {
                format!(" ({dropped} dropped)")
            } else {
                String::new()
            }
        );
        summaries.push((latencies.len(), expected, p99, max));
    }
    println!();
    // One line for bench/fanout.sh's table.
    let rounds: Vec<String> = summaries
        .iter()
        .map(|(got, expected, p99, max)| {
            if got == expected {
                format!("{max:.0} / {p99:.0}")
            } else {
                format!("{max:.0} / {p99:.0} ({got} of {expected})")
            }
        })
        .collect();
    println!(
        "summary | {} | {} | {} | {} | {:.2} | {:.1} | {} | {} |",
        controls.len(),
        options.connections,
        total.held,
        total
            .pids
            .values()
            .map(|count| count.to_string())
            .collect::<Vec<_>>()
            .join(" / "),
        kib_per_client,
        total.seconds,
        rounds.join("; "),
        total.connect_errors + total.timeouts + total.handshake_errors,
    );
    for shard in &mut shards {
        let _ = shard.commands.write_all(b"quit\n").await;
    }
    for mut shard in shards {
        let _ = timeout(Duration::from_secs(10), shard.child.wait()).await;
    }
    eprintln!(
        "cyclone-fanout: done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
