//! Tornado's `tornado.escape`: escaping and unescaping for HTML, URLs and JSON, whitespace
//! squeezing and `linkify`, with Tornado's exact output so ported templates and tests read the
//! same.
//!
//! | function | Tornado's | does |
//! |---|---|---|
//! | [`xhtml_escape`] | `xhtml_escape` | `&<>"'` to entities |
//! | [`xhtml_unescape`] | `xhtml_unescape` | HTML5 character references back to text |
//! | [`url_escape`] | `url_escape(value, plus)` | percent-encoding, `+` for spaces with `plus` |
//! | [`url_unescape`] / [`url_unescape_bytes`] | `url_unescape(value, encoding, plus)` | the reverse |
//! | [`json_encode`] | `json_encode` | Python's `json.dumps` layout, `</` as `<\/` |
//! | [`json_decode`] | `json_decode` | JSON text to any `Deserialize` type |
//! | [`squeeze`] | `squeeze` | runs of whitespace and control characters to one space |
//! | [`linkify`] / [`linkify_with`] | `linkify` | URLs in text to links, with [`LinkifyOptions`] |
//!
//! Templates see every one of these as a function and as a filter (see `docs/templates.md`).
//!
//! ```
//! use cyclone_web::escape::{url_escape, xhtml_escape, xhtml_unescape};
//!
//! assert_eq!(xhtml_escape("<a href='x'>"), "&lt;a href=&#x27;x&#x27;&gt;");
//! assert_eq!(xhtml_unescape("&lt;&eacute;&#233;&#xe9;&copy"), "<ééé©");
//! assert_eq!(url_escape("a b/c", true), "a+b%2Fc");
//! assert_eq!(url_escape("a b/c", false), "a%20b/c");
//! ```

mod entities;
mod linkify;

use std::io;
use std::sync::LazyLock;

use regex::Regex;

pub use linkify::{ExtraParams, LinkifyOptions, linkify, linkify_with};

/// Why a value could not be turned into JSON or read from it.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// The value cannot be written as JSON (a map with non-string keys, a failing
    /// `Serialize`, a NaN float).
    #[error("cannot encode JSON: {0}")]
    Encode(#[source] serde_json::Error),
    /// The text is not JSON, or not of the shape asked for.
    #[error("cannot decode JSON: {0}")]
    Decode(#[source] serde_json::Error),
}

/// Escapes `&`, `<`, `>`, `"` and `'` as entities (Tornado's `xhtml_escape`, which is
/// Python's `html.escape`: `'` is `&#x27;`), so text can go into HTML element content and
/// quoted attribute values.
pub fn xhtml_escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + value.len() / 8);
    // Writing to a String cannot fail.
    let _ = write_xhtml_escaped(&mut escaped, value);
    escaped
}

/// [`xhtml_escape`] written straight to `out`, for the template engine's output: no string in
/// between.
///
/// Eight bytes are tested at a time for any of the five special characters (most text has
/// none), and a word that has one says where its first one is, so the scan jumps from one
/// special character to the next: every template value goes through here. Byte by byte it was
/// ~7 instructions a byte, and walking each word with a special character byte by byte cost
/// ~670 instructions for a 55-byte fortune with two of them.
pub(crate) fn write_xhtml_escaped(out: &mut impl std::fmt::Write, value: &str) -> std::fmt::Result {
    // Written up to here; the special characters are ASCII, so every cut is a char boundary.
    let mut start = 0;
    while let Some((at, entity)) = next_special(value.as_bytes(), start) {
        out.write_str(&value[start..at])?;
        out.write_str(entity)?;
        start = at + 1;
    }
    out.write_str(&value[start..])
}

/// The first of the five special characters at or after `from`, with its entity: eight bytes
/// at a time, then the last few one by one.
fn next_special(bytes: &[u8], mut from: usize) -> Option<(usize, &'static str)> {
    while let Some(word) = bytes.get(from..from + 8) {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        let specials = special_bytes(u64::from_le_bytes(eight));
        if specials == 0 {
            from += 8;
            continue;
        }
        // Little-endian: the lowest flagged byte is the first special character in the word.
        let at = from + (specials.trailing_zeros() / 8) as usize;
        if let Some(entity) = entity(bytes[at]) {
            return Some((at, entity));
        }
        from = at + 1;
    }
    bytes
        .iter()
        .enumerate()
        .skip(from)
        .find_map(|(at, &byte)| entity(byte).map(|entity| (at, entity)))
}

