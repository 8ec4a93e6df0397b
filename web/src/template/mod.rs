//! Templates (Tornado's `tornado.template` and `RequestHandler.render`) on
//! [minijinja](https://docs.rs/minijinja): Jinja2 syntax, loaded at run time from
//! [`Settings::template_path`](crate::Settings::template_path), autoescaped, compiled once and
//! cached (or reloaded on every request with `debug` / `compiled_template_cache(false)`).
//!
//! # Layout
//!
//! - [`TemplateLoader`]: where templates come from (a folder, or a map of sources: Tornado's
//!   `Loader` and `DictLoader`), how they are escaped ([`Autoescape`]), extra filters and
//!   functions, and the compiled-template cache.
//! - `RequestContext::render` / `render_string` (in this module): a page through the loader
//!   with Tornado's namespace (`current_user`, `request`, `handler`, `static_url`,
//!   `reverse_url`, `xsrf_form_html`, the `escape` functions, `modules`, ui methods and what a
//!   [`NamespaceHook`] adds).
//! - [UI modules](UiModule) and [ui methods](UiMethod): reusable pieces with their own
//!   sub-templates, CSS and JavaScript, gathered into the page once.
//!
//! ```
//! use cyclone_web::template::{TemplateLoader, context};
//! use cyclone_web::{Application, HttpError, RequestContext, RequestHandler, Settings, handler, url};
//!
//! #[derive(Default)]
//! struct Home;
//!
//! impl RequestHandler for Home {
//!     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
//!         cx.render("home.html", context! { items => ["<one>", "two"] }).await
//!     }
//! }
//!
//! let loader = TemplateLoader::dict([
//!     ("base.html", "<title>{% block title %}{% endblock %}</title>{% block body %}{% endblock %}"),
//!     ("home.html", "{% extends 'base.html' %}{% block body %}{% for item in items %}<p>{{ item }}</p>{% endfor %}{% endblock %}"),
//! ]);
//! let settings = Settings::default().template_loader(loader);
//! let app = Application::with_settings([url("/", handler::<Home>())], settings).unwrap();
//! # drop(app);
//! ```
//!
//! The guide, with how to port a Tornado template, is `docs/templates.md`.

mod namespace;
mod render;
mod ui;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use arc_swap::ArcSwapOption;

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{AutoEscape, Environment};

pub use minijinja::{self, context};
pub use namespace::{NamespaceHook, RequestInfo, TemplateNamespace};
pub use ui::{ModuleContext, UiMethod, UiMethods, UiModule, UiModules};

use crate::errors::HttpError;
use crate::escape;
use crate::settings::Settings;

/// Why a template could not be rendered. Every one is a 500 for the client; with `debug` (or
/// `serve_traceback`) the error page shows this message: the template, the line and the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// Neither `template_path` nor `template_loader` is set.
    #[error("cannot load template {0:?}: no template_path or template_loader setting")]
    NoLoader(String),
    /// Loading, compiling or rendering failed: a syntax error, a missing template, an error
    /// raised while rendering. The message names the template and line.
    #[error("{}", describe(.0))]
    Render(#[source] minijinja::Error),
}

impl From<minijinja::Error> for TemplateError {
    fn from(error: minijinja::Error) -> Self {
        TemplateError::Render(error)
    }
}

impl From<TemplateError> for HttpError {
    fn from(error: TemplateError) -> Self {
        HttpError::internal(error)
    }
}

/// A render error in words: the error (which names template and line), what caused it, and
/// the template lines around it.
fn describe(error: &minijinja::Error) -> String {
    use std::fmt::Write as _;
    let mut text = String::from("template error");
    if let Some(name) = error.name() {
        let _ = write!(text, " in {name:?}");
    }
    if let Some(line) = error.line() {
        let _ = write!(text, ", line {line}");
    }
    let _ = write!(text, ": {error}");
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let _ = write!(text, "\ncaused by: {inner}");
        cause = inner.source();
    }
    if error.template_source().is_some() {
        let _ = write!(text, "\n{}", error.display_debug_info());
    }
    text
}

/// Which templates are HTML-escaped: every `{{ expression }}` whose value is not marked safe.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Autoescape {
    /// Templates named `.html`, `.htm` or `.xml` (also with a final `.j2`, `.jinja` or
    /// `.jinja2`); others (`.txt`, `.js`, emails) are not. The default.
    #[default]
    ByExtension,
    /// Every template (Tornado's default `autoescape="xhtml_escape"`).
    Always,
    /// No template (Tornado's `autoescape=None`); escape with `|e` or `escape()` yourself.
    Never,
}

