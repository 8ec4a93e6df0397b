//! Templates through real HTTP: render and render_string, Tornado's namespace, inheritance,
//! include, macros, autoescape on and off, UI modules' CSS and JavaScript gathered once, ui
//! methods, the namespace hook, template errors as 500s (no panic), and a changed template
//! picked up in debug.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cyclone::template::{Autoescape, ModuleContext, TemplateLoader, UiModule, context, minijinja};
use cyclone::testing::TestServer;
use cyclone::web::{
    Application, CookieSecret, HttpError, RequestContext, RequestHandler, Settings, handler_with,
    url,
};
use minijinja::value::Value;
use support::raw_http::Client;

/// Renders the template named by its rule with fixed values, as the user "ada".
struct Page {
    /// The template.
    template: &'static str,
    /// `render` or `render_string` (written as the body).
    whole_page: bool,
}

impl RequestHandler for Page {
    fn get_current_user(&mut self, _cx: &RequestContext) -> Option<String> {
        Some("ada".into())
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let values = context! {
            title => "<Hello & welcome>",
            items => ["one", "<two>"],
            entries => [context! { title => "First", body => "*a*" }, context! { title => "Second", body => "*b*" }],
            note => "see http://example.com/x?a=1&b=2",
            data => context! { script => "</script>" },
        };
        if self.whole_page {
            cx.render(self.template, values).await
        } else {
            let text = cx.render_string(self.template, values).await?;
            cx.set_header("Content-Type", "text/plain")?;
            cx.write(text);
            Ok(())
        }
    }
}

fn page(template: &'static str) -> cyclone::web::Target {
    handler_with(move || Page {
        template,
        whole_page: true,
    })
}

/// `Entry`: a module rendering a sub-template, with CSS and JavaScript.
struct EntryModule;

impl UiModule for EntryModule {
    fn render(&self, cx: &ModuleContext<'_>, args: &[Value]) -> Result<String, minijinja::Error> {
        let entry = args.first().cloned().unwrap_or_default();
        cx.render_string("modules/entry.html", context! { entry })
    }

    fn css_files(&self) -> Vec<String> {
        vec!["site.css".into(), "/absolute.css".into()]
    }

    fn embedded_css(&self) -> Option<String> {
        Some(".entry { margin: 0 }".into())
    }

    fn javascript_files(&self) -> Vec<String> {
        vec!["entry.js".into()]
    }

    fn embedded_javascript(&self) -> Option<String> {
        Some("var entries = true;".into())
    }

    fn html_body(&self) -> Option<String> {
        Some("<!-- entry body -->".into())
    }
}

/// `Badge`: a second module sharing a CSS file with `Entry`.
struct BadgeModule;

impl UiModule for BadgeModule {
    fn render(&self, _cx: &ModuleContext<'_>, args: &[Value]) -> Result<String, minijinja::Error> {
        let text = args
            .first()
            .map(|value| value.to_string())
            .unwrap_or_default();
        Ok(format!(
            "<span class=\"badge\">{}</span>",
            cyclone::escape::xhtml_escape(&text)
        ))
    }

    fn css_files(&self) -> Vec<String> {
        vec!["site.css".into()]
    }

    fn html_head(&self) -> Option<String> {
        Some("<meta name=\"badge\"/>".into())
    }
}

