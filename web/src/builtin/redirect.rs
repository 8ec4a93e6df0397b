//! [`RedirectHandler`]: redirects every GET to a URL built from the path's groups (Tornado's
//! `RedirectHandler`), with Tornado 6.6's guard against open redirects.

use std::sync::Arc;

use cyclone_protocol::httputil::{Arguments, url_concat};
use http::{Method, StatusCode};

use crate::errors::HttpError;
use crate::handler::handler_with;
use crate::handler::{RequestContext, RequestHandler};
use crate::routing::PathArgs;
use crate::target::Target;
use crate::urljoin::{RedirectUrlError, scheme_and_netloc};

/// Redirects GET (and HEAD) to `url`, as Tornado's `RedirectHandler`. 301 when permanent
/// (Tornado's default), else 302.
///
/// `url` is a template in Python's `str.format` syntax: `{0}`, `{1}`... (or `{}` in turn)
/// take the path's positional groups, `{name}` its named groups, `{{` and `}}` are braces.
/// It is filled in one pass, so a group's value that holds `{1}` stays as it is. An unmatched
/// optional group is empty. The request's query arguments are appended (Tornado's
/// `url_concat`).
///
/// As in Tornado 6.6, what is substituted may not change the scheme or host of the URL: with
/// `"/{0}"`, a request for `//evil.example` (whose group is `/evil.example`) would redirect
/// to `//evil.example`, another site, and is answered 400 instead. So the scheme and host
/// must be written out in the template, before its first `{`. A URL with a control character
/// is 400 too; a template that names a group the rule does not have, or is not valid format
/// syntax, is 500 (the application's mistake).
///
/// ```
/// use cyclone_web::{PathArgs, RedirectHandler};
/// use cyclone_protocol::httputil::Arguments;
///
/// let swap = RedirectHandler::new("/{1}/{0}", true);
/// let args = PathArgs::new(vec![Some("a".into()), Some("b".into())], vec![]);
/// assert_eq!(swap.url_for(&args, &Arguments::new()).unwrap(), "/b/a");
///
/// // A group cannot smuggle in another host.
/// let pictures = RedirectHandler::new("/{0}", true);
/// let evil = PathArgs::new(vec![Some("/evil.example".into())], vec![]);
/// assert!(pictures.url_for(&evil, &Arguments::new()).is_err());
/// ```
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

    /// The URL a request with `path_args` and `query_arguments` is redirected to.
    ///
    /// # Errors
    ///
    /// - [`RedirectUrlError::SchemeOrHostChanged`]: a substituted value changed the scheme or
    ///   host (answered 400);
    /// - [`RedirectUrlError::ControlCharacter`]: the URL holds a control character (400);
    /// - [`RedirectUrlError::Template`]: the template is not valid format syntax or names a
    ///   group the rule lacks (500).
    pub fn url_for(
        &self,
        path_args: &PathArgs,
        query_arguments: &Arguments,
    ) -> Result<String, RedirectUrlError> {
        let filled = fill(&self.url, path_args)?;
        let mut url = filled.url;
        if !query_arguments.is_empty() {
            let pairs = query_arguments
                .iter()
                .flat_map(|(name, values)| values.iter().map(move |value| (name, value)));
            url = url_concat(&url, pairs);
        }
        // The scheme and host must come from the template, not from the request: compare
        // what a browser sees in the literal text before the first substitution with what it
        // sees in the result.
        let changed = || RedirectUrlError::SchemeOrHostChanged(url.clone());
        let (scheme, netloc) = scheme_and_netloc(&filled.prefix).ok_or_else(changed)?;
        let unchanged =
            scheme_and_netloc(&url).ok_or_else(changed)? == (scheme.clone(), netloc.clone());
        // With a substitution right after `https://`, the host would come from the request
        // (or a browser would find one where the split does not, as in `https:///host`).
        let host_from_request =
            filled.substituted && matches!(scheme.as_str(), "http" | "https") && netloc.is_empty();
        if !unchanged || host_from_request {
            return Err(changed());
        }
        if url.chars().any(char::is_control) {
            return Err(RedirectUrlError::ControlCharacter(url));
        }
        Ok(url)
    }
}

/// A template filled in.
struct Filled {
    /// The URL.
    url: String,
    /// The literal text before the first substitution (the whole URL if there is none).
    prefix: String,
    /// Whether anything was substituted.
    substituted: bool,
}

/// Python's `template.format(*positional, **named)` for plain fields (`{}`, `{0}`, `{name}`),
/// in one pass: substituted text is never read as template.
fn fill(template: &str, args: &PathArgs) -> Result<Filled, RedirectUrlError> {
    let invalid = |message: &str| RedirectUrlError::Template {
        template: template.to_owned(),
        message: message.to_owned(),
    };
    let mut url = String::with_capacity(template.len());
    let mut prefix = None;
    let mut next_auto = 0;
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        url.push_str(&rest[..at]);
        let brace = rest.as_bytes()[at];
        let after = &rest[at + 1..];
        if after.as_bytes().first() == Some(&brace) {
            // `{{` or `}}`: a literal brace.
            url.push(char::from(brace));
            rest = &after[1..];
            continue;
        }
        if brace == b'}' {
            return Err(invalid("single '}' encountered"));
        }
        let end = after
            .find('}')
            .ok_or_else(|| invalid("'{' without its '}'"))?;
        let field = &after[..end];
        let value = if field.is_empty() {
            next_auto += 1;
            args.positional().get(next_auto - 1)
        } else if field.bytes().all(|byte| byte.is_ascii_digit()) {
            let index: usize = field
                .parse()
                .map_err(|_| invalid("group index too large"))?;
            args.positional().get(index)
        } else if field
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
        {
            args.named_groups()
                .iter()
                .find(|(name, _)| name == field)
                .map(|(_, value)| value)
        } else {
            return Err(invalid("only {}, {index} and {name} fields are supported"));
        };
        let value = value.ok_or_else(|| invalid(&format!("no group {{{field}}}")))?;
        prefix.get_or_insert_with(|| url.clone());
        url.push_str(value.as_deref().unwrap_or(""));
        rest = &after[end + 1..];
    }
    url.push_str(rest);
    Ok(Filled {
        substituted: prefix.is_some(),
        prefix: prefix.unwrap_or_else(|| url.clone()),
        url,
    })
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
        let no_query = Arguments::new();
        let query = if cx.request().query().is_empty() {
            &no_query
        } else {
            cx.request().query_arguments()?
        };
        let url = match self.url_for(cx.path_args(), query) {
            Ok(url) => url,
            Err(error @ RedirectUrlError::Template { .. }) => {
                return Err(HttpError::internal(error));
            }
            Err(error) => {
                return Err(HttpError::new(StatusCode::BAD_REQUEST).log_message(error.to_string()));
            }
        };
        let status = if self.permanent {
            StatusCode::MOVED_PERMANENTLY
        } else {
            StatusCode::FOUND
        };
        cx.redirect_with_status(&url, status).await
    }
}
