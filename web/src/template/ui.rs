//! UI modules and ui methods (Tornado's `UIModule` and `ui_methods`): reusable page pieces a
//! template calls by name, each rendering its own sub-template, and whose CSS and JavaScript
//! `render` gathers into the page once however many times the piece appears.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};

use super::namespace::{Namespace, RequestInfo, lock};
use crate::routing::RouteError;
use crate::settings::Settings;

/// A reusable piece of a page (Tornado's `UIModule`): registered by name with
/// [`Settings::ui_module`](crate::Settings::ui_module), called from a template as
/// `{{ modules.Entry(entry) }}` (Tornado's `{% module Entry(entry) %}`), its output inserted
/// unescaped.
///
/// Its CSS and JavaScript (files and embedded) are added to the page by
/// [`render`](crate::RequestContext::render) once per page for each module the page used, files
/// also deduplicated across modules: `<link>` and `<style>` before `</head>`, `<script>` before
/// `</body>`, as Tornado does. Relative file paths go through `static_url`.
///
/// One value serves every request (Tornado makes one per handler): keep per-request state in
/// the arguments and the [`ModuleContext`].
///
/// ```
/// use cyclone_web::template::{ModuleContext, UiModule, context, minijinja};
/// use minijinja::value::Value;
///
/// struct Entry;
///
/// impl UiModule for Entry {
///     fn render(&self, cx: &ModuleContext<'_>, args: &[Value]) -> Result<String, minijinja::Error> {
///         let entry = args.first().cloned().unwrap_or_default();
///         cx.render_string("modules/entry.html", context! { entry })
///     }
///
///     fn css_files(&self) -> Vec<String> {
///         vec!["entry.css".into()]
///     }
/// }
/// ```
pub trait UiModule: Send + Sync + 'static {
    /// The module's HTML for one call; `args` are the call's arguments, keyword arguments last
    /// as a `Kwargs` value.
    fn render(&self, cx: &ModuleContext<'_>, args: &[Value]) -> Result<String, Error>;

    /// JavaScript put in a `<script>` element at the end of the body.
    fn embedded_javascript(&self) -> Option<String> {
        None
    }

    /// JavaScript files linked at the end of the body (relative paths through `static_url`).
    fn javascript_files(&self) -> Vec<String> {
        Vec::new()
    }

    /// CSS put in a `<style>` element in the head.
    fn embedded_css(&self) -> Option<String> {
        None
    }

    /// CSS files linked in the head (relative paths through `static_url`).
    fn css_files(&self) -> Vec<String> {
        Vec::new()
    }

    /// HTML put at the end of the head.
    fn html_head(&self) -> Option<String> {
        None
    }

    /// HTML put at the end of the body.
    fn html_body(&self) -> Option<String> {
        None
    }
}

/// The UI modules of an application by name (Tornado's `ui_modules` setting).
#[derive(Clone, Default)]
pub struct UiModules {
    /// The modules; shared by every request.
    modules: Arc<BTreeMap<String, Arc<dyn UiModule>>>,
}

impl UiModules {
    /// Adds (or replaces) the module called `name`.
    pub fn insert(&mut self, name: impl Into<String>, module: impl UiModule) {
        Arc::make_mut(&mut self.modules).insert(name.into(), Arc::new(module));
    }

    /// The module called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn UiModule>> {
        self.modules.get(name).cloned()
    }
}

impl std::fmt::Debug for UiModules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.modules.keys()).finish()
    }
}

/// A ui method (Tornado's `ui_methods`): a function every template can call by name, given the
/// request's [`ModuleContext`] (Tornado passes the handler) and the call's arguments.
pub type UiMethod = Arc<dyn Fn(&ModuleContext<'_>, &[Value]) -> Result<Value, Error> + Send + Sync>;

/// The ui methods of an application by name (Tornado's `ui_methods` setting).
#[derive(Clone, Default)]
pub struct UiMethods {
    /// The methods; shared by every request.
    methods: Arc<BTreeMap<String, UiMethod>>,
}

impl UiMethods {
    /// Adds (or replaces) the method called `name`.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        method: impl Fn(&ModuleContext<'_>, &[Value]) -> Result<Value, Error> + Send + Sync + 'static,
    ) {
        Arc::make_mut(&mut self.methods).insert(name.into(), Arc::new(method));
    }

    /// The method called `name`.
    pub fn get(&self, name: &str) -> Option<UiMethod> {
        self.methods.get(name).cloned()
    }
}

impl std::fmt::Debug for UiMethods {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.methods.keys()).finish()
    }
}

/// What a UI module or ui method can reach of the request being rendered (Tornado's
/// `self.handler`, `self.request`, `self.current_user`, `self.render_string`).
#[derive(Debug)]
pub struct ModuleContext<'a> {
    /// The render's namespace.
    pub(crate) namespace: &'a Arc<Namespace>,
}

impl ModuleContext<'_> {
    /// Renders the template `name` with `context` over the page's namespace (Tornado's
    /// `UIModule.render_string`); its autoescaping follows its own name.
    pub fn render_string(
        &self,
        name: &str,
        context: impl serde::Serialize,
    ) -> Result<String, Error> {
        let template = self.namespace.environment.get_template(name)?;
        template.render(self.page_context(Value::from_serialize(context)))
    }

    /// The current user.
    pub fn current_user(&self) -> Option<&str> {
        self.namespace.current_user.as_deref()
    }

    /// The request.
    pub fn request(&self) -> &RequestInfo {
        self.namespace.request()
    }

    /// The application's settings.
    pub fn settings(&self) -> &Settings {
        self.namespace.settings()
    }

    /// `static_url(path)`, as the template's.
    pub fn static_url(&self, path: &str) -> String {
        self.namespace.static_url(path)
    }

    /// `reverse_url(name, args)`, as the template's.
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, RouteError> {
        self.namespace.app.reverse_url(name, args)
    }

    /// `xsrf_form_html()`, as the template's.
    pub fn xsrf_form_html(&self) -> String {
        self.namespace.xsrf_form_html()
    }
}

