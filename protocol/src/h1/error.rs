//! What can go wrong in the HTTP/1.1 codec, and the one table that maps each failure to the answer
//! a server puts on the wire.

use http::StatusCode;

/// A message head that breaks RFC 9112 or a configured [`Limits`](super::Limits) value.
///
/// After any of these the connection's framing can no longer be trusted: the decoder refuses
/// further input and the connection should close after the answer from
/// [`ParseError::response`] is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The head grew past `Limits::max_head_size` before its blank line arrived.
    #[error("message head is larger than the configured limit")]
    HeadTooLarge,
    /// The head has more header field lines than `Limits::max_headers`.
    #[error("message head has more header fields than the configured limit")]
    TooManyHeaders,
    /// The request line grew past `Limits::max_request_line_size`.
    #[error("request line is longer than the configured limit")]
    RequestLineTooLong,
    /// The request line is not `method SP request-target SP HTTP-version` (this includes
    /// HTTP/0.9 lines without a version, and a bad method token or target byte).
    #[error("malformed request line")]
    InvalidRequestLine,
    /// The status line of a response is not `HTTP-version SP status-code SP [reason]`.
    #[error("malformed status line")]
    InvalidStatusLine,
    /// A well-formed `HTTP/x.y` other than HTTP/1.0 and HTTP/1.1 (for example HTTP/2.0).
    #[error("unsupported HTTP version")]
    UnsupportedVersion,
    /// A header field name with a non-token byte, whitespace before the colon, or an obsolete
    /// line folding (a line starting with SP or HTAB).
    #[error("invalid header field name")]
    InvalidHeaderName,
    /// A header field value with NUL, a bare CR or another control character.
    #[error("invalid header field value")]
    InvalidHeaderValue,
    /// A line ending that is not CRLF or LF.
    #[error("invalid line ending in message head")]
    InvalidLineEnding,
    /// The request target is not a valid URI in origin, absolute, authority or asterisk form.
    #[error("invalid request target")]
    InvalidUri,
    /// An HTTP/1.1 request without a `Host` header field (RFC 9112 §3.2).
    #[error("HTTP/1.1 request without a Host header field")]
    MissingHost,
    /// More than one `Host` header field line.
    #[error("more than one Host header field")]
    DuplicateHost,
    /// A `Host` value that is not `uri-host [":" port]`.
    #[error("invalid Host header field value")]
    InvalidHost,
    /// A `Content-Length` element that is not 1*DIGIT or does not fit in a u64.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// `Content-Length` fields or list elements that disagree (identical repeats are accepted).
    #[error("conflicting Content-Length values")]
    ConflictingContentLength,
    /// Both `Content-Length` and `Transfer-Encoding`: a request-smuggling shape (RFC 9112 §6.1).
    #[error("both Content-Length and Transfer-Encoding")]
    ContentLengthWithTransferEncoding,
    /// `Transfer-Encoding` in an HTTP/1.0 message, whose framing is then faulty (RFC 9112 §6.1).
    #[error("Transfer-Encoding in an HTTP/1.0 message")]
    TransferEncodingInHttp10,
    /// A `Transfer-Encoding` whose final coding is not `chunked`, that applies `chunked` twice,
    /// or that is not a list of tokens: the body length cannot be determined.
    #[error("invalid Transfer-Encoding")]
    InvalidTransferEncoding,
    /// A `Transfer-Encoding` that ends in `chunked` but also names a coding this codec does not
    /// decode (for example `gzip, chunked`).
    #[error("unsupported transfer coding")]
    UnsupportedTransferCoding,
    /// The `Content-Length` is above `Limits::max_body_size`; no body byte was read.
    #[error("Content-Length is above the configured body limit")]
    ContentLengthTooLarge,
    /// The body broke its framing or a body limit.
    #[error(transparent)]
    Body(#[from] BodyError),
}

/// A message body that breaks its framing (RFC 9112 §6, §7) or a configured limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// A chunk-size line without hex digits, with a bad byte after them, or not ended by CRLF.
    #[error("invalid chunk size line")]
    InvalidChunkSize,
    /// A chunk size of more than 16 hex digits, which cannot be a u64.
    #[error("chunk size does not fit in 64 bits")]
    ChunkSizeOverflow,
    /// A chunk extension with a control character or a bare CR.
    #[error("invalid chunk extension")]
    InvalidChunkExtension,
    /// The chunk extensions of one body add up to more than `Limits::max_chunk_extensions_size`.
    #[error("chunk extensions are larger than the configured limit")]
    ChunkExtensionsTooLarge,
    /// Chunk data not followed by CRLF.
    #[error("chunk data not followed by CRLF")]
    MissingChunkTerminator,
    /// A malformed trailer field line.
    #[error("invalid trailer field")]
    InvalidTrailer,
    /// The trailer section is larger than `Limits::max_trailer_size` or has more fields than
    /// `Limits::max_headers`.
    #[error("trailer section is larger than the configured limit")]
    TrailersTooLarge,
    /// The body is larger than `Limits::max_body_size`.
    #[error("body is larger than the configured limit")]
    TooLarge,
    /// The connection ended before the body did.
    #[error("connection closed before the end of the body")]
    Incomplete,
}

