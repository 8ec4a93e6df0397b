//! URL helpers Tornado users reach for: [`url_concat`] and [`split_host_and_port`].

use super::urlencoded::{pairs, quote_plus, unquote_plus};

/// Appends `args` to `url`'s query string, as Tornado's `url_concat`.
///
/// The existing query is decoded and re-encoded with the new pairs after it (Python's
/// `urlencode`: `quote_plus` with nothing safe but letters, digits and `_.-~`), blank values
/// kept; the fragment stays last. Names and values are bytes (`&str`, `String`, `Vec<u8>`,
/// `Bytes`...), encoded as they are.
///
/// ```
/// use cyclone_protocol::httputil::url_concat;
///
/// assert_eq!(url_concat("http://example.com/foo", [("c", "d")]), "http://example.com/foo?c=d");
/// assert_eq!(
///     url_concat("http://example.com/foo?a=b#top", [("c", "d e/é")]),
///     "http://example.com/foo?a=b&c=d+e%2F%C3%A9#top"
/// );
/// ```
pub fn url_concat<I, K, V>(url: &str, args: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let (rest, fragment) = match url.find('#') {
        Some(hash) => url.split_at(hash),
        None => (url, ""),
    };
    let (base, query) = rest.split_once('?').unwrap_or((rest, ""));

    let mut encoded = String::new();
    let mut append = |name: &[u8], value: &[u8]| {
        if !encoded.is_empty() {
            encoded.push('&');
        }
        quote_plus(name, &mut encoded);
        encoded.push('=');
        quote_plus(value, &mut encoded);
    };
    let query = query.as_bytes();
    for (name, value) in pairs(query, true) {
        append(&unquote_plus(&query[name]), &unquote_plus(&query[value]));
    }
    for (name, value) in args {
        append(name.as_ref(), value.as_ref());
    }

    let mut out = String::with_capacity(base.len() + encoded.len() + fragment.len() + 1);
    out.push_str(base);
    if !encoded.is_empty() {
        out.push('?');
        out.push_str(&encoded);
    }
    // Python's urlunparse drops an empty fragment's '#', and so do we.
    if fragment.len() > 1 {
        out.push_str(fragment);
    }
    out
}

/// Splits `host:port` at its last colon, as Tornado's `split_host_and_port`.
///
/// The port is the digits after the last `:` when there are any and the host before them is
/// not empty; otherwise the whole input is the host. Brackets stay on IPv6 hosts
/// (`[::1]:8888` gives `[::1]`), and a bare IPv6 address is split like any other text, as in
/// Tornado: bracket it. Digits that do not fit a port (over 65535) leave the whole input as the
/// host, with no port.
///
/// ```
/// use cyclone_protocol::httputil::split_host_and_port;
///
/// assert_eq!(split_host_and_port("example.com:8888"), ("example.com", Some(8888)));
/// assert_eq!(split_host_and_port("[::1]:80"), ("[::1]", Some(80)));
/// assert_eq!(split_host_and_port("example.com"), ("example.com", None));
/// ```
pub fn split_host_and_port(netloc: &str) -> (&str, Option<u16>) {
    let Some((host, port)) = netloc.rsplit_once(':') else {
        return (netloc, None);
    };
    if host.is_empty() || port.is_empty() || !port.bytes().all(|byte| byte.is_ascii_digit()) {
        return (netloc, None);
    }
    match port.parse() {
        Ok(port) => (host, Some(port)),
        Err(_) => (netloc, None),
    }
}