impl Autoescape {
    /// minijinja's escaping for the template called `name`.
    fn for_template(self, name: &str) -> AutoEscape {
        match self {
            Autoescape::Always => AutoEscape::Html,
            Autoescape::Never => AutoEscape::None,
            Autoescape::ByExtension => {
                let name = [".j2", ".jinja2", ".jinja"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix))
                    .unwrap_or(name);
                match name.rsplit('.').next() {
                    Some("html" | "htm" | "xml") => AutoEscape::Html,
                    _ => AutoEscape::None,
                }
            }
        }
    }
}

/// Adds filters, functions, globals or tests to a loader's environment.
type Configure = Arc<dyn Fn(&mut Environment<'static>) + Send + Sync>;

/// Where templates come from.
#[derive(Clone)]
enum Source {
    /// Files under a folder (Tornado's `Loader`); names are paths below it, never above.
    Folder(PathBuf),
    /// Sources by name (Tornado's `DictLoader`).
    Map(Arc<BTreeMap<String, String>>),
}

/// Loads and compiles templates (Tornado's `template.Loader` / `DictLoader`), keeping the
/// compiled ones until [`reset`](Self::reset) or, when the application does not cache
/// (`debug`, `compiled_template_cache(false)`), for one render only.
///
/// The application makes one from [`Settings::template_path`](crate::Settings::template_path)
/// when it first renders; set [`Settings::template_loader`](crate::Settings::template_loader)
/// to use one of your own (templates embedded in the binary, extra filters, another escaping).
/// Clones share the cache.
///
/// Files are read on the loop the first time a template is used (then compiled and kept), as
/// Tornado does; without the cache every render reads them again, so keep that to
/// development.
///
/// ```
/// use cyclone_web::template::{Autoescape, TemplateLoader};
///
/// let loader = TemplateLoader::new("templates")
///     .autoescape(Autoescape::Always)
///     .configure(|env| env.add_filter("shout", |text: String| text.to_uppercase()));
/// # drop(loader);
/// ```
#[derive(Clone)]
pub struct TemplateLoader {
    /// What templates come from and how they are set up; shared by clones.
    inner: Arc<LoaderInner>,
}

/// A loader's parts.
struct LoaderInner {
    /// The templates' source.
    source: Source,
    /// Which templates are escaped.
    autoescape: Autoescape,
    /// What [`TemplateLoader::configure`] added, applied in order to every environment built.
    configure: Vec<Configure>,
    /// The environment with its compiled templates, kept while caching is on. Read by every
    /// render on every worker, so it is swapped, never locked.
    cached: ArcSwapOption<Environment<'static>>,
}

impl std::fmt::Debug for TemplateLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("TemplateLoader");
        match &self.inner.source {
            Source::Folder(root) => debug.field("root", root),
            Source::Map(templates) => debug.field("templates", &templates.keys()),
        };
        debug
            .field("autoescape", &self.inner.autoescape)
            .finish_non_exhaustive()
    }
}

