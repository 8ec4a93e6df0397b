//! Every limit, queue and timeout of a WebSocket connection, with its default: one
//! [`WebSocketConfig`] per server route or client.

use std::time::Duration;

use super::deflate::DeflateConfig;

/// Largest message accepted, after inflation; a bigger one is closed with 1009. 10 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;
/// Read buffer capacity an idle connection holds; it grows only while a large frame arrives and
/// shrinks back afterwards. 4 KiB.
pub const DEFAULT_READ_BUFFER_SIZE: usize = 4 * 1024;
/// Encoded bytes queued for a peer before it is judged not to be reading and dropped. 1 MiB.
pub const DEFAULT_MAX_WRITE_QUEUE: usize = 1024 * 1024;
/// How long a pong may be late before the peer is judged dead. 30 s.
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the peer's close frame (and then its FIN) after sending ours. 5 s.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long queued bytes may wait for a peer that reads none of them before its socket is
/// dropped. 60 s.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Messages from other actors queued in one connection's mailbox. 64.
pub const DEFAULT_MAILBOX_CAPACITY: usize = 64;

/// The settings of one WebSocket connection. `WebSocketConfig::default()` is what a route or
/// client gets unless told otherwise.
///
/// | Setting | Default | What happens at the limit |
/// |---|---|---|
/// | [`max_message_size`](Self::max_message_size) | 10 MiB | close 1009 |
/// | [`read_buffer_size`](Self::read_buffer_size) | 4 KiB | (starting size; grows per frame) |
/// | [`max_write_queue`](Self::max_write_queue) | 1 MiB | close 1008 queued past the cap; dropped after `close_timeout` if the peer still does not read |
/// | [`ping_interval`](Self::ping_interval) | off | — |
/// | [`ping_timeout`](Self::ping_timeout) | 30 s | socket dropped (peer dead) |
/// | [`close_timeout`](Self::close_timeout) | 5 s | socket dropped |
/// | [`write_timeout`](Self::write_timeout) | 60 s | socket dropped; pending writes fail with `Closed` |
/// | [`mailbox_capacity`](Self::mailbox_capacity) | 64 | `write_message` waits; `try_write` fails |
/// | [`compression`](Self::compression) | off | — |
#[derive(Debug, Clone)]
pub struct WebSocketConfig {
    /// See [`max_message_size`](Self::max_message_size).
    pub(crate) max_message_size: usize,
    /// See [`read_buffer_size`](Self::read_buffer_size).
    pub(crate) read_buffer_size: usize,
    /// See [`max_write_queue`](Self::max_write_queue).
    pub(crate) max_write_queue: usize,
    /// See [`ping_interval`](Self::ping_interval).
    pub(crate) ping_interval: Option<Duration>,
    /// See [`ping_timeout`](Self::ping_timeout).
    pub(crate) ping_timeout: Duration,
    /// See [`close_timeout`](Self::close_timeout).
    pub(crate) close_timeout: Duration,
    /// See [`write_timeout`](Self::write_timeout).
    pub(crate) write_timeout: Duration,
    /// See [`mailbox_capacity`](Self::mailbox_capacity).
    pub(crate) mailbox_capacity: usize,
    /// See [`compression`](Self::compression).
    pub(crate) compression: Option<DeflateConfig>,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            read_buffer_size: DEFAULT_READ_BUFFER_SIZE,
            max_write_queue: DEFAULT_MAX_WRITE_QUEUE,
            ping_interval: None,
            ping_timeout: DEFAULT_PING_TIMEOUT,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            mailbox_capacity: DEFAULT_MAILBOX_CAPACITY,
            compression: None,
        }
    }
}

impl WebSocketConfig {
    /// The defaults (see the table above).
    pub fn new() -> Self {
        Self::default()
    }

    /// Largest message accepted (Tornado's `websocket_max_message_size`), counted after
    /// inflation; a bigger one is answered with close 1009. Values below 125 mean 125.
    /// Default is 10 MiB.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes.max(125);
        self
    }

    /// Read buffer capacity of an idle connection. Values below 256 mean 256. Default is 4 KiB.
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes.max(256);
        self
    }

    /// Most encoded bytes queued for the peer. A peer that stops reading fills it; the next
    /// message then drops its socket at once instead of growing memory without end. No close
    /// frame is sent (it would wait behind the full queue), so the peer sees 1006; the check is
    /// made before queueing, so one message larger than the cap still goes out. Reading from a
    /// peer pauses while the queue is full. Default is 1 MiB.
    pub fn max_write_queue(mut self, bytes: usize) -> Self {
        self.max_write_queue = bytes.max(1);
        self
    }

    /// Sends a ping this often (Tornado's `websocket_ping_interval`); `None` sends none.
    /// Default is `None`.
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// With a ping interval: how long the peer may stay silent (no pong, no frame at all) after
    /// a ping before it is judged dead and its socket dropped (Tornado's
    /// `websocket_ping_timeout`). Default is 30 s.
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = timeout;
        self
    }

    /// After sending a close frame, how long to wait for the peer's before dropping the socket.
    /// Default is 5 s.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// How long bytes may stay queued while the peer reads none of them (it stopped reading,
    /// or its network is gone without a reset). Past it the socket is dropped, every pending
    /// [`Flushed`](super::Flushed) and `write_message` fails with
    /// [`WebSocketError::Closed`](super::WebSocketError::Closed), and the queue is freed: no
    /// close frame is sent, as it would wait behind the same queue. Each write that moves
    /// bytes restarts the wait, so a slow reader is served; the check runs once per period, so
    /// a stopped peer is dropped between one and two periods after its last byte read. Values
    /// below 1 ms mean 1 ms. Default is 60 s (Tornado has no such limit).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Messages other actors may queue in the connection's mailbox; past it
    /// `WebSocket::write_message` waits and `WebSocket::try_write` fails (a broadcast skips a
    /// slow member). Values below 1 mean 1. Default is 64.
    pub fn mailbox_capacity(mut self, messages: usize) -> Self {
        self.mailbox_capacity = messages.max(1);
        self
    }

    /// Offers (client) or accepts (server) permessage-deflate with these settings; `None`
    /// turns compression off. A server's [`DeflateConfig::new()`] keeps no zlib state in an
    /// idle connection (see [`DeflateConfig::context_takeover`]). Default is `None`.
    pub fn compression(mut self, compression: Option<DeflateConfig>) -> Self {
        self.compression = compression;
        self
    }

    /// The largest message accepted.
    pub fn get_max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The compression settings, if compression is on.
    pub fn get_compression(&self) -> Option<&DeflateConfig> {
        self.compression.as_ref()
    }
}
