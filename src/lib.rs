//! cyclone: Tornado's web framework, HTTP server and client and asynchronous networking core,
//! rebuilt in Rust on the actor model (actix).
//!
//! This crate is the facade: it re-exports the workspace crates under Tornado's module names,
//! so a Tornado user finds `cyclone::ioloop`, `cyclone::iostream`, `cyclone::tcpserver`,
//! `cyclone::tcpclient` and `cyclone::netutil` where they expect them.
//!
//! | module | from | Tornado's |
//! |---|---|---|
//! | [`run`], [`Runtime`] | `cyclone-actors` | `asyncio.run` / `IOLoop.current().start()` |
//! | [`ioloop`] | `cyclone-actors` | `tornado.ioloop` (with `run_in_executor`'s pool) |
//! | [`iostream`] | `cyclone-actors` | `tornado.iostream` |
//! | [`tcpserver`] | `cyclone-actors` | `tornado.tcpserver` |
//! | [`tcpclient`] | `cyclone-actors` | `tornado.tcpclient` |
//! | [`netutil`] | `cyclone-actors` | `tornado.netutil` |
//! | [`tls`] | `cyclone-actors` | `ssl_options` |
//! | [`local`] | `cyclone-actors` | (actors delivered to by a call on their own loop) |
//! | [`httpserver`] | `cyclone-protocol` | `tornado.httpserver` |
//! | [`httputil`] | `cyclone-protocol` | `tornado.httputil` |
//! | [`httpclient`] | `cyclone-protocol` | `tornado.httpclient` |
//! | [`websocket`] | `cyclone-protocol`, `cyclone-web` | `tornado.websocket`: handler, client, handle |
//! | [`web`] | `cyclone-web` | `tornado.web`, `tornado.routing` (with `StaticFileHandler`) |
//! | [`rooms`] | `cyclone-web` | (none: Tornado's chat demos' `MessageBuffer`, as a library, across processes) |
//! | [`template`] | `cyclone-web` | `tornado.template` (on minijinja) |
//! | [`escape`] | `cyclone-web` | `tornado.escape` |
//! | [`locale`] | `cyclone-web` | `tornado.locale` |
//! | [`auth`] | `cyclone-web` | `tornado.auth` |
//! | [`testing`] | `cyclone-web` | `tornado.testing` |
//! | [`log`] | `cyclone-actors` | `tornado.log` |
//! | [`options`] | `cyclone-options` | `tornado.options` |
//! | [`process`] | `cyclone-actors` | `tornado.process` |
//! | [`autoreload`] | `cyclone-actors` | `tornado.autoreload` |
//!
//! Each item has one path: the modules re-export explicit lists, no globs.
//!
//! # Example
//!
//! Every accepted connection is an actor that owns its stream; `handle_stream` runs inside it.
//!
//! ```
//! use cyclone::iostream::IoStream;
//! use cyclone::tcpserver::{ConnectionInfo, TcpServer};
//! use cyclone::tcpclient::TcpClient;
//!
//! async fn handle_stream(mut stream: IoStream<cyclone::iostream::TcpStream>, _: ConnectionInfo) {
//!     while let Ok(line) = stream.read_until(b"\n", Some(64 * 1024)).await {
//!         if stream.write(line).await.is_err() {
//!             break;
//!         }
//!     }
//! }
//!
//! cyclone::run(async {
//!     let mut server = TcpServer::new(handle_stream);
//!     server.listen(0, Some("127.0.0.1")).unwrap(); // on this loop
//!     let port = server.local_addrs()[0].port();
//!
//!     let mut client = TcpClient::new().connect("localhost", port).await.unwrap();
//!     client.write(&b"ping\n"[..]).await.unwrap();
//!     assert_eq!(&client.read_until(b"\n", None).await.unwrap()[..], b"ping\n");
//! });
//! ```
//!
//! The guide is in `docs/` (start with `docs/runtime.md`).

#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![forbid(unsafe_code)]

