//! Resolving a redirect's URL against the request's target (RFC 3986 §5.2, what Tornado's
//! `urljoin(self.request.uri, url)` did), refusing a result that could not be one header
//! value, and reading the scheme and host a browser would see in a URL (Tornado 6.6's
//! `_scheme_and_netloc`, which `RedirectHandler` checks its substitutions with).

/// Why a redirect's URL cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectUrlError {
    /// The URL holds a control character (CR or LF would end the `Location` field and start
    /// another: header injection).
    #[error("redirect URL {0:?} contains a control character")]
    ControlCharacter(String),
    /// A value substituted into a [`RedirectHandler`](crate::RedirectHandler)'s URL changed
    /// its scheme or host (a path group of `/evil.com` making `//evil.com`, say): an open
    /// redirect, refused with 400 as Tornado 6.6 does.
    #[error("redirect URL {0:?} would change the template's scheme or host")]
    SchemeOrHostChanged(String),
    /// A [`RedirectHandler`](crate::RedirectHandler)'s URL template is not valid format
    /// syntax, or names a group its rule does not have: the application's mistake (500).
    #[error("redirect URL template {template:?}: {message}")]
    Template {
        /// The template as written.
        template: String,
        /// What is wrong with it.
        message: String,
    },
}

/// `reference` resolved against `base` (a request target: a path, maybe with a query), as
/// Python's `urljoin(base, reference)` (RFC 3986 §5.2). Absolute URLs (`https://...`,
/// `mailto:...`) and network-path references (`//host/p`) are returned as they are: they name
/// their host themselves.
///
/// A relative reference never resolves to a URL that names another host: when the resolved
/// path would start with `//` (or `/\`, which browsers read the same way), as
/// `/.//evil.example` or `./\evil.example` do once their dot segments are gone, it is kept a
/// path by RFC 3986 §5.3's `/.` prefix.
///
/// ```
/// use cyclone_web::urljoin;
///
/// assert_eq!(urljoin("/a/b?x=1", "c").unwrap(), "/a/c");
/// assert_eq!(urljoin("/a/b", "../c?y#z").unwrap(), "/c?y#z");
/// assert_eq!(urljoin("/a/b", "https://example.com/").unwrap(), "https://example.com/");
/// // A relative reference stays on this host.
/// assert_eq!(urljoin("/a/b", "/.//evil.example/").unwrap(), "/.//evil.example/");
/// assert!(urljoin("/", "/next\r\nSet-Cookie: a=b").is_err());
/// ```
///
/// # Errors
///
/// [`RedirectUrlError::ControlCharacter`]: `reference`, or the part of `base` kept, holds a
/// control character.
pub fn urljoin(base: &str, reference: &str) -> Result<String, RedirectUrlError> {
    if reference.chars().any(char::is_control) {
        return Err(RedirectUrlError::ControlCharacter(reference.to_owned()));
    }
    if has_scheme(reference) || reference.starts_with("//") {
        return Ok(reference.to_owned());
    }
    let base = base.split_once('#').map_or(base, |(before, _)| before);
    let (base_path, base_query) = match base.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (base, None),
    };
    let (reference, fragment) = match reference.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (reference, None),
    };
    let (path, query) = match reference.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (reference, None),
    };
    let mut joined = if path.is_empty() {
        // `?q=1` keeps the base path; `#f` (or nothing) keeps its query too.
        base_path.to_owned()
    } else if path.starts_with('/') {
        remove_dot_segments(path)
    } else {
        let directory = base_path.rfind('/').map_or("/", |end| &base_path[..=end]);
        let directory = if directory.starts_with('/') {
            directory.to_owned()
        } else {
            format!("/{directory}")
        };
        remove_dot_segments(&format!("{directory}{path}"))
    };
    if joined.starts_with('/') && matches!(joined.as_bytes().get(1), Some(b'/' | b'\\')) {
        // `//host` (or `/\host`, which browsers read alike) would name a host: keep it a
        // path on this one (RFC 3986 §5.3).
        joined.insert_str(0, "/.");
    }
    let query = if path.is_empty() {
        query.or(base_query)
    } else {
        query
    };
    if let Some(query) = query {
        joined.push('?');
        joined.push_str(query);
    }
    if let Some(fragment) = fragment {
        joined.push('#');
        joined.push_str(fragment);
    }
    // The base's path or query may hold one too (a caller's base; a request target cannot).
    if joined.chars().any(char::is_control) {
        return Err(RedirectUrlError::ControlCharacter(joined));
    }
    Ok(joined)
}

/// Whether `url` starts with `scheme:` (RFC 3986 §3.1: a letter, then letters, digits, `+`,
/// `-`, `.`); a colon after a `/`, `?` or `#` is part of a relative reference.
fn has_scheme(url: &str) -> bool {
    let Some((scheme, _)) = url.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// RFC 3986 §5.2.4 for an absolute path: `.` segments go, `..` removes the segment before
/// it (never above the root).
fn remove_dot_segments(path: &str) -> String {
    let mut output: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (index, segment) in segments.iter().enumerate() {
        match *segment {
            "." | ".." => {
                if *segment == ".." {
                    output.pop();
                }
                if index == last {
                    // `/a/b/..` is the directory `/a/`.
                    output.push("");
                }
            }
            segment => output.push(segment),
        }
    }
    format!("/{}", output.join("/"))
}

/// The scheme and authority (user info, host and port) a browser would see in `url`, both
/// lower-cased and empty for a relative URL: Tornado 6.6's `_scheme_and_netloc`. `None` for
/// a URL Python's `urlsplit` refuses (an unbalanced `[` or `]` in the authority).
///
/// The URL is first cleaned up as browsers do (WHATWG URL): leading and trailing control
/// characters and spaces dropped, tabs and newlines removed anywhere, backslashes read as
/// slashes; then any run of slashes after the start reads as `//`.
pub(crate) fn scheme_and_netloc(url: &str) -> Option<(String, String)> {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let (scheme, rest) = match cleaned.split_once(':') {
        Some((scheme, rest)) if has_scheme(&cleaned) => (scheme.to_ascii_lowercase(), rest),
        _ => (String::new(), cleaned.as_str()),
    };
    let netloc = if scheme.is_empty() && rest.starts_with("//") {
        // Browsers resolving `///host` against an http(s) page skip every slash.
        let after = rest.trim_start_matches('/');
        authority(after)
    } else if let Some(after) = rest.strip_prefix("//") {
        authority(after)
    } else {
        ""
    };
    if netloc.contains('[') != netloc.contains(']') {
        return None;
    }
    Some((scheme, netloc.to_ascii_lowercase()))
}

/// The authority at the start of `after_slashes`: up to the first `/`, `?` or `#`.
fn authority(after_slashes: &str) -> &str {
    let end = after_slashes
        .find(['/', '?', '#'])
        .unwrap_or(after_slashes.len());
    &after_slashes[..end]
}
