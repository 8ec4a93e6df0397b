//! The upgrade: checks an upgrade request (version 13 only, origin), lets the handler choose a
//! subprotocol and compression, answers 101 through [`Reply::upgrade`], and starts the
//! connection actor running the handler on the same loop.

use bytes::Bytes;
use cyclone_protocol::server::{HttpResponse, HttpServerRequest, Reply, Upgraded};
use cyclone_protocol::websocket::{
    CloseFrame, HandshakeError, Message, Role, ServerHandshake, Session, WebSocketConfig,
    WebSocketService, start_connection,
};
use futures::future::LocalBoxFuture;
use http::StatusCode;
use http::header::{HeaderValue, SEC_WEBSOCKET_VERSION};

use super::handler::{UpgradeRequest, WebSocketContext, WebSocketHandler};
use crate::errors::error_response;
use crate::routing::PathArgs;
use crate::settings::Settings;

/// The connection settings a route gets from the application's [`Settings`]: its
/// `websocket_config` (the protocol's defaults without one), with `websocket_max_message_size`,
/// `websocket_ping_interval` and `websocket_ping_timeout` on top where they are set.
pub fn config_from_settings(settings: &Settings) -> WebSocketConfig {
    let mut config = settings.websocket_config.clone().unwrap_or_default();
    if let Some(bytes) = settings.websocket_max_message_size {
        config = config.max_message_size(bytes);
    }
    if settings.websocket_ping_interval.is_some() {
        config = config.ping_interval(settings.websocket_ping_interval);
    }
    if let Some(timeout) = settings.websocket_ping_timeout_or_default() {
        config = config.ping_timeout(timeout);
    }
    config
}

/// Answers an upgrade request with `handler`, outside an [`Application`](crate::Application)
/// (a bare `HttpServer` service, as `examples/bench_server.rs`): the same checks and answers
/// as a [`websocket`](super::websocket) route, with `args` for `open` and `config` for the
/// connection (its compression is replaced by the handler's `get_compression_options`).
///
/// | Request | Answer |
/// |---|---|
/// | refused by the handler's `prepare` (seeing default [`Settings`]) | the error's status and page |
/// | not GET, not `Upgrade: websocket` / `Connection: upgrade`, bad key | 400 |
/// | over HTTP/2: not CONNECT with `:protocol websocket` (RFC 8441) | 400 |
/// | `Sec-WebSocket-Version` other than 13 | 426 with `Sec-WebSocket-Version: 13` (400 over HTTP/2) |
/// | `Origin` refused by `check_origin` | 403 |
/// | accepted | 101 (200 over HTTP/2), then the connection actor runs `handler` |
pub fn upgrade<H: WebSocketHandler>(
    request: HttpServerRequest,
    handler: H,
    args: PathArgs,
    config: WebSocketConfig,
) -> Reply {
    upgrade_with_status(request, handler, args, config, &Settings::default()).1
}

