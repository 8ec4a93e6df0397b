//! [`Application`]: Tornado's `Application`, the rules and settings of a site. It is the
//! [`HttpService`] of an [`HttpServer`]: [`listen`](Application::listen) starts one, or hand
//! it to [`HttpServer::new`] yourself. Each request message the server hands it is routed and
//! delivered to the rule's [`Target`].

use std::any::Any;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use cyclone_protocol::server::{
    HttpRequestMessage, HttpServer, HttpServerError, HttpServerRequest, HttpService,
};
use http::header::HeaderName;

use crate::access_log::RequestSummary;
use crate::app::AppContext;
use crate::builtin::ErrorHandler;
use crate::handler::handler_with;
use crate::routing::{Found, HostRules, PathArgs, RouteError, Router, Rule};
use crate::settings::Settings;
use crate::target::{RouteTarget, Target, Work, work_in_place};

/// What every request of an application shares: settings and compiled routes.
struct AppShared {
    /// Settings and named routes, handed to every target with each request.
    context: AppContext,
    /// `context` again, as the request's app data (one `Arc` clone per request), so a target
    /// a request is forwarded to finds its application.
    app_data: Arc<dyn Any + Send + Sync>,
    /// Host rule sets in the order tried; the last applies to every host.
    hosts: Vec<HostRules>,
    /// Answers requests no rule matches (Tornado's `default_handler_class`); else 404.
    default_target: Option<Target>,
    /// Answers 404 when there is no default target.
    not_found: Target,
    /// Answers 400 for path arguments that are not UTF-8 once decoded.
    bad_request: Target,
    /// Whether any target streams request bodies (routing at head time is skipped if not).
    streaming: bool,
}

impl AppShared {
    /// The application's parts, with `context` made from `settings` and the rules' names.
    fn new(
        mut settings: Settings,
        hosts: Vec<HostRules>,
        default_target: Option<Target>,
    ) -> AppShared {
        // `template_path`'s shared loader is found once, here: a render then takes no global
        // lock to find it.
        if settings.template_loader.is_none()
            && let Some(root) = &settings.template_path
        {
            settings.template_loader = Some(crate::template::folder_loader(root));
        }
        let context = AppContext::new(
            settings,
            hosts.iter().flat_map(|rules| rules.router.named_routes()),
        );
        let streaming = hosts.iter().any(|rules| rules.router.any_streaming())
            || default_target
                .as_ref()
                .is_some_and(|target| target.kind().may_stream());
        AppShared {
            app_data: Arc::new(context.clone()),
            context,
            hosts,
            default_target,
            not_found: handler_with(|| ErrorHandler::new(http::StatusCode::NOT_FOUND)),
            bad_request: handler_with(|| ErrorHandler::new(http::StatusCode::BAD_REQUEST)),
            streaming,
        }
    }

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
        let default_host = self.context.settings().default_host.as_deref()?;
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

