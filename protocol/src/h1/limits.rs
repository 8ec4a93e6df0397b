//! The size limits every HTTP/1.1 decoder enforces, with their defaults.

/// Upper bounds on what a peer may make a decoder buffer or count.
///
/// Every limit exists so that a slow or hostile peer cannot grow a connection's memory without
/// bound. The defaults suit a public-facing server; change single fields from
/// [`Limits::default()`]:
///
/// ```
/// let mut limits = cyclone_protocol::h1::Limits::default();
/// limits.max_body_size = 1024 * 1024;
/// assert_eq!(limits.max_head_size, 64 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest message head (request or status line, header fields and the blank line), in bytes.
    /// A longer head is answered with 431 Request Header Fields Too Large.
    ///
    /// Default is 64 KiB. The decoder buffers at most this much before it has a head.
    pub max_head_size: usize,
    /// Most header field lines in one head (and, separately, in one trailer section). More are
    /// answered with 431.
    ///
    /// Default is 100. Up to 128 are parsed into a stack array; a larger value makes every parse
    /// allocate a temporary array.
    pub max_headers: usize,
    /// Longest request line (method, target and version), in bytes. A longer one is answered with
    /// 414 URI Too Long, since the target is the part that grows.
    ///
    /// Default is 8 KiB; it is also capped by `max_head_size`.
    pub max_request_line_size: usize,
    /// Largest message body, in bytes. A `Content-Length` above it is answered with 413 Content Too
    /// Large before any body byte is read; a chunked body is cut off with 413 as soon as the
    /// announced chunk sizes add up to more.
    ///
    /// Default is 100 MiB.
    pub max_body_size: u64,
    /// Most bytes of chunk extensions (`;name=value` after a chunk size) in one chunked body,
    /// counted across all its chunks. More are answered with 400. Extensions are parsed and
    /// dropped; the limit stops a peer from sending endless extensions around tiny chunks.
    ///
    /// Default is 16 KiB.
    pub max_chunk_extensions_size: usize,
    /// Largest trailer section of a chunked body, in bytes. A larger one is answered with 431.
    ///
    /// Default is 16 KiB.
    pub max_trailer_size: usize,
}

impl Limits {
    /// Default of [`Limits::max_head_size`]: 64 KiB.
    pub const DEFAULT_MAX_HEAD_SIZE: usize = 64 * 1024;
    /// Default of [`Limits::max_headers`]: 100.
    pub const DEFAULT_MAX_HEADERS: usize = 100;
    /// Default of [`Limits::max_request_line_size`]: 8 KiB.
    pub const DEFAULT_MAX_REQUEST_LINE_SIZE: usize = 8 * 1024;
    /// Default of [`Limits::max_body_size`]: 100 MiB.
    pub const DEFAULT_MAX_BODY_SIZE: u64 = 100 * 1024 * 1024;
    /// Default of [`Limits::max_chunk_extensions_size`]: 16 KiB.
    pub const DEFAULT_MAX_CHUNK_EXTENSIONS_SIZE: usize = 16 * 1024;
    /// Default of [`Limits::max_trailer_size`]: 16 KiB.
    pub const DEFAULT_MAX_TRAILER_SIZE: usize = 16 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_size: Self::DEFAULT_MAX_HEAD_SIZE,
            max_headers: Self::DEFAULT_MAX_HEADERS,
            max_request_line_size: Self::DEFAULT_MAX_REQUEST_LINE_SIZE,
            max_body_size: Self::DEFAULT_MAX_BODY_SIZE,
            max_chunk_extensions_size: Self::DEFAULT_MAX_CHUNK_EXTENSIONS_SIZE,
            max_trailer_size: Self::DEFAULT_MAX_TRAILER_SIZE,
        }
    }
}
