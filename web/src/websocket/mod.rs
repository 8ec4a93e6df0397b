//! Tornado's `tornado.websocket` server side: the [`WebSocketHandler`] trait and the
//! [`websocket`] routing target.
//!
//! A `websocket::<H>()` rule checks the upgrade request (RFC 6455, version 13 only), asks the
//! handler about the origin, subprotocol and compression, answers `101 Switching Protocols`,
//! and then the connection's actor *is* the WebSocket actor: it owns the socket, runs `H`'s
//! callbacks on the connection's own loop, and hands out a cloneable, `Send`
//! [`WebSocket`] handle through which any actor on any thread writes to the peer (that is
//! how rooms broadcast). The protocol itself (frames, close codes, permessage-deflate, the
//! connection actor) is `cyclone_protocol::websocket`; the guide is `docs/websocket.md`.
//!
//! | Request | Answer |
//! |---|---|
//! | refused by [`prepare`](WebSocketHandler::prepare) (no valid login cookie, say) | the error's status and page |
//! | not GET, missing `Upgrade: websocket` / `Connection: upgrade`, bad `Sec-WebSocket-Key` | 400 |
//! | `Sec-WebSocket-Version` other than 13 | 426 with `Sec-WebSocket-Version: 13` |
//! | `Origin` refused by [`check_origin`](WebSocketHandler::check_origin) (same origin by default) | 403 |
//! | accepted | 101, then `open` |
//!
//! Over HTTP/2 the same rule serves a WebSocket opened as an extended CONNECT (RFC 8441,
//! `:protocol websocket`; browsers use it for `wss://` on a connection they already hold): the
//! same checks and callbacks, answered `200` instead of 101 (a wrong version `400`, since
//! HTTP/2 cannot send 426's `Upgrade` field), and the WebSocket actor then owns that stream
//! as it owns a socket; `request.version()` in `open` says which. See `docs/http2.md`.
//!
//! The application's [`Settings`](crate::Settings) give every connection its
//! `websocket_max_message_size` (10 MiB; a bigger message is closed with 1009),
//! `websocket_ping_interval` (off) and `websocket_ping_timeout`; see [`config_from_settings`].
//!
//! ```
//! use cyclone_web::websocket::{Message, WebSocketContext, WebSocketHandler, websocket};
//! use cyclone_web::{Application, url};
//! use cyclone_web::testing::TestServer;
//!
//! #[derive(Default)]
//! struct EchoHandler;
//!
//! impl WebSocketHandler for EchoHandler {
//!     fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
//!         cx.write_message(message);
//!     }
//! }
//!
//! actix_rt::System::new().block_on(async {
//!     let app = Application::new([url("/ws", websocket::<EchoHandler>())]).unwrap();
//!     let server = TestServer::start(app).unwrap();
//!     let mut client = server.websocket_connect("/ws").await.unwrap();
//!     client.write_message(Message::text("hello")).await.unwrap();
//!     assert_eq!(client.read_message().await, Some(Message::text("hello")));
//! });
//! ```

mod handler;
mod json;
mod upgrade;

use std::borrow::Cow;
use std::marker::PhantomData;

use cyclone_protocol::server::HttpRequestMessage;

pub use cyclone_protocol::websocket::{
    CloseCode, CloseFrame, DeflateConfig, Flushed, Message, Utf8Bytes, WebSocket, WebSocketConfig,
    WebSocketError,
};
pub use handler::{UpgradeRequest, WebSocketContext, WebSocketHandler};
pub use upgrade::{config_from_settings, upgrade};

use crate::access_log::{AccessLogEntry, log_request};
use crate::app::AppContext;
use crate::target::{RouteTarget, Target, Work};

/// A WebSocket route: a [`WebSocketHandler`] made with `Default` for each connection
/// (Tornado's `(r"/ws", EchoWebSocket)` rule).
pub fn websocket<H: WebSocketHandler + Default>() -> Target {
    websocket_with(H::default)
}

/// A WebSocket route whose handlers `factory` makes, one per connection: the closure is
/// Tornado's `initialize(**kwargs)` (capture a room's address, say).
pub fn websocket_with<H, F>(factory: F) -> Target
where
    H: WebSocketHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    Target::new(WebSocketTarget {
        factory,
        _handler: PhantomData,
    })
}

/// Makes a route's handlers.
struct WebSocketTarget<H, F> {
    /// The rule's factory.
    factory: F,
    /// The factory makes `H`s.
    _handler: PhantomData<fn() -> H>,
}

impl<H, F> RouteTarget for WebSocketTarget<H, F>
where
    H: WebSocketHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    fn deliver(&self, message: HttpRequestMessage, app: &AppContext) -> Option<Work> {
        let HttpRequestMessage {
            request,
            path_args,
            writer,
        } = message;
        let settings = app.settings();
        let method = request.method().clone();
        let uri = request.uri().clone();
        let remote_ip = request.remote_ip();
        let request_time = request.request_time();
        let (status, reply) = upgrade::upgrade_with_status(
            request,
            (self.factory)(),
            path_args,
            config_from_settings(settings),
            settings,
        );
        // Tornado logs the upgrade's answer like any request: `101 GET /ws (127.0.0.1) 0.4ms`.
        let entry = AccessLogEntry {
            status,
            method: &method,
            uri: uri.path_and_query().map_or("/", |path| path.as_str()),
            remote_ip,
            request_time,
        };
        log_request(settings.log_function.as_ref(), &entry);
        reply.send(writer);
        None
    }

    fn logs_itself(&self) -> bool {
        true
    }

    fn name(&self) -> Cow<'static, str> {
        std::any::type_name::<H>().into()
    }
}
