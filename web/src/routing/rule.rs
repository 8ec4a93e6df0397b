//! [`Rule`]: a path pattern, what it routes to, and an optional name (Tornado's `URLSpec`).

use crate::target::Target;

/// One routing rule: a Tornado-style path regex, its [`Target`] and an optional name for
/// [`reverse_url`](crate::Application::reverse_url). Made with [`url`].
#[derive(Debug, Clone)]
pub struct Rule {
    /// The path pattern as written (compiled when the router is built).
    pub(crate) pattern: String,
    /// Who answers matching requests.
    pub(crate) target: Target,
    /// The rule's name for `reverse_url`.
    pub(crate) name: Option<String>,
}

impl Rule {
    /// Names the rule for [`reverse_url`](crate::Application::reverse_url).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

/// A rule routing paths matching `pattern` to `target` (Tornado's `url(pattern, handler)`).
///
/// The pattern is a regex matched against the whole path (`^` and `$` implied); its groups
/// become the handler's [`PathArgs`](crate::PathArgs), percent-decoded.
///
/// ```
/// use cyclone_web::{RequestContext, RequestHandler, HttpError, handler, url};
///
/// #[derive(Default)]
/// struct Story;
/// impl RequestHandler for Story {
///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
///         let id = cx.path_args().get(0).unwrap_or("").to_owned();
///         cx.write(format!("story {id}"));
///         Ok(())
///     }
/// }
/// let rule = url(r"/story/([0-9]+)", handler::<Story>()).name("story");
/// # drop(rule);
/// ```
pub fn url(pattern: impl Into<String>, target: impl Into<Target>) -> Rule {
    Rule {
        pattern: pattern.into(),
        target: target.into(),
        name: None,
    }
}