/// Tornado's `tornado.ioloop`: the event loop handle, timers, periodic callbacks, the blocking
/// pool. Start a loop with [`run`] or [`Runtime`].
pub mod ioloop {
    pub use cyclone_actors::executor::{
        BlockingPool, DEFAULT_EXECUTOR_QUEUE_LIMIT, ExecutorError, MAX_DEFAULT_BLOCKING_THREADS,
        default_blocking_threads, default_pool, run_in_executor,
    };
    pub use cyclone_actors::ioloop::{DEFAULT_CALLBACK_BACKLOG, IoLoop, LoopError, TimeoutHandle};
    pub use cyclone_actors::loop_local::LoopLocal;
    pub use cyclone_actors::periodic::{MIN_PERIOD, PeriodicCallback, WeakPeriodicCallback};
}

/// Tornado's `tornado.log`: Tornado-style log lines (`[I 261202 09:30:41 cyclone::access:87]
/// 200 GET / ...`) through `tracing`.
pub mod log {
    pub use cyclone_actors::log::{
        DEFAULT_LOG_LEVEL, LogError, LogOptions, TornadoFormat, enable_pretty_logging,
        enable_pretty_logging_with,
    };
}

/// One `use` for a handler file: `use cyclone::prelude::*;` brings the application and its
/// handlers, the request context and errors, settings, route targets, WebSocket handlers and
/// messages (the WebSocket `Message` as `WsMessage`, so actix's `Message` stays usable), the
/// blocking pool, local actors, logging, and actix's actor traits.
pub mod prelude {
    pub use crate::httpserver::{HttpRequestMessage, HttpResponse, HttpServer, HttpServerRequest};
    pub use crate::ioloop::{IoLoop, PeriodicCallback, run_in_executor};
    pub use crate::local::{LocalAddr, LocalContext};
    pub use crate::log::enable_pretty_logging;
    pub use crate::web::{
        Application, BaseHandler, CookieOptions, CookieSecret, Forward, HandlerResult, HttpError,
        PathArgs, RequestContext, RequestHandler, Settings, StateActor, StateAddr, actor, fallback,
        function, handler, handler_with, per_worker, redirect, url,
    };
    pub use crate::websocket::{
        CloseCode, Message as WsMessage, UpgradeRequest, WebSocket, WebSocketContext,
        WebSocketHandler, websocket, websocket_with,
    };
    pub use crate::{Runtime, run};
    pub use actix::prelude::{
        Actor, ActorContext, Addr, AsyncContext, Context, Handler, Message, MessageResult,
        Recipient,
    };
    pub use http::StatusCode;
}

/// Tornado's `tornado.iostream`: buffered streams with limits.
pub mod iostream {
    pub use cyclone_actors::iostream::{
        BufferSide, Bytes, CloseReason, IoStream, ReadHalf, Regex, StartTlsError,
        StreamBufferFullError, StreamClosedError, StreamError, StreamLimits, TcpStream,
        UnsatisfiableReadError, WriteHalf,
    };
}

/// Tornado's `tornado.tcpserver`: the multi-worker TCP server, its connection actors and
/// registry.
pub mod tcpserver {
    pub use cyclone_actors::connection::{
        ConnectionInfo, DEFAULT_INBOX_CAPACITY, HandleStream, StreamConnection, StreamFactory,
    };
    pub use cyclone_actors::registry::{
        ConnectionControl, ConnectionId, ConnectionRegistry, ConnectionSlot, ConnectionStats,
        ConnectionSummary, Delivery, Notification, StatsRequest,
    };
    pub use cyclone_actors::tcpserver::{
        DEFAULT_ACCEPT_ERROR_BACKOFF, DEFAULT_MAX_CONNECTIONS, FORCE_CLOSE_GRACE, ServeConnection,
        ShutdownReport, TcpServer, TcpServerError,
    };
}

/// Tornado's `tornado.tcpclient`: dual-stack connects.
pub mod tcpclient {
    pub use cyclone_actors::tcpclient::{
        CONNECT_SECONDARY_DELAY, ConnectError, ConnectOptions, DEFAULT_CONNECT_TIMEOUT, TcpClient,
    };
}

/// Tornado's `tornado.netutil`: listening sockets and resolvers.
pub mod netutil {
    pub use cyclone_actors::netutil::{
        DEFAULT_BACKLOG, bind_socket, bind_sockets, bind_unix_socket,
    };
    pub use cyclone_actors::resolver::{
        DEFAULT_RESOLVE_TIMEOUT, DefaultResolver, Family, OverrideResolver, ResolveError, Resolver,
    };
}

