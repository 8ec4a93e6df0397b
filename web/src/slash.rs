//! Tornado's `@addslash` and `@removeslash`: a handler method that wants one URL form for a
//! page starts with `cx.removeslash().await?` (or `addslash`).

use http::{Method, StatusCode};

use crate::errors::HttpError;
use crate::handler::RequestContext;

impl RequestContext {
    /// Tornado's `@removeslash`: a GET or HEAD for `/path/` is redirected (301, query kept) to
    /// `/path`, and the request finished (`?` returns Tornado's `Finish`); another method on
    /// such a path is 404. `/` itself is left alone.
    ///
    /// ```
    /// use cyclone_web::{HttpError, RequestContext, RequestHandler};
    ///
    /// struct Article;
    /// impl RequestHandler for Article {
    ///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
    ///         cx.removeslash().await?; // /article/ -> /article
    ///         cx.write("the article");
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub async fn removeslash(&mut self) -> Result<(), HttpError> {
        let path = self.request().path();
        if !path.ends_with('/') {
            return Ok(());
        }
        let trimmed = path.trim_end_matches('/');
        if trimmed.is_empty() {
            return Ok(());
        }
        let target = with_query(trimmed, self.request().query());
        self.slash_redirect(&target).await
    }

    /// Tornado's `@addslash`: a GET or HEAD for `/path` is redirected (301, query kept) to
    /// `/path/`, and the request finished (`?` returns Tornado's `Finish`); another method on
    /// such a path is 404.
    pub async fn addslash(&mut self) -> Result<(), HttpError> {
        let path = self.request().path();
        if path.ends_with('/') {
            return Ok(());
        }
        let target = with_query(&format!("{path}/"), self.request().query());
        self.slash_redirect(&target).await
    }

    /// Redirects GET and HEAD to `target` for good; refuses other methods with 404.
    async fn slash_redirect(&mut self, target: &str) -> Result<(), HttpError> {
        let method = self.request().method();
        if method != Method::GET && method != Method::HEAD {
            return Err(HttpError::new(StatusCode::NOT_FOUND));
        }
        // `//host` would leave the site: a path is kept a path.
        let target = if target.starts_with("//") {
            format!("/{}", target.trim_start_matches('/'))
        } else {
            target.to_owned()
        };
        self.redirect(&target, true).await?;
        Err(HttpError::finish())
    }
}

/// `path` with `query` after a `?` if there is one.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}
