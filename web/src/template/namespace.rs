//! What a template sees (Tornado's `get_template_namespace`): the handler's context values over
//! the request's namespace (`current_user`, `request`, `handler`, `static_url`,
//! `reverse_url`, `xsrf_form_html`, `modules`, ui methods, and what a [`NamespaceHook`] adds).
//!
//! minijinja values must be `Send + Sync + 'static`, so a render cannot hold the
//! `RequestContext`: the namespace is a snapshot of the request made when the render starts,
//! and what needs the context or the disk (an XSRF token not made yet, a static file not
//! hashed yet) is noted during the render and supplied before a second one.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use cyclone_protocol::h1::RequestHead;
use cyclone_protocol::httputil::split_host_and_port;
use http::HeaderMap;
use minijinja::value::{Enumerator, Object, Value};
use minijinja::{Environment, Error, ErrorKind, State};

use super::ui::{ModuleContext, Modules, UiMethodCall};
use crate::app::AppContext;
use crate::handler::RequestContext;
use crate::settings::Settings;

/// Extends what every template sees (Tornado's overridden `get_template_namespace`): called
/// once per render with the request's context; what it inserts is visible to the page and its
/// includes, and overrides the built-in names. Set with
/// [`Settings::template_namespace`](crate::Settings::template_namespace).
#[derive(Clone)]
pub struct NamespaceHook(pub(crate) HookFunction);

/// The function behind a [`NamespaceHook`].
pub(crate) type HookFunction = Arc<dyn Fn(&RequestContext, &mut TemplateNamespace) + Send + Sync>;

impl std::fmt::Debug for NamespaceHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NamespaceHook(..)")
    }
}

/// Names a [`NamespaceHook`] adds to every template's namespace.
#[derive(Debug, Default, Clone)]
pub struct TemplateNamespace {
    /// The values by name.
    values: BTreeMap<String, Value>,
}

impl TemplateNamespace {
    /// Adds `name` with any serializable value (a string, a number, a struct, a map).
    pub fn insert(&mut self, name: impl Into<String>, value: impl serde::Serialize) {
        self.values
            .insert(name.into(), Value::from_serialize(value));
    }

    /// Adds `name` with a template value (a function made with `Value::from_function`, an
    /// object).
    pub fn insert_value(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), value);
    }

    /// The value under `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
}

/// The request as templates see it (Tornado's `request` in the namespace): a snapshot taken
/// when the render starts. `request.headers["User-Agent"]` looks a field up by any case.
///
/// What costs something to make (the client's address as text, `host_name`, `full_url`, the
/// header map) is made when a template (or a UI module) first asks for it: most pages ask for
/// none of it, and making all of it came to ~5 000 instructions a render.
#[derive(Debug)]
#[non_exhaustive]
pub struct RequestInfo {
    /// `GET`, `POST`...
    pub method: String,
    /// The request target: path and query.
    pub uri: String,
    /// The path, without the query.
    pub path: String,
    /// The query, without `?`.
    pub query: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// The client's address.
    pub remote_ip: IpAddr,
    /// `http` or `https`.
    pub protocol: String,
    /// The `Host` field (with its port).
    pub host: String,
    /// The request's head, until the header map is first asked for.
    head: Mutex<Option<RequestHead>>,
    /// The request's header fields, made from `head` on first use.
    headers: OnceLock<HeaderMap>,
}

impl Clone for RequestInfo {
    fn clone(&self) -> Self {
        RequestInfo {
            method: self.method.clone(),
            uri: self.uri.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            version: self.version.clone(),
            remote_ip: self.remote_ip,
            protocol: self.protocol.clone(),
            host: self.host.clone(),
            head: Mutex::new(None),
            headers: OnceLock::from(self.headers().clone()),
        }
    }
}

impl RequestInfo {
    /// The request as `source` kept it.
    fn of(source: &RequestSource) -> Self {
        let head = &source.head;
        let host = match &source.fallback_host {
            Some(host) => host.clone(),
            None => head.host().unwrap_or_default().to_owned(),
        };
        RequestInfo {
            method: head.method.as_str().to_owned(),
            uri: head
                .uri
                .path_and_query()
                .map_or("/", |target| target.as_str())
                .to_owned(),
            path: head.uri.path().to_owned(),
            query: head.uri.query().unwrap_or_default().to_owned(),
            version: version_text(head.version).to_owned(),
            remote_ip: source.remote_ip,
            protocol: source.protocol.to_owned(),
            host,
            // Reference counts: the head's bytes are shared, its map copied only if built.
            head: Mutex::new(Some(head.clone())),
            headers: OnceLock::new(),
        }
    }

