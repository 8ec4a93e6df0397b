//! [`parse_cookie`]: the request's `Cookie` header, read as leniently as Tornado reads it.

use std::collections::HashMap;

/// Parses a `Cookie` request header into `(name, value)` pairs, as Tornado's `parse_cookie`.
///
/// Browsers send cookies that violate every RFC, so this never fails:
///
/// - chunks are split on `;` and trimmed; a chunk without `=` is a value with an empty name
///   (as browsers do for `Set-Cookie: value`); chunks with neither name nor value are skipped;
/// - a value in double quotes is unquoted the way Python's `http.cookies` does: `\"` and
///   `\\` are the escaped character, `\ooo` (octal, `\000` to `\377`) is that code point;
/// - a name that repeats keeps its first position and takes its last value (a Python dict).
///
/// Several `Cookie` headers (as HTTP/2 sends them) should be joined with `"; "` first.
///
/// ```
/// use cyclone_protocol::httputil::parse_cookie;
///
/// let cookies = parse_cookie(r#"sid=abc; theme="dark \"blue\""; lonely; sid=xyz"#);
/// assert_eq!(cookies, [
///     ("sid".to_owned(), "xyz".to_owned()),
///     ("theme".to_owned(), r#"dark "blue""#.to_owned()),
///     ("".to_owned(), "lonely".to_owned()),
/// ]);
/// ```
pub fn parse_cookie(header: &str) -> Vec<(String, String)> {
    let mut cookies: Vec<(String, String)> = Vec::new();
    let mut positions: HashMap<String, usize> = HashMap::new();
    for chunk in header.split(';') {
        let (name, value) = chunk.split_once('=').unwrap_or(("", chunk));
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() && value.is_empty() {
            continue;
        }
        let value = unquote_cookie(value);
        match positions.get(name) {
            Some(&position) => cookies[position].1 = value,
            None => {
                positions.insert(name.to_owned(), cookies.len());
                cookies.push((name.to_owned(), value));
            }
        }
    }
    cookies
}

/// Python's `http.cookies._unquote`: only a value wrapped in double quotes is touched.
fn unquote_cookie(value: &str) -> String {
    let Some(inner) = value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return value.to_owned();
    };
    let chars: Vec<char> = inner.chars().collect();
    let mut out = String::with_capacity(inner.len());
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if c != '\\' {
            out.push(c);
            index += 1;
        } else if let Some(code) = octal_escape(&chars[index + 1..]) {
            out.push(char::from(code));
            index += 4;
        } else if let Some(&next) = chars.get(index + 1).filter(|&&next| next != '\n') {
            // Python's `.` does not match a newline, so `\` before one stays as is.
            out.push(next);
            index += 2;
        } else {
            out.push(c);
            index += 1;
        }
    }
    out
}

/// The byte of `[0-3][0-7][0-7]` at the start of `rest`.
fn octal_escape(rest: &[char]) -> Option<u8> {
    let [a @ '0'..='3', b @ '0'..='7', c @ '0'..='7', ..] = rest else {
        return None;
    };
    let digit = |d: char| d as u8 - b'0';
    Some(digit(*a) * 64 + digit(*b) * 8 + digit(*c))
}
