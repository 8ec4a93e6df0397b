//! A request's header fields, kept as the bytes they arrived in and turned into a `HeaderMap`
//! the first time someone asks for them.
//!
//! The decoder reads every field line once (framing, persistence, `Host`) straight from
//! httparse's slices. Building the map on top of that costs more than parsing the head: a name
//! lookup and a value check per field, a hash and an insert, and emptying the map afterwards.
//! Many handlers never look at a header at all (a hello world, a router matching on the path),
//! so the map is built only on first use, from the same bytes, by the same parser.

use std::cell::OnceCell;
use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::head::{offset_in, slice_of};

/// Fields re-parsed into a stack array up to this many; more use the heap (only for the rare
/// head with many fields).
const STACK_FIELDS: usize = 32;

/// The header section of one request head: validated bytes, and the map built from them on
/// first use.
pub(crate) struct HeaderBlock {
    /// The field lines and the empty line ending the head, exactly as httparse accepted them
    /// (empty when the head has no fields). Values in the map share this allocation.
    raw: Bytes,
    /// How many field lines `raw` holds.
    count: u32,
    /// One bit per field name present (see [`name_bit`]): a lookup of a name whose bit is clear
    /// is answered "absent" without building the map.
    names: u64,
    /// The head carried a precondition field (see [`may_be_conditional`](Self::may_be_conditional)).
    precondition: bool,
    /// The map, once built; boxed so that the head, which moves several times on its way to a
    /// handler, stays small.
    map: OnceCell<Box<HeaderMap>>,
}

impl HeaderBlock {
    /// The `count` field lines in `raw`, which httparse accepted as a complete header section;
    /// `names` ORs the [`name_bit`] of each field name; `precondition` says whether one of them
    /// is a precondition field.
    pub(crate) fn new(raw: Bytes, count: usize, names: u64, precondition: bool) -> Self {
        HeaderBlock {
            raw,
            names,
            precondition,
            // httparse holds at most `max_headers` fields, and a head at most 4 GiB.
            count: u32::try_from(count).unwrap_or(u32::MAX),
            map: OnceCell::new(),
        }
    }

    /// A block holding an already-built map (an HTTP/2 request's fields, which HPACK decoded
    /// into one): there are no raw bytes, so every lookup goes to the map.
    pub(crate) fn from_map(map: HeaderMap) -> Self {
        HeaderBlock {
            raw: Bytes::new(),
            count: 0,
            names: u64::MAX,
            precondition: true,
            map: OnceCell::from(Box::new(map)),
        }
    }

    /// The fields as a map, built on the first call.
    pub(crate) fn map(&self) -> &HeaderMap {
        self.map
            .get_or_init(|| build(&self.raw, self.count as usize))
    }

    /// Whether a field named `name` (lower case, as `HeaderName` holds it) may be present:
    /// `false` is certain, `true` means "look in the map". Once the map is built (and perhaps
    /// changed) the map alone answers.
    pub(crate) fn may_contain(&self, name: &[u8]) -> bool {
        self.map.get().is_some() || self.names & name_bit(name) != 0
    }

    /// Whether a precondition field may be present: `false` is certain (the decoder saw none,
    /// and the map, which could have been changed since, was never built).
    pub(crate) fn may_be_conditional(&self) -> bool {
        self.precondition || self.map.get().is_some()
    }

    /// The first value of the field `name` (lower case, as `HeaderName` holds it), read from
    /// the map if it was built, else straight from the bytes without building it: one field
    /// looked up (an `Authorization` check) costs a scan of the head, not a map.
    pub(crate) fn first_value(&self, name: &[u8]) -> Option<&[u8]> {
        if let Some(map) = self.map.get() {
            let name = HeaderName::from_bytes(name).ok()?;
            return map.get(name).map(HeaderValue::as_bytes);
        }
        if self.names & name_bit(name) == 0 {
            return None;
        }
        // The decoder accepted these lines: `name ":" OWS value OWS`, ending in LF or CRLF
        // (no white space before the colon), so a line is ours if it starts with the name
        // and a colon.
        let mut rest = &self.raw[..];
        while !rest.is_empty() {
            let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            let (line, next) = rest.split_at(end);
            rest = next.get(1..).unwrap_or_default();
            // `name` is lower case already: fold only the line's side, byte by byte, and only
            // on a line whose colon sits where the name would end.
            if let Some((candidate, [b':', value @ ..])) = line.split_at_checked(name.len())
                && candidate
                    .iter()
                    .zip(name)
                    .all(|(byte, lower)| byte.to_ascii_lowercase() == *lower)
            {
                return Some(value.strip_suffix(b"\r").unwrap_or(value).trim_ascii());
            }
        }
        None
    }

