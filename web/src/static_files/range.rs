//! Single byte ranges (`Range: bytes=...`), read and answered as Tornado's
//! `StaticFileHandler` does: one range only (a list is ignored and the whole file sent), a
//! range covering the whole file is a plain 200 (Chrome will not play audio from a 206 to
//! `bytes=0-`), an end past the file is cut to it, and a start at or past the end is 416.

/// A parsed `Range` field: a start (negative: from the end) and an exclusive end, as Tornado's
/// `_parse_request_range` returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestedRange {
    /// The first byte; negative counts from the end (`bytes=-500` is `-500`).
    start: Option<i128>,
    /// One past the last byte.
    end: Option<i128>,
}

/// What to send for a range request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeAnswer {
    /// The whole file, 200.
    Whole,
    /// Bytes `start..end` of the file, 206 with `Content-Range`.
    Partial {
        /// The first byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
    /// 416 with `Content-Range: bytes */<size>`.
    Unsatisfiable,
}

/// A `Range` value of one byte range; `None` for anything else (other units, several ranges,
/// garbage), which is answered with the whole file.
pub(crate) fn parse(value: &str) -> Option<RequestedRange> {
    let (unit, spec) = value.split_once('=')?;
    if unit.trim() != "bytes" {
        return None;
    }
    let (start, end) = spec.trim().split_once('-')?;
    let number = |text: &str| -> Result<Option<i128>, ()> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(());
        }
        // Digits only, so parsing fails only past i128::MAX: Python's integers have no
        // bound, and any such position is past the end of every file.
        Ok(Some(text.parse().unwrap_or(i128::MAX)))
    };
    let (mut start, mut end) = (number(start).ok()?, number(end).ok()?);
    match (start, end) {
        (None, Some(suffix)) if suffix != 0 => {
            start = Some(-suffix);
            end = None;
        }
        // Saturating: a last byte of i128::MAX would overflow, and means "to the end".
        (Some(_), Some(last)) => end = Some(last.saturating_add(1)),
        _ => {}
    }
    Some(RequestedRange { start, end })
}

/// What to send for `range` of a file of `size` bytes.
pub(crate) fn answer(range: RequestedRange, size: u64) -> RangeAnswer {
    let size = i128::from(size);
    let mut start = range.start;
    let mut end = range.end;
    if let Some(negative) = start.filter(|start| *start < 0) {
        start = Some((negative + size).max(0));
    }
    let unsatisfiable = start
        .is_some_and(|start| start >= size || end.is_some_and(|end| start >= end))
        || end == Some(0);
    if unsatisfiable {
        return RangeAnswer::Unsatisfiable;
    }
    if end.is_some_and(|end| end > size) {
        end = Some(size);
    }
    let (first, last) = (start.unwrap_or(0), end.unwrap_or(size));
    if last - first == size {
        return RangeAnswer::Whole;
    }
    // Both lie within 0..=size here, so they fit a u64.
    RangeAnswer::Partial {
        start: u64::try_from(first).unwrap_or(0),
        end: u64::try_from(last).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_for(value: &str, size: u64) -> Option<RangeAnswer> {
        parse(value).map(|range| answer(range, size))
    }

    #[test]
    fn ranges_as_tornado_answers_them() {
        let partial = |start, end| Some(RangeAnswer::Partial { start, end });
        assert_eq!(answer_for("bytes=0-9", 100), partial(0, 10));
        assert_eq!(answer_for("bytes=90-", 100), partial(90, 100));
        assert_eq!(answer_for("bytes=-10", 100), partial(90, 100));
        assert_eq!(answer_for("bytes=50-500", 100), partial(50, 100));
        assert_eq!(answer_for("bytes=0-", 100), Some(RangeAnswer::Whole));
        assert_eq!(answer_for("bytes=0-99", 100), Some(RangeAnswer::Whole));
        assert_eq!(answer_for("bytes=-1000", 100), Some(RangeAnswer::Whole));
        assert_eq!(
            answer_for("bytes=100-", 100),
            Some(RangeAnswer::Unsatisfiable)
        );
        assert_eq!(
            answer_for("bytes=5-2", 100),
            Some(RangeAnswer::Unsatisfiable)
        );
        assert_eq!(
            answer_for("bytes=-0", 100),
            Some(RangeAnswer::Unsatisfiable)
        );
        assert_eq!(answer_for("bytes=0-1,5-6", 100), None);
        assert_eq!(answer_for("items=0-1", 100), None);
        assert_eq!(answer_for("bytes=x-1", 100), None);
        assert_eq!(answer_for("bytes=--1", 100), None);
    }

    #[test]
    fn positions_past_any_file_are_cut_to_it_without_overflow() {
        let max = i128::MAX.to_string();
        let huge = "9".repeat(60);
        let partial = |start, end| Some(RangeAnswer::Partial { start, end });
        assert_eq!(answer_for(&format!("bytes=5-{max}"), 100), partial(5, 100));
        assert_eq!(answer_for(&format!("bytes=5-{huge}"), 100), partial(5, 100));
        assert_eq!(
            answer_for(&format!("bytes=0-{max}"), 100),
            Some(RangeAnswer::Whole)
        );
        assert_eq!(
            answer_for(&format!("bytes=-{huge}"), 100),
            Some(RangeAnswer::Whole)
        );
        assert_eq!(
            answer_for(&format!("bytes={huge}-"), 100),
            Some(RangeAnswer::Unsatisfiable)
        );
        assert_eq!(
            answer_for(&format!("bytes={max}-{max}"), u64::MAX),
            Some(RangeAnswer::Unsatisfiable)
        );
    }

    proptest::proptest! {
        /// Whatever the field says, a 206 names bytes inside the file, at least one, and
        /// never all of them (that is a 200).
        #[test]
        fn a_partial_answer_lies_inside_the_file(
            value in "bytes=[0-9 ]{0,8}-[0-9 ]{0,8}|[ -~]{0,20}",
            size in 0u64..100_000,
        ) {
            if let Some(range) = parse(&value)
                && let RangeAnswer::Partial { start, end } = answer(range, size)
            {
                proptest::prop_assert!(start < end && end <= size, "{value:?} of {size}: {start}..{end}");
                proptest::prop_assert!(end - start < size, "{value:?} of {size}: all of it as a 206");
            }
        }

        /// `bytes=first-last` inside the file is exactly those bytes, or the whole file.
        #[test]
        fn a_range_inside_the_file_is_sent_as_asked(
            size in 1u64..100_000,
            first in 0u64..100_000,
            length in 1u64..100_000,
        ) {
            let first = first % size;
            let last = (first + length - 1).min(size - 1);
            let asked = answer_for(&format!("bytes={first}-{last}"), size);
            let expected = if first == 0 && last == size - 1 {
                RangeAnswer::Whole
            } else {
                RangeAnswer::Partial { start: first, end: last + 1 }
            };
            proptest::prop_assert_eq!(asked, Some(expected));
        }
    }
}
