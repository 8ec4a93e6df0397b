//! [`Settings`]: Tornado's `Application` keyword settings, typed, each with its default.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cyclone_protocol::websocket::WebSocketConfig;

use crate::access_log::LogFunction;
use crate::cookies::CookieOptions;
use crate::locale::{Locale, Translations, UserLocaleHook};
use crate::static_files::StaticFileOptions;
use crate::template::{
    ModuleContext, NamespaceHook, TemplateLoader, TemplateNamespace, UiMethods, UiModule, UiModules,
};
use crate::xsrf::XsrfCookieVersion;

/// Default for [`Settings::websocket_max_message_size`]: 10 MiB, as Tornado.
pub const DEFAULT_WEBSOCKET_MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;

/// The `Server` field every answer of an application carries by default (Tornado sends
/// `TornadoServer/<version>`): `cyclone/<major>.<minor>`.
pub const DEFAULT_SERVER_HEADER: &str = concat!(
    "cyclone/",
    env!("CARGO_PKG_VERSION_MAJOR"),
    ".",
    env!("CARGO_PKG_VERSION_MINOR")
);

/// Default for [`Settings::static_url_prefix`].
pub const DEFAULT_STATIC_URL_PREFIX: &str = "/static/";

/// Default for [`Settings::xsrf_cookie_name`].
pub const DEFAULT_XSRF_COOKIE_NAME: &str = "_xsrf";

/// The secret(s) signed cookies are made with (Tornado's `cookie_secret`).
#[derive(Clone)]
pub enum CookieSecret {
    /// One secret; cookies carry key version 0.
    Single(Arc<[u8]>),
    /// Secrets by key version, for rotation: new cookies are signed with
    /// [`Settings::key_version`]; cookies signed with any listed version still verify.
    Versioned(BTreeMap<u32, Arc<[u8]>>),
}

impl CookieSecret {
    /// One secret.
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        CookieSecret::Single(Arc::from(secret.as_ref()))
    }

    /// Several secrets by key version.
    pub fn versioned<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = (u32, S)>) -> Self {
        CookieSecret::Versioned(
            secrets
                .into_iter()
                .map(|(version, secret)| (version, Arc::from(secret.as_ref())))
                .collect(),
        )
    }

    /// The secret for `version` (any version for a single secret, as Tornado).
    pub(crate) fn get(&self, version: u32) -> Option<&[u8]> {
        match self {
            CookieSecret::Single(secret) => Some(secret),
            CookieSecret::Versioned(secrets) => secrets.get(&version).map(|secret| &**secret),
        }
    }
}

