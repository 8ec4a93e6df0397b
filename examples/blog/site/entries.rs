//! The pages of entries: home, one entry, the archive, the Atom feed, and compose / edit.

use std::sync::Arc;

use cyclone::template::context;
use cyclone::web::{HttpError, RequestContext, RequestHandler, Target};
use http::Method;
use pulldown_cmark::{Event, Options, Parser};

use super::db::{Author, EntryText};
use super::{Site, target};

/// Longest title accepted.
const MAX_TITLE: usize = 200;

/// Longest entry accepted, in bytes of Markdown.
const MAX_MARKDOWN: usize = 100_000;

/// `/`: the five newest entries; an empty blog sends its visitor to write the first.
pub fn home(site: Arc<Site>) -> Target {
    target(site, |site| Home { site })
}

/// The home page.
pub struct Home {
    /// The database.
    site: Arc<Site>,
}

impl RequestHandler for Home {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET, Method::HEAD];

    async fn prepare(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        self.site.current_author(cx).await.map(drop)
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let entries = self.site.db.latest_entries(Some(5)).await?;
        if entries.is_empty() {
            return cx.redirect("/compose", false).await;
        }
        cx.render("home.html", context! { entries }).await
    }
}

/// `/entry/<slug>`: one entry; 404 when there is none.
pub fn entry(site: Arc<Site>) -> Target {
    target(site, |site| EntryPage { site })
}

/// One entry's page.
pub struct EntryPage {
    /// The database.
    site: Arc<Site>,
}

impl RequestHandler for EntryPage {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET, Method::HEAD];

    fn write_error(&mut self, cx: &mut RequestContext, error: &HttpError) {
        super::write_error(cx, error);
    }

    async fn prepare(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        self.site.current_author(cx).await.map(drop)
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let slug = cx.path_args().get(0).unwrap_or_default().to_owned();
        let Some(entry) = self.site.db.entry_by_slug(slug).await? else {
            return Err(HttpError::not_found().reason("No such entry"));
        };
        cx.render("entry.html", context! { entry }).await
    }
}

/// `/archive`: every entry, newest first.
pub fn archive(site: Arc<Site>) -> Target {
    target(site, |site| Archive { site })
}

/// The archive page.
pub struct Archive {
    /// The database.
    site: Arc<Site>,
}

impl RequestHandler for Archive {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET, Method::HEAD];

    async fn prepare(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        self.site.current_author(cx).await.map(drop)
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let entries = self.site.db.latest_entries(None).await?;
        cx.render("archive.html", context! { entries }).await
    }
}

/// `/feed`: the ten newest entries as Atom.
pub fn feed(site: Arc<Site>) -> Target {
    target(site, |site| Feed { site })
}

/// The Atom feed.
pub struct Feed {
    /// The database.
    site: Arc<Site>,
}

impl RequestHandler for Feed {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET, Method::HEAD];

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let entries = self.site.db.latest_entries(Some(10)).await?;
        let updated = entries
            .iter()
            .map(|entry| entry.updated_iso.clone())
            .max()
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
        cx.set_header("Content-Type", "application/atom+xml; charset=UTF-8")?;
        cx.render("feed.xml", context! { entries, updated }).await
    }
}

/// `/compose`: write a new entry, or edit one with `?id=`; authors only.
pub fn compose(site: Arc<Site>) -> Target {
    target(site, |site| Compose { site, author: None })
}

/// The compose form and what it posts.
pub struct Compose {
    /// The database.
    site: Arc<Site>,
    /// The author logged in.
    author: Option<Author>,
}

impl RequestHandler for Compose {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET, Method::HEAD, Method::POST];

    fn write_error(&mut self, cx: &mut RequestContext, error: &HttpError) {
        super::write_error(cx, error);
    }

    async fn prepare(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        self.author = self.site.current_author(cx).await?;
        // Tornado's @authenticated on both methods.
        cx.authenticated().await.map(drop)
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let entry = match entry_id(cx)? {
            Some(id) => Some(
                self.site
                    .db
                    .entry_by_id(id)
                    .await?
                    .ok_or_else(|| HttpError::not_found().reason("No such entry"))?,
            ),
            None => None,
        };
        let (title, markdown) = entry
            .as_ref()
            .map(|entry| (entry.title.clone(), entry.markdown.clone()))
            .unwrap_or_default();
        cx.render(
            "compose.html",
            context! { entry, title, markdown, error => None::<String> },
        )
        .await
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let Some(author) = self.author.clone() else {
            return Err(HttpError::forbidden());
        };
        let id = entry_id(cx)?;
        let title = cx.get_argument_or("title", "")?;
        let markdown = cx.get_body_argument_or("markdown", "")?;
        let problem = if title.is_empty() {
            Some("Give the entry a title.")
        } else if title.chars().count() > MAX_TITLE {
            Some("The title is too long.")
        } else if markdown.trim().is_empty() {
            Some("Write something first.")
        } else if markdown.len() > MAX_MARKDOWN {
            Some("The entry is too long.")
        } else {
            None
        };
        if let Some(problem) = problem {
            // The form again, with what was typed and what is wrong.
            let entry = match id {
                Some(id) => self.site.db.entry_by_id(id).await?,
                None => None,
            };
            cx.set_status(http::StatusCode::BAD_REQUEST);
            return cx
                .render(
                    "compose.html",
                    context! { entry, title, markdown, error => problem },
                )
                .await;
        }
        let text = EntryText {
            html: markdown_to_html(&markdown),
            title,
            markdown,
        };
        let slug = match id {
            Some(id) => self
                .site
                .db
                .update_entry(id, text)
                .await?
                .ok_or_else(|| HttpError::not_found().reason("No such entry"))?,
            None => self.site.db.insert_entry(author.id, text).await?,
        };
        let location = cx.reverse_url("entry", &[&slug])?;
        cx.redirect(&location, false).await
    }
}

/// The `id` argument: none, or a number (anything else is 400).
fn entry_id(cx: &RequestContext) -> Result<Option<i64>, HttpError> {
    let id = cx.get_argument_or("id", "")?;
    if id.is_empty() {
        return Ok(None);
    }
    id.parse()
        .map(Some)
        .map_err(|_| HttpError::bad_request().reason("Bad entry id"))
}

/// CommonMark to HTML. Raw HTML in the Markdown is shown as text, not passed through: an
/// entry cannot carry a script into the pages that show it.
pub fn markdown_to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}
