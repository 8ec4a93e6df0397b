//! The `authenticated` guard (Tornado's `@tornado.web.authenticated`): a handler method that
//! needs a user starts with `cx.authenticated().await?`.

use cyclone_protocol::httputil::url_concat;
use http::Method;

use crate::errors::HttpError;
use crate::handler::RequestContext;

impl RequestContext {
    /// The current user, or: for GET and HEAD with a `login_url` setting, a redirect to
    /// `login_url?next=<this URI>` (the request is finished; `?` returns Tornado's `Finish`);
    /// otherwise 403.
    ///
    /// ```
    /// use cyclone_web::{HttpError, RequestContext, RequestHandler};
    ///
    /// struct Admin;
    /// impl RequestHandler for Admin {
    ///     fn get_current_user(&mut self, cx: &RequestContext) -> Option<String> {
    ///         cx.get_signed_cookie("user")
    ///     }
    ///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
    ///         let user = cx.authenticated().await?;
    ///         cx.write(format!("hello {user}"));
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub async fn authenticated(&mut self) -> Result<String, HttpError> {
        if let Some(user) = self.current_user() {
            return Ok(user.to_owned());
        }
        let method = self.request().method();
        if (method == Method::GET || method == Method::HEAD)
            && let Some(login_url) = self.settings().login_url.clone()
        {
            let mut url = login_url.clone();
            if !login_url.contains('?') {
                // Relative login URLs get the path; absolute ones the full URL, as Tornado.
                let next = if login_url.contains("://") {
                    self.request().full_url()
                } else {
                    self.request()
                        .uri()
                        .path_and_query()
                        .map_or("/", |path| path.as_str())
                        .to_owned()
                };
                url = url_concat(&login_url, [("next", next)]);
            }
            self.redirect(&url, false).await?;
            return Err(HttpError::finish());
        }
        Err(HttpError::forbidden())
    }
}
