//! [`ClientOptions`]: the settings of one client (Tornado's `AsyncHTTPClient.configure`
//! arguments), as opposed to those of one request.

use std::time::Duration;

use cyclone_actors::tcpclient::TcpClient;

use super::pool::{DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_IDLE_PER_HOST, DEFAULT_MAX_IDLE_TOTAL};
use super::queue::{DEFAULT_MAX_CLIENTS, DEFAULT_MAX_QUEUE_SIZE};

/// Settings shared by every fetch of one [`AsyncHttpClient`](super::AsyncHttpClient).
///
/// ```
/// use std::time::Duration;
/// use cyclone_protocol::client::ClientOptions;
///
/// let options = ClientOptions::new().max_clients(4).idle_timeout(Duration::from_secs(5));
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Fetches running at once; the rest queue.
    pub(crate) max_clients: usize,
    /// Fetches that may wait for a slot.
    pub(crate) max_queue_size: usize,
    /// How long a fetch may wait for a slot; `None` is Tornado's
    /// `min(connect_timeout, request_timeout)` of that fetch.
    pub(crate) queue_timeout: Option<Duration>,
    /// How long a pooled connection may sit idle.
    pub(crate) idle_timeout: Duration,
    /// Idle connections kept per origin.
    pub(crate) max_idle_per_host: usize,
    /// Idle connections kept in total.
    pub(crate) max_idle_total: usize,
    /// Resolves and connects (carries the resolver and its host overrides).
    pub(crate) tcp_client: TcpClient,
    /// Whether https connections offer `h2` by ALPN (and speak HTTP/2 when the server picks it).
    pub(crate) http2: bool,
    /// Whether plain http fetches speak HTTP/2 from the first byte (h2c with prior knowledge).
    pub(crate) http2_prior_knowledge: bool,
    /// Silence from an HTTP/2 server before a PING; `None`: no PINGs.
    pub(crate) http2_keep_alive_interval: Option<Duration>,
    /// Longest wait for a keep-alive PING's answer.
    pub(crate) http2_keep_alive_timeout: Duration,
    /// Whether the PINGs go on while no fetch uses the connection.
    pub(crate) http2_keep_alive_while_idle: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions::new()
    }
}

impl ClientOptions {
    /// Every setting at its default.
    pub fn new() -> Self {
        ClientOptions {
            max_clients: DEFAULT_MAX_CLIENTS,
            max_queue_size: DEFAULT_MAX_QUEUE_SIZE,
            queue_timeout: None,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_idle_per_host: DEFAULT_MAX_IDLE_PER_HOST,
            max_idle_total: DEFAULT_MAX_IDLE_TOTAL,
            tcp_client: TcpClient::new(),
            http2: true,
            http2_prior_knowledge: false,
            http2_keep_alive_interval: None,
            http2_keep_alive_timeout: DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT,
            http2_keep_alive_while_idle: false,
        }
    }

    /// How many fetches run at once (Tornado's `max_clients`); others wait in the queue.
    /// Default is 10; at least 1.
    pub fn max_clients(mut self, max: usize) -> Self {
        self.max_clients = max.max(1);
        self
    }

    /// How many fetches may wait for a slot; one more fails at once with
    /// [`QueueFull`](super::HttpClientError::QueueFull). Default is 10 000.
    pub fn max_queue_size(mut self, max: usize) -> Self {
        self.max_queue_size = max;
        self
    }

    /// How long a fetch waits for a slot before
    /// [`Timeout`](super::HttpClientError::Timeout) in the `Queue` phase. Default is Tornado's
    /// rule: the smaller of the fetch's `connect_timeout` and `request_timeout`.
    pub fn queue_timeout(mut self, timeout: Duration) -> Self {
        self.queue_timeout = Some(timeout);
        self
    }

    /// How long a pooled keep-alive connection may stay idle before it is closed. Default is
    /// 60 s.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How many idle HTTP/1.1 connections are kept per (scheme, host, port); 0 turns
    /// keep-alive reuse off. HTTP/2 connections are shared whatever this says. Default is 10.
    pub fn max_idle_per_host(mut self, max: usize) -> Self {
        self.max_idle_per_host = max;
        self
    }

    /// How many idle connections are kept in total; the oldest goes first. Default is 100.
    pub fn max_idle_total(mut self, max: usize) -> Self {
        self.max_idle_total = max;
        self
    }

    /// The TCP client used to resolve and connect, e.g. one with an
    /// [`OverrideResolver`](cyclone_actors::resolver::OverrideResolver). Default is
    /// `TcpClient::new()`.
    pub fn tcp_client(mut self, client: TcpClient) -> Self {
        self.tcp_client = client;
        self
    }

    /// Whether https connections offer HTTP/2 by ALPN (`h2`, then `http/1.1`). When the server
    /// picks `h2`, fetches to that origin share one HTTP/2 connection, multiplexed; otherwise
    /// they use HTTP/1.1 keep-alive connections as before. Default is true, as in curl, hyper
    /// and reqwest: a server has to opt in by choosing `h2`, so offering it costs nothing.
    pub fn http2(mut self, offer: bool) -> Self {
        self.http2 = offer;
        self
    }

    /// Whether every plain `http://` fetch speaks HTTP/2 from its first byte (h2c with prior
    /// knowledge, RFC 9113 §3.3), without asking the server first. Only for servers known to
    /// accept it: an HTTP/1.1-only server answers the preface with an error. Fetches through a
    /// proxy stay HTTP/1.1. One request can ask for it alone with
    /// [`HttpRequest::http2_prior_knowledge`](super::HttpRequest::http2_prior_knowledge).
    /// Default is false.
    pub fn http2_prior_knowledge(mut self, on: bool) -> Self {
        self.http2_prior_knowledge = on;
        self
    }

    /// Sends a PING on an HTTP/2 connection after `interval` without a byte from the server,
    /// and closes the connection if the answer does not come within
    /// [`http2_keep_alive_timeout`](Self::http2_keep_alive_timeout): a server (or a NAT, a
    /// load balancer) that vanished without closing the socket is found in seconds, not when
    /// each fetch's `request_timeout` runs out, and the fetches waiting on it fail with
    /// [`Timeout`](super::HttpClientError::Timeout) in the
    /// [`KeepAlive`](super::TimeoutPhase::KeepAlive) phase. A PING only while fetches use the
    /// connection, unless [`http2_keep_alive_while_idle`](Self::http2_keep_alive_while_idle).
    /// Default `None` (no PINGs, as hyper's client): some servers count PINGs and close a
    /// connection that sends them too often (gRPC's allow one every five minutes by default).
    /// Values below 1 ms count as 1 ms.
    pub fn http2_keep_alive_interval(mut self, interval: Option<Duration>) -> Self {
        self.http2_keep_alive_interval =
            interval.map(|interval| interval.max(Duration::from_millis(1)));
        self
    }

    /// How long a keep-alive PING's answer may take before the connection is closed (see
    /// [`http2_keep_alive_interval`](Self::http2_keep_alive_interval)). Default 20 s
    /// ([`DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT`], hyper's); values below 1 ms count as 1 ms.
    pub fn http2_keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.http2_keep_alive_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Whether keep-alive PINGs go on while no fetch uses the connection (it then stays
    /// checked until `idle_timeout` closes it). Default false.
    pub fn http2_keep_alive_while_idle(mut self, on: bool) -> Self {
        self.http2_keep_alive_while_idle = on;
        self
    }
}

/// Default of [`ClientOptions::http2_keep_alive_timeout`]: 20 s (hyper's).
pub const DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);
