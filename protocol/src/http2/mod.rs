//! What both sides of HTTP/2 share, server and client alike: the keep-alive PINGs that find a
//! peer which is gone without a word ([`KeepAlive`]), the transport as `h2` reads it, timed
//! ([`Watched`]: when the peer last sent bytes, how long a write has waited for it), and one
//! stream as a byte stream for a WebSocket over HTTP/2 ([`StreamIo`]); and which fields an
//! HTTP/2 request may not carry ([`strip_connection_specific`]).

mod fields;
mod keep_alive;
mod stream_io;
mod watched;

pub(crate) use fields::strip_connection_specific;
pub(crate) use keep_alive::KeepAlive;
pub(crate) use stream_io::StreamIo;
pub(crate) use watched::Watched;