impl std::fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        match self {
            CookieSecret::Single(_) => f.write_str("CookieSecret::Single(..)"),
            CookieSecret::Versioned(secrets) => f
                .debug_tuple("CookieSecret::Versioned")
                .field(&secrets.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// An application's settings (Tornado's `Application(**settings)`), read by handlers through
/// [`RequestContext::settings`](crate::RequestContext::settings).
///
/// Build with [`Settings::default`] and the setters; each documents its default.
///
/// ```
/// use cyclone_web::{CookieSecret, Settings};
///
/// let settings = Settings::default()
///     .debug(true)
///     .cookie_secret(CookieSecret::new("a long random secret"))
///     .xsrf_cookies(true)
///     .login_url("/login");
/// assert!(settings.serve_traceback_enabled()); // follows debug
/// ```
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Development mode: error pages show the panic or error message (unless
    /// `serve_traceback` says otherwise). Default off.
    pub debug: bool,
    /// Signs [signed cookies](crate::RequestContext::set_signed_cookie); without it they are
    /// errors (500). Default none.
    pub cookie_secret: Option<CookieSecret>,
    /// Which versioned secret signs new cookies. Default none (version 0).
    pub key_version: Option<u32>,
    /// Check an XSRF token on every POST/PUT/PATCH/DELETE (403 on mismatch). Default off.
    pub xsrf_cookies: bool,
    /// The XSRF cookie's name. Default `_xsrf`.
    pub xsrf_cookie_name: Option<String>,
    /// Attributes of the XSRF cookie (Tornado's `xsrf_cookie_kwargs`). Default none.
    pub xsrf_cookie_kwargs: CookieOptions,
    /// The format [`xsrf_token`](crate::RequestContext::xsrf_token) writes (Tornado's
    /// `xsrf_cookie_version`): version 2, masked afresh on every page (defeats BREACH), or
    /// version 1, the token in plain hex, for pages shared with old Tornado code. Both are
    /// read. Default version 2.
    pub xsrf_cookie_version: XsrfCookieVersion,
    /// Refuse unsafe requests (not GET, HEAD or OPTIONS) that a browser sent from another
    /// site, judged from `Sec-Fetch-Site` and `Origin` (Tornado 6.6's
    /// `cross_origin_protection`): 403 before `prepare`. Only [`RequestHandler`]s are
    /// checked; a handler opts out with
    /// [`check_trusted_origin`](crate::RequestHandler::check_trusted_origin). Default off.
    ///
    /// [`RequestHandler`]: crate::RequestHandler
    pub cross_origin_protection: bool,
    /// Origins (`scheme://host[:port]`, exactly as browsers send them in `Origin`) whose
    /// cross-origin requests and WebSocket connections are accepted (Tornado 6.6's
    /// `trusted_origins`). Default none.
    pub trusted_origins: Vec<String>,
    /// Where [`authenticated`](crate::RequestContext::authenticated) sends anonymous GET and
    /// HEAD requests (with `?next=`). Default none: they get 403.
    pub login_url: Option<String>,
    /// Gzip compressible responses of at least 1 KiB for clients that accept it. Default off.
    pub compress_response: bool,
    /// Serve error messages of 5xx answers and panics (Tornado's tracebacks). Default: `debug`.
    pub serve_traceback: Option<bool>,
    /// Replaces the access log line (Tornado's `log_function`). Default: the
    /// [`access_log`](crate::access_log) line through `tracing`.
    pub log_function: Option<LogFunction>,
    /// The host whose rules apply when none of [`add_handlers`](crate::Application::add_handlers)'s
    /// patterns match (Tornado's `default_host`). Default none.
    pub default_host: Option<String>,
    /// Static files' folder (for the static files handler). Default none.
    pub static_path: Option<PathBuf>,
    /// URL prefix of static files. Default `/static/`.
    pub static_url_prefix: Option<String>,
    /// Templates' folder (for the template loader). Default none.
    pub template_path: Option<PathBuf>,
    /// Ping WebSocket clients this often. Default none (no pings).
    pub websocket_ping_interval: Option<Duration>,
    /// Close a WebSocket whose pong is this late. Default: the ping interval, as Tornado 6.5;
    /// a longer timeout is cut to the interval, and zero turns the timeout off.
    pub websocket_ping_timeout: Option<Duration>,
    /// Largest WebSocket message. Default is 10 MiB (`None` means the default).
    pub websocket_max_message_size: Option<usize>,
    /// The connection limits every WebSocket route starts from: write queue, mailbox, read
    /// buffer, close timeout (the three `websocket_*` settings above apply on top when set).
    /// Default: [`WebSocketConfig::new`].
    pub websocket_config: Option<WebSocketConfig>,
    /// Keep compiled templates between requests (Tornado's `compiled_template_cache`).
    /// Default: on, off with `debug` (a changed template is then read on the next request).
    pub compiled_template_cache: Option<bool>,
    /// Keep each static file's `static_url` hash once computed (Tornado's
    /// `static_hash_cache`). Default: on, off with `debug` (a changed file then gets a new
    /// hash on the next page).
    pub static_hash_cache: Option<bool>,
    /// The templates' loader (Tornado's `template_loader`). Default: one reading
    /// `template_path`, shared by every application using that folder.
    pub template_loader: Option<TemplateLoader>,
    /// UI modules templates call as `modules.Name(..)` (Tornado's `ui_modules`). Default none.
    pub ui_modules: UiModules,
    /// Functions every template can call by name (Tornado's `ui_methods`). Default none.
    pub ui_methods: UiMethods,
    /// Adds names to every template's namespace (Tornado's overridden
    /// `get_template_namespace`). Default none.
    pub template_namespace: Option<NamespaceHook>,
    /// How the `static_path` files are served (Tornado's `static_handler_args`). Default:
    /// [`StaticFileOptions::default`].
    pub static_handler_args: StaticFileOptions,
    /// How long [`RequestContext::ask`](crate::RequestContext::ask) waits for an actor's
    /// answer. Default [`DEFAULT_ASK_TIMEOUT`](crate::DEFAULT_ASK_TIMEOUT) (10 s).
    pub ask_timeout: Option<Duration>,
    /// Behaviour every handler of the application shares (Tornado's `BaseHandler`): its current
    /// user, its `prepare`, its error page. See [`BaseHandler`](crate::BaseHandler). Default
    /// none.
    pub base_handler: Option<crate::handler::SharedBase>,
    /// The translations and default locale (Tornado's `load_translations` /
    /// `load_gettext_translations` / `set_default_locale`, kept per application here).
    /// Default none: every message is its own, and the default locale is `en_US`.
    pub translations: Option<Translations>,
    /// Chooses a request's locale before `Accept-Language` is read (Tornado's overridden
    /// `get_user_locale`). Default none.
    pub user_locale: Option<UserLocaleHook>,
    /// The `Server` field of every answer, unless the answer sets one. Default `None`:
    /// [`DEFAULT_SERVER_HEADER`]; an empty string sends none.
    pub server_header: Option<String>,
    /// Header fields every answer of the application carries unless it sets them itself
    /// (Tornado's `set_default_headers`, for the whole application): security headers, a
    /// `Cache-Control` policy. Default none.
    pub default_headers: http::HeaderMap,
    /// Rewrite every `RequestHandler` answer on its way out, in order (Tornado's
    /// `Application(transforms=...)`); see [`OutputTransform`](crate::OutputTransform).
    /// Default none.
    pub transforms: Vec<crate::TransformFactory>,
}

impl Settings {
    /// Adds an output transform: `factory` makes one per request (Tornado's
    /// `transforms=[...]`, whose classes are instantiated with the request). Transforms run in
    /// the order added, before `compress_response`'s gzip.
    pub fn transform<T, F>(mut self, factory: F) -> Self
    where
        T: crate::OutputTransform,
        F: Fn(&cyclone_protocol::server::HttpServerRequest) -> T + Send + Sync + 'static,
    {
        self.transforms.push(crate::TransformFactory::new(factory));
        self
    }

    /// Sets [`ask_timeout`](Self::ask_timeout).
    pub fn ask_timeout(mut self, timeout: Duration) -> Self {
        self.ask_timeout = Some(timeout);
        self
    }

    /// Sets [`base_handler`](Self::base_handler): behaviour shared by every handler.
    pub fn base_handler(mut self, base: impl crate::BaseHandler) -> Self {
        self.base_handler = Some(crate::handler::SharedBase::new(base));
        self
    }

    /// Sets [`debug`](Self::debug).
    pub fn debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// Sets [`cookie_secret`](Self::cookie_secret).
    pub fn cookie_secret(mut self, secret: CookieSecret) -> Self {
        self.cookie_secret = Some(secret);
        self
    }

    /// Sets [`key_version`](Self::key_version).
    pub fn key_version(mut self, version: u32) -> Self {
        self.key_version = Some(version);
        self
    }

    /// Sets [`xsrf_cookies`](Self::xsrf_cookies).
    pub fn xsrf_cookies(mut self, check: bool) -> Self {
        self.xsrf_cookies = check;
        self
    }

    /// Sets [`xsrf_cookie_version`](Self::xsrf_cookie_version).
    pub fn xsrf_cookie_version(mut self, version: XsrfCookieVersion) -> Self {
        self.xsrf_cookie_version = version;
        self
    }

    /// Sets [`cross_origin_protection`](Self::cross_origin_protection).
    pub fn cross_origin_protection(mut self, protect: bool) -> Self {
        self.cross_origin_protection = protect;
        self
    }

    /// Sets [`trusted_origins`](Self::trusted_origins).
    pub fn trusted_origins<O: Into<String>>(
        mut self,
        origins: impl IntoIterator<Item = O>,
    ) -> Self {
        self.trusted_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`xsrf_cookie_kwargs`](Self::xsrf_cookie_kwargs).
    pub fn xsrf_cookie_kwargs(mut self, options: CookieOptions) -> Self {
        self.xsrf_cookie_kwargs = options;
        self
    }

    /// Sets [`login_url`](Self::login_url).
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// Sets [`compress_response`](Self::compress_response).
    pub fn compress_response(mut self, compress: bool) -> Self {
        self.compress_response = compress;
        self
    }

    /// Sets [`serve_traceback`](Self::serve_traceback).
    pub fn serve_traceback(mut self, serve: bool) -> Self {
        self.serve_traceback = Some(serve);
        self
    }

    /// Sets [`log_function`](Self::log_function).
    pub fn log_function(
        mut self,
        log: impl Fn(&crate::access_log::AccessLogEntry<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.log_function = Some(LogFunction(Arc::new(log)));
        self
    }

    /// Sets [`default_host`](Self::default_host).
    pub fn default_host(mut self, host: impl Into<String>) -> Self {
        self.default_host = Some(host.into());
        self
    }

    /// Sets [`static_path`](Self::static_path).
    pub fn static_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.static_path = Some(path.into());
        self
    }

    /// Sets [`template_path`](Self::template_path).
    pub fn template_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.template_path = Some(path.into());
        self
    }

    /// Sets [`static_url_prefix`](Self::static_url_prefix) (it should start and end with `/`).
    pub fn static_url_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.static_url_prefix = Some(prefix.into());
        self
    }