/// The entity `byte` is written as, if it is one of the five.
fn entity(byte: u8) -> Option<&'static str> {
    Some(match byte {
        b'&' => "&amp;",
        b'<' => "&lt;",
        b'>' => "&gt;",
        b'"' => "&quot;",
        b'\'' => "&#x27;",
        _ => return None,
    })
}

/// The bytes of `word` that are `&`, `<`, `>`, `"` or `'`, as a mask with the high bit of each
/// such byte set. For each character the bytes equal to it become zero under XOR, and
/// `(x - 0x01..) & !x & 0x80..` flags the zero bytes. A borrow can flag a byte above a real
/// zero byte too, never one below it, so the lowest flag is always exact, which is all
/// [`write_xhtml_escaped`] uses.
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let equal = |byte: u8| zero_byte(word ^ (ONES * u64::from(byte)));
    equal(b'&') | equal(b'<') | equal(b'>') | equal(b'"') | equal(b'\'')
}

/// Decodes the character references in `value` as HTML5 does (Tornado's `xhtml_unescape`,
/// which is Python's `html.unescape`): every HTML5 name, with or without the `;` the legacy
/// ones may omit (the longest known name wins: `&notit;` is `¬it;`), `&#NNN;` and `&#xHH;`
/// (with HTML5's replacements: `&#128;` is `€`, `&#0;` and surrogates are U+FFFD). Anything
/// else stays as written.
pub fn xhtml_unescape(value: &str) -> String {
    /// Python's `html._charref`.
    static REFERENCE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\x0C <&#;]{1,32};?)").ok()
    });
    if !value.contains('&') {
        return value.to_owned();
    }
    let Some(reference) = REFERENCE.as_ref() else {
        return value.to_owned();
    };
    reference
        .replace_all(value, |captures: &regex::Captures<'_>| {
            replace_reference(&captures[1])
        })
        .into_owned()
}

/// Python's `html._replace_charref`: the text for `&` + `reference`.
fn replace_reference(reference: &str) -> String {
    if let Some(number) = reference.strip_prefix('#') {
        let number = number.trim_end_matches(';');
        let parsed = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => number.parse(),
        };
        // Digits only (the pattern says so): a failure is a number too large for any
        // character.
        let code = parsed.unwrap_or(u32::MAX);
        if let Ok(index) = entities::REPLACED_NUMBERS.binary_search_by_key(&code, |(key, _)| *key) {
            return entities::REPLACED_NUMBERS[index].1.to_string();
        }
        if (0xD800..=0xDFFF).contains(&code) || code > 0x10FFFF {
            return '\u{FFFD}'.to_string();
        }
        if entities::DROPPED_NUMBERS.binary_search(&code).is_ok() {
            return String::new();
        }
        return char::from_u32(code).map_or_else(|| '\u{FFFD}'.to_string(), String::from);
    }
    let named = |name: &str| {
        entities::NAMED
            .binary_search_by(|(entry, _)| entry.cmp(&name))
            .ok()
            .map(|index| entities::NAMED[index].1)
    };
    if let Some(text) = named(reference) {
        return text.to_owned();
    }
    // The longest known name that starts the reference, the rest as written.
    let ends: Vec<usize> = reference.char_indices().map(|(index, _)| index).collect();
    for &end in ends.iter().skip(2).rev() {
        if let Some(text) = named(&reference[..end]) {
            return format!("{text}{}", &reference[end..]);
        }
    }
    format!("&{reference}")
}

/// Percent-encodes `value` for a URL (Tornado's `url_escape`): letters, digits and `_.-~` stay;
/// with `plus` (Tornado's default, for query values) a space becomes `+` and `/` is encoded;
/// without it (for path segments) a space is `%20` and `/` stays.
pub fn url_escape(value: &str, plus: bool) -> String {
    let mut escaped = String::with_capacity(value.len());
    for &byte in value.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                escaped.push(char::from(byte));
            }
            b' ' if plus => escaped.push('+'),
            b'/' if !plus => escaped.push('/'),
            _ => {
                escaped.push('%');
                escaped.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
                escaped.push(char::from(HEX_UPPER[usize::from(byte & 15)]));
            }
        }
    }
    escaped
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Decodes a percent-encoded `value` to text (Tornado's `url_unescape`); with `plus` a `+` is
/// a space first. A `%` not followed by two hex digits stays as written, and bytes that are not
/// UTF-8 become U+FFFD, as Python's `unquote`.
pub fn url_unescape(value: &str, plus: bool) -> String {
    String::from_utf8_lossy(&url_unescape_bytes(value, plus)).into_owned()
}

/// [`url_unescape`] to bytes (Tornado's `url_unescape(value, encoding=None)`).
pub fn url_unescape_bytes(value: &str, plus: bool) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' if plus => decoded.push(b' '),
            b'%' => {
                let pair = bytes.get(index + 1..index + 3).and_then(|pair| {
                    let high = char::from(pair[0]).to_digit(16)?;
                    let low = char::from(pair[1]).to_digit(16)?;
                    u8::try_from(high * 16 + low).ok()
                });
                match pair {
                    Some(byte) => {
                        decoded.push(byte);
                        index += 3;
                        continue;
                    }
                    None => decoded.push(b'%'),
                }
            }
            other => decoded.push(other),
        }
        index += 1;
    }
    decoded
}

