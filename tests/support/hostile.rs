//! What the hostile-client tests (`tests/hostile_*.rs`) share: the server they attack (the
//! real `HttpServer` with its default settings, serving a page, an echo and a WebSocket
//! echo on a worker thread of its own), the process's own counters that bound what an attack
//! may cost (open descriptors, resident memory), and a deterministic source of garbage.
//!
//! The tests bound buffering by the server's own counters: what each connection reports
//! holding ([`ConnectionRegistry::stats`](cyclone::tcpserver::ConnectionRegistry::stats):
//! bytes read and not consumed, bytes queued for the peer, work in flight), the connections in
//! its registry, and, more coarsely, the process's resident memory (clients and server share
//! the process, but the clients reuse one buffer) and how many bytes a client manages to hand
//! over before the server stops taking them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use cyclone::httpserver::{HttpResponse, HttpServer};
use cyclone::web::{Application, function, url};
use cyclone::websocket::{Message, WebSocketContext, WebSocketHandler, websocket};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::deps;
use super::wait::{self, WAIT};

/// The server under attack and its address.
pub struct Target {
    /// Kept so that the server runs; stopped when the test ends.
    pub server: HttpServer<Application>,
    /// Where it listens (127.0.0.1).
    pub addr: SocketAddr,
}

impl Target {
    /// Connections the server holds right now (its registry, over all workers).
    pub fn held(&self) -> usize {
        self.server.registry().map_or(0, |registry| registry.len())
    }

    /// What each connection of the server reports holding now (its own counters).
    pub async fn stats(&self) -> Vec<cyclone::tcpserver::ConnectionStats> {
        match self.server.registry() {
            Some(registry) => super::wait::bounded(registry.stats()).await,
            None => Vec::new(),
        }
    }

    /// Waits until the server holds at most `count` connections; fails after [`WAIT`].
    pub async fn until_held_at_most(&self, count: usize, what: &str) {
        wait::until(what, || self.held() <= count).await;
    }
}

/// Echoes every WebSocket message at once, without waiting for the echo to be written: a
/// client that never reads fills the connection's write queue.
#[derive(Default)]
pub struct Echo;

impl WebSocketHandler for Echo {
    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        cx.write_message(message);
    }
}

/// Starts the target on one worker thread: `GET /` says hello, `POST /echo` echoes its
/// body, `/ws` is a WebSocket echo. Every server setting is its default.
pub fn start_target() -> Target {
    let app = Application::new([
        url(
            "/",
            function(|_, _| async { HttpResponse::ok().text("hello") }),
        ),
        url(
            "/echo",
            function(|request, _| async move { HttpResponse::ok().body(request.body().clone()) }),
        ),
        url("/ws", websocket::<Echo>()),
    ])
    .unwrap();
    let mut server = HttpServer::new(app);
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(1).unwrap();
    let addr = server.local_addrs()[0];
    Target { server, addr }
}

/// Makes sure this process may open `count` descriptors, raising its soft limit towards the
/// hard one if need be; `None` (a skip, or a failure under CI) if the hard limit is lower.
#[track_caller]
pub fn require_open_files(count: u64) -> Option<()> {
    let raised = rlimit::increase_nofile_limit(count).unwrap_or(0);
    if raised >= count {
        Some(())
    } else {
        deps::missing(
            &format!("room for {count} open files (the limit is {raised})"),
            "raise it (`ulimit -n`, or the hard limit in /etc/security/limits.conf)",
        )
    }
}

/// Descriptors this process has open (the entries of `/proc/self/fd`).
pub fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|entries| entries.count())
        .unwrap_or(0)
}

/// This process's resident memory in bytes (`VmRSS` in `/proc/self/status`).
pub fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// One MiB, in bytes.
pub const MIB: u64 = 1024 * 1024;

/// Writes `chunk` to `stream` again and again (at most `limit` bytes), counting in `sent`
/// what the socket accepted, until a write fails (the server closed) or stays pending: a
/// client that floods and never reads. Runs until dropped or done.
pub async fn flood(mut stream: TcpStream, chunk: Bytes, limit: u64, sent: Arc<AtomicU64>) {
    while sent.load(Ordering::Relaxed) < limit {
        if stream.write_all(&chunk).await.is_err() {
            return;
        }
        sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    }
}

/// Clients flooding one target, each on its own task, each counting what its socket took.
pub struct Floods {
    /// Bytes each flooder's socket accepted so far.
    pub sent: Vec<Arc<AtomicU64>>,
    /// The flooders' tasks; aborted on drop (the clients leave).
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Floods {
    /// Starts a flooder on each of `streams` writing `chunk` (at most `limit` bytes each).
    pub fn start(streams: Vec<TcpStream>, chunk: &Bytes, limit: u64) -> Floods {
        let mut floods = Floods {
            sent: Vec::new(),
            tasks: Vec::new(),
        };
        for stream in streams {
            let sent = Arc::new(AtomicU64::new(0));
            floods.sent.push(sent.clone());
            floods
                .tasks
                .push(tokio::spawn(flood(stream, chunk.clone(), limit, sent)));
        }
        floods
    }

    /// Waits until every flooder has stalled for `window`, says on stderr how far each got
    /// and how much more memory the process holds than `memory_before`, and checks the two
    /// bounds every flood test holds the server to: each flooder handed over less than
    /// `bytes_bound`, and the memory grew by less than `memory_bound`. Each one's total.
    pub async fn until_stalled_within(
        &self,
        window: Duration,
        memory_before: u64,
        bytes_bound: u64,
        memory_bound: u64,
    ) -> Vec<u64> {
        let mut totals = Vec::new();
        for sent in &self.sent {
            totals.push(until_stalled(sent, window).await);
        }
        let flooders = totals.len();
        let memory_added = resident_bytes().saturating_sub(memory_before);
        eprintln!(
            "{flooders} flooders stalled after {:?} MiB each; {} MiB resident more",
            totals.iter().map(|total| total / MIB).collect::<Vec<_>>(),
            memory_added / MIB
        );
        for (index, total) in totals.iter().enumerate() {
            assert!(
                *total < bytes_bound,
                "flooder {index} handed over {} MiB",
                total / MIB
            );
        }
        assert!(
            memory_added < memory_bound,
            "the server took {} MiB for {flooders} flooders",
            memory_added / MIB
        );
        totals
    }
}

impl Drop for Floods {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Waits until `sent` stops growing for `window`: the flood has stalled (the server stopped
/// reading) or ended. Returns the total. Fails if it is still growing after [`WAIT`].
pub async fn until_stalled(sent: &AtomicU64, window: Duration) -> u64 {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = sent.load(Ordering::Relaxed);
    loop {
        tokio::time::sleep(window).await;
        let now = sent.load(Ordering::Relaxed);
        if now == last {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server kept taking bytes: {now} so far"
        );
        last = now;
    }
}

/// A tiny deterministic generator (xorshift64*), so that garbage is the same on every run.
#[derive(Debug)]
pub struct Garbage(u64);

impl Garbage {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Garbage(seed.max(1))
    }

    /// `length` bytes of garbage.
    pub fn bytes(&mut self, length: usize) -> Vec<u8> {
        (0..length)
            .map(|_| {
                self.0 ^= self.0 >> 12;
                self.0 ^= self.0 << 25;
                self.0 ^= self.0 >> 27;
                (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
            })
            .collect()
    }
}