/// Local actors: actix actors whose messages from their own loop are handled by a direct
/// call when they are idle (per-worker route targets, rooms on one loop).
pub mod local {
    pub use cyclone_actors::local::{LOCAL_MAILBOX_CAPACITY, LocalAddr, LocalContext};
}

/// TLS for servers and clients (Tornado's `ssl_options`), with rustls.
pub mod tls {
    pub use cyclone_actors::tls::{
        DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_SESSION_CACHE_SIZE, HandshakeError, MAX_PEM_FILE_SIZE,
        TlsClientBuilder, TlsClientConfig, TlsConfigError, TlsFactory, TlsServerBuilder,
        TlsServerConfig, TlsStream, rustls, tokio_rustls,
    };
}

/// Tornado's `tornado.httpserver`: the HTTP/1.1 server, the request message every handler
/// gets, and the writer that answers it.
pub mod httpserver {
    pub use cyclone_protocol::server::{
        ActorService, Answering, EntityTag, Http2Config, HttpRequestMessage, HttpResponse,
        HttpServer, HttpServerError, HttpServerOptions, HttpServerRequest, HttpService,
        InvalidEntityTag, InvalidReasonPhrase, LINGER_MAX_DISCARD, LINGER_TIMEOUT, OnUpgrade,
        PathArgs, RESPONSE_QUEUE_CHUNKS, Reply, RequestBody, RequestBodyError, ResponseEvent,
        ResponseStream, ResponseWriter, Streaming, Upgraded, UpgradedIo, WriterError, actor,
        is_forbidden_trailer, streaming,
    };
}

/// Tornado's `tornado.httputil`: arguments, files, cookies and URL helpers.
pub mod httputil {
    pub use cyclone_protocol::httputil::{
        Arguments, CookieError, Files, FormError, FormLimits, HttpFile, SameSite, SetCookie,
        format_timestamp, parse_body_arguments, parse_cookie, parse_multipart_form_data,
        parse_qs_bytes, parse_qs_bytes_with_limits, split_host_and_port, url_concat,
    };
}

/// Tornado's `tornado.httpclient`: the pooled HTTP/1.1 and HTTP/2 client and its blocking
/// wrapper.
pub mod httpclient {
    pub use cyclone_protocol::client::{
        AsyncHttpClient, AuthMode, ClientOptions, DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT,
        DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_CLIENTS, DEFAULT_MAX_HEADER_SIZE,
        DEFAULT_MAX_IDLE_PER_HOST, DEFAULT_MAX_IDLE_TOTAL, DEFAULT_MAX_QUEUE_SIZE,
        DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT, HeaderMap, HeaderName,
        HeaderValue, Http2Reason, HttpClient, HttpClientError, HttpRequest, HttpResponse, Method,
        StatusCode, StatusError, TimeInfo, TimeoutPhase, Version, digest_authorization, header,
    };
}

/// Tornado's `tornado.websocket`, all of it in one place: the handler side
/// ([`WebSocketHandler`](websocket::WebSocketHandler) and its route targets), the client
/// ([`websocket_connect`](websocket::websocket_connect)), the cloneable handle any actor
/// writes through ([`WebSocket`](websocket::WebSocket)), messages, limits, and the sans-IO
/// codec and handshake underneath.
pub mod websocket {
    pub use cyclone_protocol::websocket::{
        Accepted, BROADCAST_CACHE_BYTES, BROADCAST_CACHE_ENTRIES, BROADCAST_CACHE_MAX_PAYLOAD,
        BroadcastCounts, ClientConnection, ClientHandshake, CloseCode, CloseFrame, Codec,
        ConnectRequest, DEFAULT_CLOSE_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_INCOMING_QUEUE,
        DEFAULT_MAILBOX_CAPACITY, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_WRITE_QUEUE,
        DEFAULT_MEMORY_BUDGET, DEFAULT_PING_TIMEOUT, DEFAULT_READ_BUFFER_SIZE,
        DEFAULT_WRITE_TIMEOUT, DeflateConfig, DeflateParams, Flushed, HandshakeError,
        LOOP_SPARE_COMPRESSORS, LOOP_SPARE_DECOMPRESSORS, Message, Negotiated, PERMESSAGE_DEFLATE,
        ProtocolError, ReconnectPolicy, ReconnectingClient, Resubscribe, Role, ServerHandshake,
        Session, Utf8Bytes, WebSocket, WebSocketConfig, WebSocketConnection, WebSocketError,
        WebSocketIo, WebSocketService, WebSocketStats, accept_answer, accept_key, broadcast_counts,
        encode_rejection, negotiate, start_connection, websocket_connect, websocket_connect_actor,
    };
    pub use cyclone_web::websocket::{
        UpgradeRequest, WebSocketContext, WebSocketHandler, config_from_settings, upgrade,
        websocket, websocket_with,
    };
}

