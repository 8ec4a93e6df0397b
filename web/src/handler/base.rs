//! [`BaseHandler`]: what a family of handlers shares (Tornado's `BaseHandler` subclass):
//! written once, attached to an application, run for each of its handlers.

use std::fmt;
use std::sync::Arc;

use super::{HandlerResult, RequestContext};
use crate::errors::HttpError;

/// Behaviour every handler of an application shares, as Tornado's `class
/// BaseHandler(RequestHandler)` that the site's handlers subclass: who the current user is,
/// what runs before every method, what an error page looks like. Implement it once and attach
/// it with [`Settings::base_handler`](crate::Settings::base_handler); every `RequestHandler`
/// of the application then runs it, without a method copied into each.
///
/// A handler's own method still wins: a handler that overrides `get_current_user` or
/// `write_error` uses its own; one that overrides `prepare` runs the base's first, then its
/// own (Tornado's `super().prepare()`).
///
/// ```
/// use cyclone_web::{Application, BaseHandler, HttpError, RequestContext, RequestHandler, Settings, handler, url};
///
/// /// The site's shared behaviour: the user from a signed cookie, a branded error page.
/// struct Site;
///
/// impl BaseHandler for Site {
///     fn get_current_user(&self, cx: &RequestContext) -> Option<String> {
///         cx.get_signed_cookie("user")
///     }
///
///     fn write_error(&self, cx: &mut RequestContext, error: &HttpError) {
///         cx.write(format!("<h1>Sorry: {}</h1>", error.status.as_u16()));
///     }
/// }
///
/// #[derive(Default)]
/// struct Profile;
///
/// impl RequestHandler for Profile {
///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
///         let user = cx.authenticated().await?; // the base's current user
///         cx.write(format!("Hello, {user}"));
///         Ok(())
///     }
/// }
///
/// let settings = Settings::default()
///     .cookie_secret(cyclone_web::CookieSecret::new("secret"))
///     .base_handler(Site);
/// let app = Application::with_settings([url("/profile", handler::<Profile>())], settings);
/// # drop(app);
/// ```
pub trait BaseHandler: Send + Sync + 'static {
    /// The user of this request (Tornado's `get_current_user`), for handlers that do not
    /// answer it themselves. Default none.
    fn get_current_user(&self, cx: &RequestContext) -> Option<String> {
        let _ = cx;
        None
    }

    /// Sets the header fields every answer of the application's handlers starts with
    /// (Tornado's `set_default_headers`): run before the handler's own, at the start of each
    /// request and again when an error page replaces the answer. Default does nothing.
    fn set_default_headers(&self, cx: &mut RequestContext) {
        let _ = cx;
    }

    /// Runs before every handler's own `prepare` and method; finish the request or return an
    /// error to stop there. Default does nothing.
    fn prepare(&self, cx: &mut RequestContext) -> HandlerResult {
        let _ = cx;
        Ok(())
    }

    /// Writes the error page for `error` (status already set, response cleared), for handlers
    /// that keep the default `write_error`. Default: Tornado's page.
    fn write_error(&self, cx: &mut RequestContext, error: &HttpError) {
        cx.write_default_error(error);
    }
}

/// A [`BaseHandler`] shared by an application's settings.
#[derive(Clone)]
pub struct SharedBase(pub(crate) Arc<dyn BaseHandler>);

impl SharedBase {
    /// Shares `base`.
    pub fn new(base: impl BaseHandler) -> Self {
        SharedBase(Arc::new(base))
    }
}

impl fmt::Debug for SharedBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedBase(..)")
    }
}

impl RequestContext {
    /// Writes the error page the way the application's [`BaseHandler`] does, or Tornado's
    /// default page without one (what the default `RequestHandler::write_error` does).
    pub fn write_error_page(&mut self, error: &HttpError) {
        match self.settings().base_handler.clone() {
            Some(base) => base.0.write_error(self, error),
            None => self.write_default_error(error),
        }
    }
}
