//! The limits on what one query string or body may make the parsers build.

/// Bounds on how much structure parsing one query string or request body may produce.
///
/// The body's size is already bounded by the codec (`h1::Limits::max_body_size`); these bound
/// the work and the number of allocations per body, which a small body with many tiny fields
/// would otherwise blow up. Change single fields from [`FormLimits::default()`]:
///
/// ```
/// let mut limits = cyclone_protocol::httputil::FormLimits::default();
/// limits.max_parts = 10;
/// assert_eq!(limits.max_fields, 1_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormLimits {
    /// Most argument values one parse may yield (query pairs, urlencoded body pairs, or
    /// multipart parts without a filename). More is [`FormError::TooManyFields`](super::FormError::TooManyFields).
    ///
    /// Default is 1 000, as Django's `DATA_UPLOAD_MAX_NUMBER_FIELDS`.
    pub max_fields: usize,
    /// Most parts in one `multipart/form-data` body, files included. More is
    /// [`FormError::TooManyParts`](super::FormError::TooManyParts).
    ///
    /// Default is 100, Tornado's `ParseMultipartConfig.max_parts`.
    pub max_parts: usize,
    /// Longest header section of one multipart part, in bytes, without the blank line that
    /// ends it. Longer is [`FormError::PartHeadersTooLarge`](super::FormError::PartHeadersTooLarge).
    ///
    /// Default is 10 KiB, Tornado's `ParseMultipartConfig.max_part_header_size`.
    pub max_part_header_size: usize,
}

impl FormLimits {
    /// Default of [`FormLimits::max_fields`]: 1 000.
    pub const DEFAULT_MAX_FIELDS: usize = 1_000;
    /// Default of [`FormLimits::max_parts`]: 100.
    pub const DEFAULT_MAX_PARTS: usize = 100;
    /// Default of [`FormLimits::max_part_header_size`]: 10 KiB.
    pub const DEFAULT_MAX_PART_HEADER_SIZE: usize = 10 * 1024;
}

impl Default for FormLimits {
    fn default() -> Self {
        FormLimits {
            max_fields: Self::DEFAULT_MAX_FIELDS,
            max_parts: Self::DEFAULT_MAX_PARTS,
            max_part_header_size: Self::DEFAULT_MAX_PART_HEADER_SIZE,
        }
    }
}