fn templates() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "base.html",
            "<html><head><title>{% block title %}base{% endblock %}</title></head><body>{% block body %}{% endblock %}</body></html>",
        ),
        (
            "child.html",
            "{% extends 'base.html' %}{% block title %}{{ title }}{% endblock %}{% block body %}{% include 'list.html' %}{% endblock %}",
        ),
        (
            "list.html",
            "<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>",
        ),
        (
            "macros.html",
            "{% macro field(name, value) %}<input name=\"{{ name }}\" value=\"{{ value }}\"/>{% endmacro %}",
        ),
        (
            "form.html",
            "{% import 'macros.html' as forms %}{{ forms.field('q', title) }}",
        ),
        (
            "escaping.html",
            "{{ title }}|{{ title|safe }}|{% autoescape false %}{{ title }}{% endautoescape %}",
        ),
        ("escaping.txt", "{{ title }}"),
        (
            "namespace.html",
            "{{ current_user }}|{{ request.method }} {{ request.path }}?{{ request.query }}|{{ request.headers['X-Probe'] }}|{{ handler.settings.debug }}|{{ reverse_url('entry', 'a b') }}|{{ static_url('site.css') }}|{{ site_name }}|{{ shout('hi') }}|{{ request.remote_ip }} {{ request.host }} {{ request.host_name }} {{ request.full_url() }} {{ request.headers.get('x-missing', 'none') }}",
        ),
        (
            "functions.html",
            "{{ url_escape('a b&c') }}|{{ 'a b'|url_escape(false) }}|{{ json_encode(data) }}|{{ squeeze('  a   b ') }}|{{ linkify(note) }}|{{ escape('<x>') }}",
        ),
        ("xsrf.html", "<form>{{ xsrf_form_html() }}</form>"),
        ("plain.html", "no form here"),
        (
            "modules.html",
            "<html><head><title>m</title></head><body>{% for entry in entries %}{{ modules.Entry(entry) }}{% endfor %}{{ modules.Badge('new') }}{{ modules.Entry(entries[0]) }}</body></html>",
        ),
        (
            "modules/entry.html",
            "<h2>{{ entry.title }}</h2>{{ current_user }}",
        ),
        ("syntax_error.html", "line one\n{% if %}\nline three"),
        ("runtime_error.html", "one\ntwo\n{{ no_such_function() }}"),
        ("includes_missing.html", "{% include 'missing.html' %}"),
    ]
}

fn settings(debug: bool) -> Settings {
    Settings::default()
        .debug(debug)
        .template_loader(TemplateLoader::dict(templates()))
        .ui_module("Entry", EntryModule)
        .ui_module("Badge", BadgeModule)
        .ui_method("shout", |_cx, args| {
            Ok(Value::from(
                args.first()
                    .map(|value| value.to_string().to_uppercase())
                    .unwrap_or_default(),
            ))
        })
        .template_namespace(|_cx, namespace| namespace.insert("site_name", "Cyclone <Site>"))
}

fn app(settings: Settings) -> Application {
    let mut rules = Vec::new();
    for (name, _) in templates() {
        rules.push(url(format!("/{name}"), page(name)));
    }
    rules.push(url(
        "/string/modules.html",
        handler_with(|| Page {
            template: "modules.html",
            whole_page: false,
        }),
    ));
    rules.push(url(r"/entry/([^/]+)", page("plain.html")).name("entry"));
    Application::with_settings(rules, settings).unwrap()
}

async fn get(addr: SocketAddr, path: &str) -> support::raw_http::Answer {
    get_with(addr, path, "").await
}

async fn get_with(addr: SocketAddr, path: &str, headers: &str) -> support::raw_http::Answer {
    let mut client = Client::connect(addr).await;
    client
        .send(format!("GET {path} HTTP/1.1\r\nHost: t\r\n{headers}\r\n").as_bytes())
        .await;
    client.answer().await.expect("an answer")
}

fn address(server: &TestServer) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.port()))
}

fn body(answer: &support::raw_http::Answer) -> String {
    String::from_utf8(answer.body.clone()).unwrap()
}

#[actix_rt::test]
async fn inheritance_include_and_autoescape() {
    let server = TestServer::start(app(settings(false))).unwrap();
    let addr = address(&server);
    let answer = get(addr, "/child.html").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("text/html; charset=UTF-8")
    );
    assert_eq!(
        body(&answer),
        "<html><head><title>&lt;Hello &amp; welcome&gt;</title></head><body><ul><li>one</li><li>&lt;two&gt;</li></ul></body></html>"
    );
}

