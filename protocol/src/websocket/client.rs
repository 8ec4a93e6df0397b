//! The WebSocket client (Tornado's `websocket_connect`): as a connection with
//! [`read_message`](ClientConnection::read_message) / [`write_message`](ClientConnection::write_message),
//! as an actor calling a [`WebSocketService`], and as a [`ReconnectingClient`] that keeps a
//! long-lived feed up with backoff and jitter and resubscribes after each reconnect.
//!
//! All three run the same [`WebSocketConnection`](super::WebSocketConnection) actor in the
//! client role, so pings, limits and the close handshake behave as on the server. The
//! WebSocket opens with an HTTP/1.1 upgrade, or, with [`ConnectRequest::http2`], as an
//! extended CONNECT stream on an HTTP/2 connection (RFC 8441).

use crate::client::connection::Unbuffered;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::poll_fn;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::Poll;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use cyclone_actors::tcpclient::{ConnectError, ConnectOptions, TcpClient};
use cyclone_actors::tls::TlsClientConfig;
use futures::future::LocalBoxFuture;
use http::Method;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use super::Message;
use super::close::{CloseCode, CloseFrame};
use super::codec::Role;
use super::connection::{Session, WebSocket, WebSocketIo, WebSocketService, start_connection};
use super::error::{HandshakeError, WebSocketError};
use super::handshake::{ClientHandshake, Negotiated};
use super::limits::WebSocketConfig;
use crate::h1::{Event, Limits, ResponseDecoder};
use crate::http2::StreamIo;

/// Connecting (resolve, TCP, TLS) and the handshake together must finish within this.
/// 20 s, as Tornado's `connect_timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Messages a [`ClientConnection`] holds unread before it stops reading from the socket. 16.
pub const DEFAULT_INCOMING_QUEUE: usize = 16;
/// Largest handshake response head accepted. 64 KiB.
const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// What to connect to and how: Tornado's `websocket_connect(url_or_request, ...)` arguments.
#[derive(Clone)]
pub struct ConnectRequest {
    /// `ws://` or `wss://` URL.
    url: String,
    /// Extra request fields (Origin, Cookie, Authorization).
    headers: HeaderMap,
    /// Subprotocols offered, most preferred first.
    subprotocols: Vec<String>,
    /// Limits, timeouts and compression of the connection.
    config: WebSocketConfig,
    /// Bounds connecting plus the handshake.
    connect_timeout: Duration,
    /// TLS settings for `wss://`; the platform roots when `None`.
    tls: Option<TlsClientConfig>,
    /// Unread messages a [`ClientConnection`] queues.
    incoming_queue: usize,
    /// Open the WebSocket over HTTP/2 (RFC 8441) instead of an HTTP/1.1 upgrade.
    http2: bool,
}

impl fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectRequest")
            .field("url", &self.url)
            .field("subprotocols", &self.subprotocols)
            .field("config", &self.config)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl From<&str> for ConnectRequest {
    fn from(url: &str) -> Self {
        ConnectRequest::new(url)
    }
}

impl From<String> for ConnectRequest {
    fn from(url: String) -> Self {
        ConnectRequest::new(url)
    }
}

impl ConnectRequest {
    /// A request for `url` with default settings.
    pub fn new(url: impl Into<String>) -> Self {
        ConnectRequest {
            url: url.into(),
            headers: HeaderMap::new(),
            subprotocols: Vec::new(),
            config: WebSocketConfig::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            tls: None,
            incoming_queue: DEFAULT_INCOMING_QUEUE,
            http2: false,
        }
    }

