//! Resolving a redirect's URL against the request's target (RFC 3986 §5.2, what Tornado's
//! `urljoin(self.request.uri, url)` did), and refusing a result that could not be one header
//! value.

/// Why a redirect's URL cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectUrlError {
    /// The URL holds a control character (CR or LF would end the `Location` field and start
    /// another: header injection).
    #[error("redirect URL {0:?} contains a control character")]
    ControlCharacter(String),
}

/// `reference` resolved against `base` (a request target: a path, maybe with a query).
/// Absolute URLs (`https://...`, `mailto:...`) and network-path references (`//host/p`) are
/// returned as they are.
pub(crate) fn join(base: &str, reference: &str) -> Result<String, RedirectUrlError> {
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
