//! [`parse_body_arguments`]: a request body's arguments and files by its content type.

use bytes::Bytes;

use super::parameters::Parameterized;
use super::urlencoded::parse_urlencoded;
use super::{Arguments, Files, FormError, FormLimits, parse_multipart_form_data};

/// Parses a request body into arguments and files by its `Content-Type`, as Tornado's
/// `parse_body_arguments`.
///
/// - `application/x-www-form-urlencoded`: [`parse_qs_bytes`](super::parse_qs_bytes) rules with
///   blank values kept; no files.
/// - `multipart/form-data; boundary=...`: [`parse_multipart_form_data`].
/// - Anything else (JSON, an empty content type...): no arguments and no files, not an error.
///
/// The media type is compared without regard to case. `body` is a [`Bytes`] so that values and
/// file bodies can be slices of it. A `Content-Encoding` must already be undone: Tornado
/// ignores encoded form bodies, and so should a caller that cannot decode one.
///
/// ```
/// use bytes::Bytes;
/// use cyclone_protocol::httputil::{FormLimits, parse_body_arguments};
///
/// let body = Bytes::from_static(
///     b"--XyZ\r\n\
///       Content-Disposition: form-data; name=\"title\"\r\n\r\n\
///       Holiday\r\n\
///       --XyZ\r\n\
///       Content-Disposition: form-data; name=\"photo\"; filename=\"beach.jpg\"\r\n\
///       Content-Type: image/jpeg\r\n\r\n\
///       \xff\xd8\xff\r\n\
///       --XyZ--\r\n",
/// );
/// let (arguments, files) =
///     parse_body_arguments("multipart/form-data; boundary=XyZ", &body, &FormLimits::default())?;
/// assert_eq!(arguments.get_str("title")?, Some("Holiday"));
/// let photo = files.get("photo").unwrap();
/// assert_eq!((photo.filename.as_str(), photo.content_type.as_str()), ("beach.jpg", "image/jpeg"));
/// assert_eq!(photo.body.as_ref(), b"\xff\xd8\xff");
/// # Ok::<(), cyclone_protocol::httputil::FormError>(())
/// ```
///
/// # Errors
///
/// Those of [`parse_qs_bytes_with_limits`](super::parse_qs_bytes_with_limits) and
/// [`parse_multipart_form_data`], and [`FormError::MissingBoundary`] for a multipart content
/// type without a usable `boundary`.
pub fn parse_body_arguments(
    content_type: &str,
    body: &Bytes,
    limits: &FormLimits,
) -> Result<(Arguments, Files), FormError> {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok((parse_urlencoded(body, true, limits)?, Files::new()))
    } else if media_type.eq_ignore_ascii_case("multipart/form-data") {
        let parameters =
            Parameterized::parse(content_type).map_err(|_| FormError::MissingBoundary)?;
        let boundary = parameters
            .get("boundary")
            .ok_or(FormError::MissingBoundary)?;
        parse_multipart_form_data(boundary.as_bytes(), body, limits)
    } else {
        Ok((Arguments::new(), Files::new()))
    }
}
