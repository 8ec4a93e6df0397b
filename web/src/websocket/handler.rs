//! [`WebSocketHandler`]: Tornado's `WebSocketHandler` callbacks, and the
//! [`WebSocketContext`] they get to write, close and take a handle.

use std::any::Any;
use std::future::Future;

use crate::app::AppContext;
use crate::errors::HttpError;
use crate::routing::PathArgs;
use crate::settings::Settings;
use crate::signed::{SignedValueVersion, verified_cookie};
use bytes::Bytes;
use cyclone_protocol::server::HttpServerRequest;
use cyclone_protocol::websocket::{CloseCode, DeflateConfig, Flushed, Message, Session, WebSocket};
use futures::future::LocalBoxFuture;

/// A Tornado-style WebSocket handler: one value per connection, made by the rule's factory when
/// the upgrade request arrives (on the connection's loop; it moves into the connection's actor
/// with the switch, hence `Send`). The handshake methods (`check_origin`, `select_subprotocol`,
/// `get_compression_options`) run on the request; after the 101 the other methods run inside
/// the connection's actor, on the connection's own loop, one at a time.
///
/// ```
/// use cyclone_web::websocket::{Message, WebSocketContext, WebSocketHandler};
///
/// /// Echoes every message back.
/// #[derive(Default)]
/// struct EchoHandler;
///
/// impl WebSocketHandler for EchoHandler {
///     fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
///         // Read the next message only once this one is on the wire (backpressure).
///         let flushed = cx.write_message(message);
///         cx.wait_for(flushed);
///     }
/// }
/// ```
pub trait WebSocketHandler: Send + 'static {
    /// Runs first on the upgrade request, before any handshake check (Tornado's `prepare`,
    /// where `get_current_user` and `@authenticated` act on a `WebSocketHandler`). Return an
    /// error to answer with its status and the default error page instead of upgrading: 401
    /// or 403 for a visitor without a valid login cookie, say. Keep what `open` needs (the
    /// user) in `self`. Default accepts.
    ///
    /// ```
    /// use cyclone_web::HttpError;
    /// use cyclone_web::websocket::{
    ///     Message, UpgradeRequest, WebSocketContext, WebSocketHandler,
    /// };
    /// use http::StatusCode;
    ///
    /// /// Only for visitors with a signed `user` cookie.
    /// #[derive(Default)]
    /// struct Members {
    ///     user: String,
    /// }
    ///
    /// impl WebSocketHandler for Members {
    ///     fn prepare(&mut self, upgrade: &UpgradeRequest<'_>) -> Result<(), HttpError> {
    ///         let user = upgrade.get_signed_cookie("user");
    ///         self.user = user.ok_or(HttpError::new(StatusCode::UNAUTHORIZED))?;
    ///         Ok(())
    ///     }
    ///
    ///     fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
    ///         if let Message::Text(text) = message {
    ///             cx.write_message(Message::text(format!("{}: {text}", self.user)));
    ///         }
    ///     }
    /// }
    /// ```
    fn prepare(&mut self, upgrade: &UpgradeRequest<'_>) -> Result<(), HttpError> {
        let _ = upgrade;
        Ok(())
    }

    /// Whether a browser page from `origin`, another site's, may connect (Tornado 6.6's
    /// `check_origin`); refused requests are answered 403.
    ///
    /// Called only for requests that look cross-origin, by Tornado 6.6's rule (always on for
    /// WebSockets, which browsers let any page open): not when `Sec-Fetch-Site` says
    /// `same-origin` (or `none`), not when, without `Sec-Fetch-Site`, the `Origin`'s host and
    /// port equal `Host`, and not for clients that send no `Origin` (not browsers). A
    /// `Sec-Fetch-Site` of `cross-site` or `same-site` without an `Origin` is refused
    /// outright. Default: `origin` is one of the application's `trusted_origins`.
    fn check_origin(&self, origin: &str, request: &HttpServerRequest) -> bool {
        request
            .app_data::<AppContext>()
            .is_some_and(|app| crate::origin::is_trusted(app.settings(), origin))
    }

    /// Picks one of the subprotocols the client offered (most preferred first), or none
    /// (Tornado's `select_subprotocol`). A name that was not offered is ignored. Default none.
    fn select_subprotocol(&mut self, subprotocols: &[String]) -> Option<String> {
        let _ = subprotocols;
        None
    }

    /// permessage-deflate settings, or `None` to leave compression off (Tornado's
    /// `get_compression_options`); it is on only when the client offers it too. Each
    /// compressed connection costs up to the config's memory budget (320 KiB by default,
    /// see `docs/websocket.md`). Default `None`.
    fn get_compression_options(&self) -> Option<DeflateConfig> {
        None
    }

    /// The connection is open (Tornado's `open(*args)`): `args` are the route's groups,
    /// `request` the upgrade request (keep what you need from it: it is dropped after `open`).
    /// Default does nothing.
    fn open(
        &mut self,
        cx: &mut WebSocketContext<'_>,
        args: &PathArgs,
        request: &HttpServerRequest,
    ) {
        let _ = (cx, args, request);
    }

    /// A text or binary message arrived (Tornado's `on_message`). To stop reading until
    /// some work is done (Tornado's coroutine `on_message`), pass it to
    /// [`WebSocketContext::wait_for`].
    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message);

    /// A ping arrived; the pong is already queued. Default does nothing.
    fn on_ping(&mut self, cx: &mut WebSocketContext<'_>, data: &Bytes) {
        let _ = (cx, data);
    }

    /// A pong arrived (Tornado's `on_pong`). Default does nothing.
    fn on_pong(&mut self, cx: &mut WebSocketContext<'_>, data: &Bytes) {
        let _ = (cx, data);
    }

    /// The connection is gone (Tornado's `on_close`), called exactly once whatever ended it.
    /// `close_code` and `close_reason` are the peer's close frame (Tornado's `close_code` /
    /// `close_reason`), `None` when it sent none (it dropped the socket, was too slow, or
    /// the server closed it).
    fn on_close(&mut self, close_code: Option<CloseCode>, close_reason: Option<&str>) {
        let _ = (close_code, close_reason);
    }
}