/// `value` as JSON laid out as Python's `json.dumps` writes it (`", "` and `": "` between
/// items, every non-ASCII character as `\uXXXX`), with `</` written `<\/` so the text can sit
/// in a `<script>` element (Tornado's `json_encode`).
///
/// ```
/// use cyclone_web::escape::json_encode;
///
/// let json = json_encode(&serde_json::json!({"a": [1, "</script>é"]})).unwrap();
/// assert_eq!(json, r#"{"a": [1, "<\/script>\u00e9"]}"#);
/// ```
pub fn json_encode<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, JsonError> {
    let mut out = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value
        .serialize(&mut serializer)
        .map_err(JsonError::Encode)?;
    // Only ASCII was written: every non-ASCII character went out as an escape.
    let text = String::from_utf8_lossy(&out);
    Ok(text.replace("</", "<\\/"))
}

/// JSON text (or bytes) to `T` (Tornado's `json_decode`; ask for `serde_json::Value` for "any").
pub fn json_decode<T: serde::de::DeserializeOwned>(
    value: impl AsRef<[u8]>,
) -> Result<T, JsonError> {
    serde_json::from_slice(value.as_ref()).map_err(JsonError::Decode)
}

/// Python's `json.dumps` defaults: `", "` and `": "` separators, `ensure_ascii`.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (index, character) in fragment.char_indices() {
            if character.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..index])?;
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = index + character.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Replaces every run of whitespace and control characters (`\x00`-`\x20`) with one space and
/// trims the ends (Tornado's `squeeze`).
pub fn squeeze(value: &str) -> String {
    let mut squeezed = String::with_capacity(value.len());
    let mut in_run = false;
    for character in value.chars() {
        if character <= '\u{20}' {
            if !in_run {
                squeezed.push(' ');
                in_run = true;
            }
        } else {
            squeezed.push(character);
            in_run = false;
        }
    }
    squeezed.trim().to_owned()
}

#[cfg(test)]
mod word_scan_tests {
    use super::xhtml_escape;

    /// The byte-by-byte escape the word scan must agree with.
    fn reference(value: &str) -> String {
        value
            .chars()
            .map(|c| match c {
                '&' => "&amp;".to_owned(),
                '<' => "&lt;".to_owned(),
                '>' => "&gt;".to_owned(),
                '"' => "&quot;".to_owned(),
                '\'' => "&#x27;".to_owned(),
                other => other.to_string(),
            })
            .collect()
    }

    #[test]
    fn every_special_at_every_place_around_the_eight_byte_words() {
        for special in ['&', '<', '>', '"', '\''] {
            for filler in ["a", "é", "€", "\u{1F600}", "%"] {
                for length in 0..20 {
                    for at in 0..=length {
                        let mut text: String = filler.repeat(length);
                        let cut = text
                            .char_indices()
                            .nth(at)
                            .map_or(text.len(), |(index, _)| index);
                        text.insert(cut, special);
                        text.push(special);
                        assert_eq!(xhtml_escape(&text), reference(&text), "{text:?}");
                    }
                }
            }
        }
        // Bytes one off the specials (the zero-byte test must not match neighbours).
        let near = "%'()-;=?[]{}|~!#$*+,./:@^_`\\";
        assert_eq!(xhtml_escape(near), reference(near));
        assert_eq!(xhtml_escape(&near.repeat(9)), reference(&near.repeat(9)));
    }

    proptest::proptest! {
        /// Dense in special characters, so the scan meets several in one word, one right
        /// after another, and in the tail: it jumps from each to the next.
        #[test]
        fn text_dense_in_specials_matches_the_reference(text in "[a-z&<>\"' é\u{30d5}]{0,40}") {
            proptest::prop_assert_eq!(xhtml_escape(&text), reference(&text));
        }
    }
}