    /// The fields as a map to change, built first if need be.
    pub(crate) fn map_mut(&mut self) -> &mut HeaderMap {
        if self.map.get().is_none() {
            self.map = OnceCell::from(build(&self.raw, self.count as usize));
        }
        // Filled just above (`OnceCell::get_mut_or_init` is not stable yet).
        self.map.get_mut().expect("the header map was just built")
    }

    /// Gives the map (if one was built) back to this thread's pool; the block is empty after.
    pub(crate) fn recycle(&mut self) {
        if let Some(map) = self.map.take() {
            super::recycle_boxed(map);
        }
        self.count = 0;
        self.names = 0;
        self.raw = Bytes::new();
    }
}

/// The bit a field name sets in [`HeaderBlock`]'s name set: from its length and its first and
/// last bytes, ASCII case folded (names are case-insensitive). Different names may share a bit;
/// that only costs a map lookup.
pub(crate) fn name_bit(name: &[u8]) -> u64 {
    let fold = |byte: Option<&u8>| u64::from(byte.map_or(0, u8::to_ascii_lowercase));
    let mix = (name.len() as u64)
        .wrapping_mul(31)
        .wrapping_add(fold(name.first()).wrapping_mul(7))
        .wrapping_add(fold(name.last()));
    1 << (mix % 64)
}

/// Parses `raw` again and builds its map. The decoder accepted these bytes with the same parser
/// and checked that every name and value is one `http` accepts, so nothing is skipped here; a
/// field that somehow failed would be left out rather than panic.
fn build(raw: &Bytes, count: usize) -> Box<HeaderMap> {
    let mut map = super::boxed_header_map();
    if count == 0 {
        return map;
    }
    map.reserve(count);
    let mut stack = [httparse::EMPTY_HEADER; STACK_FIELDS];
    let mut heap;
    let storage = if count <= STACK_FIELDS {
        &mut stack[..count]
    } else {
        heap = vec![httparse::EMPTY_HEADER; count];
        &mut heap[..]
    };
    let Ok(httparse::Status::Complete((_, fields))) = httparse::parse_headers(raw, storage) else {
        return map;
    };
    for field in fields.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes());
        let value = slice_of(raw, &offset_in(raw, field.value))
            .and_then(|value| HeaderValue::from_maybe_shared(value).ok());
        if let (Ok(name), Some(value)) = (name, value) {
            map.append(name, value);
        }
    }
    map
}

impl Clone for HeaderBlock {
    fn clone(&self) -> Self {
        HeaderBlock {
            raw: self.raw.clone(),
            count: self.count,
            names: self.names,
            precondition: self.precondition,
            map: self.map.clone(),
        }
    }
}

impl fmt::Debug for HeaderBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.map().fmt(f)
    }
}

impl PartialEq for HeaderBlock {
    fn eq(&self, other: &Self) -> bool {
        self.map() == other.map()
    }
}

impl Eq for HeaderBlock {}

impl Default for HeaderBlock {
    fn default() -> Self {
        HeaderBlock::new(Bytes::new(), 0, 0, false)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::{HeaderBlock, name_bit};

    fn block(raw: &'static [u8], names: &[&[u8]]) -> HeaderBlock {
        let bits = names.iter().fold(0, |bits, name| bits | name_bit(name));
        HeaderBlock::new(Bytes::from_static(raw), names.len(), bits, false)
    }

    #[test]
    fn first_value_reads_the_bytes_in_any_case_without_the_map() {
        let raw = b"Host: x\r\nAuthorization-Extra: no\r\nAUTHORIZATION:  Bearer t \r\n\
                    authorization: second\r\nX-Empty:\r\nX-Lf: lf\n\r\n";
        let block = block(
            raw,
            &[
                b"host",
                b"authorization-extra",
                b"authorization",
                b"x-empty",
                b"x-lf",
            ],
        );
        assert_eq!(block.first_value(b"authorization"), Some(&b"Bearer t"[..]));
        assert_eq!(block.first_value(b"host"), Some(&b"x"[..]));
        assert_eq!(block.first_value(b"x-empty"), Some(&b""[..]));
        assert_eq!(block.first_value(b"x-lf"), Some(&b"lf"[..]));
        assert_eq!(block.first_value(b"cookie"), None);
        // A name that is only a prefix of a field's name is not that field.
        assert_eq!(block.first_value(b"authorization-e"), None);
        assert!(block.map.get().is_none());
    }
}
