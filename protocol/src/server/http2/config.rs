//! [`Http2Config`]: the limits every HTTP/2 connection is held to, each with its default and
//! what it protects against.

use std::time::Duration;

/// The settings of the server's HTTP/2 connections (see
/// [`HttpServer::http2_config`](crate::server::HttpServer::http2_config)).
///
/// Every setting has a default chosen as hyper's server chooses it (hyper runs on the same `h2`
/// crate), except the keep-alive PINGs, which are on (see
/// [`DEFAULT_KEEP_ALIVE_INTERVAL`](Self::DEFAULT_KEEP_ALIVE_INTERVAL) for why); the HTTP/1.1
/// settings that still apply (body size and timeouts, `xheaders`, `decompress_request`,
/// `body_queue_chunks`, `write_timeout`, and `idle_connection_timeout` for a connection with no
/// stream open) are the server's own.
///
/// ```
/// use cyclone_protocol::server::Http2Config;
///
/// let config = Http2Config::default()
///     .max_concurrent_streams(100)
///     .initial_stream_window_size(256 * 1024);
/// assert_eq!(config.get_max_concurrent_streams(), 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http2Config {
    /// See [`max_concurrent_streams`](Self::max_concurrent_streams).
    max_concurrent_streams: u32,
    /// See [`initial_stream_window_size`](Self::initial_stream_window_size).
    initial_stream_window_size: u32,
    /// See [`initial_connection_window_size`](Self::initial_connection_window_size).
    initial_connection_window_size: u32,
    /// See [`max_frame_size`](Self::max_frame_size).
    max_frame_size: u32,
    /// See [`max_header_list_size`](Self::max_header_list_size).
    max_header_list_size: u32,
    /// See [`max_send_buffer_size`](Self::max_send_buffer_size).
    max_send_buffer_size: u32,
    /// See [`max_pending_accept_reset_streams`](Self::max_pending_accept_reset_streams).
    max_pending_accept_reset_streams: usize,
    /// See [`max_local_error_reset_streams`](Self::max_local_error_reset_streams).
    max_local_error_reset_streams: usize,
    /// See [`keep_alive_interval`](Self::keep_alive_interval).
    keep_alive_interval: Option<Duration>,
    /// See [`keep_alive_timeout`](Self::keep_alive_timeout).
    keep_alive_timeout: Duration,
    /// See [`enable_connect_protocol`](Self::enable_connect_protocol).
    enable_connect_protocol: bool,
}