    /// Sets [`compiled_template_cache`](Self::compiled_template_cache).
    pub fn compiled_template_cache(mut self, cache: bool) -> Self {
        self.compiled_template_cache = Some(cache);
        self
    }

    /// Sets [`static_hash_cache`](Self::static_hash_cache).
    pub fn static_hash_cache(mut self, cache: bool) -> Self {
        self.static_hash_cache = Some(cache);
        self
    }

    /// Sets [`template_loader`](Self::template_loader).
    pub fn template_loader(mut self, loader: TemplateLoader) -> Self {
        self.template_loader = Some(loader);
        self
    }

    /// Adds the UI module `name` to [`ui_modules`](Self::ui_modules).
    pub fn ui_module(mut self, name: impl Into<String>, module: impl UiModule) -> Self {
        self.ui_modules.insert(name, module);
        self
    }

    /// Adds the ui method `name` to [`ui_methods`](Self::ui_methods).
    pub fn ui_method(
        mut self,
        name: impl Into<String>,
        method: impl Fn(
            &ModuleContext<'_>,
            &[minijinja::Value],
        ) -> Result<minijinja::Value, minijinja::Error>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.ui_methods.insert(name, method);
        self
    }

    /// Sets [`template_namespace`](Self::template_namespace).
    pub fn template_namespace(
        mut self,
        hook: impl Fn(&crate::RequestContext, &mut TemplateNamespace) + Send + Sync + 'static,
    ) -> Self {
        self.template_namespace = Some(NamespaceHook(Arc::new(hook)));
        self
    }

