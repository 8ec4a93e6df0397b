//! A sans-IO HTTP/1.1 codec (RFC 9112): bytes in, events out, with no sockets and no runtime.
//!
//! - [`RequestDecoder`] turns a connection's read buffer into [`RequestEvent`]s; a server's
//!   connection actor drives it with one read buffer.
//! - [`encode_response_head`] and [`BodyEncoder`] append responses to one write buffer, so that
//!   answers to pipelined requests leave in a single write.
//! - [`ResponseDecoder`] is the client side; it shares [`BodyDecoder`] with the server side.
//! - [`ParseError::response`] is the one table from a protocol error to the status a server
//!   answers with.

mod body;
mod date;
mod encode;
mod error;
mod fields;
mod head;
mod limits;
mod request;
mod response;

use bytes::Bytes;
use http::HeaderMap;

pub use body::{BodyDecoder, BodyEvent, BodyFraming};
pub use date::{DATE_VALUE_LENGTH, DateCache};
pub use encode::{BodyEncoder, BodyLength, CONTINUE_100, ResponseContext, encode_response_head};
pub use error::{BodyError, EncodeError, ErrorResponse, ParseError};
pub use limits::Limits;
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
