//! A sans-IO HTTP/1.1 codec (RFC 9112): bytes in, events out, with no sockets and no runtime.
//!
//! - [`RequestDecoder`] turns a connection's read buffer into [`RequestEvent`]s; a server's
//!   connection actor drives it with one read buffer.
//! - [`encode_response_head`] and [`BodyEncoder`] append responses to one write buffer, so that
//!   answers to pipelined requests leave in a single write.
//! - [`ResponseDecoder`] is the client side; it shares [`BodyDecoder`] with the server side.
//! - [`ParseError::response`] is the one table from a protocol error to the status a server
//!   answers with.
//!
//! # Driving it from a connection actor
//!
//! One read buffer and one write buffer per connection, both `BytesMut`:
//!
//! 1. Append what the socket gives to the read buffer, then call
//!    [`RequestDecoder::decode`] until it returns `Ok(None)`. Events come as
//!    `Head`, `Data`..., `End`, then the next pipelined request's `Head`. `Data` is split off the
//!    read buffer, so a body is never held whole; the buffer only ever holds one unfinished head
//!    (at most `max_head_size`) or one read's worth of body.
//! 2. If the head [expects 100-continue](RequestHead::expects_continue) and the body is wanted,
//!    write [`CONTINUE_100`] first; for [`Expectation::Unsupported`] write
//!    [`ErrorResponse::EXPECTATION_FAILED`] and close.
//! 3. Answer requests in the order they arrived: [`encode_response_head`] with
//!    [`RequestHead::response_context`], then [`BodyEncoder::encode_data`] and
//!    [`BodyEncoder::encode_end`], all into the write buffer, so that several answers leave in
//!    one write. Refresh nothing by hand: the encoder refreshes its [`DateCache`].
//! 4. Close after the write when [`BodyEncoder::must_close`] says so. The decoder itself stops
//!    after a request that did not keep the connection alive
//!    ([`RequestDecoder::is_closed`]).
//! 5. On a [`ParseError`], write [`ParseError::response`] with [`ErrorResponse::encode`] and
//!    close: the decoder returns the same error from then on.
//! 6. After a request with [`upgrade`](RequestHead::upgrade) set, stop decoding until the
//!    handler decides; on 101 the rest of the read buffer belongs to the new protocol.
//!
//! The connection is idle (for a keep-alive timeout) when
//! `!decoder.is_reading_body() && read.is_empty()`.

mod body;
mod date;
mod encode;
mod error;
mod fields;
mod head;
mod header_block;
mod limits;
mod recycle;
mod request;
mod response;

use bytes::Bytes;
use http::HeaderMap;

pub use body::{BodyDecoder, BodyEvent, BodyFraming};
pub use date::{DATE_VALUE_LENGTH, DateCache};
pub use encode::{BodyEncoder, BodyLength, CONTINUE_100, ResponseContext, encode_response_head};
pub(crate) use encode::{
    EncodedDefaults, encode_response_head_cached, encode_response_head_with_defaults,
    is_reason_phrase,
};
pub use error::{BodyError, EncodeError, ErrorResponse, ParseError};
pub use limits::Limits;
pub(crate) use recycle::{boxed_header_map, recycle_boxed};
pub use request::{Expectation, RequestDecoder, RequestEvent, RequestHead};
pub use response::{ResponseDecoder, ResponseEvent, ResponseHead};

/// One step of a message: its head, then zero or more pieces of body, then its end. Every
/// message yields exactly one `Head` and one `End`, even without a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<H> {
    /// The message head.
    Head(H),
    /// The next bytes of the body, split off the read buffer without copying. Never empty.
    Data(Bytes),
    /// The message is complete.
    End {
        /// The trailer section of a chunked body, if it had any fields.
        trailers: Option<HeaderMap>,
    },
}
