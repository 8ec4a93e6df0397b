//! cyclone's web framework: Tornado's `tornado.web` and `tornado.routing` on actors.
//!
//! # Layout
//!
//! - [`Application`] (Tornado's `Application`): rules, host rule sets and [`Settings`]. It is
//!   an [`HttpService`](cyclone_protocol::server::HttpService): [`Application::listen`] starts an
//!   `HttpServer`, or give it to `HttpServer::new` yourself.
//! - Routing ([`url`], [`Rule`], [`Router`]): regex rules anchored like Tornado's (`$`
//!   implied), groups percent-decoded into [`PathArgs`], named rules and
//!   [`reverse_url`](Application::reverse_url), host rule sets
//!   ([`add_handlers`](Application::add_handlers)), nested routers, a default handler or 404.
//!   Literal routes are one hash lookup.
//! - [`Target`]s, what a rule routes to. Every kind implements [`RouteTarget`] and receives
//!   the same message, the protocol's [`HttpRequestMessage`](cyclone_protocol::server::HttpRequestMessage)
//!   (the request, its [`PathArgs`], its writer), so any target can forward it to another
//!   ([`Forward`]):
//!   - [`handler`] / [`handler_with`]: a [`RequestHandler`] type; each request makes a fresh
//!     handler (the factory closure is Tornado's `initialize`), run on the connection's own
//!     loop with no mailbox hop, with an address of its own while it runs
//!     ([`RequestContext::recipient`]);
//!   - [`function`]: an async closure;
//!   - [`actor`]: one long-lived actor on any thread; [`per_worker`]: one actor per worker,
//!     on the connection's own thread; actors compose by forwarding the message (see
//!     `examples/composition.rs`);
//!   - [`blocking::blocking`]: a synchronous function on the blocking pool (Tornado's
//!     `WSGIContainer` role);
//!   - [`fallback`]: any `HttpService` (Tornado's `FallbackHandler`); [`redirect`]
//!     (`RedirectHandler`); [`ErrorHandler`]; a nested [`Router`] or [`Application`];
//!   - a kind of your own: implement [`RouteTarget`], wrap it with [`Target::new`].
//! - [`RequestContext`]: a request's state, passed to every handler method: the request,
//!   `set_status`, `set_header`, `write` / `write_json`, `flush` (streams chunked), `finish`,
//!   `redirect`, arguments, files, cookies, signed cookies ([`signed`]), XSRF, `current_user`
//!   and [`authenticated`](RequestContext::authenticated), [`addslash`](RequestContext::addslash) /
//!   [`removeslash`](RequestContext::removeslash), ETags.
//! - [`HttpError`]: Tornado's `HTTPError`, returned with `?`; the handler's `write_error`
//!   renders it.
//! - [`websocket`](mod@websocket): Tornado's `WebSocketHandler` ([`WebSocketHandler`]) and its route
//!   target [`websocket()`]; the connection is an actor with a cloneable handle.
//! - [`template`]: Tornado's `tornado.template` on minijinja:
//!   [`render`](RequestContext::render) / [`render_string`](RequestContext::render_string),
//!   the [`TemplateLoader`], [UI modules](UiModule) and ui methods (guide: `docs/templates.md`).
//! - [`static_files`]: Tornado's [`StaticFileHandler`], mounted for `static_path`, and
//!   [`static_url`](RequestContext::static_url) (guide: `docs/static.md`).
//! - [`escape`]: Tornado's `tornado.escape`.
//! - [`auth`]: Tornado's `tornado.auth`: OAuth 2.0 logins (Google, GitHub, Facebook) and
//!   OAuth 1.0a signing (guide: `docs/auth.md`).
//! - [`locale`]: Tornado's `tornado.locale`: CSV and gettext catalogs, plural forms and
//!   contexts, dates and numbers as Tornado words them, the request's locale from
//!   `Accept-Language` (guide: `docs/locale.md`).
//! - [`tower_bridge`]: an [`Application`] is a `tower::Service`; any `tower::Service` (an axum
//!   `Router`, tower-http middleware) is a route target or wraps the application.
//! - [`testing`]: a [`TestServer`](testing::TestServer) on `127.0.0.1:0` with a client.
//!
//! # Example
//!
//! ```
//! use cyclone_web::{Application, HttpError, RequestContext, RequestHandler, handler, url};
//! use cyclone_web::testing::TestServer;
//!
//! #[derive(Default)]
//! struct MainHandler;
//!
//! impl RequestHandler for MainHandler {
//!     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
//!         cx.write("Hello, world");
//!         Ok(())
//!     }
//! }
//!
//! actix_rt::System::new().block_on(async {
//!     let app = Application::new([url("/", handler::<MainHandler>())]).unwrap();
//!     // In a program: app.listen(8888)?.serve_until_signal(timeout).await
//!     let server = TestServer::start(app).unwrap();
//!     let response = server.fetch("/").await.unwrap();
//!     assert_eq!(response.code, 200);
//!     assert_eq!(response.body.as_ref(), b"Hello, world");
//! });
//! ```
//!
//! # Limits and defaults
//!
//! | What | Default | Where |
//! |---|---|---|
//! | request head, body, timeouts, connections | see `cyclone::httpserver` | the `HttpServer` |
//! | gzip threshold with `compress_response` (whole answers; flushed ones always) | 1 KiB, level 6 | [`compress::GZIP_MIN_LENGTH`] |
//! | signed cookie lifetime (read) | 31 days | [`signed::DEFAULT_MAX_AGE_DAYS`] |
//! | signed cookie expiry (set) | 30 days | [`signed::DEFAULT_SIGNED_COOKIE_EXPIRES_DAYS`] |
//! | WebSocket message size | 10 MiB | [`Settings::websocket_max_message_size`] |
//! | cross-origin protection of unsafe methods (Tornado 6.6) | off; always on for WebSocket upgrades | [`Settings::cross_origin_protection`], [`Settings::trusted_origins`] |
//! | XSRF token format | version 2 (masked per page) | [`Settings::xsrf_cookie_version`] |
//! | compiled templates kept | yes; no with `debug` | [`Settings::compiled_template_cache`] |
//! | static file read chunk (and whole-answer size) | 64 KiB | [`static_files::DEFAULT_STATIC_CHUNK_SIZE`] |
//! | `Cache-Control` of `?v=` static URLs | one year, immutable | [`static_files::DEFAULT_STATIC_CACHE_MAX_AGE`] |
//! | test fetch timeout | 10 s | [`testing::TEST_REQUEST_TIMEOUT`] |
//!
//! # Panics and cancellation
//!
//! A handler that panics answers 500, rendered by its `write_error` as Tornado renders an
//! uncaught exception (the default page shows the panic message only with `debug` /
//! `serve_traceback`), is logged, and its connection and server go on. After a `flush` the
//! head is gone: a panic or error then cuts the response (the connection closes). If the
//! client leaves mid-request, the handler's future is dropped at its next `.await` and
//! `on_connection_close` runs.
//!
//! The guide is `docs/web.md`.

