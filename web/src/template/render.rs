//! `RequestContext::render` and `render_string` (Tornado's `RequestHandler.render` /
//! `render_string`).
//!
//! A render runs on the loop, like Tornado's. What a template may need that the loop must not
//! do during it (hash a static file, set the XSRF cookie, which needs the context) is noted
//! during a first pass; the notes are supplied (hashing on the blocking pool) and the page is
//! rendered once more. A page renders once when every static file it links is hashed already
//! and its XSRF token, if any, was made before it started.

use std::sync::{Arc, LazyLock};

use dashmap::DashMap;

use http::HeaderValue;
use http::header::SET_COOKIE;
use minijinja::value::Value;

use super::namespace::{Namespace, PageContext, lock};
use super::{TemplateError, loader_for, ui};
use crate::errors::HttpError;
use crate::handler::RequestContext;

/// At most this many render passes: the first notes what is missing, the second has it.
const RENDER_PASSES: usize = 2;

impl RequestContext {
    /// Renders the template `name` with `context` (any `Serialize`: a struct, a map, minijinja's
    /// [`context!`](super::context)) and finishes the response with it (Tornado's
    /// `render(template_name, **kwargs)`). UI modules' CSS and JavaScript are added to the page.
    ///
    /// The template sees `context`'s values over Tornado's namespace: `current_user`,
    /// `request`, `handler`, `static_url(path)`, `reverse_url(name, *args)`,
    /// `xsrf_form_html()`, `xsrf_token()`, `modules`, the ui methods, the escape functions and
    /// filters (`escape`, `xhtml_escape`, `url_escape`, `json_encode`, `squeeze`, `linkify`), and
    /// what [`Settings::template_namespace`](crate::Settings::template_namespace) adds.
    ///
    /// An error in the template (syntax, a missing template, an error while rendering) is a
    /// 500, whose page shows the template, line and cause with `debug`.
    ///
    /// ```
    /// use cyclone_web::template::context;
    /// use cyclone_web::{HttpError, RequestContext, RequestHandler};
    ///
    /// struct Entry;
    /// impl RequestHandler for Entry {
    ///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
    ///         cx.render("entry.html", context! { title => "Hello", body => "<b>safe?</b>" }).await
    ///     }
    /// }
    /// ```
    pub async fn render(
        &mut self,
        name: &str,
        context: impl serde::Serialize,
    ) -> Result<(), HttpError> {
        // The page goes out as the bytes the engine wrote: checking them again for UTF-8 (a
        // `String`) cost ~1 300 instructions for a 2 KiB page, for nothing the response needs.
        let page = self
            .render_template(name, Value::from_serialize(context), true)
            .await?;
        self.write(page);
        self.finish().await
    }

    /// Renders the template `name` with `context` to a string (Tornado's `render_string`):
    /// the same namespace as [`render`](Self::render), without the UI modules' CSS and
    /// JavaScript (Tornado adds those in `render` only).
    pub async fn render_string(
        &mut self,
        name: &str,
        context: impl serde::Serialize,
    ) -> Result<String, HttpError> {
        let page = self
            .render_template(name, Value::from_serialize(context), false)
            .await?;
        Ok(page_text(page)?)
    }

    /// [`render_string`](Self::render_string) at once, in one pass, for
    /// [`write_error`](crate::RequestHandler::write_error), which is not `async` (Tornado
    /// users render their error pages there). A static file not hashed yet is linked without
    /// `?v=`, and `xsrf_form_html()` is empty unless this request made its token already.
    ///
    /// ```
    /// use cyclone_web::template::context;
    /// use cyclone_web::{HttpError, RequestContext, RequestHandler};
    ///
    /// struct Page;
    /// impl RequestHandler for Page {
    ///     fn write_error(&mut self, cx: &mut RequestContext, error: &HttpError) {
    ///         let status = error.status.as_u16();
    ///         match cx.render_string_now("error.html", context! { status }) {
    ///             Ok(page) => cx.write(page),
    ///             Err(_) => cx.write_default_error(error),
    ///         }
    ///     }
    /// }
    /// ```
    pub fn render_string_now(
        &mut self,
        name: &str,
        context: impl serde::Serialize,
    ) -> Result<String, HttpError> {
        let app = self.app().clone();
        let loader = loader_for(app.settings(), name)?;
        let environment = loader.environment(app.settings().compiled_template_cache_enabled());
        let token = self.rare().and_then(|rare| rare.xsrf_token.clone());
        let namespace = Namespace::new(self, app, environment, token);
        namespace.begin_pass();
        let page = render_pass(&namespace, name, &Value::from_serialize(context), false)?;
        Ok(page_text(page)?)
    }