    /// The target for `request` and its path arguments.
    #[inline(always)]
    fn target_for(&self, request: &HttpServerRequest) -> (&Target, PathArgs) {
        match self.route(request) {
            Some(Found {
                target,
                args: Ok(args),
            }) => (target, args),
            Some(Found {
                args: Err(error), ..
            }) => {
                tracing::warn!("{error}");
                (&self.bad_request, PathArgs::default())
            }
            None => match &self.default_target {
                Some(target) => (target, PathArgs::default()),
                None => (&self.not_found, PathArgs::default()),
            },
        }
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
    shared: Arc<AppShared>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("settings", self.shared.context.settings())
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
        let hosts = vec![HostRules {
            pattern: None,
            router,
        }];
        Ok(Application {
            shared: Arc::new(AppShared::new(settings, hosts, None)),
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
        let mut hosts = self.shared.hosts.clone();
        let last = hosts.len().saturating_sub(1);
        hosts.insert(last, rules);
        self.rebuild(hosts, self.shared.default_target.clone());
        Ok(())
    }

    /// Answers requests no rule matches (Tornado's `default_handler_class`). Default: 404.
    pub fn default_handler(mut self, target: impl Into<Target>) -> Self {
        let hosts = self.shared.hosts.clone();
        self.rebuild(hosts, Some(target.into()));
        self
    }

    /// Recompiles the shared parts after a change to the rules.
    fn rebuild(&mut self, hosts: Vec<HostRules>, default_target: Option<Target>) {
        let settings = self.shared.context.settings().clone();
        self.shared = Arc::new(AppShared::new(settings, hosts, default_target));
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        self.shared.context.settings()
    }

    /// The settings and named routes every target of this application gets.
    pub fn context(&self) -> &AppContext {
        &self.shared.context
    }

    /// The URL of the rule named `name` with `args` in its groups, percent-encoded (Tornado's
    /// `reverse_url`).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, RouteError> {
        self.shared.context.reverse_url(name, args)
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
}

impl HttpService for Application {
    type Future = Dispatch;

    fn call(&self, mut message: HttpRequestMessage) -> Dispatch {
        let span = request_span(&mut message);
        let entered = span.as_ref().map(tracing::Span::enter);
        let shared = &*self.shared;
        let (target, args) = shared.target_for(&message.request);
        message.path_args = args;
        if !target.uses_app_context() {
            message.request.set_app_data(Arc::clone(&shared.app_data));
            if let Some(defaults) = shared.context.answer_defaults() {
                message.writer.set_default_headers(Arc::clone(defaults));
            }
        }
        let log_function = shared.context.settings().log_function.as_ref();
        if !target.logs_itself() && crate::access_log::enabled(log_function) {
            // The target answers through the writer without us: the access log learns the
            // status the client got once it is sent.
            let summary = RequestSummary::of(&message.request);
            let log_function = log_function.cloned();
            message
                .writer
                .on_sent(move |status| summary.log(log_function.as_ref(), status));
        }
        let work = target.deliver(message, &shared.context);
        drop(entered);
        Dispatch { work, span }
    }

    fn stream_request_body(&self, request: &HttpServerRequest) -> bool {
        if !self.shared.streaming {
            return false;
        }
        self.shared
            .target_for(request)
            .0
            .kind()
            .stream_request_body(request)
    }
}

/// An application mounted under a rule of another (Tornado's nested `Application`): it routes
/// what reaches it with its own rules and settings, and logs its own answers.
impl From<Application> for Target {
    fn from(application: Application) -> Self {
        Target::new(Mounted(application))
    }
}

/// The target an [`Application`] becomes when mounted.
struct Mounted(Application);

impl RouteTarget for Mounted {
    fn deliver(&self, message: HttpRequestMessage, _app: &AppContext) -> Option<Work> {
        let Dispatch { work, span } = self.0.call(message);
        match (work, span) {
            // The mounted application's span stays around its work.
            (Some(work), Some(span)) => {
                Some(work_in_place!(tracing::Instrument::instrument(work, span)))
            }
            (work, _) => work,
        }
    }

    fn stream_request_body(&self, request: &HttpServerRequest) -> bool {
        self.0.stream_request_body(request)
    }

    fn may_stream(&self) -> bool {
        self.0.shared.streaming
    }

    fn logs_itself(&self) -> bool {
        true
    }

    fn name(&self) -> Cow<'static, str> {
        "application".into()
    }
}

/// Numbers the requests of this process for their spans.
static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// The request's `tracing` span (target `cyclone::request`, at info): method, path, a request
/// id numbering the process's requests, and the status the client got, recorded when the
/// answer is sent. `None` (nothing recorded, allocated, entered or dropped) when no subscriber
/// wants it.
fn request_span(message: &mut HttpRequestMessage) -> Option<tracing::Span> {
    let request = &message.request;
    let span = tracing::info_span!(
        target: "cyclone::request",
        "request",
        method = %request.method(),
        path = request.path(),
        request_id = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    if span.is_disabled() {
        return None;
    }
    span.record(
        "request_id",
        NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed),
    );
    let recorder = span.clone();
    message.writer.on_sent(move |status| {
        recorder.record("status", status.as_u16());
    });
    Some(span)
}

/// The work the connection polls for one request to an [`Application`]: the target's, if it
/// left any (a handler running the request, an async function's future), polled inside the
/// request's `tracing` span.
pub struct Dispatch {
    /// The target's work.
    work: Option<Work>,
    /// The request's span (method, path, request id, status), when a subscriber wants it.
    span: Option<tracing::Span>,
}

impl std::fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.work.is_some() {
            "Dispatch(work)"
        } else {
            "Dispatch(done)"
        })
    }
}

impl Future for Dispatch {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match &mut this.work {
            Some(work) => {
                let _entered = this.span.as_ref().map(tracing::Span::enter);
                Pin::new(work).poll(cx)
            }
            None => Poll::Ready(()),
        }
    }
}