    /// The host without its port, lower case.
    pub fn host_name(&self) -> String {
        split_host_and_port(&self.host).0.to_ascii_lowercase()
    }

    /// `protocol://host/uri` (Tornado's `full_url()`).
    pub fn full_url(&self) -> String {
        format!("{}://{}{}", self.protocol, self.host, self.uri)
    }

    /// The request's header fields.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.get_or_init(|| {
            lock(&self.head)
                .take()
                .map(|head| head.headers().clone())
                .unwrap_or_default()
        })
    }
}

/// `version` as `http::Version`'s `Debug` writes it (`HTTP/1.1`, `HTTP/2.0`), without the
/// formatting machinery every render paid for it.
fn version_text(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "HTTP/0.9",
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// What a render keeps of the request until a template (or a UI module) asks for `request`:
/// most pages never do, and copying its fields into a [`RequestInfo`] on every render was
/// seven allocations, ~900 instructions a render.
struct RequestSource {
    /// The request's head: reference counts, its bytes are shared with the request.
    head: RequestHead,
    /// The client's address (from `X-Real-Ip` with `xheaders`).
    remote_ip: IpAddr,
    /// `http` or `https` (from `X-Scheme` with `xheaders`).
    protocol: &'static str,
    /// The request's host when its head names none (the request's fallback); `None` when the
    /// head has one, which is read from it.
    fallback_host: Option<String>,
}

impl RequestSource {
    /// What `cx`'s request is.
    fn of(cx: &RequestContext) -> Self {
        let request = cx.request();
        let head = request.head();
        RequestSource {
            fallback_host: head.host().is_none().then(|| request.host().to_owned()),
            head: head.clone(),
            remote_ip: request.remote_ip(),
            protocol: request.protocol(),
        }
    }
}

/// [`RequestInfo`] as a template object.
#[derive(Debug)]
struct RequestObject(Arc<RequestInfo>);

impl Object for RequestObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let request = &self.0;
        let text = match key.as_str()? {
            "method" => &request.method,
            "uri" => &request.uri,
            "path" => &request.path,
            "query" => &request.query,
            "version" => &request.version,
            "remote_ip" => return Some(Value::from(request.remote_ip.to_string())),
            "protocol" => &request.protocol,
            "host" => &request.host,
            "host_name" => return Some(Value::from(request.host_name())),
            "full_url" => {
                // Tornado templates call it: `request.full_url()`.
                return Some(Value::from_object(TextFunction(request.full_url())));
            }
            "headers" => return Some(Value::from_object(HeadersObject(self.0.clone()))),
            _ => return None,
        };
        Some(Value::from(text.as_str()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "method",
            "uri",
            "path",
            "query",
            "version",
            "remote_ip",
            "protocol",
            "host",
            "host_name",
            "full_url",
            "headers",
        ])
    }
}

/// A request's header fields: `headers["Accept"]` or `headers.get("accept")`.
#[derive(Debug)]
struct HeadersObject(Arc<RequestInfo>);

impl Object for HeadersObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        if name == "get" {
            return Some(Value::from_object(HeaderGet(self.0.clone())));
        }
        header_text(self.0.headers(), name).map(Value::from)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let names: Vec<Value> = self
            .0
            .headers()
            .keys()
            .map(|name| Value::from(name.as_str()))
            .collect();
        Enumerator::Values(names)
    }
}

/// `headers.get(name, default)`, as Python's dict method.
#[derive(Debug)]
struct HeaderGet(Arc<RequestInfo>);

impl Object for HeaderGet {
    fn call(self: &Arc<Self>, _state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let name = args
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new(ErrorKind::MissingArgument, "headers.get(name)"))?;
        Ok(header_text(self.0.headers(), name)
            .map(Value::from)
            .or_else(|| args.get(1).cloned())
            .unwrap_or(Value::from(())))
    }
}

/// The values of field `name`, joined with `,` as one field line would carry them.
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// A function of no arguments returning fixed text (`request.full_url()`), which also prints
/// as that text when not called.
#[derive(Debug)]
struct TextFunction(String);

