//! The blog as an [`Application`]: its rules, settings and the state every handler shares.
//! `main.rs` serves it; `tests/blog_browser.rs` and `tests/blog.rs` start it on a free port.

pub mod auth;
pub mod db;
pub mod entries;
pub mod modules;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cyclone::locale::Translations;
use cyclone::web::{
    Application, CookieSecret, HttpError, RequestContext, Settings, handler_with, url,
};

pub use db::{Author, Db};

/// The blog's title, shown on every page and in the feed.
pub const BLOG_TITLE: &str = "Cyclone Blog";

/// The signed cookie holding the logged-in author's id.
pub const USER_COOKIE: &str = "blogdemo_user";

/// How to run the blog.
#[derive(Debug, Clone)]
pub struct BlogOptions {
    /// The SQLite file; created with its tables if missing.
    pub database: PathBuf,
    /// Reload templates and static files when they change; detailed error pages.
    pub debug: bool,
}

/// What every handler shares: the database.
#[derive(Debug)]
pub struct Site {
    /// The database, queried on the blocking pool.
    pub db: Db,
}

/// The folder of this example, found at build time so the blog runs from any working directory.
fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/blog")
}

/// The blog's application: opens (or creates) the database, then the rules and settings.
pub async fn application(options: &BlogOptions) -> Result<Application, Box<dyn std::error::Error>> {
    let db = Db::open(options.database.clone()).await?;
    let cookie_secret = db.cookie_secret().await?;
    let site = Arc::new(Site { db });
    // The pages in English (their own strings) and French (`locale/fr_FR/LC_MESSAGES/blog.po`),
    // chosen by the browser's Accept-Language.
    let translations = Translations::load_gettext(example_dir().join("locale"), "blog")?;
    let settings = Settings::default()
        .translations(translations)
        .debug(options.debug)
        .template_path(example_dir().join("templates"))
        .static_path(example_dir().join("static"))
        .cookie_secret(CookieSecret::new(cookie_secret))
        .xsrf_cookies(true)
        .login_url("/auth/login")
        .ui_module("Entry", modules::EntryModule)
        .template_namespace(|_cx, namespace| namespace.insert("blog_title", BLOG_TITLE));
    let with_site = |make: fn(Arc<Site>) -> cyclone::web::Target| make(site.clone());
    let rules = [
        url("/", with_site(entries::home)),
        url("/archive", with_site(entries::archive)),
        url("/feed", with_site(entries::feed)),
        url("/entry/([^/]+)", with_site(entries::entry)).name("entry"),
        url("/compose", with_site(entries::compose)),
        url("/auth/create", with_site(auth::create)),
        url("/auth/login", with_site(auth::login)),
        url("/auth/logout", with_site(auth::logout)),
    ];
    Ok(Application::with_settings(rules, settings)?)
}

/// A rule target making handler `H` from the site for each request.
pub fn target<H>(site: Arc<Site>, make: fn(Arc<Site>) -> H) -> cyclone::web::Target
where
    H: cyclone::web::RequestHandler,
{
    handler_with(move || make(site.clone()))
}

/// The blog's error pages, from `error.html` (Tornado's overridden `write_error`); in debug
/// an internal error keeps the default page, which shows what went wrong.
pub fn write_error(cx: &mut RequestContext, error: &HttpError) {
    if cx.settings().serve_traceback_enabled() && error.status.is_server_error() {
        return cx.write_default_error(error);
    }
    let values = cyclone::template::context! {
        status => error.status.as_u16(),
        reason => error.reason_phrase(),
    };
    match cx.render_string_now("error.html", values) {
        Ok(page) => cx.write(page),
        Err(_) => cx.write_default_error(error),
    }
}

impl Site {
    /// Tornado's demo `BaseHandler.prepare`: the author of the signed user cookie, if any, as
    /// the request's current user (the author's name for templates; the row for the handler).
    pub async fn current_author(
        &self,
        cx: &mut RequestContext,
    ) -> Result<Option<Author>, HttpError> {
        let Some(id) = cx
            .get_signed_cookie(USER_COOKIE)
            .and_then(|id| id.parse::<i64>().ok())
        else {
            return Ok(None);
        };
        let author = self.db.author_by_id(id).await?;
        cx.set_current_user(author.as_ref().map(|author| author.name.clone()));
        Ok(author)
    }
}