    /// Adds a request field (ignored if the name or value is not valid HTTP).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.append(name, value);
        }
        self
    }

    /// Offers these subprotocols, most preferred first. Default is none.
    pub fn subprotocols<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        protocols: I,
    ) -> Self {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The connection's limits, pings and compression. Default is
    /// [`WebSocketConfig::default`].
    pub fn config(mut self, config: WebSocketConfig) -> Self {
        self.config = config;
        self
    }

    /// Bounds resolving, connecting, TLS and the handshake together. Default is 20 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// TLS settings for `wss://`. Default is the bundled web roots.
    pub fn tls(mut self, tls: TlsClientConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Unread messages a [`ClientConnection`] queues before it stops reading the socket (the
    /// server then sees TCP backpressure). Values below 1 mean 1. Default is 16.
    pub fn incoming_queue(mut self, messages: usize) -> Self {
        self.incoming_queue = messages.max(1);
        self
    }

    /// Opens the WebSocket over HTTP/2 (RFC 8441): as an extended CONNECT stream
    /// (`:protocol websocket`) on a new HTTP/2 connection, `wss://` offering `h2` by ALPN,
    /// `ws://` with prior knowledge (h2c). The server must speak HTTP/2 there and
    /// announce `SETTINGS_ENABLE_CONNECT_PROTOCOL` (cyclone's does, `Http2Config`); if it does
    /// not, the connect fails with [`HandshakeError::NoHttp2`] or
    /// [`HandshakeError::ExtendedConnectNotEnabled`], nothing is sent, and the same request
    /// without this goes over HTTP/1.1. Everything after the opening (messages, limits, pings,
    /// compression, the close handshake) is as over HTTP/1.1. Default false: the HTTP/1.1
    /// upgrade every server takes.
    ///
    /// [`HandshakeError::NoHttp2`]: super::HandshakeError::NoHttp2
    /// [`HandshakeError::ExtendedConnectNotEnabled`]: super::HandshakeError::ExtendedConnectNotEnabled
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }
}

/// Connects and runs the handshake: the transport, bytes read past the 101, the agreement.
async fn open(
    request: &ConnectRequest,
) -> Result<(Box<dyn WebSocketIo>, BytesMut, Negotiated), WebSocketError> {
    let url =
        url::Url::parse(&request.url).map_err(|error| WebSocketError::BadUrl(error.to_string()))?;
    let secure = match url.scheme() {
        "ws" => false,
        "wss" => true,
        other => {
            return Err(WebSocketError::BadUrl(format!(
                "scheme {other:?} is not ws or wss"
            )));
        }
    };
    let host = url
        .host_str()
        .ok_or_else(|| WebSocketError::BadUrl("no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url
        .port_or_known_default()
        .unwrap_or(if secure { 443 } else { 80 });
    let host_field = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let options = ConnectOptions::new().timeout(request.connect_timeout);
    let client = TcpClient::new();
    let connect_error = |error: ConnectError| match error {
        ConnectError::Timeout { .. } => WebSocketError::ConnectTimeout,
        other => WebSocketError::Connect(other),
    };
    let mut io: Box<dyn WebSocketIo> = if secure {
        let mut tls = match &request.tls {
            Some(tls) => tls.clone(),
            None => TlsClientConfig::builder()
                .build()
                .map_err(|error| WebSocketError::BadUrl(error.to_string()))?,
        };
        if request.http2 {
            tls = offering_h2(&tls);
        }
        let stream = client
            .connect_tls(&host, port, &options, &tls)
            .await
            .map_err(connect_error)?;
        if request.http2
            && stream.get_ref().and_then(|tls| tls.alpn_protocol()) != Some(b"h2".as_slice())
        {
            return Err(HandshakeError::NoHttp2.into());
        }
        Box::new(Unbuffered(stream))
    } else {
        let stream = client
            .connect_with(&host, port, &options)
            .await
            .map_err(connect_error)?;
        let _ = stream.set_nodelay(true);
        Box::new(Unbuffered(stream))
    };
    let handshake = ClientHandshake::new(
        request.subprotocols.clone(),
        request.config.compression.clone(),
    );
    if request.http2 {
        let scheme = if secure { "https" } else { "http" };
        let uri = format!("{scheme}://{host_field}{target}");
        return open_http2(io, &uri, &handshake, &request.headers).await;
    }
    let mut out = BytesMut::new();
    handshake.encode_request(&host_field, &target, &request.headers, &mut out);
    io.write_all(&out).await?;
    io.flush().await?;
    let limits = Limits {
        max_head_size: MAX_RESPONSE_HEAD,
        ..Limits::default()
    };
    let mut decoder = ResponseDecoder::new(limits);
    let mut read = BytesMut::with_capacity(4096);
    loop {
        match decoder.decode(&mut read, &Method::GET) {
            Ok(Some(Event::Head(head))) => {
                let negotiated = handshake.check_response(&head)?;
                return Ok((io, read, negotiated));
            }
            Ok(Some(_)) => return Err(WebSocketError::Io(io::ErrorKind::InvalidData.into())),
            Ok(None) => {}
            Err(error) => return Err(WebSocketError::BadResponse(error)),
        }
        if read.capacity() - read.len() < 1024 {
            read.reserve(4096);
        }
        let count =
            poll_fn(|cx| tokio_util::io::poll_read_buf(Pin::new(&mut io), cx, &mut read)).await?;
        if count == 0 {
            return Err(WebSocketError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
    }
}

/// `tls` offering `h2` by ALPN, and `http/1.1` after it so that a server without HTTP/2
/// completes the handshake and says so (rather than failing it with a TLS alert); its other
/// settings (roots, client certificate, session cache) kept.
fn offering_h2(tls: &TlsClientConfig) -> TlsClientConfig {
    let mut config = (**tls.rustls()).clone();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    TlsClientConfig::from_rustls(Arc::new(config))
}

/// Opens the WebSocket as an extended CONNECT stream (RFC 8441) for `uri` on a new HTTP/2
/// connection over `io`. The connection is driven by a task on this loop, which ends once the
/// WebSocket's stream does.
async fn open_http2(
    io: Box<dyn WebSocketIo>,
    uri: &str,
    handshake: &ClientHandshake,
    extra: &HeaderMap,
) -> Result<(Box<dyn WebSocketIo>, BytesMut, Negotiated), WebSocketError> {
    let (send, mut connection) = h2::client::handshake(io)
        .await
        .map_err(WebSocketError::Http2)?;
    // Whether the server allows extended CONNECT is in its SETTINGS, the first frame it sends;
    // the answer to a PING comes after them, so once it is in, the setting is known.
    if let Some(mut pings) = connection.ping_pong() {
        pings
            .send_ping(h2::Ping::opaque())
            .map_err(WebSocketError::Http2)?;
        poll_fn(|cx| {
            if let Poll::Ready(ended) = Pin::new(&mut connection).poll(cx) {
                return Poll::Ready(Err(match ended {
                    Err(error) => WebSocketError::Http2(error),
                    Ok(()) => WebSocketError::Io(io::ErrorKind::UnexpectedEof.into()),
                }));
            }
            pings
                .poll_pong(cx)
                .map(|answered| answered.map(drop).map_err(WebSocketError::Http2))
        })
        .await?;
    }
    if !send.is_extended_connect_protocol_enabled() {
        return Err(HandshakeError::ExtendedConnectNotEnabled.into());
    }
    actix_rt::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "WebSocket's HTTP/2 connection ended");
        }
    });
    let mut connect = http::Request::builder()
        .method(Method::CONNECT)
        .uri(uri)
        .body(())
        .map_err(|error| WebSocketError::BadUrl(error.to_string()))?;
    *connect.headers_mut() = handshake.extended_connect_fields(extra);
    connect
        .extensions_mut()
        .insert(h2::ext::Protocol::from_static("websocket"));
    let mut send = send.ready().await.map_err(WebSocketError::Http2)?;
    let (answer, stream) = send
        .send_request(connect, false)
        .map_err(WebSocketError::Http2)?;
    let answer = answer.await.map_err(WebSocketError::Http2)?;
    let negotiated =
        handshake.check_extended_connect_response(answer.status(), answer.headers())?;
    let io = StreamIo::new(answer.into_body(), stream);
    Ok((Box::new(io), BytesMut::new(), negotiated))
}

/// Connects within the request's connect timeout.
async fn open_bounded(
    request: &ConnectRequest,
) -> Result<(Box<dyn WebSocketIo>, BytesMut, Negotiated), WebSocketError> {
    tokio::time::timeout(request.connect_timeout, open(request))
        .await
        .unwrap_or(Err(WebSocketError::ConnectTimeout))
}

/// Connects to a WebSocket server and starts a client connection actor on the current loop
/// that calls `service` (the actor form, for `on_message` callbacks). Needs a running actix
/// System or Arbiter.
pub async fn websocket_connect_actor(
    request: impl Into<ConnectRequest>,
    service: impl WebSocketService,
) -> Result<(WebSocket, Negotiated), WebSocketError> {
    let request = request.into();
    let (io, read, negotiated) = open_bounded(&request).await?;
    let handle = start_connection(
        io,
        read,
        Role::Client,
        &negotiated,
        request.config,
        service,
        None,
    );
    Ok((handle, negotiated))
}

/// Feeds a [`ClientConnection`]'s queue; a full queue pauses reading.
struct Forward {
    /// Where messages go.
    sender: mpsc::Sender<Message>,
    /// Where the peer's close frame is kept for the connection to report.
    close: Arc<OnceLock<Option<CloseFrame>>>,
}

impl WebSocketService for Forward {
    fn on_message(
        &mut self,
        message: Message,
        _: &mut Session<'_>,
    ) -> Option<LocalBoxFuture<'static, ()>> {
        match self.sender.try_send(message) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => None,
            Err(mpsc::error::TrySendError::Full(message)) => {
                let sender = self.sender.clone();
                Some(Box::pin(async move {
                    let _ = sender.send(message).await;
                }))
            }
        }
    }

    fn on_close(&mut self, close: Option<&CloseFrame>) {
        let _ = self.close.set(close.cloned());
    }
}