/// Tornado's `tornado.web` and `tornado.routing`: `Application`, routing, `RequestHandler`,
/// route targets (handlers, actors, functions, services), cookies, XSRF, static files. The
/// WebSocket handler is in [`websocket`], templates in [`template`].
pub mod web {
    pub use cyclone_web::{
        AppContext, Application, Ask, BaseHandler, CookieOptions, CookieSecret,
        DEFAULT_ASK_TIMEOUT, DEFAULT_SERVER_HEADER, DEFAULT_STATIC_URL_PREFIX,
        DEFAULT_SUPPORTED_METHODS, DEFAULT_WEBSOCKET_MAX_MESSAGE_SIZE, DEFAULT_XSRF_COOKIE_NAME,
        Dispatch, EntityTag, ErrorHandler, Forward, HANDLER_INBOX_CAPACITY, HandlerResult,
        HeaderFieldError, HttpError, MissingArgumentError, OutputTransform, PathArgError, PathArgs,
        RedirectHandler, RedirectUrlError, RequestContext, RequestHandler, RouteError, RouteTarget,
        Router, Rule, Settings, StateActor, StateAddr, StaticFileHandler, StaticFileOptions,
        Target, TransformFactory, Work, XsrfCookieVersion, actor, fallback, function, handler,
        handler_with, html_escape, per_worker, redirect, service, url, urljoin,
    };
    pub use cyclone_web::{access_log, blocking, compress, signed, static_files, tower_bridge};
}

/// Chat rooms and push channels as a library (Tornado has none; its chat demos write one by
/// hand): the [`Rooms`](rooms::Rooms) registry, the [`Room`](rooms::Room) actor under a
/// supervisor, its history with cursors, a WebSocket member
/// ([`RoomSocket`](rooms::RoomSocket)) and Tornado's long-poll chat handlers. See
/// `docs/rooms.md`.
pub mod rooms {
    pub use cyclone_web::rooms::{
        Cursor, CursorError, DEFAULT_EMPTY_GRACE, DEFAULT_HISTORY_SIZE, DEFAULT_MAX_MESSAGE_SIZE,
        DEFAULT_MAX_WAITERS, DEFAULT_POLL_TIMEOUT, DEFAULT_PRESENCE_INTERVAL,
        DEFAULT_SLOW_MEMBER_TIMEOUT, DeliverHook, History, MAX_ROOM_NAME, MemberId, MessageNew,
        MessageUpdates, PostHook, READ_BLOCK, READ_COUNT, REDIS_TIMEOUT, Room, RoomError,
        RoomHandle, RoomMessage, RoomOptions, RoomSocket, RoomStats, Rooms, STREAM_PREFIX, Updates,
        WaiterId,
    };
}

/// Tornado's `tornado.template`: templates on minijinja, UI modules, the loader.
pub mod template {
    pub use cyclone_web::template::{
        Autoescape, ModuleContext, NamespaceHook, RequestInfo, TemplateError, TemplateLoader,
        TemplateNamespace, UiMethod, UiMethods, UiModule, UiModules, context, minijinja,
    };
}

/// Tornado's `tornado.escape`: HTML, URL and JSON escaping, `squeeze`, `linkify`.
pub mod escape {
    pub use cyclone_web::escape::{
        ExtraParams, JsonError, LinkifyOptions, json_decode, json_encode, linkify, linkify_with,
        squeeze, url_escape, url_unescape, url_unescape_bytes, xhtml_escape, xhtml_unescape,
    };
}

