//! The errors of request-argument parsing and of `Set-Cookie` serialization.

use http::StatusCode;

/// A request's arguments could not be parsed: a malformed or over-limit query string or body.
///
/// Tornado logs most of these and carries on with what it parsed; cyclone rejects the request
/// instead, so a handler never sees half a form. [`FormError::status`] is the one place that
/// maps each variant to the answer a server gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// More argument values than [`FormLimits::max_fields`](super::FormLimits::max_fields).
    #[error("more than {limit} form fields")]
    TooManyFields {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// More parts than [`FormLimits::max_parts`](super::FormLimits::max_parts) in a
    /// `multipart/form-data` body.
    #[error("more than {limit} multipart parts")]
    TooManyParts {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A part's header section is longer than
    /// [`FormLimits::max_part_header_size`](super::FormLimits::max_part_header_size).
    #[error("multipart part headers longer than {limit} bytes")]
    PartHeadersTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A `multipart/form-data` content type without a (non-empty) `boundary` parameter.
    #[error("multipart/form-data without a boundary parameter")]
    MissingBoundary,
    /// The body ends before the close delimiter `--boundary--` (this includes a body with no
    /// delimiter at all, and every truncated body).
    #[error("multipart/form-data body without a final boundary")]
    NoFinalBoundary,
    /// A part whose header section does not end in a blank line before the next delimiter.
    #[error("multipart/form-data part without a header section")]
    MissingPartHeaders,
    /// A part header line that is not `name: value` or is not UTF-8; a `Content-Disposition` or
    /// `Content-Type` that repeats or is folded over lines; or an undecodable extended
    /// parameter (`filename*=` not UTF-8 or ISO-8859-1).
    #[error("malformed multipart/form-data part header")]
    InvalidPartHeader,
    /// A part whose `Content-Disposition` is missing or is not `form-data`.
    #[error("multipart part is not form-data")]
    NotFormData,
    /// A `form-data` part without a `name` parameter, or with an empty one.
    #[error("multipart/form-data part without a name")]
    MissingPartName,
    /// An argument read as text is not UTF-8 (from [`Arguments::get_str`](super::Arguments::get_str)
    /// and friends; Tornado's `decode_argument` answers the same way).
    #[error("argument {name:?} is not valid UTF-8")]
    InvalidUtf8 {
        /// The argument's name.
        name: String,
    },
}

impl FormError {
    /// The status a server answers with: the table of every variant to its wire answer.
    ///
    /// Every variant is 400 Bad Request, as Tornado's `HTTPInputError` is: the limits here are
    /// about a body's shape (how many fields, parts, header bytes), not its size, which the
    /// codec already bounds with 413.
    pub fn status(&self) -> StatusCode {
        match self {
            FormError::TooManyFields { .. } => StatusCode::BAD_REQUEST,
            FormError::TooManyParts { .. } => StatusCode::BAD_REQUEST,
            FormError::PartHeadersTooLarge { .. } => StatusCode::BAD_REQUEST,
            FormError::MissingBoundary => StatusCode::BAD_REQUEST,
            FormError::NoFinalBoundary => StatusCode::BAD_REQUEST,
            FormError::MissingPartHeaders => StatusCode::BAD_REQUEST,
            FormError::InvalidPartHeader => StatusCode::BAD_REQUEST,
            FormError::NotFormData => StatusCode::BAD_REQUEST,
            FormError::MissingPartName => StatusCode::BAD_REQUEST,
            FormError::InvalidUtf8 { .. } => StatusCode::BAD_REQUEST,
        }
    }
}

/// A [`SetCookie`](super::SetCookie) that cannot be written as a `Set-Cookie` header value.
///
/// These are programming errors on the server side (the application chose the cookie), so
/// they are typed rather than silently "fixed": a browser would drop or misread the cookie.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieError {
    /// The name is empty or holds a byte outside RFC 9110's `token` (a control character,
    /// whitespace, or one of `()<>@,;:\"/[]?={}`).
    #[error("invalid cookie name {0:?}")]
    InvalidName(String),
    /// The value holds a byte outside RFC 6265's `cookie-octet` (a control character,
    /// whitespace, `"`, `,`, `;`, `\` or a non-ASCII byte), other than one pair of surrounding
    /// double quotes.
    #[error("invalid cookie value {0:?}")]
    InvalidValue(String),
    /// A `Domain` or `Path` attribute holding a control character, `;` or a non-ASCII byte,
    /// which would end the attribute early or smuggle another one in.
    #[error("invalid cookie attribute {attribute} = {value:?}")]
    InvalidAttribute {
        /// `"Domain"` or `"Path"`.
        attribute: &'static str,
        /// The rejected value.
        value: String,
    },
    /// `SameSite=None`, `Partitioned`, or a `__Secure-`/`__Host-` name without `Secure`:
    /// browsers drop such cookies.
    #[error("cookie {0:?} needs the Secure attribute")]
    SecureRequired(String),
    /// A `__Host-` cookie with a `Domain`, or with a `Path` other than `/`: browsers drop it.
    #[error("__Host- cookie {0:?} must have Path=/ and no Domain")]
    HostPrefixViolated(String),
}
