//! [`RedirectHandler`]: redirects every GET to a URL built from the path's groups (Tornado's
//! `RedirectHandler`).

use std::sync::Arc;

use cyclone_protocol::httputil::url_concat;
use http::{Method, StatusCode};

use crate::errors::HttpError;
use crate::handler::handler_with;
use crate::handler::{RequestContext, RequestHandler};
use crate::target::Target;

/// Redirects GET (and HEAD) to `url`, in which `{0}`, `{1}`... are replaced by the path's
/// positional groups and `{name}` by named ones; the request's query is appended, as
/// Tornado's. 301 when permanent (Tornado's default), else 302.
#[derive(Debug, Clone)]
pub struct RedirectHandler {
    /// The URL template.
    url: Arc<str>,
    /// 301 rather than 302.
    permanent: bool,
}

impl RedirectHandler {
    /// A redirect to `url`.
    pub fn new(url: impl Into<Arc<str>>, permanent: bool) -> Self {
        RedirectHandler {
            url: url.into(),
            permanent,
        }
    }
}

/// A rule target redirecting to `url` (see [`RedirectHandler`]).
///
/// ```
/// use cyclone_web::{redirect, url};
///
/// let rule = url(r"/pictures/(.*)", redirect("/photos/{0}", true));
/// # drop(rule);
/// ```
pub fn redirect(url: impl Into<Arc<str>>, permanent: bool) -> Target {
    let handler = RedirectHandler::new(url, permanent);
    handler_with(move || handler.clone())
}

impl RequestHandler for RedirectHandler {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET, Method::HEAD];

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let mut url = self.url.to_string();
        for (index, value) in cx.path_args().positional().iter().enumerate() {
            url = url.replace(&format!("{{{index}}}"), value.as_deref().unwrap_or(""));
        }
        for (name, value) in cx.path_args().named_groups() {
            url = url.replace(&format!("{{{name}}}"), value.as_deref().unwrap_or(""));
        }
        let query = cx.request().query();
        if !query.is_empty() {
            let arguments = cx.request().query_arguments()?;
            let pairs = arguments
                .iter()
                .flat_map(|(name, values)| values.iter().map(move |value| (name, value)));
            url = url_concat(&url, pairs);
        }
        let status = if self.permanent {
            StatusCode::MOVED_PERMANENTLY
        } else {
            StatusCode::FOUND
        };
        cx.redirect_with_status(&url, status).await
    }
}