/// Tornado's `tornado.auth`: OAuth 2.0 logins (Google, GitHub, Facebook presets) with a
/// `state` bound to a signed cookie, and OAuth 1.0a signing.
pub mod auth {
    pub use cyclone_web::auth::{
        AuthError, DEFAULT_STATE_COOKIE, DEFAULT_STATE_MAX_AGE, OAuth2Client, OAuth2Provider,
        OAuth2Token, TokenPlacement, TokenRequest, oauth1,
    };
}

/// Tornado's `tornado.options`: `define`, `parse_command_line`, `parse_config_file` (TOML).
pub mod options {
    pub use cyclone_options::{
        Define, Kind, OptionParser, OptionValue, OptionsError, Value, add_parse_callback, define,
        options, parse_command_line, parse_config_file, print_help,
    };
}

/// Tornado's `tornado.process`: worker processes sharing listening sockets, and child
/// processes with their pipes as `IoStream`s.
pub mod process {
    pub use cyclone_actors::process::{
        DEFAULT_MAX_RESTARTS, Pipe, ProcessError, Subprocess, TASK_ID_VAR, fork_processes,
        inherited_sockets_or, task_id,
    };
}

/// Tornado's `tornado.autoreload`: restart on a changed executable or watched file, keeping
/// the listening sockets.
pub mod autoreload {
    pub use cyclone_actors::autoreload::{
        AutoreloadError, SETTLE_TIME, add_reload_hook, start, watch,
    };
}

/// Tornado's `tornado.locale`: translations (CSV, gettext `.po`/`.mo`), plural forms and
/// contexts, dates, lists and numbers as Tornado words them.
pub mod locale {
    pub use cyclone_web::locale::{
        DEFAULT_LOCALE, DateFormat, Locale, LocaleError, Translations, UserLocaleHook, interpolate,
        parse_accept_language,
    };
}

/// Tornado's `tornado.testing`: a test server on 127.0.0.1:0 and its client, `run_test`
/// (behind `#[cyclone::test]`), `ExpectLog`, `bind_unused_port`.
pub mod testing {
    pub use cyclone_web::testing::{
        DEFAULT_ASYNC_TEST_TIMEOUT, ExpectLog, TEST_REQUEST_TIMEOUT, TestServer,
        async_test_timeout, bind_unused_port, run_test,
    };
}

/// Tornado's `@gen_test`: an `async fn` test on a fresh loop, with a timeout (5 s, or
/// `ASYNC_TEST_TIMEOUT`, or `#[cyclone::test(timeout = 30)]`).
///
/// ```
/// #[cyclone::test]
/// async fn answers() {
///     assert_eq!(async { 42 }.await, 42);
/// }
/// # fn main() {}
/// ```
pub use cyclone_macros::test;

pub use cyclone_actors::runtime::{Runtime, run};

/// The guide (`docs/` in the repository), chapter by chapter; its examples are compiled and
/// run as doctests, so they stay true.
pub mod guide {
    #[doc = include_str!("../docs/architecture.md")]
    pub mod architecture {}
    #[doc = include_str!("../docs/runtime.md")]
    pub mod runtime {}
    #[doc = include_str!("../docs/http.md")]
    pub mod http {}
    #[doc = include_str!("../docs/http2.md")]
    pub mod http2 {}
    #[doc = include_str!("../docs/httpclient.md")]
    pub mod httpclient {}
    #[doc = include_str!("../docs/web.md")]
    pub mod web {}
    #[doc = include_str!("../docs/templates.md")]
    pub mod templates {}
    #[doc = include_str!("../docs/static.md")]
    pub mod static_files {}
    #[doc = include_str!("../docs/websocket.md")]
    pub mod websocket {}
    #[doc = include_str!("../docs/locale.md")]
    pub mod locale {}
    #[doc = include_str!("../docs/auth.md")]
    pub mod auth {}
    #[doc = include_str!("../docs/options.md")]
    pub mod options {}
    #[doc = include_str!("../docs/process.md")]
    pub mod process {}
    #[doc = include_str!("../docs/tower.md")]
    pub mod tower {}
    #[doc = include_str!("../docs/rooms.md")]
    pub mod rooms {}
    #[doc = include_str!("../docs/performance.md")]
    pub mod performance {}
    #[doc = include_str!("../docs/accept-strategy.md")]
    pub mod accept_strategy {}
}
