//! [`Cursor`]: where a member is in a room's history, in the form of a Redis stream id
//! (`<milliseconds>-<sequence>`), so the local and the Redis broker hand out the same kind.

use std::fmt;
use std::str::FromStr;

/// A message's place in its room, and what a client sends back to ask for "everything after
/// this" (Tornado's chat `cursor`). Ordered: a later message has a greater cursor.
///
/// Written as a Redis stream id, `<milliseconds>-<sequence>`: the Redis broker's cursors are
/// the stream's ids; the local broker's are `0-<n>`, numbered from 1.
///
/// ```
/// use cyclone_web::rooms::Cursor;
///
/// let cursor: Cursor = "1700000000000-3".parse().unwrap();
/// assert_eq!(cursor.to_string(), "1700000000000-3");
/// assert!(cursor < "1700000000001-0".parse().unwrap());
/// assert!("3".parse::<Cursor>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// The first half: milliseconds (Redis) or 0 (local).
    pub millis: u64,
    /// The second half: the sequence within that millisecond (Redis) or the message's number.
    pub sequence: u64,
}

impl Cursor {
    /// The cursor `0-<sequence>` (the local broker's).
    pub const fn local(sequence: u64) -> Cursor {
        Cursor {
            millis: 0,
            sequence,
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.millis, self.sequence)
    }
}

/// A cursor that is not `<digits>-<digits>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a cursor is <digits>-<digits>, like 0-12 or 1700000000000-0; got {0:?}")]
pub struct CursorError(
    /// The text given (cut to 64 bytes).
    pub String,
);

impl FromStr for Cursor {
    type Err = CursorError;

    fn from_str(text: &str) -> Result<Cursor, CursorError> {
        let invalid = || {
            let mut end = text.len().min(64);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            CursorError(text[..end].to_owned())
        };
        let (millis, sequence) = text.split_once('-').ok_or_else(invalid)?;
        let number = |part: &str| {
            if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(invalid());
            }
            part.parse::<u64>().map_err(|_| invalid())
        };
        Ok(Cursor {
            millis: number(millis)?,
            sequence: number(sequence)?,
        })
    }
}