/// A client connection read and written by `await`ing (Tornado's `WebSocketClientConnection`).
/// Dropping it starts the close handshake (1000), so a forgotten connection does not linger.
#[derive(Debug)]
pub struct ClientConnection {
    /// The connection actor.
    handle: WebSocket,
    /// Messages received and not yet read.
    incoming: mpsc::Receiver<Message>,
    /// The peer's close frame, once the connection ended.
    close: Arc<OnceLock<Option<CloseFrame>>>,
    /// What the handshake agreed.
    negotiated: Negotiated,
}

impl ClientConnection {
    /// The next text or binary message; `None` once the connection is closed (then see
    /// [`close_frame`](Self::close_frame)). Cancel safe.
    pub async fn read_message(&mut self) -> Option<Message> {
        self.incoming.recv().await
    }

    /// Sends `message`, resolving once it is written to the socket.
    pub async fn write_message(&self, message: Message) -> Result<(), WebSocketError> {
        self.handle.write_message(message).await
    }

    /// Starts the close handshake.
    pub fn close(&self, code: CloseCode, reason: impl Into<String>) {
        self.handle.close(code, reason);
    }

    /// The server's close frame, once the connection ended (`Some(None)`: it ended without
    /// one).
    pub fn close_frame(&self) -> Option<Option<CloseFrame>> {
        self.close.get().cloned()
    }