#[actix_rt::test]
async fn macros_from_an_imported_template() {
    let server = TestServer::start(app(settings(false))).unwrap();
    let answer = get(address(&server), "/form.html").await;
    assert_eq!(
        body(&answer),
        "<input name=\"q\" value=\"&lt;Hello &amp; welcome&gt;\"/>"
    );
}

#[actix_rt::test]
async fn autoescape_on_and_off() {
    let server = TestServer::start(app(settings(false))).unwrap();
    let addr = address(&server);
    // .html: escaped, unless marked safe or inside an autoescape-false block.
    assert_eq!(
        body(&get(addr, "/escaping.html").await),
        "&lt;Hello &amp; welcome&gt;|<Hello & welcome>|<Hello & welcome>"
    );
    // .txt: not escaped.
    assert_eq!(body(&get(addr, "/escaping.txt").await), "<Hello & welcome>");

    // A loader that escapes every template, and one that escapes none.
    let always = Settings::default()
        .template_loader(TemplateLoader::dict(templates()).autoescape(Autoescape::Always));
    let server = TestServer::start(app(always)).unwrap();
    assert_eq!(
        body(&get(address(&server), "/escaping.txt").await),
        "&lt;Hello &amp; welcome&gt;"
    );
    let never = Settings::default()
        .template_loader(TemplateLoader::dict(templates()).autoescape(Autoescape::Never));
    let server = TestServer::start(app(never)).unwrap();
    assert_eq!(
        body(&get(address(&server), "/escaping.html").await),
        "<Hello & welcome>|<Hello & welcome>|<Hello & welcome>"
    );
}