    /// Sets [`static_handler_args`](Self::static_handler_args).
    pub fn static_handler_args(mut self, options: StaticFileOptions) -> Self {
        self.static_handler_args = options;
        self
    }

    /// Sets [`translations`](Self::translations).
    pub fn translations(mut self, translations: Translations) -> Self {
        self.translations = Some(translations);
        self
    }

    /// Makes `code` the default locale (Tornado's `set_default_locale`): the language of the
    /// application's own strings, and the locale of requests whose `Accept-Language` names no
    /// supported one. Default `en_US`.
    pub fn default_locale(mut self, code: impl Into<String>) -> Self {
        let translations = self.translations.take().unwrap_or_default();
        self.translations = Some(translations.default_locale(code));
        self
    }

    /// Sets [`user_locale`](Self::user_locale): `hook` returns the user's locale (from a
    /// profile, a cookie), or `None` to use the browser's.
    pub fn user_locale(
        mut self,
        hook: impl Fn(&crate::RequestContext) -> Option<Locale> + Send + Sync + 'static,
    ) -> Self {
        self.user_locale = Some(UserLocaleHook(Arc::new(hook)));
        self
    }

    /// Sets [`server_header`](Self::server_header) (empty: no `Server` field).
    pub fn server_header(mut self, server: impl Into<String>) -> Self {
        self.server_header = Some(server.into());
        self
    }

    /// Adds a field to [`default_headers`](Self::default_headers). A name or value that cannot
    /// be sent is a programming error and panics here, at start-up, not per request; for names
    /// and values read from configuration, use [`try_default_header`](Self::try_default_header).
    pub fn default_header(self, name: &str, value: &str) -> Self {
        match self.try_default_header(name, value) {
            Ok(settings) => settings,
            Err(error) => panic!("default_header: {error}"),
        }
    }