    /// A cloneable handle on the connection, for other actors.
    pub fn handle(&self) -> &WebSocket {
        &self.handle
    }

    /// The subprotocol the server chose.
    pub fn subprotocol(&self) -> Option<&str> {
        self.negotiated.subprotocol.as_deref()
    }

    /// Whether permessage-deflate is on.
    pub fn is_compressed(&self) -> bool {
        self.negotiated.deflate.is_some()
    }
}

impl Drop for ClientConnection {
    fn drop(&mut self) {
        if self.close.get().is_none() {
            self.handle.close(CloseCode::NORMAL, "");
        }
    }
}

/// Tornado's `websocket_connect`: connects, runs the handshake, and returns a connection to
/// `read_message` / `write_message` on. Needs a running actix System or Arbiter.
///
/// ```no_run
/// use cyclone_protocol::websocket::{CloseCode, ConnectRequest, Message, websocket_connect};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let mut connection = websocket_connect(
///     ConnectRequest::new("ws://127.0.0.1:8888/ws").subprotocols(["chat"]),
/// )
/// .await?;
/// connection.write_message(Message::text("hello")).await?;
/// if let Some(Message::Text(answer)) = connection.read_message().await {
///     println!("{answer}");
/// }
/// connection.close(CloseCode::NORMAL, "bye");
/// # Ok(())
/// # }
/// ```
pub async fn websocket_connect(
    request: impl Into<ConnectRequest>,
) -> Result<ClientConnection, WebSocketError> {
    let request = request.into();
    let (sender, incoming) = mpsc::channel(request.incoming_queue);
    let close = Arc::new(OnceLock::new());
    let service = Forward {
        sender,
        close: close.clone(),
    };
    let (handle, negotiated) = websocket_connect_actor(request, service).await?;
    Ok(ClientConnection {
        handle,
        incoming,
        close,
        negotiated,
    })
}

/// How a [`ReconnectingClient`] waits between attempts: exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct ReconnectPolicy {
    /// First wait. Default is 100 ms.
    pub initial_backoff: Duration,
    /// Longest wait. Default is 30 s.
    pub max_backoff: Duration,
    /// Each failed attempt multiplies the wait by this. Default is 2.
    pub multiplier: f64,
    /// Each wait is shortened by a random fraction up to this (0..=1), so clients cut off
    /// together do not return together. Default is 0.5.
    pub jitter: f64,
    /// Give up after this many failed attempts in a row; `None` never gives up. Default is
    /// `None`.
    pub max_attempts: Option<u32>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.5,
            max_attempts: None,
        }
    }
}

impl ReconnectPolicy {
    /// The wait before attempt `failures + 1`, jittered with `random` in 0..1.
    fn backoff(&self, failures: u32, random: f64) -> Duration {
        let base = self.initial_backoff.as_secs_f64()
            * self.multiplier.max(1.0).powi(failures.min(64) as i32);
        let capped = base.min(self.max_backoff.as_secs_f64());
        Duration::from_secs_f64(capped * (1.0 - self.jitter.clamp(0.0, 1.0) * random))
    }
}

