//! The `Date` header value (RFC 9110 §5.6.7 IMF-fixdate), formatted at most once per second.
//!
//! The calendar is the `httpdate` crate's (hyper's, widely used and kept); this module only
//! caches its output per second, since every response head carries the field.

use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use httpdate::HttpDate;

/// Length of an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const DATE_VALUE_LENGTH: usize = 29;

/// The current time as a `Date` header value, reformatted only when the second changes.
///
/// Keep one per thread or per connection; [`refresh`](DateCache::refresh) costs one clock read.
#[derive(Debug, Clone)]
pub struct DateCache {
    /// The Unix second `value` was formatted for; a read of the same second reuses it.
    second: u64,
    /// The formatted value.
    value: [u8; DATE_VALUE_LENGTH],
    /// The whole field line, `date: <value>\r\n`, so that a response head appends it at once.
    line: [u8; DATE_LINE_LENGTH],
}

/// Length of `date: ` + the value + CRLF.
const DATE_LINE_LENGTH: usize = 6 + DATE_VALUE_LENGTH + 2;

/// The field line holding `value`.
fn date_line(value: &[u8; DATE_VALUE_LENGTH]) -> [u8; DATE_LINE_LENGTH] {
    let mut line = [0; DATE_LINE_LENGTH];
    line[..6].copy_from_slice(b"date: ");
    line[6..6 + DATE_VALUE_LENGTH].copy_from_slice(value);
    line[6 + DATE_VALUE_LENGTH..].copy_from_slice(b"\r\n");
    line
}

impl Default for DateCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DateCache {
    /// A cache holding the current time.
    pub fn new() -> Self {
        Self::at(SystemTime::now())
    }

    /// A cache holding `time` until the next [`refresh`](DateCache::refresh), for tests and
    /// for callers that read the clock themselves.
    pub fn at(time: SystemTime) -> Self {
        let second = unix_second(time);
        let value = format_imf_fixdate(second);
        DateCache {
            second,
            value,
            line: date_line(&value),
        }
    }

    /// Reads the clock and reformats if the second has changed.
    pub fn refresh(&mut self) {
        self.set(SystemTime::now());
    }

    /// Holds `time` (reformatting only if its second differs from the cached one).
    pub fn set(&mut self, time: SystemTime) {
        let second = unix_second(time);
        if second != self.second {
            self.second = second;
            self.value = format_imf_fixdate(second);
            self.line = date_line(&self.value);
        }
    }

    /// The cached value, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    pub fn as_bytes(&self) -> &[u8; DATE_VALUE_LENGTH] {
        &self.value
    }

    /// `date: <value>\r\n`.
    pub(crate) fn line(&self) -> &[u8] {
        &self.line
    }
}

fn unix_second(time: SystemTime) -> u64 {
    // A clock before 1970 is a broken clock; 1970 is as good an answer as any.
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The last second `httpdate` formats: 9999-12-31 23:59:59 UTC (it refuses later ones).
const LAST_FORMATTABLE_SECOND: u64 = 253_402_300_799;

/// Formats a Unix second as IMF-fixdate. Seconds past the end of 9999 are written as its last
/// second, which keeps the width (and stays in `httpdate`'s range).
pub(crate) fn format_imf_fixdate(second: u64) -> [u8; DATE_VALUE_LENGTH] {
    let time = UNIX_EPOCH + Duration::from_secs(second.min(LAST_FORMATTABLE_SECOND));
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    // An IMF-fixdate is always DATE_VALUE_LENGTH bytes, so the write fills `out` exactly.
    let _ = write!(&mut out[..], "{}", HttpDate::from(time));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(&format_imf_fixdate(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            &format_imf_fixdate(784_111_777),
            b"Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            &format_imf_fixdate(951_782_400),
            b"Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(
            &format_imf_fixdate(4_107_542_399),
            b"Sun, 28 Feb 2100 23:59:59 GMT"
        );
        assert_eq!(
            &format_imf_fixdate(4_133_980_799),
            b"Fri, 31 Dec 2100 23:59:59 GMT"
        );
        assert_eq!(
            &format_imf_fixdate(1_709_164_800),
            b"Thu, 29 Feb 2024 00:00:00 GMT"
        );
        assert_eq!(
            &format_imf_fixdate(LAST_FORMATTABLE_SECOND),
            b"Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(
            &format_imf_fixdate(u64::MAX),
            b"Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }

    #[test]
    fn a_clock_before_1970_reads_as_1970() {
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(
            DateCache::at(before).as_bytes(),
            b"Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn cache_changes_only_with_the_second() {
        let start = UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
        let mut cache = DateCache::at(start);
        cache.set(start + std::time::Duration::from_millis(999));
        assert_eq!(cache.as_bytes(), b"Sun, 06 Nov 1994 08:49:37 GMT");
        cache.set(start + std::time::Duration::from_secs(1));
        assert_eq!(cache.as_bytes(), b"Sun, 06 Nov 1994 08:49:38 GMT");
    }
}
