//! The size limits every [`IoStream`](super::IoStream) enforces.

/// Tornado's default `max_buffer_size`: 100 MiB.
const DEFAULT_MAX_BUFFER_SIZE: usize = 100 * 1024 * 1024;
/// Tornado has no write limit; ours bounds what a peer that never reads can make us hold.
const DEFAULT_MAX_WRITE_BUFFER_SIZE: usize = 64 * 1024 * 1024;
/// Tornado's default `read_chunk_size`: 64 KiB.
const DEFAULT_READ_CHUNK_SIZE: usize = 64 * 1024;

/// The buffer limits of one stream.
///
/// | Limit | Default | When exceeded |
/// |---|---|---|
/// | [`max_buffer_size`](Self::max_buffer_size) | 100 MiB | [`StreamBufferFullError`](super::StreamBufferFullError) (read side), stream closed |
/// | [`max_write_buffer_size`](Self::max_write_buffer_size) | 64 MiB | [`StreamBufferFullError`](super::StreamBufferFullError) (write side), stream closed |
/// | [`read_chunk_size`](Self::read_chunk_size) | 64 KiB | not an error: the largest single read from the transport |
///
/// Build one with struct update syntax:
///
/// ```
/// use cyclone_actors::iostream::StreamLimits;
///
/// let limits = StreamLimits { max_buffer_size: 1024 * 1024, ..StreamLimits::default() };
/// assert_eq!(limits.max_write_buffer_size, 64 * 1024 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// The most bytes the read buffer may hold (Tornado's `max_buffer_size`). A read that cannot
    /// be satisfied within it fails and closes the stream, so a peer cannot make us buffer more.
    /// Default is 100 MiB.
    pub max_buffer_size: usize,
    /// The most bytes queued for writing but not yet accepted by the transport. Queueing past it
    /// fails and closes the stream, so a peer that never reads cannot grow our memory.
    /// Default is 64 MiB (Tornado has no such limit).
    pub max_write_buffer_size: usize,
    /// The largest single read from the transport. Reads start at 4 KiB, so tens of thousands
    /// of idle connections stay cheap, and double up to this size while the peer keeps filling
    /// them. Default is 64 KiB; values below 1 are treated as 1.
    pub read_chunk_size: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_buffer_size: DEFAULT_MAX_BUFFER_SIZE,
            max_write_buffer_size: DEFAULT_MAX_WRITE_BUFFER_SIZE,
            read_chunk_size: DEFAULT_READ_CHUNK_SIZE,
        }
    }
}
