//! `IoStream`: Tornado's `tornado.iostream`, a buffered stream over any
//! `AsyncRead + AsyncWrite + Unpin` transport, with a limit on every buffer.
//!
//! # Layout
//!
//! - `driven.rs`: owner-driven access for connection actors: decode from the read buffer,
//!   encode into the write buffer, poll the transport ([`IoStream::poll_fill`],
//!   [`IoStream::poll_send`]). The HTTP and WebSocket connections run on it.
//! - [`IoStream`] (`stream.rs`): the stream; Tornado's reads (`read_until`,
//!   `read_until_regex`, `read_bytes`, `read_into`, `read_until_close`), writes (`write`,
//!   `queue_write`, `flush`), `close`, the close callback and [`IoStream::wait_for_close`].
//! - [`ReadHalf`] and [`WriteHalf`] (`split.rs`): the stream split for reading and writing at
//!   once.
//! - [`StreamLimits`] (`limits.rs`): the buffer limits and their defaults.
//! - [`StreamError`] and its named errors (`error.rs`); [`CloseReason`] (`close.rs`).
//! - TCP only (`tcp.rs`): `set_nodelay`, `peer_addr`, `local_addr` on `IoStream<TcpStream>`.
//!
//! # Example
//!
//! ```
//! use cyclone_actors::iostream::IoStream;
//! use tokio::io::AsyncWriteExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (ours, mut theirs) = tokio::io::duplex(64);
//! let mut stream = IoStream::new(ours);
//! theirs.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await?;
//!
//! let line = stream.read_until(b"\r\n", Some(8 * 1024)).await?;
//! assert_eq!(&line[..], b"GET / HTTP/1.1\r\n");
//! stream.write(&b"HTTP/1.1 200 OK\r\n\r\n"[..]).await?;
//! stream.close();
//! assert!(stream.closed());
//! # Ok(())
//! # }
//! ```
//!
//! # Limits and defaults
//!
//! | Setting | Default | Exceeded |
//! |---|---|---|
//! | [`StreamLimits::max_buffer_size`] | 100 MiB (Tornado's) | [`StreamBufferFullError`], stream closed |
//! | [`StreamLimits::max_write_buffer_size`] | 64 MiB (Tornado: none) | [`StreamBufferFullError`], stream closed |
//! | [`StreamLimits::read_chunk_size`] | 64 KiB (Tornado's) | largest single read; reads start at 4 KiB |
//! | `max_bytes` of `read_until*` | none (the read limit applies) | [`UnsatisfiableReadError`], stream closed |
//!
//! An idle stream holds little buffer memory: the read buffer is released whenever it empties
//! (a driven read borrows the loop's spare buffer instead), a read parked on an empty buffer
//! reserves 4 KiB, and the write buffer keeps at most 16 KiB once everything is written.
//!
//! # Closing
//!
//! A stream closes once, for the first of: the peer's end of file seen by a read, an I/O error,
//! a limit error, [`IoStream::close`], or drop. Closing drops the transport at once (the peer
//! sees end of file), keeps that first [`CloseReason`], runs the close callback exactly once,
//! and wakes every [`IoStream::wait_for_close`] future. Bytes already read stay readable; every
//! operation the buffer cannot satisfy fails with [`StreamClosedError`] carrying the reason.
//!
//! # Cancel safety and panics
//!
//! Every read is cancel safe: unconsumed bytes stay in the buffer, so dropping a read future
//! (a timeout, a `select!`) loses nothing. A cancelled `write` leaves its bytes queued for the
//! next `flush`; queued bytes still unsent when the stream closes are discarded. Nothing here
//! panics on peer input. The close callback runs inside whatever operation closed the stream.

mod byte_stream;
mod close;
mod driven;
mod error;
mod limits;
mod read_buffer;
mod spare;
mod split;
mod start_tls;
mod stream;
mod tcp;
mod transport;
mod write_buffer;

pub use close::CloseReason;
pub use error::{
    BufferSide, StreamBufferFullError, StreamClosedError, StreamError, UnsatisfiableReadError,
};
pub use limits::StreamLimits;
pub use split::{ReadHalf, WriteHalf};
pub use start_tls::StartTlsError;
pub use stream::IoStream;

/// The bytes type reads return and writes accept, re-exported so callers need not match our
/// `bytes` version.
pub use bytes::Bytes;
/// The regex type [`IoStream::read_until_regex`] takes, re-exported so callers need not match
/// our `regex` version.
pub use regex::bytes::Regex;

/// The TCP transport most `IoStream`s wrap (tokio's), re-exported so handler signatures need
/// no direct tokio dependency.
pub use tokio::net::TcpStream;
