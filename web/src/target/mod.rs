//! [`Target`]: what a rule routes to, and [`RouteTarget`], the trait every kind of target
//! implements: a `RequestHandler` type, an async function, an actor (shared, or one per
//! worker), a mounted service, a blocking function, a WebSocket handler, or a nested
//! [`Router`](crate::Router). An extension adds a kind by implementing the trait.
//!
//! Every kind receives the same message, [`HttpRequestMessage`] (the request, its path
//! arguments, its writer), so any target can forward it to any other: an auth actor passes it
//! on to a rate limiter, which passes it on to a handler.
//!
//! - `mod.rs` (here): the trait and [`Target`].
//! - `function.rs`: [`function`]; `service.rs`: [`service`]; `actor.rs`: [`actor`],
//!   [`per_worker`] and [`Forward`]; `work.rs`: [`Work`], in blocks each thread recycles (the
//!   crate's one `unsafe` module).

mod actor;
mod function;
mod service;
pub(crate) mod work;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use cyclone_protocol::server::{HttpRequestMessage, HttpServerRequest};

use crate::app::AppContext;

pub use actor::{Forward, actor, per_worker};
pub use function::function;
pub use service::service;
pub use work::Work;
pub(crate) use work::work_in_place;

/// A kind of route target: it takes the request messages a rule routes to it.
///
/// `deliver` runs on the connection's loop, when the request arrives (its body is complete,
/// or with [`stream_request_body`](Self::stream_request_body), its head). The target answers
/// through `message.writer`, now, from the [`Work`] it returns, or from wherever it forwards
/// the message (an actor's mailbox). Dropping the writer unanswered answers 500.
///
/// ```
/// use std::borrow::Cow;
/// use cyclone_protocol::server::{HttpRequestMessage, HttpResponse};
/// use cyclone_web::{AppContext, RouteTarget, Target, Work, url};
///
/// /// Answers with the request's path, upper-cased.
/// struct Shout;
///
/// impl RouteTarget for Shout {
///     fn deliver(&self, message: HttpRequestMessage, _app: &AppContext) -> Option<Work> {
///         let path = message.request.path().to_uppercase();
///         let _ = message.writer.respond(HttpResponse::ok().text(path));
///         None
///     }
///
///     fn name(&self) -> Cow<'static, str> {
///         "shout".into()
///     }
/// }
///
/// let rule = url("/shout/.*", Target::new(Shout));
/// # drop(rule);
/// ```
pub trait RouteTarget: Send + Sync + 'static {
    /// Takes one request routed here; `app` is the application's settings and routes.
    /// Returns work for the connection's loop, if any.
    fn deliver(&self, message: HttpRequestMessage, app: &AppContext) -> Option<Work>;

    /// Whether this request's body is handed over as a stream
    /// ([`HttpServerRequest::take_body_stream`]) as it arrives instead of whole; asked when
    /// its head arrives. Default: no.
    fn stream_request_body(&self, request: &HttpServerRequest) -> bool {
        let _ = request;
        false
    }

    /// Whether any request could stream its body here (the application skips routing at
    /// head time when no target can). Default: no.
    fn may_stream(&self) -> bool {
        false
    }

    /// Whether the target writes its own access log line (a `RequestHandler`, a mounted
    /// `Application`); otherwise the application logs the answer's status when it is sent.
    /// Asked once, by [`Target::new`]. Default: no.
    fn logs_itself(&self) -> bool {
        false
    }

    /// Whether the target finds its application through the [`AppContext`] it is handed and
    /// gives its answers the application's default fields (`Server`, `default_headers`) itself,
    /// as a `RequestHandler` does when it answers. The application then neither attaches
    /// itself to the request ([`HttpServerRequest::app_data`]) nor sets the writer's defaults,
    /// which spares two reference counts a request. Asked once, by [`Target::new`]. Default:
    /// no.
    fn uses_app_context(&self) -> bool {
        false
    }

    /// What the target is, for `Debug` output (a handler's type name, "actor"...).
    fn name(&self) -> Cow<'static, str>;

    /// The router, when this target is a nested [`Router`](crate::Router): routing descends
    /// into it instead of delivering to it. Default: none.
    fn as_router(&self) -> Option<&crate::routing::Router> {
        None
    }
}

/// What a [`Rule`](crate::Rule) routes to: any [`RouteTarget`], shared by every worker.
/// Made by [`handler`](crate::handler), [`handler_with`](crate::handler_with), [`function`],
/// [`actor`], [`per_worker`], [`service`], [`blocking`](crate::blocking::blocking),
/// [`websocket`](crate::websocket()), from a [`Router`](crate::Router) (nesting), or from any
/// type implementing the trait with [`Target::new`].
///
/// [`RouteTarget::logs_itself`] and [`RouteTarget::uses_app_context`] are asked once, here:
/// they describe the kind of target, and every request reads them.
#[derive(Clone)]
pub struct Target {
    /// The target.
    target: Arc<dyn RouteTarget>,
    /// Its [`RouteTarget::logs_itself`].
    logs_itself: bool,
    /// Its [`RouteTarget::uses_app_context`].
    uses_app_context: bool,
}

impl Target {
    /// A target of a kind of your own.
    pub fn new(target: impl RouteTarget) -> Self {
        Target {
            logs_itself: target.logs_itself(),
            uses_app_context: target.uses_app_context(),
            target: Arc::new(target),
        }
    }

    /// Hands `message` to the target (see [`RouteTarget::deliver`]): how a target that
    /// forwards requests reaches the next one.
    pub fn deliver(&self, message: HttpRequestMessage, app: &AppContext) -> Option<Work> {
        self.target.deliver(message, app)
    }

    /// The target's [`RouteTarget::logs_itself`].
    pub(crate) fn logs_itself(&self) -> bool {
        self.logs_itself
    }

    /// The target's [`RouteTarget::uses_app_context`].
    pub(crate) fn uses_app_context(&self) -> bool {
        self.uses_app_context
    }

    /// The target itself.
    pub(crate) fn kind(&self) -> &dyn RouteTarget {
        &*self.target
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Target").field(&self.target.name()).finish()
    }
}