impl Http2Config {
    /// Default of [`max_concurrent_streams`](Self::max_concurrent_streams): 200 (hyper's).
    pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 200;
    /// Default of [`initial_stream_window_size`](Self::initial_stream_window_size): 1 MiB.
    pub const DEFAULT_INITIAL_STREAM_WINDOW_SIZE: u32 = 1024 * 1024;
    /// Default of [`initial_connection_window_size`](Self::initial_connection_window_size):
    /// 1 MiB.
    pub const DEFAULT_INITIAL_CONNECTION_WINDOW_SIZE: u32 = 1024 * 1024;
    /// Default of [`max_frame_size`](Self::max_frame_size): 16 KiB (the protocol's minimum).
    pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16 * 1024;
    /// Default of [`max_header_list_size`](Self::max_header_list_size): 64 KiB, the HTTP/1.1
    /// server's `max_header_size` default.
    pub const DEFAULT_MAX_HEADER_LIST_SIZE: u32 = 64 * 1024;
    /// Default of [`max_send_buffer_size`](Self::max_send_buffer_size): 400 KiB (h2's).
    pub const DEFAULT_MAX_SEND_BUFFER_SIZE: u32 = 400 * 1024;
    /// Default of
    /// [`max_pending_accept_reset_streams`](Self::max_pending_accept_reset_streams): 20 (h2's).
    pub const DEFAULT_MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;
    /// Default of [`max_local_error_reset_streams`](Self::max_local_error_reset_streams): 1024
    /// (h2's and hyper's).
    pub const DEFAULT_MAX_LOCAL_ERROR_RESET_STREAMS: usize = 1024;
    /// Default of [`keep_alive_interval`](Self::keep_alive_interval): 20 s of silence from the
    /// client.
    ///
    /// On, unlike hyper (whose server leaves it off): a stream waiting on a long poll or a
    /// server-sent event sends nothing for minutes, and a client that vanished without a FIN
    /// (a dropped Wi-Fi, a NAT that forgot the mapping) would hold it and its handler for ever,
    /// since TCP's own keep-alive starts after two hours. 20 s is below the idle timeouts of
    /// common NATs and load balancers (30–60 s), so the PINGs also keep the path open; a
    /// connection that talks is never pinged, so a busy server pays nothing.
    pub const DEFAULT_KEEP_ALIVE_INTERVAL: Option<Duration> = Some(Duration::from_secs(20));
    /// Default of [`keep_alive_timeout`](Self::keep_alive_timeout): 20 s (hyper's).
    pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);
    /// Default of [`enable_connect_protocol`](Self::enable_connect_protocol): on.
    ///
    /// On because it costs nothing until a client uses it: the setting only tells clients they
    /// may send an extended CONNECT, which reaches the route its `:path` names like any other
    /// request, and only a WebSocket route (cyclone-web's `WebSocketHandler`) accepts it (any
    /// other answers the CONNECT as it answers an unknown method). With it off, browsers open
    /// their WebSockets on a separate HTTP/1.1 connection, as before RFC 8441.
    pub const DEFAULT_ENABLE_CONNECT_PROTOCOL: bool = true;

    /// Most request streams one connection may have open at once (`SETTINGS_MAX_CONCURRENT_STREAMS`).
    /// A client that opens more is refused them with `RST_STREAM(REFUSED_STREAM)`; so the
    /// handlers running for one connection are bounded. Default 200; values below 1 mean 1.
    pub fn max_concurrent_streams(mut self, streams: u32) -> Self {
        self.max_concurrent_streams = streams.max(1);
        self
    }

    /// Request body bytes a client may send on one stream before the handler takes them
    /// (`SETTINGS_INITIAL_WINDOW_SIZE`): window space is given back only as the body is
    /// consumed, so this bounds what one stream's upload holds in the server. Default 1 MiB;
    /// clamped to 1 KiB ..= 2³¹−1.
    pub fn initial_stream_window_size(mut self, bytes: u32) -> Self {
        self.initial_stream_window_size = clamp_window(bytes);
        self
    }

    /// Request body bytes a client may send over all streams of one connection before the
    /// handlers take them (the connection's flow-control window). Default 1 MiB; clamped to
    /// 64 KiB − 1 (the protocol's initial value) ..= 2³¹−1.
    pub fn initial_connection_window_size(mut self, bytes: u32) -> Self {
        self.initial_connection_window_size = clamp_window(bytes).max(65_535);
        self
    }

    /// Largest frame payload the server accepts (`SETTINGS_MAX_FRAME_SIZE`); a larger frame is
    /// a connection error. Default 16 KiB; clamped to 16 KiB ..= 16 MiB − 1 as RFC 9113
    /// requires.
    pub fn max_frame_size(mut self, bytes: u32) -> Self {
        self.max_frame_size = bytes.clamp(16_384, 16_777_215);
        self
    }

    /// Largest decoded header list of a request (`SETTINGS_MAX_HEADER_LIST_SIZE`, counted as
    /// RFC 9113 §6.5.2 does); a larger one is answered 431 by `h2` without reaching the
    /// service, and headers split over many CONTINUATION frames cannot grow without bound. Default 64 KiB;
    /// values below 1 KiB mean 1 KiB.
    pub fn max_header_list_size(mut self, bytes: u32) -> Self {
        self.max_header_list_size = bytes.max(1024);
        self
    }

    /// Answer bytes one stream may have queued in the connection before its handler's
    /// `flush` waits: the handler only gets window capacity up to this much, so a handler
    /// writing faster than the client reads is paused, never buffered without bound.
    /// Default 400 KiB; values below 1 KiB mean 1 KiB.
    pub fn max_send_buffer_size(mut self, bytes: u32) -> Self {
        self.max_send_buffer_size = bytes.max(1024);
        self
    }

    /// Rapid-reset defence (CVE-2023-44487): most streams the client opened and reset again
    /// before the server took them up; past it the connection is closed with
    /// `GOAWAY(ENHANCE_YOUR_CALM)`. Default 20; values below 1 mean 1.
    pub fn max_pending_accept_reset_streams(mut self, streams: usize) -> Self {
        self.max_pending_accept_reset_streams = streams.max(1);
        self
    }

    /// Most streams the server resets because the client broke the protocol on them; past it
    /// the connection is closed with `GOAWAY(ENHANCE_YOUR_CALM)` (the variant of rapid reset
    /// where the client makes the server do the resetting). Default 1024; values below 1
    /// mean 1.
    pub fn max_local_error_reset_streams(mut self, streams: usize) -> Self {
        self.max_local_error_reset_streams = streams.max(1);
        self
    }

    /// Sends a PING once the client has sent nothing for `interval`, and closes the connection
    /// if its answer does not come within [`keep_alive_timeout`](Self::keep_alive_timeout): a
    /// client that is gone (no FIN ever came) stops holding its streams and their handlers,
    /// and one that stopped reading altogether (so the PING cannot even be written) is closed
    /// too. Any bytes from the client restart the clock. `None` sends no PINGs. Default 20 s;
    /// an interval below 1 ms means 1 ms.
    pub fn keep_alive_interval(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive_interval = interval.map(|interval| interval.max(Duration::from_millis(1)));
        self
    }

    /// How long the answer to a keep-alive PING may take before the connection is closed (see
    /// [`keep_alive_interval`](Self::keep_alive_interval)). Default 20 s; values below 1 ms
    /// mean 1 ms.
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.keep_alive_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Whether the server announces `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441), letting
    /// clients open a WebSocket as an extended CONNECT stream (`:protocol websocket`) on an
    /// existing HTTP/2 connection instead of a new HTTP/1.1 one. The request reaches the route
    /// its `:path` names, so a WebSocket route serves it with the same handler as an HTTP/1.1
    /// upgrade. Without it, `h2` refuses any request carrying `:protocol` (a stream error).
    /// Default on ([`DEFAULT_ENABLE_CONNECT_PROTOCOL`](Self::DEFAULT_ENABLE_CONNECT_PROTOCOL)).
    ///
    /// ```
    /// use cyclone_protocol::server::Http2Config;
    ///
    /// assert!(Http2Config::default().get_enable_connect_protocol());
    /// // WebSockets only over HTTP/1.1 upgrades, as before RFC 8441:
    /// let config = Http2Config::default().enable_connect_protocol(false);
    /// assert!(!config.get_enable_connect_protocol());
    /// ```
    pub fn enable_connect_protocol(mut self, enabled: bool) -> Self {
        self.enable_connect_protocol = enabled;
        self
    }

    /// See [`enable_connect_protocol`](Self::enable_connect_protocol).
    pub fn get_enable_connect_protocol(&self) -> bool {
        self.enable_connect_protocol
    }

    /// See [`max_concurrent_streams`](Self::max_concurrent_streams).
    pub fn get_max_concurrent_streams(&self) -> u32 {
        self.max_concurrent_streams
    }

    /// See [`initial_stream_window_size`](Self::initial_stream_window_size).
    pub fn get_initial_stream_window_size(&self) -> u32 {
        self.initial_stream_window_size
    }

    /// See [`initial_connection_window_size`](Self::initial_connection_window_size).
    pub fn get_initial_connection_window_size(&self) -> u32 {
        self.initial_connection_window_size
    }

    /// See [`max_frame_size`](Self::max_frame_size).
    pub fn get_max_frame_size(&self) -> u32 {
        self.max_frame_size
    }

    /// See [`max_header_list_size`](Self::max_header_list_size).
    pub fn get_max_header_list_size(&self) -> u32 {
        self.max_header_list_size
    }

    /// See [`max_send_buffer_size`](Self::max_send_buffer_size).
    pub fn get_max_send_buffer_size(&self) -> u32 {
        self.max_send_buffer_size
    }

    /// See [`max_pending_accept_reset_streams`](Self::max_pending_accept_reset_streams).
    pub fn get_max_pending_accept_reset_streams(&self) -> usize {
        self.max_pending_accept_reset_streams
    }

    /// See [`max_local_error_reset_streams`](Self::max_local_error_reset_streams).
    pub fn get_max_local_error_reset_streams(&self) -> usize {
        self.max_local_error_reset_streams
    }

    /// See [`keep_alive_interval`](Self::keep_alive_interval).
    pub fn get_keep_alive_interval(&self) -> Option<Duration> {
        self.keep_alive_interval
    }

    /// See [`keep_alive_timeout`](Self::keep_alive_timeout).
    pub fn get_keep_alive_timeout(&self) -> Duration {
        self.keep_alive_timeout
    }

    /// The `h2` server builder holding these settings.
    pub(crate) fn builder(&self) -> h2::server::Builder {
        let mut builder = h2::server::Builder::new();
        builder
            .max_concurrent_streams(self.max_concurrent_streams)
            .initial_window_size(self.initial_stream_window_size)
            .initial_connection_window_size(self.initial_connection_window_size)
            .max_frame_size(self.max_frame_size)
            .max_header_list_size(self.max_header_list_size)
            .max_send_buffer_size(self.max_send_buffer_size as usize)
            .max_pending_accept_reset_streams(self.max_pending_accept_reset_streams)
            .max_local_error_reset_streams(Some(self.max_local_error_reset_streams));
        if self.enable_connect_protocol {
            builder.enable_connect_protocol();
        }
        builder
    }
}