impl TemplateLoader {
    /// Templates from files under `root` (Tornado's `Loader(root)`). A name is a path below
    /// `root` with `/` separators (`"modules/entry.html"`); names that climb out (`..`) or
    /// start with a dot are not found.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self::from_source(Source::Folder(root.into()))
    }

    /// Templates from `(name, source)` pairs (Tornado's `DictLoader`): for tests, and for
    /// templates embedded with `include_str!`.
    pub fn dict<N: Into<String>, S: Into<String>>(
        templates: impl IntoIterator<Item = (N, S)>,
    ) -> Self {
        let templates = templates
            .into_iter()
            .map(|(name, source)| (name.into(), source.into()))
            .collect();
        Self::from_source(Source::Map(Arc::new(templates)))
    }

    fn from_source(source: Source) -> Self {
        TemplateLoader {
            inner: Arc::new(LoaderInner {
                source,
                autoescape: Autoescape::default(),
                configure: Vec::new(),
                cached: ArcSwapOption::empty(),
            }),
        }
    }

    /// Sets which templates are escaped. Default [`Autoescape::ByExtension`].
    pub fn autoescape(self, autoescape: Autoescape) -> Self {
        self.rebuilt(|inner| inner.autoescape = autoescape)
    }

    /// Runs `configure` on every environment this loader builds: add filters, functions,
    /// globals, tests, or change minijinja's settings (undefined behaviour, whitespace). The
    /// escape functions and filters are already there.
    pub fn configure(
        self,
        configure: impl Fn(&mut Environment<'static>) + Send + Sync + 'static,
    ) -> Self {
        self.rebuilt(|inner| inner.configure.push(Arc::new(configure)))
    }

    /// A loader like this one changed by `change`, with an empty cache.
    fn rebuilt(self, change: impl FnOnce(&mut LoaderInner)) -> Self {
        let mut inner = LoaderInner {
            source: self.inner.source.clone(),
            autoescape: self.inner.autoescape,
            configure: self.inner.configure.clone(),
            cached: ArcSwapOption::empty(),
        };
        change(&mut inner);
        TemplateLoader {
            inner: Arc::new(inner),
        }
    }

    /// The folder templates are read from, if they come from one.
    pub fn root(&self) -> Option<&Path> {
        match &self.inner.source {
            Source::Folder(root) => Some(root),
            Source::Map(_) => None,
        }
    }

    /// Forgets every compiled template: the next render reads and compiles them again
    /// (Tornado's `Loader.reset`).
    pub fn reset(&self) {
        self.inner.cached.store(None);
    }

    /// The environment to render with: the cached one (made on first use) when `cache`, else
    /// a fresh one that reads every template again.
    pub fn environment(&self, cache: bool) -> Arc<Environment<'static>> {
        if !cache {
            return Arc::new(self.build());
        }
        if let Some(environment) = self.inner.cached.load_full() {
            return environment;
        }
        // Two first renders at once may both build; the later one's environment is kept,
        // and both are correct.
        let environment = Arc::new(self.build());
        self.inner.cached.store(Some(environment.clone()));
        environment
    }

    /// A new environment: the source, the escaping, Tornado's escape functions and filters,
    /// then what `configure` added.
    fn build(&self) -> Environment<'static> {
        let mut env = Environment::new();
        match &self.inner.source {
            Source::Folder(root) => env.set_loader(minijinja::path_loader(root)),
            Source::Map(templates) => {
                let templates = templates.clone();
                env.set_loader(move |name| Ok(templates.get(name).cloned()));
            }
        }
        let autoescape = self.inner.autoescape;
        env.set_auto_escape_callback(move |name| autoescape.for_template(name));
        env.set_formatter(tornado_formatter);
        add_escape_functions(&mut env);
        for configure in &self.inner.configure {
            configure(&mut env);
        }
        env
    }
}

/// Writes an expression's value: HTML-escaped as Tornado's `xhtml_escape` (`&<>"'`, where
/// minijinja's own escaping also rewrites `/`) when the template is autoescaped and the value
/// not marked safe; otherwise as minijinja writes it (`none` and undefined values too).
fn tornado_formatter(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if state.auto_escape() != AutoEscape::Html
        || value.is_safe()
        || value.is_undefined()
        || value.is_none()
    {
        return minijinja::escape_formatter(out, state, value);
    }
    let written = match (value.as_str(), value.kind()) {
        (Some(text), _) => escape::write_xhtml_escaped(out, text),
        // An integer (a table's ids): written with `itoa`, a third of the instructions of
        // `Display` through `fmt::Write`, which pads and checks flags for each cell. A
        // non-negative one is read with `as_usize`, which reads it in place, where `as_i64`
        // copies the value and drops the copy (~70 instructions a cell).
        (None, ValueKind::Number) if value.is_integer() => {
            if let Some(number) = value.as_usize() {
                out.write_str(itoa::Buffer::new().format(number))
            } else if let Some(number) = value.as_i64() {
                out.write_str(itoa::Buffer::new().format(number))
            } else {
                std::fmt::Write::write_fmt(out, format_args!("{value}"))
            }
        }
        // Digits, signs, `.`, `e`, `inf`, `NaN`, `true`/`false`: nothing to escape, so no
        // string to build (a table of ids would otherwise allocate one per cell).
        (None, ValueKind::Number | ValueKind::Bool) => {
            std::fmt::Write::write_fmt(out, format_args!("{value}"))
        }
        (None, _) => escape::write_xhtml_escaped(out, &value.to_string()),
    };
    written.map_err(|_| {
        minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "cannot write the page")
    })
}

