//! [`format_timestamp`]: a time as HTTP writes it.

use std::time::SystemTime;

use crate::h1::DateCache;

/// Formats `time` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), as Tornado's
/// `format_timestamp`, for `Expires`, `Last-Modified` and the like.
///
/// Sub-second parts are dropped; times before 1970 are written as 1970-01-01 and times past
/// 9999 as its last second (the codec's `Date` formatter, shared so there is one calendar in
/// the crate).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use cyclone_protocol::httputil::format_timestamp;
///
/// let time = UNIX_EPOCH + Duration::from_secs(784_111_777);
/// assert_eq!(format_timestamp(time), "Sun, 06 Nov 1994 08:49:37 GMT");
/// ```
pub fn format_timestamp(time: SystemTime) -> String {
    String::from_utf8_lossy(DateCache::at(time).as_bytes()).into_owned()
}
