//! [`Application`]: Tornado's `Application`, the rules and settings of a site. It is the
//! [`HttpService`] of an [`HttpServer`]: [`listen`](Application::listen) starts one, or hand
//! it to [`HttpServer::new`] yourself.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use cyclone_protocol::server::{
    HttpResponse, HttpServer, HttpServerError, HttpServerRequest, HttpService, Reply,
};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use http::header::HeaderName;

use crate::access_log::RequestSummary;
use crate::builtin::ErrorHandler;
use crate::handler::{AppRef, HandlerDriver};
use crate::routing::{Found, HostRules, PathArgs, RouteError, Router, Rule};
use crate::settings::Settings;
use crate::target::{Target, TargetKind, handler_with};

/// What every request of an application shares: settings and compiled routes.
#[derive(Clone)]
pub(crate) struct AppShared {
    /// The settings.
    pub(crate) settings: Settings,
    /// Host rule sets in the order tried; the last applies to every host.
    hosts: Vec<HostRules>,
    /// Answers requests no rule matches (Tornado's `default_handler_class`); else 404.
    default_target: Option<Target>,
    /// Answers 404 when there is no default target, and 400 for undecodable path arguments.
    not_found: Target,
    /// Whether any target streams request bodies (routing at head time is skipped if not).
    streaming: bool,
}

impl AppShared {
    /// The rule for `request`, trying host rule sets in order.
    fn route(&self, request: &HttpServerRequest) -> Option<Found<'_>> {
        if let [only] = self.hosts.as_slice() {
            // Only the any-host rules: no host name to compute.
            return only.router.find(request.path());
        }
        let host = request.host_name();
        let path = request.path();
        for rules in &self.hosts {
            if rules.matches(&host)
                && let Some(found) = rules.router.find(path)
            {
                return Some(found);
            }
        }
        // Tornado's default_host: unknown hosts get that host's rules (not behind a proxy).
        let default_host = self.settings.default_host.as_deref()?;
        if request
            .head()
            .contains_header(&HeaderName::from_static("x-real-ip"))
        {
            return None;
        }
        self.hosts
            .iter()
            .filter(|rules| rules.pattern.is_some() && rules.matches(default_host))
            .find_map(|rules| rules.router.find(path))
    }

    pub(crate) fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, RouteError> {
        self.hosts
            .iter()
            .find_map(|rules| rules.router.reverse(name))
            .ok_or_else(|| RouteError::UnknownName(name.to_owned()))?
            .format(args)
    }
}

/// A web application (Tornado's `tornado.web.Application`): routing rules, host rule sets
/// and [`Settings`]. Cheap to clone; every worker shares one compiled copy.
///
/// ```no_run
/// use cyclone_web::{Application, HttpError, RequestContext, RequestHandler, handler, url};
///
/// #[derive(Default)]
/// struct MainHandler;
/// impl RequestHandler for MainHandler {
///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
///         cx.write("Hello, world");
///         Ok(())
///     }
/// }
///
/// cyclone_actors::runtime::run(async {
///     let app = Application::new([url("/", handler::<MainHandler>())]).unwrap();
///     let server = app.listen(8888).unwrap();
///     server.serve_until_signal(std::time::Duration::from_secs(5)).await.unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct Application {
    /// Settings and routes, shared by every request.
    shared: AppRef,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("settings", &self.shared.settings)
            .field("host_rule_sets", &self.shared.hosts.len())
            .finish_non_exhaustive()
    }
}

impl Application {
    /// An application with `rules` (for every host) and default settings.
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> Result<Application, RouteError> {
        Self::with_settings(rules, Settings::default())
    }

