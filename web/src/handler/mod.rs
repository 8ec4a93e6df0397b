//! Tornado's `RequestHandler`: the [`RequestHandler`] trait a handler type implements, the
//! [`RequestContext`] each request's methods get, and how a handler runs as an actor.
//!
//! - `mod.rs` (here): the trait.
//! - `target.rs`: [`handler`] / [`handler_with`], the route target: each request message
//!   delivered there makes a fresh handler and runs it on the connection's loop.
//! - `run.rs`: one request in Tornado's `_execute` order, with its error and panic paths.
//! - `context.rs`: [`RequestContext`], the request and its answer (through the request's
//!   writer); `pieces.rs`: the written body.
//! - `inbox.rs`: the handler's mailbox: [`RequestContext::recipient`] and
//!   [`RequestContext::receive`].

mod base;
mod context;
mod inbox;
mod methods_seen;
mod pieces;
mod run;
mod target;
mod verb;

use bytes::Bytes;
use http::Method;

pub use base::{BaseHandler, SharedBase};
pub use context::RequestContext;
pub(crate) use cyclone_actors::panics::panic_message;
pub use inbox::HANDLER_INBOX_CAPACITY;
pub use target::{handler, handler_with};

use crate::errors::HttpError;

/// Tornado's `SUPPORTED_METHODS`: the methods a handler may implement.
pub const DEFAULT_SUPPORTED_METHODS: &[Method] = &[
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::DELETE,
    Method::PATCH,
    Method::PUT,
    Method::OPTIONS,
];

/// What handler methods return: `Ok` when done (the response is finished for you), or an
/// [`HttpError`] for an error page (or Tornado's `Finish`).
pub type HandlerResult = Result<(), HttpError>;

