//! The client's HTTP/2 (RFC 9113), on the `h2` crate: fetches to an origin that speaks it
//! share one connection, each fetch a stream on it, with the same options as over HTTP/1.1.
//!
//! # How a connection gets here
//!
//! - https: the TLS handshake offers `h2` then `http/1.1` by ALPN
//!   ([`ClientOptions::http2`](crate::client::ClientOptions::http2), on by default); when the
//!   server picks `h2`, the connection is handed to `h2` instead of the HTTP/1.1 exchange.
//! - http with prior knowledge (h2c, RFC 9113 §3.3): when the request or the client asks for
//!   it, the connection speaks HTTP/2 from its first byte.
//!
//! # Files
//!
//! - `pool.rs`: [`Http2Pool`], one shared connection per origin, and the *connecting* mark
//!   that makes concurrent first fetches wait for one connection instead of making one each.
//! - `connection.rs`: the handshake, the task on the client's loop that drives a connection
//!   (closes it when idle, and sends the keep-alive PINGs when asked), and the
//!   [`StreamLease`] a fetch opens its stream with.
//! - `headers.rs`: the request head as HTTP/2 sends it (`:authority`, no connection fields).
//! - `upload.rs`: the request body within the server's flow-control windows.
//! - `exchange.rs`: one request and its response on a stream.

mod connection;
mod exchange;
mod headers;
mod pool;
mod upload;

pub(crate) use connection::{Http2Settings, StreamLease, start};
pub(crate) use exchange::exchange;
pub(crate) use pool::{Http2Pool, Lookup};