impl Object for TextFunction {
    fn call(self: &Arc<Self>, _state: &State<'_, '_>, _args: &[Value]) -> Result<Value, Error> {
        Ok(Value::from(self.0.as_str()))
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The XSRF token as a render sees it.
#[derive(Debug, Default)]
pub(crate) struct XsrfSlot {
    /// The token, when made before the render.
    pub(crate) token: Option<String>,
    /// The page used the token (so its cookie must be set).
    pub(crate) used: bool,
    /// The page asked for a token that was not made yet: render again with one.
    pub(crate) wanted: bool,
}

/// Static file versions as a render sees them.
#[derive(Debug, Default)]
pub(crate) struct StaticSlot {
    /// Files whose version was checked on disk for this render (without the hash cache every
    /// `static_url` needs such a check, as Tornado rehashes on every request in debug).
    pub(crate) checked: HashSet<PathBuf>,
    /// Files whose version the render needed and did not have: hash them, render again.
    pub(crate) missing: Vec<PathBuf>,
}

/// One render's namespace, shared by the page, its includes, its UI modules and functions.
pub(crate) struct Namespace {
    /// The environment rendering: UI modules render their sub-templates with it.
    pub(crate) environment: Arc<Environment<'static>>,
    /// Settings and routes (`reverse_url`, `static_url`, UI modules).
    pub(crate) app: AppContext,
    /// The request as it arrived, until `request` is first asked for; locked only because a
    /// head (with its header map made on first use) is not `Sync`.
    request_source: Mutex<RequestSource>,
    /// The request, made from `request_source` on first use.
    request: OnceLock<Arc<RequestInfo>>,
    /// Tornado's `current_user`.
    pub(crate) current_user: Option<String>,
    /// What the settings' [`NamespaceHook`] added.
    extras: TemplateNamespace,
    /// The request's locale (Tornado's `locale`, behind `_` and `pgettext`), chosen when a
    /// template first asks.
    locale: LazyLocale,
    /// The XSRF token.
    pub(crate) xsrf: Mutex<XsrfSlot>,
    /// Static file versions.
    pub(crate) statics: Mutex<StaticSlot>,
    /// UI modules the page called, in first-use order, each once (their CSS and JavaScript go
    /// into the page once).
    pub(crate) modules_used: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("request", &lock(&self.request_source).head.uri)
            .field("current_user", &self.current_user)
            .finish_non_exhaustive()
    }
}

/// A render's locale, chosen on first use: most pages never ask, and choosing it (a header
/// lookup, a parse, a catalog lookup) was a tenth of the namespace's cost per render.
struct LazyLocale {
    /// The locale, once chosen.
    chosen: OnceLock<crate::locale::Locale>,
    /// The request's `Accept-Language`, to choose from without the context.
    accept_language: Option<String>,
}

impl LazyLocale {
    /// The request's locale source. With a [`user_locale`](Settings::user_locale) hook the
    /// locale is chosen now, since the hook reads the context.
    fn of(cx: &RequestContext) -> Self {
        let chosen = OnceLock::new();
        if cx.settings().user_locale.is_some() {
            let _ = chosen.set(cx.locale());
        }
        LazyLocale {
            chosen,
            accept_language: cx
                .request()
                .header_str(&http::header::ACCEPT_LANGUAGE)
                .map(str::to_owned),
        }
    }

    /// The locale, as [`RequestContext::locale`] chooses it.
    fn get(&self, settings: &Settings) -> &crate::locale::Locale {
        self.chosen.get_or_init(|| {
            crate::locale::browser_or_default_locale(
                settings.translations_or_default(),
                self.accept_language.as_deref(),
            )
        })
    }
}

impl Namespace {
    pub(crate) fn new(
        cx: &RequestContext,
        app: AppContext,
        environment: Arc<Environment<'static>>,
        xsrf_token: Option<String>,
    ) -> Arc<Self> {
        let mut extras = TemplateNamespace::default();
        if let Some(hook) = &app.settings().template_namespace {
            (hook.0)(cx, &mut extras);
        }
        Arc::new(Namespace {
            environment,
            request_source: Mutex::new(RequestSource::of(cx)),
            request: OnceLock::new(),
            current_user: cx.current_user().map(str::to_owned),
            extras,
            locale: LazyLocale::of(cx),
            xsrf: Mutex::new(XsrfSlot {
                token: xsrf_token,
                ..XsrfSlot::default()
            }),
            statics: Mutex::default(),
            modules_used: Mutex::default(),
            app,
        })
    }