/// `modules` in templates: `modules.Entry(entry)` calls the UI module `Entry`.
#[derive(Debug)]
pub(crate) struct Modules(pub(crate) Arc<Namespace>);

impl Object for Modules {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let module = self.0.settings().ui_modules.get(name)?;
        Some(Value::from_object(ModuleCall {
            namespace: self.0.clone(),
            name: name.to_owned(),
            module,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match self.get_value(&Value::from(method)) {
            Some(call) => call.call(state, args),
            None => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("no UI module named {method:?} (Settings::ui_module)"),
            )),
        }
    }
}

/// One UI module bound to a render.
struct ModuleCall {
    /// The render.
    namespace: Arc<Namespace>,
    /// The module's name, to note its use once.
    name: String,
    /// The module.
    module: Arc<dyn UiModule>,
}

impl std::fmt::Debug for ModuleCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleCall")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Object for ModuleCall {
    fn call(self: &Arc<Self>, _state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        {
            let mut used = lock(&self.namespace.modules_used);
            if !used.contains(&self.name) {
                used.push(self.name.clone());
            }
        }
        let cx = ModuleContext {
            namespace: &self.namespace,
        };
        let html = self.module.render(&cx, args)?;
        Ok(Value::from_safe_string(html))
    }
}

/// A ui method bound to a render.
pub(crate) struct UiMethodCall {
    /// The render.
    pub(crate) namespace: Arc<Namespace>,
    /// The method.
    pub(crate) method: UiMethod,
}

impl std::fmt::Debug for UiMethodCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UiMethodCall(..)")
    }
}

impl Object for UiMethodCall {
    fn call(self: &Arc<Self>, _state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let cx = ModuleContext {
            namespace: &self.namespace,
        };
        (self.method)(&cx, args)
    }
}

/// Whether the page called a UI module, so [`insert_resources`] has something to add.
pub(crate) fn has_resources(namespace: &Namespace) -> bool {
    !lock(&namespace.modules_used).is_empty()
}

/// Adds the CSS, JavaScript and HTML of the UI modules the page used to `html`, as Tornado's
/// `render`: linked and embedded CSS and `html_head` before the first `</head>`, linked and
/// embedded JavaScript and `html_body` before the last `</body>` (at the end when the page
/// has none).
pub(crate) fn insert_resources(namespace: &Arc<Namespace>, mut html: String) -> String {
    let used = lock(&namespace.modules_used).clone();
    if used.is_empty() {
        return html;
    }
    let modules: Vec<Arc<dyn UiModule>> = used
        .iter()
        .filter_map(|name| namespace.settings().ui_modules.get(name))
        .collect();
    let mut js_files = Vec::new();
    let mut js_embed = Vec::new();
    let mut css_files = Vec::new();
    let mut css_embed = Vec::new();
    let mut html_heads = String::new();
    let mut html_bodies = String::new();
    for module in &modules {
        js_files.extend(module.javascript_files());
        js_embed.extend(module.embedded_javascript());
        css_files.extend(module.css_files());
        css_embed.extend(module.embedded_css());
        html_heads.extend(module.html_head());
        html_bodies.extend(module.html_body());
    }
    let mut head = String::new();
    let mut body = String::new();
    for path in linked_paths(namespace, &js_files) {
        body.push_str(&format!(
            "<script src=\"{}\" type=\"text/javascript\"></script>",
            crate::escape::xhtml_escape(&path)
        ));
    }
    if !js_files.is_empty() {
        body.push('\n');
    }
    if !js_embed.is_empty() {
        body.push_str(&format!(
            "<script type=\"text/javascript\">\n//<![CDATA[\n{}\n//]]>\n</script>\n",
            js_embed.join("\n")
        ));
    }
    for path in linked_paths(namespace, &css_files) {
        head.push_str(&format!(
            "<link href=\"{}\" type=\"text/css\" rel=\"stylesheet\"/>",
            crate::escape::xhtml_escape(&path)
        ));
    }
    if !css_files.is_empty() {
        head.push('\n');
    }
    if !css_embed.is_empty() {
        head.push_str(&format!(
            "<style type=\"text/css\">\n{}\n</style>\n",
            css_embed.join("\n")
        ));
    }
    if !html_heads.is_empty() {
        head.push_str(&html_heads);
        head.push('\n');
    }
    if !html_bodies.is_empty() {
        body.push_str(&html_bodies);
        body.push('\n');
    }
    if !head.is_empty() {
        let at = html.find("</head>").unwrap_or(html.len());
        html.insert_str(at, &head);
    }
    if !body.is_empty() {
        let at = html.rfind("</body>").unwrap_or(html.len());
        html.insert_str(at, &body);
    }
    html
}

/// `paths` as URLs (relative ones through `static_url`), each once, in first-seen order.
fn linked_paths(namespace: &Arc<Namespace>, paths: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut urls = Vec::new();
    for path in paths {
        let absolute =
            path.starts_with('/') || path.starts_with("http:") || path.starts_with("https:");
        let url = if absolute {
            path.clone()
        } else {
            namespace.static_url(path)
        };
        if seen.insert(url.clone()) {
            urls.push(url);
        }
    }
    urls
}
