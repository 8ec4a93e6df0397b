//! The `Date` header value (RFC 9110 §5.6.7 IMF-fixdate), formatted at most once per second.

use std::time::{SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const DATE_VALUE_LENGTH: usize = 29;

const WEEKDAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

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

/// Formats a Unix second as IMF-fixdate. Years past 9999 are shown as 9999 to keep the width.
pub(crate) fn format_imf_fixdate(second: u64) -> [u8; DATE_VALUE_LENGTH] {
    let days = second / 86_400;
    let of_day = second % 86_400;
    let (year, month, day) = civil_from_days(days);
    let year = year.min(9999);
    let (hour, minute, sec) = (of_day / 3600, of_day % 3600 / 60, of_day % 60);

    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[..3].copy_from_slice(WEEKDAYS[(days % 7) as usize]);
    two_digits(&mut out[5..7], day);
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    two_digits(&mut out[12..14], year / 100);
    two_digits(&mut out[14..16], year % 100);
    two_digits(&mut out[17..19], hour);
    two_digits(&mut out[20..22], minute);
    two_digits(&mut out[23..25], sec);
    out
}

fn two_digits(out: &mut [u8], value: u64) {
    out[0] = b'0' + (value / 10 % 10) as u8;
    out[1] = b'0' + (value % 10) as u8;
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), after Howard Hinnant's
/// `civil_from_days`, restricted to non-negative days.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
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
