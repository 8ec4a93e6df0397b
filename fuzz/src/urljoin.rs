//! Redirect targets: `urljoin` (a redirect's URL resolved against the request target) and
//! `RedirectHandler`'s substitution of path groups into its URL template. A relative reference
//! never resolves to another host, nothing with a control character reaches a `Location`
//! field, and a substituted group never changes the template's scheme or host (Tornado 6.6).

use cyclone_protocol::httputil::Arguments;
use cyclone_web::{PathArgs, RedirectHandler, urljoin};

use super::input::Input;

/// What a browser reads as the scheme and host of `url` (after the clean-up browsers apply:
/// spaces and controls at either end dropped, tabs and newlines removed, backslashes as
/// slashes):
/// `scheme:` up to the path, or `//host`; `None` for a URL relative to the page's host.
fn authority(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let end = |rest: &str| rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if let Some(rest) = cleaned.strip_prefix("//") {
        let rest = rest.trim_start_matches('/');
        // `//` with no host after it names nothing a browser can go to.
        // Spaces are not host bytes: a browser refuses them (or the URL ends before them).
        let host = rest[..end(rest)].trim();
        return (!host.is_empty()).then(|| format!("//{host}").to_ascii_lowercase());
    }
    let (scheme, rest) = cleaned.split_once(':')?;
    let mut chars = scheme.chars();
    let is_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !is_scheme {
        return None;
    }
    let host = rest
        .strip_prefix("//")
        .map_or("", |rest| rest[..end(rest)].trim());
    Some(format!("{scheme}://{host}").to_ascii_lowercase())
}

/// Whether a browser would read `url` as naming a host.
fn names_a_host(url: &str) -> bool {
    authority(url).is_some()
}

/// Joins the input's base and reference; substitutes its groups into its template.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let base = input.text_until(0);
    let reference = input.text_until(0);
    if let Ok(joined) = urljoin(&base, &reference) {
        assert!(
            !joined.chars().any(char::is_control),
            "a control character in {joined:?}"
        );
        // A relative reference keeps the base's host (or none): it never names another.
        if !names_a_host(&reference) && names_a_host(&joined) {
            assert_eq!(
                authority(&joined),
                authority(&base),
                "{reference:?} against {base:?} resolved to {joined:?}, another host"
            );
        }
    }

    let template = input.text_until(0);
    let mut positional = Vec::new();
    while !input.rest().is_empty() && positional.len() < 3 {
        positional.push(Some(input.text_until(0)));
    }
    let args = PathArgs::new(positional, Vec::new());
    let handler = RedirectHandler::new(template.clone(), false);
    if let Ok(url) = handler.url_for(&args, &Arguments::new()) {
        assert!(
            !url.chars().any(char::is_control),
            "a control character in {url:?}"
        );
        if !names_a_host(&template) {
            assert!(
                !names_a_host(&url),
                "template {template:?} with {args:?} redirects to {url:?}, another host"
            );
        }
    }
}
