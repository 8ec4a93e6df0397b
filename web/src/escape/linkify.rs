//! Tornado's `linkify`: plain text to HTML with its URLs as links, by Tornado's own pattern and
//! shortening rules, so a ported site shows the same links.

use std::fmt;
use std::sync::{Arc, LazyLock};

use regex::{Captures, Regex};

/// Tornado's `_URL_RE`: a scheme and slashes or `www.`, then the URL's characters; it stops
/// before trailing punctuation and takes balanced parentheses, and of the entities only `&amp;`
/// and `&quot;` (the text is escaped first).
const URL_PATTERN: &str = r##"\b((?:([\w-]+):(/{1,3})|www[.])(?:(?:(?:[^\s&()]|&amp;|&quot;)*(?:[^!"#$%&'()*+,.:;<=>?@\[\]^`{|}~\s]))|(?:\((?:[^\s&()]|&amp;|&quot;)*\)))+)"##;

/// Longer link texts are shortened with [`LinkifyOptions::shorten`] (Tornado's `max_len`).
const SHORTEN_MAX_LEN: usize = 30;

/// Extra attributes for every `<a>` tag [`linkify_with`] writes (Tornado's `extra_params`).
#[derive(Clone, Default)]
pub enum ExtraParams {
    /// None.
    #[default]
    None,
    /// The same attributes on every link, e.g. `rel="nofollow" class="external"`.
    Fixed(String),
    /// Attributes chosen per link from its URL (Tornado's callable `extra_params`), e.g.
    /// `rel="nofollow"` for links leaving the site.
    PerUrl(Arc<dyn Fn(&str) -> String + Send + Sync>),
}

impl fmt::Debug for ExtraParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtraParams::None => f.write_str("None"),
            ExtraParams::Fixed(params) => f.debug_tuple("Fixed").field(params).finish(),
            ExtraParams::PerUrl(_) => f.write_str("PerUrl(..)"),
        }
    }
}

/// Tornado's `linkify` keyword arguments.
#[derive(Clone, Debug)]
pub struct LinkifyOptions {
    /// Shorten long link texts (the whole URL stays in `href` and `title`). Default off.
    pub shorten: bool,
    /// Attributes added to every link. Default none.
    pub extra_params: ExtraParams,
    /// Only link URLs that name a scheme (not bare `www.` ones). Default off.
    pub require_protocol: bool,
    /// Schemes that are linked; other URLs stay text (never `javascript:`). Default `http`
    /// and `https`.
    pub permitted_protocols: Vec<String>,
}

impl Default for LinkifyOptions {
    fn default() -> Self {
        LinkifyOptions {
            shorten: false,
            extra_params: ExtraParams::None,
            require_protocol: false,
            permitted_protocols: vec!["http".to_owned(), "https".to_owned()],
        }
    }
}

/// `text` HTML-escaped, with every `http`/`https` URL (and `www.` address) made a link
/// (Tornado's `linkify(text)`).
///
/// ```
/// use cyclone_web::escape::linkify;
///
/// assert_eq!(
///     linkify("see http://example.com/a?b=1&c=2 <now>"),
///     r#"see <a href="http://example.com/a?b=1&amp;c=2">http://example.com/a?b=1&amp;c=2</a> &lt;now&gt;"#
/// );
/// ```
pub fn linkify(text: &str) -> String {
    linkify_with(text, &LinkifyOptions::default())
}

/// [`linkify`] with Tornado's options.
///
/// ```
/// use cyclone_web::escape::{ExtraParams, LinkifyOptions, linkify_with};
///
/// let options = LinkifyOptions {
///     extra_params: ExtraParams::Fixed(r#"rel="nofollow""#.into()),
///     ..LinkifyOptions::default()
/// };
/// assert_eq!(
///     linkify_with("www.example.com", &options),
///     r#"<a href="http://www.example.com" rel="nofollow">www.example.com</a>"#
/// );
/// ```
pub fn linkify_with(text: &str, options: &LinkifyOptions) -> String {
    static URL: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(URL_PATTERN).ok());
    let escaped = super::xhtml_escape(text);
    let Some(url) = URL.as_ref() else {
        return escaped;
    };
    let fixed_params = match &options.extra_params {
        ExtraParams::Fixed(params) if !params.is_empty() => format!(" {}", params.trim()),
        _ => String::new(),
    };
    url.replace_all(&escaped, |captures: &Captures<'_>| {
        make_link(captures, options, &fixed_params)
    })
    .into_owned()
}

/// Tornado's `make_link` for one match.
fn make_link(captures: &Captures<'_>, options: &LinkifyOptions, fixed_params: &str) -> String {
    let url = &captures[1];
    let protocol = captures.get(2).map(|group| group.as_str());
    match protocol {
        None if options.require_protocol => return url.to_owned(),
        Some(protocol)
            if !options
                .permitted_protocols
                .iter()
                .any(|permitted| permitted == protocol) =>
        {
            return url.to_owned();
        }
        _ => {}
    }
    let href = match protocol {
        Some(_) => url.to_owned(),
        None => format!("http://{url}"),
    };
    let mut params = match &options.extra_params {
        ExtraParams::PerUrl(choose) => format!(" {}", choose(&href).trim()),
        _ => fixed_params.to_owned(),
    };
    let mut text = url.to_owned();
    if options.shorten && char_count(url) > SHORTEN_MAX_LEN {
        let protocol_length = match protocol {
            Some(protocol) => {
                char_count(protocol) + 1 + captures.get(3).map_or(0, |slashes| slashes.len())
            }
            None => 0,
        };
        let (scheme, rest) = split_at_char(url, protocol_length);
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() > 1 {
            let first_bit = prefix_chars(parts[1], 8);
            let first_bit = first_bit.split('?').next().unwrap_or("");
            let first_bit = first_bit.split('.').next().unwrap_or("");
            text = format!("{scheme}{}/{first_bit}", parts[0]);
        }
        // Tornado's "still too long": more than 1.5 times the maximum.
        if char_count(&text) * 2 > SHORTEN_MAX_LEN * 3 {
            text = prefix_chars(&text, SHORTEN_MAX_LEN).to_owned();
        }
        if text != url {
            // Do not cut an entity in half.
            if let Some(ampersand) = text.rfind('&')
                && char_count(&text[..ampersand]) > SHORTEN_MAX_LEN - 5
            {
                text.truncate(ampersand);
            }
            text.push_str("...");
            if char_count(&text) >= char_count(url) {
                text = url.to_owned();
            } else {
                // The whole URL shows on mouse-over.
                params.push_str(&format!(" title=\"{href}\""));
            }
        }
    }
    format!("<a href=\"{href}\"{params}>{text}</a>")
}

fn char_count(text: &str) -> usize {
    text.chars().count()
}

/// The first `count` characters of `text` (all of it if shorter).
fn prefix_chars(text: &str, count: usize) -> &str {
    split_at_char(text, count).0
}

/// `text` split after `count` characters.
fn split_at_char(text: &str, count: usize) -> (&str, &str) {
    let index = text
        .char_indices()
        .nth(count)
        .map_or(text.len(), |(index, _)| index);
    text.split_at(index)
}
