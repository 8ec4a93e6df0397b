//! The errors an [`IoStream`](super::IoStream) returns: one enum, with a named type per failure.

use std::fmt;

use super::close::CloseReason;

/// Every failure of a stream operation.
///
/// All of them leave the stream closed: [`Closed`](Self::Closed) because it already was (or just
/// became so through end of file or an I/O error), the others because Tornado closes a stream
/// whose limits were hit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The stream is closed; carries the real cause.
    #[error(transparent)]
    Closed(#[from] StreamClosedError),
    /// A delimited read exceeded its `max_bytes`.
    #[error(transparent)]
    Unsatisfiable(#[from] UnsatisfiableReadError),
    /// A read or write buffer reached its limit.
    #[error(transparent)]
    BufferFull(#[from] StreamBufferFullError),
}

impl StreamError {
    /// Why the stream closed, for an error that closed it or found it closed.
    pub fn close_reason(&self) -> CloseReason {
        match self {
            StreamError::Closed(error) => error.reason().clone(),
            StreamError::Unsatisfiable(error) => CloseReason::Unsatisfiable(error.clone()),
            StreamError::BufferFull(error) => CloseReason::BufferFull(error.clone()),
        }
    }
}

/// The stream is closed (Tornado's `StreamClosedError`); [`reason`](Self::reason) says why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("stream is closed: {reason}")]
pub struct StreamClosedError {
    /// What closed the stream first, so a late reader still learns the real cause.
    reason: CloseReason,
}

impl StreamClosedError {
    /// Wraps the cause.
    pub(crate) fn new(reason: CloseReason) -> Self {
        StreamClosedError { reason }
    }

    /// What closed the stream.
    pub fn reason(&self) -> &CloseReason {
        &self.reason
    }

    /// The I/O error that closed the stream, if any (Tornado's `real_error`).
    pub fn real_error(&self) -> Option<&std::io::Error> {
        self.reason.io_error()
    }
}

/// A delimited read found no delimiter within `max_bytes` (Tornado's `UnsatisfiableReadError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{delimiter} not found within {max_bytes} bytes")]
pub struct UnsatisfiableReadError {
    /// What was searched for, for the message (`b"\r\n"` or `regex ...`).
    pub delimiter: String,
    /// The limit the caller gave.
    pub max_bytes: usize,
}

/// Which buffer of a stream is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferSide {
    /// The read buffer, bounded by `max_buffer_size`.
    Read,
    /// The write buffer, bounded by `max_write_buffer_size`.
    Write,
}

impl fmt::Display for BufferSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BufferSide::Read => "read",
            BufferSide::Write => "write",
        })
    }
}

/// A buffer reached its limit (Tornado's `StreamBufferFullError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reached the maximum {side} buffer size of {limit} bytes (needed {needed})")]
pub struct StreamBufferFullError {
    /// Which buffer overflowed.
    pub side: BufferSide,
    /// The configured limit.
    pub limit: usize,
    /// How many bytes the operation would have needed the buffer to hold.
    pub needed: usize,
}