#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![deny(unsafe_code)]

pub mod access_log;
mod actors;
mod app;
mod application;
mod arguments;
pub mod auth;
mod authenticated;
pub mod blocking;
mod builtin;
pub mod compress;
mod cookies;
mod errors;
pub mod escape;
mod etag;
mod handler;
pub mod locale;
mod origin;
pub mod rooms;
mod routing;
mod settings;
pub mod signed;
mod slash;
pub mod static_files;
mod target;
pub mod template;
pub mod testing;
pub mod tower_bridge;
mod transform;
mod urljoin;
pub mod websocket;
mod xsrf;

/// Entry points into private code for cyclone's fuzz targets (`fuzz/`), so that they test the
/// code the server runs: not part of the API, left out of the documentation, and free to
/// change in any release.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::xsrf::{decode_xsrf_token, encode_xsrf_token, xsrf_tokens_match};
}

pub use actors::{Ask, DEFAULT_ASK_TIMEOUT, StateActor, StateAddr};
pub use app::AppContext;
pub use application::{Application, Dispatch};
pub use builtin::{ErrorHandler, RedirectHandler, fallback, redirect};
pub use cookies::CookieOptions;
/// A response's `ETag`, what [`RequestHandler::compute_etag`] returns.
pub use cyclone_protocol::server::EntityTag;
pub use errors::{HttpError, MissingArgumentError, html_escape};
pub use handler::{
    BaseHandler, DEFAULT_SUPPORTED_METHODS, HANDLER_INBOX_CAPACITY, HandlerResult, RequestContext,
    RequestHandler, handler, handler_with,
};
pub use routing::{PathArgError, PathArgs, RouteError, Router, Rule, url};
pub use settings::{
    CookieSecret, DEFAULT_SERVER_HEADER, DEFAULT_STATIC_URL_PREFIX,
    DEFAULT_WEBSOCKET_MAX_MESSAGE_SIZE, DEFAULT_XSRF_COOKIE_NAME, HeaderFieldError, Settings,
};
pub use static_files::{StaticFileHandler, StaticFileOptions};
pub use target::{Forward, RouteTarget, Target, Work, actor, function, per_worker, service};
pub use template::{TemplateError, TemplateLoader, UiModule};
pub use transform::{OutputTransform, TransformFactory};
pub use urljoin::{RedirectUrlError, urljoin};
pub use websocket::{WebSocketHandler, websocket, websocket_with};
pub use xsrf::XsrfCookieVersion;