    /// The request, made on first use.
    pub(crate) fn request(&self) -> &Arc<RequestInfo> {
        self.request
            .get_or_init(|| Arc::new(RequestInfo::of(&lock(&self.request_source))))
    }

    /// The settings.
    pub(crate) fn settings(&self) -> &Settings {
        self.app.settings()
    }

    /// Starts a render pass: what the last one used is forgotten (what it checked on disk is
    /// kept).
    pub(crate) fn begin_pass(&self) {
        lock(&self.xsrf).used = false;
        lock(&self.xsrf).wanted = false;
        lock(&self.statics).missing.clear();
        lock(&self.modules_used).clear();
    }

    /// The value of a namespace name (after the handler's own context values).
    pub(crate) fn lookup(self: &Arc<Self>, name: &str) -> Option<Value> {
        if let Some(value) = self.extras.get(name) {
            return Some(value.clone());
        }
        let function = |kind| {
            Value::from_object(NamespaceFunction {
                namespace: self.clone(),
                kind,
            })
        };
        Some(match name {
            "current_user" => Value::from(self.current_user.clone()),
            "request" => Value::from_object(RequestObject(self.request().clone())),
            "handler" => Value::from_object(HandlerObject(self.clone())),
            "modules" => Value::from_object(Modules(self.clone())),
            "static_url" => function(FunctionKind::StaticUrl),
            "reverse_url" => function(FunctionKind::ReverseUrl),
            "xsrf_form_html" => function(FunctionKind::XsrfFormHtml),
            "xsrf_token" => function(FunctionKind::XsrfToken),
            "locale" => crate::locale::template::locale_object(self.locale.get(self.settings())),
            "_" => crate::locale::template::translate_function(self.locale.get(self.settings())),
            "pgettext" => {
                crate::locale::template::pgettext_function(self.locale.get(self.settings()))
            }
            _ => {
                let method = self.settings().ui_methods.get(name)?;
                Value::from_object(UiMethodCall {
                    namespace: self.clone(),
                    method,
                })
            }
        })
    }

    /// The page's XSRF token, or (none made yet) a note to make one and render again.
    pub(crate) fn xsrf_token(&self) -> Option<String> {
        let mut xsrf = lock(&self.xsrf);
        match &xsrf.token {
            Some(token) => {
                let token = token.clone();
                xsrf.used = true;
                Some(token)
            }
            None => {
                xsrf.wanted = true;
                None
            }
        }
    }

    /// Tornado's `xsrf_form_html()`.
    pub(crate) fn xsrf_form_html(&self) -> String {
        match self.xsrf_token() {
            Some(token) => format!(
                "<input type=\"hidden\" name=\"_xsrf\" value=\"{}\"/>",
                crate::escape::xhtml_escape(&token)
            ),
            None => String::new(),
        }
    }

    /// Tornado's `static_url(path)`: the URL with `?v=<hash>` when the hash is known; a file
    /// not hashed yet is noted for the next pass.
    pub(crate) fn static_url(&self, path: &str) -> String {
        let settings = self.settings();
        let Some(file) = crate::static_files::file_for_url(settings, path) else {
            return crate::static_files::make_static_url(settings, path, None);
        };
        let mut statics = lock(&self.statics);
        let trusted = settings.static_hash_cache_enabled() || statics.checked.contains(&file);
        let version = if trusted {
            crate::static_files::cached_version(&file)
        } else {
            None
        };
        match version {
            Some(version) => {
                crate::static_files::make_static_url(settings, path, version.as_deref())
            }
            None => {
                statics.missing.push(file);
                crate::static_files::make_static_url(settings, path, None)
            }
        }
    }
}

/// Locks `mutex`, taking the value over from a panicked holder (a render that panicked left
/// nothing half-changed that matters here).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The root of a render's context: the handler's values, then the namespace.
#[derive(Debug)]
pub(crate) struct PageContext {
    /// What the handler passed to `render` (a map, usually).
    pub(crate) values: Value,
    /// The request's namespace.
    pub(crate) namespace: Arc<Namespace>,
}

impl Object for PageContext {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        if let Ok(value) = self.values.get_attr(name)
            && !value.is_undefined()
        {
            return Some(value);
        }
        self.namespace.lookup(name)
    }
}