/// A flow-control window within what the protocol allows, and at least 1 KiB.
fn clamp_window(bytes: u32) -> u32 {
    bytes.clamp(1024, (1 << 31) - 1)
}

impl Default for Http2Config {
    fn default() -> Self {
        Http2Config {
            max_concurrent_streams: Self::DEFAULT_MAX_CONCURRENT_STREAMS,
            initial_stream_window_size: Self::DEFAULT_INITIAL_STREAM_WINDOW_SIZE,
            initial_connection_window_size: Self::DEFAULT_INITIAL_CONNECTION_WINDOW_SIZE,
            max_frame_size: Self::DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size: Self::DEFAULT_MAX_HEADER_LIST_SIZE,
            max_send_buffer_size: Self::DEFAULT_MAX_SEND_BUFFER_SIZE,
            max_pending_accept_reset_streams: Self::DEFAULT_MAX_PENDING_ACCEPT_RESET_STREAMS,
            max_local_error_reset_streams: Self::DEFAULT_MAX_LOCAL_ERROR_RESET_STREAMS,
            keep_alive_interval: Self::DEFAULT_KEEP_ALIVE_INTERVAL,
            keep_alive_timeout: Self::DEFAULT_KEEP_ALIVE_TIMEOUT,
            enable_connect_protocol: Self::DEFAULT_ENABLE_CONNECT_PROTOCOL,
        }
    }
}