#[actix_rt::test]
async fn tornados_namespace_and_the_hook() {
    let dir = temp_dir("namespace");
    std::fs::write(dir.join("site.css"), "body {}").unwrap();
    let settings = settings(false).static_path(&dir);
    let server = TestServer::start(app(settings)).unwrap();
    let answer = get_with(
        address(&server),
        "/namespace.html?x=1",
        "X-Probe: probe\r\n",
    )
    .await;
    let text = body(&answer);
    let parts: Vec<&str> = text.split('|').collect();
    assert_eq!(parts[0], "ada");
    assert_eq!(parts[1], "GET /namespace.html?x=1");
    assert_eq!(parts[2], "probe");
    assert_eq!(parts[3], "False");
    assert_eq!(parts[4], "/entry/a%20b");
    let (url, version) = parts[5].split_once("?v=").expect("a versioned URL");
    assert_eq!(url, "/static/site.css");
    assert_eq!(version.len(), 32);
    assert!(version.bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert_eq!(parts[6], "Cyclone &lt;Site&gt;");
    assert_eq!(parts[7], "HI");
    // Made when asked for: the address as text, the host name and URL, the header map.
    assert_eq!(parts[8], "127.0.0.1 t t http://t/namespace.html?x=1 none");
}

#[actix_rt::test]
async fn escape_functions_and_filters() {
    let server = TestServer::start(app(settings(false))).unwrap();
    assert_eq!(
        body(&get(address(&server), "/functions.html").await),
        "a+b%26c|a%20b|{&quot;script&quot;: &quot;&lt;\\/script&gt;&quot;}|a b|see <a href=\"http://example.com/x?a=1&amp;b=2\">http://example.com/x?a=1&amp;b=2</a>|&lt;x&gt;"
    );
}

#[actix_rt::test]
async fn xsrf_cookie_only_for_pages_that_use_the_token() {
    let settings = settings(false)
        .xsrf_cookies(true)
        .cookie_secret(CookieSecret::new("secret"));
    let server = TestServer::start(app(settings)).unwrap();
    let addr = address(&server);
    let with_form = get(addr, "/xsrf.html").await;
    let token = body(&with_form);
    assert!(
        token.starts_with("<form><input type=\"hidden\" name=\"_xsrf\" value=\"2|"),
        "{token}"
    );
    assert!(
        with_form
            .header("set-cookie")
            .is_some_and(|cookie| cookie.starts_with("_xsrf=2|"))
    );
    let without = get(addr, "/plain.html").await;
    assert_eq!(body(&without), "no form here");
    assert_eq!(without.header("set-cookie"), None);

    // Without xsrf_cookies the token is made when the page asks for it (a second pass).
    let server = TestServer::start(app(settings_without_xsrf())).unwrap();
    let with_form = get(address(&server), "/xsrf.html").await;
    assert!(body(&with_form).contains("name=\"_xsrf\" value=\"2|"));
    assert!(with_form.header("set-cookie").is_some());
}

fn settings_without_xsrf() -> Settings {
    settings(false)
}

#[actix_rt::test]
async fn ui_modules_css_and_javascript_gathered_once() {
    let dir = temp_dir("modules");
    std::fs::write(dir.join("site.css"), "body {}").unwrap();
    std::fs::write(dir.join("entry.js"), "1").unwrap();
    let server = TestServer::start(app(settings(false).static_path(&dir))).unwrap();
    let page = body(&get(address(&server), "/modules.html").await);
    let count = |needle: &str| page.matches(needle).count();
    // Three Entry calls and a Badge: each resource once, files shared between modules once.
    assert_eq!(count("<h2>First</h2>ada"), 2);
    assert_eq!(count("<h2>Second</h2>ada"), 1);
    assert_eq!(count("<span class=\"badge\">new</span>"), 1);
    assert_eq!(count("href=\"/static/site.css?v="), 1);
    assert_eq!(
        count("<link href=\"/absolute.css\" type=\"text/css\" rel=\"stylesheet\"/>"),
        1
    );
    assert_eq!(
        count("<style type=\"text/css\">\n.entry { margin: 0 }\n</style>"),
        1
    );
    assert_eq!(count("<script src=\"/static/entry.js?v="), 1);
    assert_eq!(count("var entries = true;"), 1);
    assert_eq!(count("<!-- entry body -->"), 1);
    assert_eq!(count("<meta name=\"badge\"/>"), 1);
    // CSS and the head HTML before </head>, JavaScript and the body HTML before </body>.
    let head_end = page.find("</head>").unwrap();
    assert!(page.find("site.css").unwrap() < head_end);
    assert!(page.find("<meta name=\"badge\"/>").unwrap() < head_end);
    let body_end = page.rfind("</body>").unwrap();
    assert!(page.find("entry.js").unwrap() > page.find("<span class=\"badge\">").unwrap());
    assert!(page.find("var entries").unwrap() < body_end);
    assert!(page.ends_with("</body></html>"));

    // render_string renders the modules but adds no resources, as Tornado's.
    let string = body(&get(address(&server), "/string/modules.html").await);
    assert!(string.contains("<h2>First</h2>"));
    assert!(!string.contains("site.css"));
}

#[actix_rt::test]
async fn template_errors_are_500_pages_naming_template_and_line() {
    let server = TestServer::start(app(settings(true))).unwrap();
    let addr = address(&server);
    let syntax = get(addr, "/syntax_error.html").await;
    assert_eq!(syntax.status, 500);
    let text = body(&syntax);
    assert!(text.contains("syntax_error.html"), "{text}");
    assert!(text.contains("line 2"), "{text}");
    assert!(text.contains("syntax error"), "{text}");

    let runtime = get(addr, "/runtime_error.html").await;
    assert_eq!(runtime.status, 500);
    let text = body(&runtime);
    assert!(text.contains("runtime_error.html"), "{text}");
    assert!(text.contains("line 3"), "{text}");
    assert!(text.contains("no_such_function"), "{text}");

    let missing = get(addr, "/includes_missing.html").await;
    assert_eq!(missing.status, 500);
    assert!(body(&missing).contains("missing.html"));

    // The server lives on.
    assert_eq!(get(addr, "/plain.html").await.status, 200);

    // Without debug the page says nothing of the template.
    let server = TestServer::start(app(settings(false))).unwrap();
    let quiet = get(address(&server), "/syntax_error.html").await;
    assert_eq!(quiet.status, 500);
    assert!(!body(&quiet).contains("syntax_error.html"));
}

#[actix_rt::test]
async fn a_missing_loader_is_a_500() {
    let app = Application::new([url("/", page("plain.html"))]).unwrap();
    let server = TestServer::start(app).unwrap();
    assert_eq!(get(address(&server), "/").await.status, 500);
}

#[actix_rt::test]
async fn a_changed_template_is_reloaded_without_the_cache_only() {
    // (name, debug, compiled_template_cache, reloaded)
    let cases = [
        ("debug", true, None, true),
        ("no-cache", false, Some(false), true),
        ("cached", false, None, false),
        ("debug-cached", true, Some(true), false),
    ];
    for (name, debug, cache, reloaded) in cases {
        let dir = temp_dir(&format!("reload-{name}"));
        std::fs::write(dir.join("plain.html"), "version one").unwrap();
        let mut settings = Settings::default().debug(debug).template_path(&dir);
        if let Some(cache) = cache {
            settings = settings.compiled_template_cache(cache);
        }
        let app = Application::with_settings([url("/", page("plain.html"))], settings).unwrap();
        let server = TestServer::start(app).unwrap();
        let addr = address(&server);
        assert_eq!(body(&get(addr, "/").await), "version one");
        std::fs::write(dir.join("plain.html"), "version two").unwrap();
        let expected = if reloaded {
            "version two"
        } else {
            "version one"
        };
        assert_eq!(body(&get(addr, "/").await), expected, "{name}");
    }
}

#[actix_rt::test]
async fn a_changed_static_file_gets_a_new_version_in_debug() {
    let dir = temp_dir("static-version");
    std::fs::write(dir.join("site.css"), "one").unwrap();
    let settings = settings(true).static_path(&dir);
    let server = TestServer::start(app(settings)).unwrap();
    let addr = address(&server);
    let version = |text: String| text.split('|').nth(5).unwrap_or_default().to_owned();
    let first = version(body(&get(addr, "/namespace.html").await));
    // A different length, so the change shows even where file times are coarse.
    std::fs::write(dir.join("site.css"), "two, longer").unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let second = version(body(&get(addr, "/namespace.html").await));
    assert!(first.contains("?v=") && second.contains("?v="));
    assert_ne!(first, second);
}

/// A fresh folder under the system's temporary folder.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cyclone-templates-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Renders its error pages from a template, as Tornado users do in `write_error`.
#[derive(Default)]
struct Missing;

impl RequestHandler for Missing {
    async fn get(&mut self, _cx: &mut RequestContext) -> Result<(), HttpError> {
        Err(HttpError::not_found())
    }

    fn write_error(&mut self, cx: &mut RequestContext, error: &HttpError) {
        let values = context! { status => error.status.as_u16(), reason => error.reason_phrase() };
        match cx.render_string_now("error.html", values) {
            Ok(page) => cx.write(page),
            Err(_) => cx.write_default_error(error),
        }
    }
}

#[actix_rt::test]
async fn write_error_renders_a_template_at_once() {
    let loader = TemplateLoader::dict([(
        "error.html",
        "<h1>{{ status }}: {{ reason }}</h1><p>{{ request.path }} for {{ current_user }}</p>",
    )]);
    let settings = Settings::default().template_loader(loader);
    let app = Application::with_settings(
        [url("/missing", cyclone::web::handler::<Missing>())],
        settings,
    )
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let answer = get(address(&server), "/missing").await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        body(&answer),
        "<h1>404: Not Found</h1><p>/missing for None</p>"
    );
}