/// A misuse of the response encoder by the code that drives it; nothing a peer can cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// More body bytes than the `Content-Length` announced in the head.
    #[error("body is longer than the announced Content-Length of {announced}")]
    BodyTooLong {
        /// The length written in the head.
        announced: u64,
    },
    /// The body ended before reaching the announced `Content-Length`; the connection must close
    /// because the peer still waits for the missing bytes.
    #[error("body ended {missing} bytes short of the announced Content-Length")]
    BodyTooShort {
        /// How many announced bytes were never written.
        missing: u64,
    },
    /// Body bytes or a second end after the body was ended.
    #[error("the body was already ended")]
    BodyFinished,
}

/// The answer a server writes for a [`ParseError`]: a status with an empty body, then closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The status line to answer with.
    pub status: StatusCode,
    /// Whether the connection must close after the answer. It is `true` for every parse error
    /// today, since the framing of whatever follows is unknown; it is a field so that the actor
    /// does not have to know that.
    pub close: bool,
}

impl ErrorResponse {
    /// The answer to an [`Expectation::Unsupported`](super::Expectation::Unsupported): 417, then
    /// close, since the client may send its body anyway.
    pub const EXPECTATION_FAILED: ErrorResponse = ErrorResponse {
        status: StatusCode::EXPECTATION_FAILED,
        close: true,
    };
}

impl ParseError {
    /// The one place that decides how a server answers each failure.
    ///
    /// For errors from a [`ResponseDecoder`](super::ResponseDecoder) the status has no meaning
    /// (a client does not answer a server); a client just closes.
    pub fn response(&self) -> ErrorResponse {
        use BodyError as B;
        use ParseError as P;
        let status = match self {
            P::HeadTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            P::TooManyHeaders => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            P::RequestLineTooLong => StatusCode::URI_TOO_LONG,
            P::InvalidRequestLine => StatusCode::BAD_REQUEST,
            P::InvalidStatusLine => StatusCode::BAD_REQUEST,
            P::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            P::InvalidHeaderName => StatusCode::BAD_REQUEST,
            P::InvalidHeaderValue => StatusCode::BAD_REQUEST,
            P::InvalidLineEnding => StatusCode::BAD_REQUEST,
            P::InvalidUri => StatusCode::BAD_REQUEST,
            P::MissingHost => StatusCode::BAD_REQUEST,
            P::DuplicateHost => StatusCode::BAD_REQUEST,
            P::InvalidHost => StatusCode::BAD_REQUEST,
            P::InvalidContentLength => StatusCode::BAD_REQUEST,
            P::ConflictingContentLength => StatusCode::BAD_REQUEST,
            P::ContentLengthWithTransferEncoding => StatusCode::BAD_REQUEST,
            P::TransferEncodingInHttp10 => StatusCode::BAD_REQUEST,
            P::InvalidTransferEncoding => StatusCode::BAD_REQUEST,
            P::UnsupportedTransferCoding => StatusCode::NOT_IMPLEMENTED,
            P::ContentLengthTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            P::Body(B::InvalidChunkSize) => StatusCode::BAD_REQUEST,
            P::Body(B::ChunkSizeOverflow) => StatusCode::BAD_REQUEST,
            P::Body(B::InvalidChunkExtension) => StatusCode::BAD_REQUEST,
            P::Body(B::ChunkExtensionsTooLarge) => StatusCode::BAD_REQUEST,
            P::Body(B::MissingChunkTerminator) => StatusCode::BAD_REQUEST,
            P::Body(B::InvalidTrailer) => StatusCode::BAD_REQUEST,
            P::Body(B::TrailersTooLarge) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            P::Body(B::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            P::Body(B::Incomplete) => StatusCode::BAD_REQUEST,
        };
        ErrorResponse {
            status,
            close: true,
        }
    }
}

impl From<httparse::Error> for ParseError {
    /// Head errors from httparse. `Version` and `Token` are refined by the request decoder, which
    /// can see whether the line named a well-formed but unsupported version.
    fn from(error: httparse::Error) -> Self {
        match error {
            httparse::Error::HeaderName => ParseError::InvalidHeaderName,
            httparse::Error::HeaderValue => ParseError::InvalidHeaderValue,
            httparse::Error::NewLine => ParseError::InvalidLineEnding,
            httparse::Error::Status => ParseError::InvalidStatusLine,
            httparse::Error::Token => ParseError::InvalidRequestLine,
            httparse::Error::TooManyHeaders => ParseError::TooManyHeaders,
            httparse::Error::Version => ParseError::InvalidRequestLine,
        }
    }
}