/// Called with the new connection's handle after every (re)connect, to resubscribe.
pub trait Resubscribe: 'static {
    /// The connection is up again.
    fn resubscribe(&mut self, connection: &WebSocket);
}

impl<F: FnMut(&WebSocket) + 'static> Resubscribe for F {
    fn resubscribe(&mut self, connection: &WebSocket) {
        self(connection)
    }
}

/// Passes events to the application's service and says when the connection ended.
struct Watched<S> {
    /// The application's service.
    inner: S,
    /// Fired by `on_close`.
    ended: Option<oneshot::Sender<()>>,
}

impl<S: WebSocketService> WebSocketService for Watched<S> {
    fn on_open(&mut self, session: &mut Session<'_>) {
        self.inner.on_open(session);
    }
    fn on_message(
        &mut self,
        message: Message,
        session: &mut Session<'_>,
    ) -> Option<LocalBoxFuture<'static, ()>> {
        self.inner.on_message(message, session)
    }
    fn on_ping(&mut self, data: &Bytes, session: &mut Session<'_>) {
        self.inner.on_ping(data, session);
    }
    fn on_pong(&mut self, data: &Bytes, session: &mut Session<'_>) {
        self.inner.on_pong(data, session);
    }
    fn on_close(&mut self, close: Option<&CloseFrame>) {
        self.inner.on_close(close);
        if let Some(ended) = self.ended.take() {
            let _ = ended.send(());
        }
    }
}

/// State shared between a [`ReconnectingClient`] and its supervising task.
#[derive(Debug, Default)]
struct Supervision {
    /// The live connection, if any.
    current: Mutex<Option<WebSocket>>,
    /// Successful connects so far.
    connects: AtomicU64,
    /// Set by [`ReconnectingClient::stop`].
    stopped: AtomicBool,
}

/// A supervised client for long-lived feeds: connects, calls the resubscribe hook, and when
/// the connection drops (or a connect fails) waits per its [`ReconnectPolicy`] and connects
/// again, with a fresh service from the factory each time.
#[derive(Debug, Clone)]
pub struct ReconnectingClient {
    /// Shared with the supervising task.
    state: Arc<Supervision>,
}

impl ReconnectingClient {
    /// Starts supervising on the current actix loop.
    pub fn start<F, S>(
        request: impl Into<ConnectRequest>,
        policy: ReconnectPolicy,
        mut make_service: F,
        mut resubscribe: impl Resubscribe,
    ) -> Self
    where
        F: FnMut() -> S + 'static,
        S: WebSocketService,
    {
        let request = request.into();
        let state = Arc::new(Supervision::default());
        let shared = state.clone();
        actix_rt::spawn(async move {
            let random = RandomState::new();
            let mut failures = 0u32;
            while !shared.stopped.load(Ordering::Acquire) {
                let (ended, on_end) = oneshot::channel();
                let service = Watched {
                    inner: make_service(),
                    ended: Some(ended),
                };
                match websocket_connect_actor(request.clone(), service).await {
                    Ok((handle, _)) => {
                        failures = 0;
                        shared.connects.fetch_add(1, Ordering::Relaxed);
                        resubscribe.resubscribe(&handle);
                        *shared
                            .current
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) = Some(handle.clone());
                        if shared.stopped.load(Ordering::Acquire) {
                            handle.close(CloseCode::NORMAL, "");
                        }
                        let _ = on_end.await;
                        *shared
                            .current
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) = None;
                    }
                    Err(error) => {
                        failures += 1;
                        tracing::debug!(%error, failures, "websocket reconnect failed");
                        if policy.max_attempts.is_some_and(|most| failures >= most) {
                            break;
                        }
                    }
                }
                if shared.stopped.load(Ordering::Acquire) {
                    break;
                }
                let mut hasher = random.build_hasher();
                hasher.write_u32(failures);
                let fraction = (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64;
                tokio::time::sleep(policy.backoff(failures, fraction)).await;
            }
        });
        ReconnectingClient { state }
    }

    /// The live connection, if one is up.
    pub fn current(&self) -> Option<WebSocket> {
        self.state
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many times a connection was established.
    pub fn connects(&self) -> u64 {
        self.state.connects.load(Ordering::Relaxed)
    }

    /// Stops reconnecting and closes the live connection (1000).
    pub fn stop(&self) {
        self.state.stopped.store(true, Ordering::Release);
        if let Some(handle) = self.current() {
            handle.close(CloseCode::NORMAL, "");
        }
    }
}