/// [`upgrade`], also returning the status answered (for the access log).
pub(crate) fn upgrade_with_status<H: WebSocketHandler>(
    request: HttpServerRequest,
    mut handler: H,
    args: PathArgs,
    config: WebSocketConfig,
    settings: &Settings,
) -> (StatusCode, Reply) {
    // Tornado runs `prepare` before `get`, which is where a WebSocketHandler checks the
    // handshake: a visitor who may not connect learns that first.
    if let Err(error) = handler.prepare(&UpgradeRequest::new(&request, &args, settings)) {
        tracing::debug!(%error, "websocket upgrade refused by prepare");
        let refusal = error_response(&error, settings.serve_traceback_enabled());
        return (refusal.status(), refusal.into());
    }
    // An HTTP/1.1 upgrade, or an HTTP/2 extended CONNECT (RFC 8441): the same handler either way.
    let handshake = match ServerHandshake::from_head(request.head()) {
        Ok(handshake) => handshake,
        Err(error) => {
            let refusal = refusal(&error);
            return (refusal.status(), refusal.into());
        }
    };
    // Browsers let any page open a WebSocket, so the cross-origin check is always on here
    // (Tornado 6.6), with the handler's `check_origin` for origins that look foreign.
    if let Some(refusal) =
        crate::origin::cross_origin_error(&request, |origin| handler.check_origin(origin, &request))
    {
        tracing::debug!("Cross origin websockets not allowed: {refusal}");
        let forbidden =
            HttpResponse::new(StatusCode::FORBIDDEN).text("Cross origin websockets not allowed");
        return (StatusCode::FORBIDDEN, forbidden.into());
    }
    let subprotocol = handler.select_subprotocol(handshake.subprotocols());
    let compression = handler.get_compression_options();
    let accepted = handshake.accept(subprotocol.as_deref(), compression.as_ref());
    // 101 on HTTP/1.1; 200 on HTTP/2, after which the stream is the WebSocket's transport.
    let status = accepted.status;
    let mut response = HttpResponse::new(status);
    *response.headers_mut() = accepted.headers;
    let negotiated = accepted.negotiated;
    let config = config.compression(compression);
    let reply = Reply::upgrade(response, move |upgraded: Upgraded| {
        let service = HandlerService {
            handler,
            opening: Some((args, request)),
            subprotocol: negotiated.subprotocol.as_deref().map(Box::from),
        };
        start_connection(
            upgraded.io,
            upgraded.read_buf,
            Role::Server,
            &negotiated,
            config,
            service,
            Some(upgraded.slot),
        );
    });
    (status, reply)
}

/// The answer to a bad upgrade request: its status, and `Sec-WebSocket-Version: 13` when the
/// client asked for another version.
fn refusal(error: &HandshakeError) -> HttpResponse {
    let status = error.status();
    let mut response = HttpResponse::new(status).text(error.to_string());
    if error.wants_version_field() {
        response = response.header(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    }
    response
}

/// Runs a [`WebSocketHandler`] as the connection actor's service.
struct HandlerService<H> {
    /// The application's handler.
    handler: H,
    /// The route's groups and the upgrade request, until `open` has seen them (then freed:
    /// an idle connection should hold no request head).
    opening: Option<(PathArgs, HttpServerRequest)>,
    /// The subprotocol the handshake agreed on, for every callback's context.
    subprotocol: Option<Box<str>>,
}

impl<H: WebSocketHandler> WebSocketService for HandlerService<H> {
    fn on_open(&mut self, session: &mut Session<'_>) {
        if let Some((args, request)) = self.opening.take() {
            let mut cx = WebSocketContext::new(session, self.subprotocol.as_deref());
            self.handler.open(&mut cx, &args, &request);
            // Tornado's coroutine `open`: no message is read until its work is done.
            if let Some(work) = cx.paused.take() {
                session.pause(work);
            }
        }
    }

    fn on_message(
        &mut self,
        message: Message,
        session: &mut Session<'_>,
    ) -> Option<LocalBoxFuture<'static, ()>> {
        let mut cx = WebSocketContext::new(session, self.subprotocol.as_deref());
        self.handler.on_message(&mut cx, message);
        cx.paused.take()
    }

    fn on_ping(&mut self, data: &Bytes, session: &mut Session<'_>) {
        let mut cx = WebSocketContext::new(session, self.subprotocol.as_deref());
        self.handler.on_ping(&mut cx, data);
        if let Some(work) = cx.paused.take() {
            session.pause(work);
        }
    }

    fn on_pong(&mut self, data: &Bytes, session: &mut Session<'_>) {
        let mut cx = WebSocketContext::new(session, self.subprotocol.as_deref());
        self.handler.on_pong(&mut cx, data);
        if let Some(work) = cx.paused.take() {
            session.pause(work);
        }
    }

    fn on_close(&mut self, close: Option<&CloseFrame>) {
        self.handler.on_close(
            close.map(|frame| frame.code),
            close.map(|frame| frame.reason.as_str()),
        );
    }
}