/// The functions of the namespace, by what they do.
#[derive(Debug, Clone, Copy)]
enum FunctionKind {
    /// `static_url(path)`.
    StaticUrl,
    /// `reverse_url(name, *args)`.
    ReverseUrl,
    /// `xsrf_form_html()`.
    XsrfFormHtml,
    /// `xsrf_token()`.
    XsrfToken,
}

/// A namespace function bound to its render.
#[derive(Debug)]
struct NamespaceFunction {
    /// The render it belongs to.
    namespace: Arc<Namespace>,
    /// Which function.
    kind: FunctionKind,
}

impl Object for NamespaceFunction {
    fn call(self: &Arc<Self>, _state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let namespace = &self.namespace;
        match self.kind {
            FunctionKind::StaticUrl => {
                let path = string_argument(args, 0, "static_url(path)")?;
                Ok(Value::from(namespace.static_url(&path)))
            }
            FunctionKind::ReverseUrl => {
                let name = string_argument(args, 0, "reverse_url(name, *args)")?;
                let rest: Vec<String> = args[1..].iter().map(super::text_of).collect();
                let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
                namespace
                    .app
                    .reverse_url(&name, &rest)
                    .map(Value::from)
                    .map_err(|error| Error::new(ErrorKind::InvalidOperation, error.to_string()))
            }
            FunctionKind::XsrfFormHtml => Ok(Value::from_safe_string(namespace.xsrf_form_html())),
            FunctionKind::XsrfToken => Ok(Value::from(namespace.xsrf_token().unwrap_or_default())),
        }
    }
}

/// Argument `index` as text, or an error naming the call.
pub(crate) fn string_argument(args: &[Value], index: usize, call: &str) -> Result<String, Error> {
    args.get(index)
        .filter(|value| !value.is_undefined() && !value.is_none())
        .map(super::text_of)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::MissingArgument,
                format!("{call}: argument {index} missing"),
            )
        })
}

/// Tornado's `handler` in templates: `handler.request`, `handler.current_user`,
/// `handler.settings.debug`, `handler.static_url(..)`... (the namespace's names, and
/// `settings`).
#[derive(Debug)]
struct HandlerObject(Arc<Namespace>);

impl Object for HandlerObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "settings" => Some(Value::from_object(SettingsObject(self.0.clone()))),
            "handler" => None,
            name => self.0.lookup(name),
        }
    }
}

/// The settings templates may read (`handler.settings.debug`, `handler.settings["login_url"]`):
/// the plain values, never secrets.
#[derive(Debug)]
struct SettingsObject(Arc<Namespace>);

impl Object for SettingsObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let settings = self.0.settings();
        let path = |path: &Option<PathBuf>| {
            Value::from(path.as_ref().map(|path| path.display().to_string()))
        };
        Some(match key.as_str()? {
            "debug" => Value::from(settings.debug),
            "xsrf_cookies" => Value::from(settings.xsrf_cookies),
            "login_url" => Value::from(settings.login_url.clone()),
            "compress_response" => Value::from(settings.compress_response),
            "static_url_prefix" => Value::from(settings.static_url_prefix_or_default()),
            "static_path" => path(&settings.static_path),
            "template_path" => path(&settings.template_path),
            "default_host" => Value::from(settings.default_host.clone()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "debug",
            "xsrf_cookies",
            "login_url",
            "compress_response",
            "static_url_prefix",
            "static_path",
            "template_path",
            "default_host",
        ])
    }
}

impl ModuleContext<'_> {
    /// A module's own context around `values`, for its sub-templates.
    pub(crate) fn page_context(&self, values: Value) -> Value {
        Value::from_object(PageContext {
            values,
            namespace: self.namespace.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::version_text;

    #[test]
    fn version_text_is_what_debug_writes() {
        for version in [
            http::Version::HTTP_09,
            http::Version::HTTP_10,
            http::Version::HTTP_11,
            http::Version::HTTP_2,
            http::Version::HTTP_3,
        ] {
            assert_eq!(version_text(version), format!("{version:?}"));
        }
    }
}
