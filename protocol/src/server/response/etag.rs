//! [`EntityTag`]: a response's `ETag` value, held inline when it is short.

use std::fmt;

use http::HeaderValue;

use crate::server::error::InvalidEntityTag;

/// Bytes an [`EntityTag`] holds without allocating: a quoted 64-bit hash in hex (18) with
/// room for `W/`.
const INLINE: usize = 22;

/// The value of a response's `ETag` field (RFC 9110 §8.8.3), handed to
/// [`ResponseWriter::respond_with_etag`](super::ResponseWriter::respond_with_etag) beside the
/// answer's header map until the head is written: a web framework computes one for nearly
/// every `GET` answer, and a short tag held inline costs no allocation, no map insert and no
/// map clean-up.
///
/// Any value a header field may carry is accepted (as Tornado sends whatever `compute_etag`
/// returns); `"..."` and `W/"..."` are the forms caches compare.
///
/// ```
/// use cyclone_protocol::server::EntityTag;
///
/// let tag = EntityTag::from_hash(0x0123_4567_89ab_cdef);
/// assert_eq!(tag.as_str(), "\"0123456789abcdef\"");
/// assert!(tag.matches_none_match("\"other\", W/\"0123456789abcdef\""));
/// assert!(EntityTag::new("\"split\r\nX: y\"").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EntityTag {
    /// The bytes, inline or not.
    repr: Repr,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// A short tag: `len` bytes of `bytes`, all ASCII (checked when made).
    Inline { len: u8, bytes: [u8; INLINE] },
    /// A longer tag.
    Heap(Box<str>),
}

impl EntityTag {
    /// `tag` as given (quotes and any `W/` included), if a header field may carry it: visible
    /// characters, spaces and tabs, no CR, LF or other control character.
    pub fn new(tag: &str) -> Result<EntityTag, InvalidEntityTag> {
        // The `http` crate's rule for a field value, checked here so that a short tag is not
        // copied into a `HeaderValue` just to be checked.
        if !tag
            .bytes()
            .all(|byte| byte == b'\t' || (byte >= b' ' && byte != 0x7f))
        {
            return Err(InvalidEntityTag);
        }
        let repr = if tag.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..tag.len()].copy_from_slice(tag.as_bytes());
            // At most `INLINE` (22): fits a `u8`.
            Repr::Inline {
                len: tag.len() as u8,
                bytes,
            }
        } else {
            Repr::Heap(tag.into())
        };
        Ok(EntityTag { repr })
    }

    /// The strong tag `"<16 hex digits>"` of a 64-bit hash of the content.
    pub fn from_hash(hash: u64) -> EntityTag {
        const LEN: usize = 18;
        let mut bytes = [b'"'; INLINE];
        bytes[1..LEN - 1].copy_from_slice(&hex_digits(hash));
        EntityTag {
            repr: Repr::Inline {
                len: LEN as u8,
                bytes,
            },
        }
    }

    /// The tag's bytes, as the encoder writes them (no UTF-8 check on the way).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.repr {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Heap(tag) => tag.as_bytes(),
        }
    }

    /// The tag as sent.
    pub fn as_str(&self) -> &str {
        match &self.repr {
            // Copied whole from a `&str`, or hex digits and quotes: always UTF-8.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(tag) => tag,
        }
    }

    /// The tag as a header field value.
    pub fn to_header_value(&self) -> HeaderValue {
        // Checked as a field value when made; the fallback is never taken.
        HeaderValue::from_str(self.as_str()).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Whether the tag is weak (`W/"..."`).
    pub fn is_weak(&self) -> bool {
        self.as_str().starts_with("W/")
    }

    /// Whether an `If-None-Match` field value (a list of tags, or `*`) matches this tag by
    /// weak comparison (RFC 9110 §13.1.2: `W/` ignored on both sides), as a `GET` or `HEAD`
    /// is compared (Tornado's `check_etag_header`).
    pub fn matches_none_match(&self, field: &str) -> bool {
        let ours = strip_weak(self.as_str());
        field
            .split(',')
            .map(str::trim)
            .any(|candidate| candidate == "*" || strip_weak(candidate) == ours)
    }
}

