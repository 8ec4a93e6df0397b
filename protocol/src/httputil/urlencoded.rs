//! `application/x-www-form-urlencoded`: query strings and form bodies, both ways.

use std::ops::Range;

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};

use super::{Arguments, FormError, FormLimits};

/// Bytes Python's `quote_plus` (so `urlencode`) leaves alone: letters, digits and `_.-~`.
/// Space is written `+` separately.
const QUOTE_PLUS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');

/// Parses a query string or urlencoded body into [`Arguments`], as Tornado's
/// `parse_qs_bytes`, with the default [`FormLimits`].
///
/// - Pairs are split on `&` only (`;` is data, as in Python 3.10+); empty pairs are skipped.
/// - `+` is a space, `%XX` is a byte; a `%` not followed by two hex digits is kept as is.
/// - Values stay raw bytes. Names are decoded as UTF-8, invalid sequences replaced by U+FFFD
///   (Tornado decodes names as Latin-1, which garbles every non-ASCII name a browser sends).
/// - `keep_blank_values`: when false, `a=` and a bare `a` are dropped, as in Python; when true,
///   they are kept with an empty value. Tornado passes true for query and body arguments.
///
/// ```
/// use cyclone_protocol::httputil::parse_qs_bytes;
///
/// let arguments = parse_qs_bytes(b"a=1+2&b=%zz&c=&&d", true)?;
/// assert_eq!(arguments.get("a").unwrap().as_ref(), b"1 2");
/// assert_eq!(arguments.get("b").unwrap().as_ref(), b"%zz");
/// assert_eq!(arguments.get("c").unwrap().as_ref(), b"");
/// assert!(arguments.contains("d"));
/// assert_eq!(parse_qs_bytes(b"c=&d", false)?.len(), 0);
/// # Ok::<(), cyclone_protocol::httputil::FormError>(())
/// ```
///
/// # Errors
///
/// [`FormError::TooManyFields`] past [`FormLimits::DEFAULT_MAX_FIELDS`] values.
pub fn parse_qs_bytes(query: &[u8], keep_blank_values: bool) -> Result<Arguments, FormError> {
    parse_qs_bytes_with_limits(query, keep_blank_values, &FormLimits::default())
}

/// [`parse_qs_bytes`] with the server's configured limits.
///
/// # Errors
///
/// [`FormError::TooManyFields`] past `limits.max_fields` values.
pub fn parse_qs_bytes_with_limits(
    query: &[u8],
    keep_blank_values: bool,
    limits: &FormLimits,
) -> Result<Arguments, FormError> {
    // One copy up front, so that every value without escapes is a slice of it.
    parse_urlencoded(&Bytes::copy_from_slice(query), keep_blank_values, limits)
}

/// The zero-copy core of [`parse_qs_bytes`]: values without `%` or `+` are slices of `source`.
pub(crate) fn parse_urlencoded(
    source: &Bytes,
    keep_blank_values: bool,
    limits: &FormLimits,
) -> Result<Arguments, FormError> {
    let mut arguments = Arguments::new();
    let mut fields = 0usize;
    for (name, value) in pairs(source, keep_blank_values) {
        fields += 1;
        if fields > limits.max_fields {
            return Err(FormError::TooManyFields {
                limit: limits.max_fields,
            });
        }
        let name = String::from_utf8_lossy(&decode_component(source, name)).into_owned();
        arguments.push(name, decode_component(source, value));
    }
    Ok(arguments)
}

/// The undecoded `(name, value)` ranges of each pair Python's `parse_qsl` would keep.
pub(crate) fn pairs(
    source: &[u8],
    keep_blank_values: bool,
) -> impl Iterator<Item = (Range<usize>, Range<usize>)> + '_ {
    let mut start = 0;
    source.split(|&byte| byte == b'&').filter_map(move |pair| {
        let pair_start = start;
        start += pair.len() + 1;
        if pair.is_empty() {
            return None;
        }
        let end = pair_start + pair.len();
        match memchr::memchr(b'=', pair) {
            Some(equals) => {
                let equals = pair_start + equals;
                if equals + 1 == end && !keep_blank_values {
                    return None;
                }
                Some((pair_start..equals, equals + 1..end))
            }
            None if keep_blank_values => Some((pair_start..end, end..end)),
            None => None,
        }
    })
}

/// Decodes `+` and `%XX` in `source[range]`, slicing instead of copying when there is nothing
/// to decode.
pub(crate) fn decode_component(source: &Bytes, range: Range<usize>) -> Bytes {
    let raw = &source[range.clone()];
    if memchr::memchr2(b'%', b'+', raw).is_none() {
        return source.slice(range);
    }
    Bytes::from(unquote_plus(raw))
}

/// Python's `unquote_plus` over bytes: `+` is a space, `%XX` a byte, any other `%` stays.
pub(crate) fn unquote_plus(raw: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::with_capacity(raw.len());
    // '+' never appears inside an escape, so decoding between the '+'s is the same as
    // replacing them first, as Python does.
    for (index, piece) in raw.split(|&byte| byte == b'+').enumerate() {
        if index > 0 {
            decoded.push(b' ');
        }
        decoded.extend(percent_decode(piece));
    }
    decoded
}

/// Appends `bytes` to `out` as Python's `quote_plus(bytes, safe="")` does.
pub(crate) fn quote_plus(bytes: &[u8], out: &mut String) {
    for (index, piece) in bytes.split(|&byte| byte == b' ').enumerate() {
        if index > 0 {
            out.push('+');
        }
        out.extend(percent_encode(piece, QUOTE_PLUS));
    }
}