    /// An application with `rules` and `settings`.
    pub fn with_settings(
        rules: impl IntoIterator<Item = Rule>,
        settings: Settings,
    ) -> Result<Application, RouteError> {
        // Tornado serves `static_path` before the application's own rules.
        let rules = crate::static_files::static_rules(&settings)
            .into_iter()
            .chain(rules);
        let router = Router::new(rules)?;
        let streaming = router.any_streaming();
        Ok(Application {
            shared: Arc::new(AppShared {
                settings,
                hosts: vec![HostRules {
                    pattern: None,
                    router,
                }],
                default_target: None,
                not_found: handler_with(|| ErrorHandler::new(http::StatusCode::NOT_FOUND)),
                streaming,
            }),
        })
    }

    /// Adds rules for hosts whose name matches `host_pattern` (a regex, `$` implied), tried
    /// before the rules for every host (Tornado's `add_handlers`).
    pub fn add_handlers(
        &mut self,
        host_pattern: &str,
        rules: impl IntoIterator<Item = Rule>,
    ) -> Result<(), RouteError> {
        let rules = HostRules::new(host_pattern, Router::new(rules)?)?;
        let shared = Arc::make_mut(&mut self.shared);
        shared.streaming |= rules.router.any_streaming();
        let last = shared.hosts.len().saturating_sub(1);
        shared.hosts.insert(last, rules);
        Ok(())
    }

    /// Answers requests no rule matches (Tornado's `default_handler_class`). Default: 404.
    pub fn default_handler(mut self, target: impl Into<Target>) -> Self {
        let target = target.into();
        let shared = Arc::make_mut(&mut self.shared);
        shared.streaming |= target.may_stream();
        shared.default_target = Some(target);
        self
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    /// The URL of the rule named `name` with `args` in its groups, percent-encoded (Tornado's
    /// `reverse_url`).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, RouteError> {
        self.shared.reverse_url(name, args)
    }

    /// Starts an [`HttpServer`] on `port` on every interface, on the current loop, and returns
    /// it (Tornado's `app.listen(port)`); keep it to stop it.
    pub fn listen(&self, port: u16) -> Result<HttpServer<Application>, HttpServerError> {
        self.listen_on(port, None)
    }

    /// As [`listen`](Self::listen), on `address` only.
    pub fn listen_on(
        &self,
        port: u16,
        address: Option<&str>,
    ) -> Result<HttpServer<Application>, HttpServerError> {
        let mut server = HttpServer::new(self.clone());
        server.listen_on(port, address)?;
        Ok(server)
    }

    fn dispatch(&self, target: &Target, request: HttpServerRequest, args: PathArgs) -> Dispatch {
        match &target.kind {
            TargetKind::Handler(handler) => Dispatch(DispatchKind::Handler(handler.start(
                request,
                args,
                self.shared.clone(),
            ))),
            TargetKind::Function(function) => {
                let summary = RequestSummary::of(&request);
                let app = self.shared.clone();
                let answer = AssertUnwindSafe(function(request, args)).catch_unwind();
                Dispatch(DispatchKind::Boxed(Box::pin(async move {
                    let response = match answer.await {
                        Ok(response) => response,
                        Err(panic) => panic_response(&app, &summary, &*panic),
                    };
                    summary.log(app.settings.log_function.as_ref(), response.status());
                    response.into()
                })))
            }
            TargetKind::Service(service) if service.logs_itself() => {
                Dispatch(DispatchKind::Boxed(service.call(request)))
            }
            TargetKind::Service(service) => {
                // A mounted service writes its own answer: the access log learns its status
                // from the connection once it is sent.
                let log = self.access_log_hook(&request);
                let reply = service.call(request);
                Dispatch(DispatchKind::Boxed(Box::pin(async move {
                    reply.await.on_sent(log)
                })))
            }
            TargetKind::Actor(actor) => {
                let log = self.access_log_hook(&request);
                Dispatch::ready(actor.call(request).into_inner().on_sent(log))
            }
            TargetKind::RoutedActor(recipient) => Dispatch::ready(crate::routed::dispatch(
                recipient,
                request,
                args,
                self.shared.settings.log_function.as_ref(),
            )),
            TargetKind::WebSocket(websocket) => {
                Dispatch::ready(websocket.upgrade(request, args, &self.shared.settings))
            }
            TargetKind::Router(_) => {
                // Routers are descended at routing time and never returned as targets.
                Dispatch::ready(HttpResponse::new(http::StatusCode::NOT_FOUND).into())
            }
        }
    }

