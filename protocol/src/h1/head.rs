//! Pieces shared by the request and response head parsers: where httparse's borrowed slices sit
//! in the buffer, and how they become an owned, zero-copy `HeaderMap`.

use std::ops::Range;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::error::ParseError;
use super::fields::FieldFacts;

/// A head is parsed into a stack array of this many fields; a larger `max_headers` uses the heap.
pub(crate) const STACK_HEADERS: usize = 128;

/// Where one header field line's name and value sit in the head's bytes. Recorded while httparse
/// borrows the read buffer, used after the head is split off it.
#[derive(Debug, Clone)]
pub(crate) struct FieldIndex {
    /// The field name's bytes.
    name: Range<usize>,
    /// The field value's bytes, without surrounding whitespace.
    value: Range<usize>,
}

impl FieldIndex {
    pub(crate) fn new(base: &[u8], field: &httparse::Header<'_>) -> Self {
        FieldIndex {
            name: offset_in(base, field.name.as_bytes()),
            value: offset_in(base, field.value),
        }
    }
}

/// The range `part` occupies inside `base`, which must contain it.
pub(crate) fn offset_in(base: &[u8], part: &[u8]) -> Range<usize> {
    // Address arithmetic, not unsafe: httparse hands back subslices of the buffer we gave it.
    let start = (part.as_ptr() as usize).saturating_sub(base.as_ptr() as usize);
    start..start + part.len()
}

/// The bytes of `head` in `range`, sharing its allocation; `None` (never a panic) if the range
/// does not fit.
pub(crate) fn slice_of(head: &Bytes, range: &Range<usize>) -> Option<Bytes> {
    (range.start <= range.end && range.end <= head.len()).then(|| head.slice(range.clone()))
}

/// Builds the header map of a head whose bytes are `head`, noting framing facts on the way.
/// Values share `head`'s allocation; only names outside the standard set are copied.
pub(crate) fn build_header_map(
    head: &Bytes,
    fields: &[FieldIndex],
    facts: &mut FieldFacts,
) -> Result<HeaderMap, ParseError> {
    let mut headers = HeaderMap::new();
    headers
        .try_reserve(fields.len())
        .map_err(|_| ParseError::TooManyHeaders)?;
    for field in fields {
        let name = head
            .get(field.name.clone())
            .and_then(|name| HeaderName::from_bytes(name).ok())
            .ok_or(ParseError::InvalidHeaderName)?;
        let value = slice_of(head, &field.value)
            .and_then(|value| HeaderValue::from_maybe_shared(value).ok())
            .ok_or(ParseError::InvalidHeaderValue)?;
        facts.observe(name.as_str().as_bytes(), value.as_bytes())?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// How many bytes of empty lines precede the start line; RFC 9112 §2.2 asks servers to ignore
/// at least one, and httparse skips them all.
pub(crate) fn leading_empty_lines(buf: &[u8]) -> usize {
    let mut index = 0;
    loop {
        match buf.get(index..) {
            Some([b'\r', b'\n', ..]) => index += 2,
            Some([b'\n', ..]) => index += 1,
            _ => return index,
        }
    }
}

/// Whether `line` is a well-formed `HTTP/DIGIT.DIGIT`, so that a version httparse refuses can be
/// told apart (505) from a broken start line (400).
pub(crate) fn is_http_version_syntax(line: &[u8]) -> bool {
    matches!(line, [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
        if major.is_ascii_digit() && minor.is_ascii_digit())
}