/// `value`'s 16 lowercase hex digits, most significant first, computed eight digits per word:
/// nearly every `GET` answer of a web application formats one, and the `hex` crate (one byte
/// at a time through an iterator) took 92 instructions where this takes about 30 (`const-hex`,
/// whose SIMD set-up does not pay for 8 bytes, 121).
fn hex_digits(value: u64) -> [u8; 16] {
    /// Spreads the 8 nibbles of `half` into the 8 bytes of a word, the first nibble in the
    /// lowest byte (so the word's little-endian bytes read in digit order).
    fn nibbles(half: u32) -> u64 {
        let half = u64::from(half.swap_bytes());
        // Each step halves the width of the pieces and doubles their spacing.
        let x = (half | (half << 16)) & 0x0000_ffff_0000_ffff;
        let x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
        // Bytes now hold the input bytes in order; split each into its high and low nibble,
        // high first.
        ((x >> 4) & 0x000f_000f_000f_000f) | ((x & 0x000f_000f_000f_000f) << 8)
    }
    /// Nibbles (0-15, one per byte) to ASCII digits: `0`-`9` then `a`-`f`.
    fn digits(nibbles: u64) -> [u8; 8] {
        const ONES: u64 = 0x0101_0101_0101_0101;
        // 1 in each byte whose nibble is above 9 (adding 6 carries it into bit 4).
        let letters = ((nibbles + 6 * ONES) >> 4) & ONES;
        (nibbles + b'0' as u64 * ONES + letters * u64::from(b'a' - b'0' - 10)).to_le_bytes()
    }
    let mut out = [0; 16];
    out[..8].copy_from_slice(&digits(nibbles((value >> 32) as u32)));
    out[8..].copy_from_slice(&digits(nibbles(value as u32)));
    out
}

/// The tag without its weakness mark.
fn strip_weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

impl fmt::Debug for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EntityTag").field(&self.as_str()).finish()
    }
}

impl fmt::Display for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for EntityTag {
    type Error = InvalidEntityTag;

    fn try_from(tag: String) -> Result<Self, Self::Error> {
        EntityTag::new(&tag)
    }
}

impl TryFrom<&str> for EntityTag {
    type Error = InvalidEntityTag;

    fn try_from(tag: &str) -> Result<Self, Self::Error> {
        EntityTag::new(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_tags_read_back_as_given() {
        for tag in [
            "\"a\"",
            "W/\"0123456789abcdef\"",
            &format!("\"{}\"", "x".repeat(80)),
        ] {
            let made = EntityTag::new(tag).unwrap();
            assert_eq!(made.as_str(), tag);
            assert_eq!(made.to_header_value(), tag);
        }
    }

    #[test]
    fn hashes_are_sixteen_lowercase_hex_digits() {
        for value in [
            0,
            1,
            0xdead_beef,
            0x0123_4567_89ab_cdef,
            u64::MAX,
            0xa0b1_c2d3_e4f5_0617,
        ] {
            let tag = EntityTag::from_hash(value);
            assert_eq!(tag.as_str(), format!("\"{value:016x}\""));
        }
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(EntityTag::new("\"a\nb\""), Err(InvalidEntityTag));
        assert_eq!(EntityTag::new("\"a\0\""), Err(InvalidEntityTag));
    }

    #[test]
    fn none_match_compares_weakly_and_takes_lists_and_stars() {
        let tag = EntityTag::from_hash(1);
        assert!(tag.matches_none_match("\"0000000000000001\""));
        assert!(tag.matches_none_match("\"x\", W/\"0000000000000001\""));
        assert!(tag.matches_none_match("*"));
        assert!(!tag.matches_none_match("\"0000000000000002\""));
        assert!(
            EntityTag::new("W/\"q\"")
                .unwrap()
                .matches_none_match("\"q\"")
        );
    }
}