/// Tornado's template namespace functions from `tornado.escape`, each also a filter
/// (`{{ url_escape(q) }}` and `{{ q|url_escape }}` are the same).
fn add_escape_functions(env: &mut Environment<'static>) {
    // Already-escaped HTML: marked safe so autoescape does not escape it twice.
    fn xhtml_escape(value: &Value) -> Value {
        if value.is_safe() {
            return value.clone();
        }
        Value::from_safe_string(escape::xhtml_escape(&text_of(value)))
    }
    fn url_escape(value: &Value, plus: Option<bool>) -> String {
        escape::url_escape(&text_of(value), plus.unwrap_or(true))
    }
    fn url_unescape(value: &Value, plus: Option<bool>) -> String {
        escape::url_unescape(&text_of(value), plus.unwrap_or(true))
    }
    fn json_encode(value: &Value) -> Result<String, minijinja::Error> {
        escape::json_encode(value).map_err(|error| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, error.to_string())
        })
    }
    fn squeeze(value: &Value) -> String {
        escape::squeeze(&text_of(value))
    }
    fn linkify(value: &Value, kwargs: Kwargs) -> Result<Value, minijinja::Error> {
        let mut options = escape::LinkifyOptions::default();
        if let Some(shorten) = kwargs.get::<Option<bool>>("shorten")? {
            options.shorten = shorten;
        }
        if let Some(params) = kwargs.get::<Option<String>>("extra_params")? {
            options.extra_params = escape::ExtraParams::Fixed(params);
        }
        if let Some(require) = kwargs.get::<Option<bool>>("require_protocol")? {
            options.require_protocol = require;
        }
        if let Some(protocols) = kwargs.get::<Option<Vec<String>>>("permitted_protocols")? {
            options.permitted_protocols = protocols;
        }
        kwargs.assert_all_used()?;
        Ok(Value::from_safe_string(escape::linkify_with(
            &text_of(value),
            &options,
        )))
    }

    // Tornado's `escape` is `xhtml_escape`; the Jinja2 filters `escape` and `e` escape the
    // same characters, so a page escapes one way whichever is used.
    for name in ["escape", "xhtml_escape"] {
        env.add_function(name, xhtml_escape);
    }
    for name in ["escape", "e", "xhtml_escape"] {
        env.add_filter(name, xhtml_escape);
    }
    env.add_function("url_escape", url_escape);
    env.add_filter("url_escape", url_escape);
    env.add_function("url_unescape", url_unescape);
    env.add_filter("url_unescape", url_unescape);
    env.add_function("json_encode", json_encode);
    env.add_filter("json_encode", json_encode);
    env.add_function("squeeze", squeeze);
    env.add_filter("squeeze", squeeze);
    env.add_function("linkify", linkify);
    env.add_filter("linkify", linkify);
}

/// A template value as text: strings as they are, anything else as the template prints it.
fn text_of(value: &Value) -> String {
    match value.as_str() {
        Some(text) => text.to_owned(),
        None if value.is_none() || value.is_undefined() => String::new(),
        None => value.to_string(),
    }
}

/// The loaders made from `template_path` settings, by folder (Tornado's class-level
/// `_template_loaders`): every application and request using a folder shares its compiled
/// templates.
static FOLDER_LOADERS: LazyLock<Mutex<HashMap<PathBuf, TemplateLoader>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The loader `settings` render with: `template_loader`, else the shared one for
/// `template_path` (an [`Application`](crate::Application) sets `template_loader` to it when
/// it is built, so this lock is not taken per render).
pub(crate) fn loader_for(settings: &Settings, name: &str) -> Result<TemplateLoader, TemplateError> {
    if let Some(loader) = &settings.template_loader {
        return Ok(loader.clone());
    }
    let root = settings
        .template_path
        .as_ref()
        .ok_or_else(|| TemplateError::NoLoader(name.to_owned()))?;
    Ok(folder_loader(root))
}

/// The shared loader for the folder `root`, made on first use.
pub(crate) fn folder_loader(root: &Path) -> TemplateLoader {
    let mut loaders = FOLDER_LOADERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loaders
        .entry(root.to_owned())
        .or_insert_with(|| TemplateLoader::new(root.to_owned()))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_booleans_are_written_as_minijinja_writes_them_and_strings_escaped() {
        let loader = TemplateLoader::dict([(
            "values.html",
            "{{ 7 }}|{{ -12 }}|{{ 1.5 }}|{{ true }}|{{ n }}|{{ '<&>' }}|{{ items }}",
        )]);
        let env = loader.environment(true);
        let page = env
            .get_template("values.html")
            .and_then(|template| {
                template.render(minijinja::context! { n => u64::MAX, items => vec!["<a>"] })
            })
            .unwrap();
        assert_eq!(
            page,
            "7|-12|1.5|True|18446744073709551615|&lt;&amp;&gt;|[&quot;&lt;a&gt;&quot;]"
        );
    }
}
