//! Answers: [`HttpResponse`] (a whole response, the common case), and the one way every route
//! target answers, a [`ResponseWriter`] paired with the [`ResponseStream`] the connection
//! reads it through.
//!
//! - `whole.rs`: [`HttpResponse`].
//! - `etag.rs`: [`EntityTag`], a response's `ETag` kept out of its map until the head is written.
//! - `writer.rs`: [`ResponseWriter`], `Send`, for the connection's loop or any actor.
//! - `stream.rs`: [`ResponseStream`] and the [`ResponseEvent`]s it yields.
//! - `channel.rs`: what the two share: a queue of at most [`RESPONSE_QUEUE_CHUNKS`] events
//!   and two wakers, behind a lock that is uncontended on the main path.

mod channel;
mod etag;
mod stream;
mod whole;
mod writer;

pub use channel::RESPONSE_QUEUE_CHUNKS;
pub(crate) use channel::{SentCallback, add_defaults};
pub use etag::EntityTag;
pub(crate) use stream::Whole;
pub use stream::{OnUpgrade, ResponseEvent, ResponseStream};
pub use whole::HttpResponse;
pub(crate) use whole::empty_header_map;
pub use writer::{ResponseWriter, is_forbidden_trailer};