    /// Adds a field to [`default_headers`](Self::default_headers), or says why it cannot be
    /// sent (a name that is not a token, a value with CR, LF or another control character).
    pub fn try_default_header(mut self, name: &str, value: &str) -> Result<Self, HeaderFieldError> {
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HeaderFieldError::Name(name.to_owned()))?;
        let value = http::HeaderValue::from_str(value).map_err(|_| HeaderFieldError::Value {
            name: name.to_string(),
            value: value.to_owned(),
        })?;
        self.default_headers.append(name, value);
        Ok(self)
    }

    /// The fields every answer gets where it sets none: the `Server` field and
    /// [`default_headers`](Self::default_headers); `None` when there are none.
    pub fn answer_defaults(&self) -> Option<http::HeaderMap> {
        let mut defaults = self.default_headers.clone();
        let server = self
            .server_header
            .as_deref()
            .unwrap_or(DEFAULT_SERVER_HEADER);
        if !server.is_empty()
            && !defaults.contains_key(http::header::SERVER)
            && let Ok(value) = http::HeaderValue::from_str(server)
        {
            defaults.insert(http::header::SERVER, value);
        }
        (!defaults.is_empty()).then_some(defaults)
    }

    /// Whether compiled templates are kept: `compiled_template_cache`, else not `debug`.
    pub fn compiled_template_cache_enabled(&self) -> bool {
        self.compiled_template_cache.unwrap_or(!self.debug)
    }

    /// Whether static file hashes are kept: `static_hash_cache`, else not `debug`.
    pub fn static_hash_cache_enabled(&self) -> bool {
        self.static_hash_cache.unwrap_or(!self.debug)
    }

    /// Sets [`websocket_ping_interval`](Self::websocket_ping_interval).
    pub fn websocket_ping_interval(mut self, interval: Duration) -> Self {
        self.websocket_ping_interval = Some(interval);
        self
    }

    /// Sets [`websocket_ping_timeout`](Self::websocket_ping_timeout) (zero: no timeout).
    pub fn websocket_ping_timeout(mut self, timeout: Duration) -> Self {
        self.websocket_ping_timeout = Some(timeout);
        self
    }

    /// Sets [`websocket_max_message_size`](Self::websocket_max_message_size).
    pub fn websocket_max_message_size(mut self, bytes: usize) -> Self {
        self.websocket_max_message_size = Some(bytes);
        self
    }

    /// Sets [`websocket_config`](Self::websocket_config).
    pub fn websocket_config(mut self, config: WebSocketConfig) -> Self {
        self.websocket_config = Some(config);
        self
    }

    /// Whether error pages show messages: `serve_traceback`, else `debug`.
    pub fn serve_traceback_enabled(&self) -> bool {
        self.serve_traceback.unwrap_or(self.debug)
    }

    /// The XSRF cookie's name in force.
    pub fn xsrf_cookie_name_or_default(&self) -> &str {
        self.xsrf_cookie_name
            .as_deref()
            .unwrap_or(DEFAULT_XSRF_COOKIE_NAME)
    }

    /// The static URL prefix in force.
    pub fn static_url_prefix_or_default(&self) -> &str {
        self.static_url_prefix
            .as_deref()
            .unwrap_or(DEFAULT_STATIC_URL_PREFIX)
    }

    /// The WebSocket ping timeout in force, as Tornado 6.5 has it: the setting, cut to the ping
    /// interval when longer; else the interval; `None` when the setting is zero or there are no
    /// pings.
    pub fn websocket_ping_timeout_or_default(&self) -> Option<Duration> {
        let interval = self
            .websocket_ping_interval
            .filter(|interval| !interval.is_zero());
        match self.websocket_ping_timeout {
            Some(timeout) if timeout.is_zero() => None,
            Some(timeout) => Some(match interval {
                Some(interval) if timeout > interval => interval,
                _ => timeout,
            }),
            None => interval,
        }
    }

    /// The WebSocket message limit in force: the setting, else `websocket_config`'s, else
    /// 10 MiB.
    pub fn websocket_max_message_size_or_default(&self) -> usize {
        self.websocket_max_message_size.unwrap_or_else(|| {
            self.websocket_config
                .as_ref()
                .map_or(DEFAULT_WEBSOCKET_MAX_MESSAGE_SIZE, |config| {
                    config.get_max_message_size()
                })
        })
    }
}

/// Why [`Settings::try_default_header`] refused a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderFieldError {
    /// The name is not an HTTP token.
    #[error("invalid header name {0:?}")]
    Name(String),
    /// The value holds CR, LF or another control character.
    #[error("invalid value for {name}: {value:?}")]
    Value {
        /// The field's name.
        name: String,
        /// The value as given.
        value: String,
    },
}