/// A Tornado-style request handler, and an actor: each request routed to it arrives as a
/// message that makes a fresh value (by the rule's factory, Tornado's `initialize`), which
/// owns its state, runs the request on the connection's own loop (delivery is a call, not a
/// mailbox hop), and, while it runs, has an address other actors can send to
/// ([`RequestContext::recipient`], [`RequestContext::receive`]). Its methods get the
/// request's [`RequestContext`].
///
/// Implement the HTTP methods you answer; the others answer 405 with `Allow`. `head` answers
/// like `get` without the body unless overridden. Every method is `async`; the futures need
/// not be `Send`.
///
/// The request runs as Tornado's `_execute`: method check (405), `get_current_user`, for
/// unsafe methods the XSRF check when `xsrf_cookies` is on and the cross-origin check when
/// `cross_origin_protection` is on (403), `prepare` (which may finish the
/// request), `data_received` for each body chunk if `STREAM_REQUEST_BODY`, the method, then
/// `finish` if the method did not, then `on_finish`. An error at any step clears the response
/// and calls `write_error`. If the client leaves first, `on_connection_close` runs instead.
///
/// ```
/// use cyclone_web::{HttpError, RequestContext, RequestHandler};
///
/// #[derive(Default)]
/// struct MainHandler;
///
/// impl RequestHandler for MainHandler {
///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
///         let name = cx.get_argument_or("name", "world")?;
///         cx.write(format!("Hello, {name}"));
///         Ok(())
///     }
/// }
/// ```
#[allow(async_fn_in_trait)] // handler futures run on the connection's loop: no Send bound wanted
pub trait RequestHandler: 'static {
    /// Methods this handler accepts; any other is 405 before anything runs, and 405 answers
    /// list these in `Allow`. Default: Tornado's seven (narrow it to what you implement for
    /// an exact `Allow`).
    const SUPPORTED_METHODS: &'static [Method] = DEFAULT_SUPPORTED_METHODS;

    /// Receive the body in chunks through [`data_received`](Self::data_received) as it
    /// arrives (Tornado's `@stream_request_body`) instead of whole. Default off.
    const STREAM_REQUEST_BODY: bool = false;

    /// Check the XSRF token of unsafe methods when the `xsrf_cookies` setting is on. Default
    /// on; turn it off for an API authenticated otherwise (Tornado's overridden
    /// `check_xsrf_cookie`).
    const CHECK_XSRF_COOKIE: bool = true;

    /// Whether an unsafe request (not GET, HEAD or OPTIONS) that looks cross-origin may go
    /// on, given its `Origin` header (Tornado 6.6's `check_trusted_origin`). Called only with
    /// the `cross_origin_protection` setting, before `prepare`, and only for requests a
    /// browser marked as coming from another site (see
    /// [`Settings::cross_origin_protection`](crate::Settings::cross_origin_protection));
    /// `false` answers 403. Default: `origin` is one of the `trusted_origins` setting.
    ///
    /// Return `true` for an endpoint meant to be called from any site, if it does not rely on
    /// cookies to authenticate (or checks an XSRF token itself).
    fn check_trusted_origin(&self, origin: &str, cx: &RequestContext) -> bool {
        crate::origin::is_trusted(cx.settings(), origin)
    }

    /// The user of this request (Tornado's `get_current_user`), read through
    /// [`RequestContext::current_user`]. Called once, before `prepare`. Default: the
    /// application's [`BaseHandler`]'s answer, else none.
    fn get_current_user(&mut self, cx: &RequestContext) -> Option<String> {
        let _ = cx;
        None
    }

    /// Sets the header fields this handler's answers start with (Tornado's
    /// `set_default_headers`): called first thing for every request, after the application's
    /// [`BaseHandler`] has set its own, and again when an error page replaces the answer (the
    /// fields set before the error are cleared, these come back). Default does nothing.
    fn set_default_headers(&mut self, cx: &mut RequestContext) {
        let _ = cx;
    }

    /// Runs before the method; finish the request here (or return an error) to skip it.
    async fn prepare(&mut self, cx: &mut RequestContext) -> HandlerResult {
        let _ = cx;
        Ok(())
    }

    /// One chunk of a streamed body (with `STREAM_REQUEST_BODY`), after `prepare`.
    async fn data_received(&mut self, cx: &mut RequestContext, chunk: Bytes) -> HandlerResult {
        let _ = (cx, chunk);
        Ok(())
    }

    /// Answers GET.
    async fn get(&mut self, cx: &mut RequestContext) -> HandlerResult {
        let _ = cx;
        Err(HttpError::unimplemented_method())
    }

    /// Answers HEAD; by default as GET, the body left unsent.
    async fn head(&mut self, cx: &mut RequestContext) -> HandlerResult {
        self.get(cx).await
    }

    /// Answers POST.
    async fn post(&mut self, cx: &mut RequestContext) -> HandlerResult {
        let _ = cx;
        Err(HttpError::unimplemented_method())
    }

    /// Answers PUT.
    async fn put(&mut self, cx: &mut RequestContext) -> HandlerResult {
        let _ = cx;
        Err(HttpError::unimplemented_method())
    }

    /// Answers DELETE.
    async fn delete(&mut self, cx: &mut RequestContext) -> HandlerResult {
        let _ = cx;
        Err(HttpError::unimplemented_method())
    }

    /// Answers PATCH.
    async fn patch(&mut self, cx: &mut RequestContext) -> HandlerResult {
        let _ = cx;
        Err(HttpError::unimplemented_method())
    }

    /// Answers OPTIONS.
    async fn options(&mut self, cx: &mut RequestContext) -> HandlerResult {
        let _ = cx;
        Err(HttpError::unimplemented_method())
    }

    /// Writes the error page for `error` (status already set, response cleared). Default: the
    /// application's [`BaseHandler`]'s page, else Tornado's small HTML page, or with
    /// `serve_traceback` the internal error's message.
    fn write_error(&mut self, cx: &mut RequestContext, error: &HttpError) {
        cx.write_error_page(error);
    }

    /// The response's ETag, or `None` for no ETag, computed at finish for 200 answers to GET
    /// and HEAD (a matching `If-None-Match` turns them into 304). Default: the XXH3-64 of the
    /// body (Tornado uses SHA-1; see [`default_etag`](RequestContext::default_etag) for why).
    /// An associated function (no `self`) because `finish` may be called from inside a method.
    ///
    /// Tornado's `compute_etag` returns the quoted string; here it is an
    /// [`EntityTag`](crate::EntityTag), made with `EntityTag::new("\"...\"").ok()` (a short
    /// tag is held without allocating).
    fn compute_etag(cx: &RequestContext) -> Option<crate::EntityTag>
    where
        Self: Sized,
    {
        Some(cx.default_etag())
    }

    /// Runs after the response is finished (Tornado's `on_finish`): clean-up, metrics.
    fn on_finish(&mut self, cx: &RequestContext) {
        let _ = cx;
    }

    /// Runs when the client leaves before the response is finished (Tornado's
    /// `on_connection_close`): the method's future has been dropped.
    fn on_connection_close(&mut self) {}
}
