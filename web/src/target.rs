//! [`Target`]: what a rule routes to. A `RequestHandler` type (a fresh instance per request,
//! run on the connection's loop), an async function, any actor handling
//! [`HttpRequestMessage`](cyclone_protocol::server::HttpRequestMessage), any
//! [`HttpService`], a blocking function on the pool, or a nested [`Router`].

use std::future::Future;
use std::sync::Arc;

use actix::Recipient;
use cyclone_protocol::server::{
    ActorService, HttpRequestMessage, HttpResponse, HttpServerRequest, HttpService, Reply,
};
use futures::future::LocalBoxFuture;

use crate::handler::{ErasedHandler, HandlerFactory, RequestHandler};
use crate::routing::{PathArgs, Router};

/// What a [`Rule`](crate::Rule) routes to. Made by [`handler`], [`handler_with`],
/// [`function`], [`actor`], [`service`], [`blocking`](crate::blocking::blocking), or from a
/// [`Router`] (nesting).
#[derive(Clone)]
pub struct Target {
    /// The kind of target.
    pub(crate) kind: TargetKind,
}

/// A boxed async function answering with a whole response.
pub(crate) type FunctionTarget =
    Arc<dyn Fn(HttpServerRequest, PathArgs) -> LocalBoxFuture<'static, HttpResponse> + Send + Sync>;

/// The kinds of target, erased so rules of every kind share one table.
#[derive(Clone)]
pub(crate) enum TargetKind {
    /// A `RequestHandler` type and how to make one.
    Handler(Arc<dyn ErasedHandler>),
    /// An async function.
    Function(FunctionTarget),
    /// Any service, mounted whole (Tornado's `FallbackHandler`).
    Service(Arc<dyn ErasedService>),
    /// A long-lived actor receiving each request as a message.
    Actor(ActorService),
    /// A long-lived actor receiving each request with its path arguments and a logging writer.
    RoutedActor(Recipient<crate::routed::RoutedRequest>),
    /// A nested router.
    Router(Arc<Router>),
    /// A `WebSocketHandler` type: the upgrade, then a connection actor.
    WebSocket(Arc<dyn crate::websocket::ErasedWebSocket>),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            TargetKind::Handler(handler) => handler.type_name(),
            TargetKind::Function(_) => "function",
            TargetKind::Service(_) => "service",
            TargetKind::Actor(_) => "actor",
            TargetKind::RoutedActor(_) => "routed actor",
            TargetKind::Router(_) => "router",
            TargetKind::WebSocket(websocket) => websocket.type_name(),
        };
        f.debug_tuple("Target").field(&kind).finish()
    }
}

impl Target {
    /// Whether requests to this target may stream their bodies.
    pub(crate) fn may_stream(&self) -> bool {
        match &self.kind {
            TargetKind::Handler(handler) => handler.streams(),
            TargetKind::Service(_) => true,
            TargetKind::Actor(_) | TargetKind::RoutedActor(_) => false,
            TargetKind::Router(router) => router.any_streaming(),
            TargetKind::Function(_) | TargetKind::WebSocket(_) => false,
        }
    }
}

impl From<Router> for Target {
    fn from(router: Router) -> Self {
        Target {
            kind: TargetKind::Router(Arc::new(router)),
        }
    }
}

impl From<Recipient<HttpRequestMessage>> for Target {
    fn from(recipient: Recipient<HttpRequestMessage>) -> Self {
        actor(recipient)
    }
}

/// A `RequestHandler` type made with `Default` for each request.
pub fn handler<H: RequestHandler + Default>() -> Target {
    handler_with(H::default)
}

/// A `RequestHandler` made by `factory` for each request: the closure is Tornado's
/// per-rule `initialize(**kwargs)` (capture what the handler needs).
///
/// ```
/// use std::sync::Arc;
/// use cyclone_web::{RequestContext, RequestHandler, HttpError, handler_with, url};
///
/// struct Greeter { greeting: Arc<str> }
/// impl RequestHandler for Greeter {
///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
///         cx.write(self.greeting.to_string());
///         Ok(())
///     }
/// }
/// let greeting: Arc<str> = "hi".into();
/// let rule = url("/", handler_with(move || Greeter { greeting: greeting.clone() }));
/// # drop(rule);
/// ```
pub fn handler_with<H, F>(factory: F) -> Target
where
    H: RequestHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    Target {
        kind: TargetKind::Handler(Arc::new(HandlerFactory::new(factory))),
    }
}

/// An async function answering each request (with its path arguments) with a whole response.
/// It runs on the connection's loop; its future need not be `Send`.
///
/// ```
/// use cyclone_web::{function, url};
/// use cyclone_web::httpserver::HttpResponse;
///
/// let rule = url(r"/hello/(\w+)", function(|_request, args| async move {
///     HttpResponse::ok().text(format!("hello {}", args.get(0).unwrap_or("")))
/// }));
/// # drop(rule);
/// ```
pub fn function<F, Fut>(function: F) -> Target
where
    F: Fn(HttpServerRequest, PathArgs) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + 'static,
{
    Target {
        kind: TargetKind::Function(Arc::new(move |request, args| {
            Box::pin(function(request, args))
        })),
    }
}

/// A long-lived actor answering each request, sent to it as the protocol's
/// [`HttpRequestMessage`] (a mailbox hop). Actors compose by forwarding the message to another
/// actor's `Recipient`.
///
/// This message has no path arguments, and the application cannot see the status the actor
/// answers with, so these requests are not in the access log: prefer
/// [`routed_actor`](crate::routed_actor), whose [`RoutedRequest`](crate::RoutedRequest) carries
/// both.
pub fn actor(recipient: Recipient<HttpRequestMessage>) -> Target {
    Target {
        kind: TargetKind::Actor(
            cyclone_protocol::server::actor(recipient).stream_request_body(false),
        ),
    }
}

/// Any [`HttpService`] mounted under a rule (Tornado's `FallbackHandler`): it gets the
/// request whole, as if it were the server's own service.
pub fn service<S>(service: S) -> Target
where
    S: HttpService + Send + Sync,
{
    Target {
        kind: TargetKind::Service(Arc::new(ServiceTarget(service))),
    }
}

/// A service behind the erasure.
pub(crate) trait ErasedService: Send + Sync {
    /// Answers `request`.
    fn call(&self, request: HttpServerRequest) -> LocalBoxFuture<'static, Reply>;
    /// Whether the service streams this request's body.
    fn stream_request_body(&self, request: &HttpServerRequest) -> bool;
    /// Whether the service writes its own access log line (a mounted `Application`), so the
    /// application mounting it must not add a second.
    fn logs_itself(&self) -> bool;
}

/// Holds a service for [`ErasedService`].
struct ServiceTarget<S>(S);

impl<S: HttpService + Send + Sync> ErasedService for ServiceTarget<S> {
    fn call(&self, request: HttpServerRequest) -> LocalBoxFuture<'static, Reply> {
        Box::pin(self.0.call(request))
    }

    fn stream_request_body(&self, request: &HttpServerRequest) -> bool {
        self.0.stream_request_body(request)
    }

    fn logs_itself(&self) -> bool {
        std::any::TypeId::of::<S>() == std::any::TypeId::of::<crate::Application>()
    }
}