/// The upgrade request as [`WebSocketHandler::prepare`] sees it: the request, the route's
/// groups, the application's settings, and the request's cookies, signed ones included.
#[derive(Debug)]
pub struct UpgradeRequest<'a> {
    /// The upgrade request.
    request: &'a HttpServerRequest,
    /// The route's groups.
    args: &'a PathArgs,
    /// The application's settings (defaults outside an application).
    settings: &'a Settings,
}

impl<'a> UpgradeRequest<'a> {
    pub(crate) fn new(
        request: &'a HttpServerRequest,
        args: &'a PathArgs,
        settings: &'a Settings,
    ) -> Self {
        UpgradeRequest {
            request,
            args,
            settings,
        }
    }

    /// The upgrade request: headers, query arguments, remote address.
    pub fn request(&self) -> &HttpServerRequest {
        self.request
    }

    /// The route's groups (what `open` gets too).
    pub fn path_args(&self) -> &PathArgs {
        self.args
    }

    /// The application's settings; outside an [`Application`](crate::Application) (the bare
    /// [`upgrade`](super::upgrade) function), the defaults.
    pub fn settings(&self) -> &Settings {
        self.settings
    }

    /// The request's cookie `name`, if it sent one.
    pub fn get_cookie(&self, name: &str) -> Option<&str> {
        self.request.cookie(name)
    }

    /// The verified value of signed cookie `name` (Tornado's `get_signed_cookie`, as
    /// [`RequestContext::get_signed_cookie`](crate::RequestContext::get_signed_cookie)):
    /// `None` when absent, forged, older than 31 days
    /// ([`DEFAULT_MAX_AGE_DAYS`](crate::signed::DEFAULT_MAX_AGE_DAYS)), not UTF-8, or without
    /// a `cookie_secret` setting.
    pub fn get_signed_cookie(&self, name: &str) -> Option<String> {
        self.get_signed_cookie_with(name, crate::signed::DEFAULT_MAX_AGE_DAYS)
    }

    /// [`get_signed_cookie`](Self::get_signed_cookie) with another maximum age.
    pub fn get_signed_cookie_with(&self, name: &str, max_age_days: f64) -> Option<String> {
        verified_cookie(
            self.settings,
            name,
            self.get_cookie(name)?,
            max_age_days,
            SignedValueVersion::V2,
        )
    }
}

/// A handler's view of its connection during one callback (Tornado's `self` in a handler
/// method): write to the peer directly (no mailbox hop), ping, close, pause reading, or take a
/// cloneable [`WebSocket`] handle for other actors (rooms keep one per member).
pub struct WebSocketContext<'a> {
    /// The protocol connection's session for this callback (behind a trait object so one
    /// lifetime names both the borrow and the session).
    session: &'a mut (dyn SessionOps + 'a),
    /// Set by `wait_for`: reading stops until it completes.
    pub(crate) paused: Option<LocalBoxFuture<'static, ()>>,
    /// The subprotocol the handshake agreed on.
    subprotocol: Option<&'a str>,
}