    /// Renders `name`, in two passes when the first found something missing.
    async fn render_template(
        &mut self,
        name: &str,
        context: Value,
        whole_page: bool,
    ) -> Result<Vec<u8>, HttpError> {
        let app = self.app().clone();
        let loader = loader_for(app.settings(), name)?;
        let environment = loader.environment(app.settings().compiled_template_cache_enabled());
        let xsrf = self.prepare_xsrf()?;
        let namespace = Namespace::new(self, app, environment, xsrf.token.clone());
        let mut pass = 0;
        let page = loop {
            pass += 1;
            namespace.begin_pass();
            let page = render_pass(&namespace, name, &context, whole_page)?;
            if pass == RENDER_PASSES {
                break page;
            }
            let wanted_xsrf = lock(&namespace.xsrf).wanted;
            let missing = std::mem::take(&mut lock(&namespace.statics).missing);
            if !wanted_xsrf && missing.is_empty() {
                break page;
            }
            if wanted_xsrf {
                lock(&namespace.xsrf).token = Some(self.xsrf_token()?);
            }
            if !missing.is_empty() {
                crate::static_files::hash_files(missing.clone()).await;
                lock(&namespace.statics).checked.extend(missing);
            }
        };
        let used = lock(&namespace.xsrf).used;
        if !used {
            self.take_back_xsrf(xsrf);
        }
        Ok(page)
    }

    /// Makes the XSRF token before a render when the page is likely to use it (the site
    /// checks XSRF, or the token exists already), so such pages render once. Notes what to
    /// take back if the page does not use it.
    fn prepare_xsrf(&mut self) -> Result<PreparedXsrf, HttpError> {
        if self.rare().is_some_and(|rare| rare.xsrf_token.is_some()) {
            return Ok(PreparedXsrf {
                token: self.rare().and_then(|rare| rare.xsrf_token.clone()),
                made_here: None,
            });
        }
        if !self.settings().xsrf_cookies {
            return Ok(PreparedXsrf {
                token: None,
                made_here: None,
            });
        }
        let cookies_before: Vec<HeaderValue> =
            self.headers().get_all(SET_COOKIE).iter().cloned().collect();
        let token = self.xsrf_token()?;
        Ok(PreparedXsrf {
            token: Some(token),
            made_here: Some(cookies_before),
        })
    }

    /// Undoes [`prepare_xsrf`](Self::prepare_xsrf) for a page that did not use the token: no
    /// cookie is set for it, as Tornado sets none for a page without a form.
    fn take_back_xsrf(&mut self, xsrf: PreparedXsrf) {
        let Some(cookies_before) = xsrf.made_here else {
            return;
        };
        self.rare_mut().xsrf_token = None;
        let headers = self.headers_mut();
        headers.remove(SET_COOKIE);
        for cookie in cookies_before {
            headers.append(SET_COOKIE, cookie);
        }
    }
}

/// An XSRF token made for a render.
struct PreparedXsrf {
    /// The token the page may use.
    token: Option<String>,
    /// Made for this render: the `Set-Cookie` values there were before, to put back if the
    /// page does not use it.
    made_here: Option<Vec<HeaderValue>>,
}

/// One pass: the template over the namespace, and for a whole page the UI modules' resources.
/// The page is UTF-8 (the engine writes only `str`s) but stays bytes: `render` sends them as
/// they are, and only `render_string` and a page with UI modules' resources need a `String`.
fn render_pass(
    namespace: &Arc<Namespace>,
    name: &str,
    context: &Value,
    whole_page: bool,
) -> Result<Vec<u8>, TemplateError> {
    let template = namespace.environment.get_template(name)?;
    let root = Value::from_object(PageContext {
        values: context.clone(),
        namespace: namespace.clone(),
    });
    let hint = page_size_hint(name);
    let mut page = Vec::with_capacity(hint);
    // `render_captured_to`, its successor, boxes the template and keeps the evaluated state
    // for the caller: an allocation per render for a state nothing here reads.
    #[allow(deprecated)]
    template.render_to_write(root, &mut page)?;
    note_page_size(name, hint, page.len());
    if whole_page && ui::has_resources(namespace) {
        return Ok(ui::insert_resources(namespace, page_text(page)?).into_bytes());
    }
    Ok(page)
}

/// A rendered page as text. The engine writes only `str`s, so this never fails; if it did, it
/// would be a 500.
fn page_text(page: Vec<u8>) -> Result<String, TemplateError> {
    String::from_utf8(page).map_err(|_| {
        TemplateError::Render(minijinja::Error::new(
            minijinja::ErrorKind::WriteFailure,
            "the page is not UTF-8",
        ))
    })
}

/// The largest page each template has rendered, up to [`PAGE_SIZE_HINT_LIMIT`], so the next
/// render of it writes into a buffer of the right size: grown from empty, a 2 KiB page was
/// reallocated and copied nine times, ~4 k instructions of the fortunes page's ~115 k. Keyed
/// by the names of templates that rendered, so bounded by the templates there are.
static PAGE_SIZES: LazyLock<DashMap<String, usize>> = LazyLock::new(DashMap::new);

/// Pages larger than this start at this size and grow: a hint is held by every render of the
/// template in flight.
const PAGE_SIZE_HINT_LIMIT: usize = 64 * 1024;

/// The buffer size to render `name` into.
fn page_size_hint(name: &str) -> usize {
    PAGE_SIZES.get(name).map_or(0, |size| *size)
}

/// Notes that `name`, rendered with the size hint `hint`, wrote `len` bytes: the map changes
/// only when a page outgrew its hint.
fn note_page_size(name: &str, hint: usize, len: usize) {
    let len = len.min(PAGE_SIZE_HINT_LIMIT);
    if hint < len {
        PAGE_SIZES.insert(name.to_owned(), len);
    }
}