    /// Logs `request`'s access line with the status it is answered with, for answers the
    /// application does not write itself (mounted services, actors).
    fn access_log_hook(
        &self,
        request: &HttpServerRequest,
    ) -> impl FnOnce(http::StatusCode) + 'static {
        let summary = RequestSummary::of(request);
        let log_function = self.shared.settings.log_function.clone();
        move |status| summary.log(log_function.as_ref(), status)
    }

    fn target_for(&self, request: &HttpServerRequest) -> Option<&Target> {
        match self.shared.route(request) {
            Some(found) => Some(found.target),
            None => self.shared.default_target.as_ref(),
        }
    }
}

impl HttpService for Application {
    type Future = Dispatch;

    fn call(&self, request: HttpServerRequest) -> Dispatch {
        let (target, args) = match self.shared.route(&request) {
            Some(Found {
                target,
                args: Ok(args),
            }) => (target, args),
            Some(Found {
                args: Err(error), ..
            }) => {
                tracing::warn!("{error}");
                let bad = handler_with(|| ErrorHandler::new(http::StatusCode::BAD_REQUEST));
                return self.dispatch(&bad, request, PathArgs::default());
            }
            None => match &self.shared.default_target {
                Some(target) => (target, PathArgs::default()),
                None => (&self.shared.not_found, PathArgs::default()),
            },
        };
        self.dispatch(target, request, args)
    }

    fn stream_request_body(&self, request: &HttpServerRequest) -> bool {
        if !self.shared.streaming {
            return false;
        }
        match self.target_for(request).map(|target| &target.kind) {
            Some(TargetKind::Handler(handler)) => handler.streams(),
            Some(TargetKind::Service(service)) => service.stream_request_body(request),
            _ => false,
        }
    }
}

/// The connection's future for one request to an [`Application`].
pub struct Dispatch(DispatchKind);

/// How a request is being answered.
enum DispatchKind {
    /// A `RequestHandler` on this loop.
    Handler(HandlerDriver),
    /// A function or mounted service.
    Boxed(LocalBoxFuture<'static, Reply>),
    /// An answer known at once (a message sent to an actor).
    /// Boxed so the future the connection keeps per request stays small for handlers.
    Ready(Option<Box<Reply>>),
}

impl Dispatch {
    /// An answer known at once.
    fn ready(reply: Reply) -> Self {
        Dispatch(DispatchKind::Ready(Some(Box::new(reply))))
    }
}

impl std::fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            DispatchKind::Handler(_) => "Dispatch::Handler",
            DispatchKind::Boxed(_) => "Dispatch::Boxed",
            DispatchKind::Ready(_) => "Dispatch::Ready",
        })
    }
}

impl Future for Dispatch {
    type Output = Reply;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        match &mut self.get_mut().0 {
            DispatchKind::Handler(driver) => Pin::new(driver).poll(cx),
            DispatchKind::Boxed(future) => future.as_mut().poll(cx),
            DispatchKind::Ready(reply) => match reply.take() {
                Some(reply) => Poll::Ready(*reply),
                None => {
                    Poll::Ready(HttpResponse::new(http::StatusCode::INTERNAL_SERVER_ERROR).into())
                }
            },
        }
    }
}

/// The 500 page for a function target that panicked (the message only with
/// `serve_traceback`), as a handler's panic gets.
fn panic_response(
    app: &AppShared,
    summary: &RequestSummary,
    panic: &(dyn std::any::Any + Send),
) -> HttpResponse {
    let message = crate::handler::panic_message(panic).to_owned();
    tracing::error!(method = %summary.method, uri = %summary.uri, "handler panicked: {message}");
    let error = crate::errors::HttpError::panic(message);
    crate::errors::error_response(&error, app.settings.serve_traceback_enabled())
}