impl std::fmt::Debug for WebSocketContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketContext")
            .field("compressed", &self.session.is_compressed())
            .field("paused", &self.paused.is_some())
            .field("subprotocol", &self.subprotocol)
            .finish()
    }
}

impl<'a> WebSocketContext<'a> {
    pub(crate) fn new(
        session: &'a mut (dyn SessionOps + 'a),
        subprotocol: Option<&'a str>,
    ) -> Self {
        WebSocketContext {
            session,
            paused: None,
            subprotocol,
        }
    }

    /// The subprotocol agreed on in the handshake (what
    /// [`select_subprotocol`](WebSocketHandler::select_subprotocol) chose from the client's
    /// offer), if any: Tornado's `selected_subprotocol`.
    pub fn selected_subprotocol(&self) -> Option<&str> {
        self.subprotocol
    }

    /// Sends `message` (text or binary; Tornado's `write_message`). The returned future
    /// resolves once the frame has been written to the socket (or fails if the connection
    /// closed first); await it, or give it to [`wait_for`](Self::wait_for), for
    /// backpressure, or drop it.
    pub fn write_message(&mut self, message: Message) -> Flushed {
        self.session.write_message(message)
    }

    /// Sends a ping with `data` (cut to 125 bytes; Tornado's `ping`).
    pub fn ping(&mut self, data: impl Into<Bytes>) {
        let mut data: Bytes = data.into();
        data.truncate(125);
        self.session.send(Message::Ping(data));
    }

    /// Starts the close handshake with `code` and `reason` (Tornado's `close`); `on_close`
    /// follows once the peer answers or the close timeout passes.
    pub fn close(&mut self, code: CloseCode, reason: impl Into<String>) {
        self.session.close(code, reason.into());
    }

    /// Stops reading from the peer until `work` completes (Tornado's coroutine
    /// `on_message`): a slow consumer slows its producer instead of queueing. A second call
    /// in the same callback waits for both.
    pub fn wait_for<F: Future + 'static>(&mut self, work: F) {
        // The usual wait, for this connection's own write, is a counter compare in the
        // connection: no boxed future per message.
        let mut work = Some(work);
        if let Some(flushed) = (&mut work as &mut dyn Any)
            .downcast_mut::<Option<Flushed>>()
            .and_then(Option::take)
        {
            self.session.pause_until(flushed);
            return;
        }
        let Some(work) = work else {
            return;
        };
        let work = async move {
            work.await;
        };
        self.paused = Some(match self.paused.take() {
            None => Box::pin(work),
            Some(earlier) => Box::pin(async move {
                earlier.await;
                work.await;
            }),
        });
    }

    /// A cloneable, `Send` handle on this connection: any actor on any thread writes to the
    /// peer through it (through the connection's bounded mailbox).
    pub fn handle(&self) -> WebSocket {
        self.session.handle()
    }

    /// Whether permessage-deflate was negotiated.
    pub fn is_compressed(&self) -> bool {
        self.session.is_compressed()
    }

    /// Bytes queued for the peer and not yet written.
    pub fn write_queue_len(&self) -> usize {
        self.session.write_queue_len()
    }
}

/// What a context needs from the protocol's [`Session`].
pub(crate) trait SessionOps {
    fn write_message(&mut self, message: Message) -> Flushed;
    fn send(&mut self, message: Message);
    fn pause_until(&mut self, flushed: Flushed);
    fn close(&mut self, code: CloseCode, reason: String);
    fn handle(&self) -> WebSocket;
    fn is_compressed(&self) -> bool;
    fn write_queue_len(&self) -> usize;
}

impl SessionOps for Session<'_> {
    fn write_message(&mut self, message: Message) -> Flushed {
        Session::write_message(self, message)
    }

    fn send(&mut self, message: Message) {
        Session::send(self, message);
    }

    fn pause_until(&mut self, flushed: Flushed) {
        Session::pause_until(self, flushed);
    }

    fn close(&mut self, code: CloseCode, reason: String) {
        Session::close(self, code, reason);
    }

    fn handle(&self) -> WebSocket {
        Session::handle(self)
    }

    fn is_compressed(&self) -> bool {
        Session::is_compressed(self)
    }

    fn write_queue_len(&self) -> usize {
        Session::write_queue_len(self)
    }
}
