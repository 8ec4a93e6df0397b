//! WebSocket (RFC 6455) with permessage-deflate (RFC 7692): a sans-IO codec, the connection
//! actor that owns an upgraded stream, and the client (Tornado's `tornado.websocket` minus the
//! request handler, which the web framework builds on this).
//!
//! # Layout
//!
//! - [`Codec`] (`codec.rs`, on `frame.rs`, `utf8.rs`, `close.rs`, `deflate.rs`): bytes in,
//!   [`Message`]s out and back, no I/O. Every [`ProtocolError`] maps to one close code.
//! - [`ServerHandshake`] / [`ClientHandshake`] (`handshake.rs`): the opening handshake, version
//!   13 only (426 otherwise), subprotocols, extension negotiation; on the server, also the
//!   HTTP/2 extended CONNECT of RFC 8441 (a WebSocket on one stream of an HTTP/2 connection,
//!   answered 200), after which the connection actor runs over that stream unchanged.
//! - [`WebSocketConnection`] (`actor.rs`): the actor owning one connection after the upgrade.
//!   It calls a [`WebSocketService`] on the connection's loop; the cloneable [`WebSocket`]
//!   handle lets any actor on any thread send it messages (that is how rooms broadcast), with
//!   [`WebSocket::write_message`] resolving once the frame is flushed.
//! - [`websocket_connect`] and [`ReconnectingClient`] (`client.rs`): the client, as a
//!   connection with `read_message` / `write_message`, as an actor with callbacks, or
//!   supervised with backoff.
//! - [`WebSocketConfig`] (`limits.rs`): every limit and timeout.
//! - `loop_zlib.rs`: the zlib contexts each loop lends its connections for one message, and
//!   the compressed payloads it remembers so a broadcast is compressed once
//!   ([`broadcast_counts`]).
//!
//! # Example
//!
//! A server side that upgrades raw TCP connections itself, and our client talking to it:
//!
//! ```
//! use bytes::BytesMut;
//! use cyclone_protocol::h1::{Event, Limits, RequestDecoder};
//! use cyclone_protocol::websocket::{
//!     Message, Role, ServerHandshake, Session, WebSocketConfig, WebSocketService,
//!     start_connection, websocket_connect,
//! };
//! use futures::future::LocalBoxFuture;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! /// Echoes every message back.
//! struct Echo;
//!
//! impl WebSocketService for Echo {
//!     fn on_message(&mut self, message: Message, session: &mut Session<'_>)
//!         -> Option<LocalBoxFuture<'static, ()>> {
//!         session.send(message);
//!         None
//!     }
//! }
//!
//! actix_rt::System::new().block_on(async {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let port = listener.local_addr()?.port();
//!     actix_rt::spawn(async move {
//!         let (mut stream, _) = listener.accept().await.unwrap();
//!         let (mut read, mut decoder) = (BytesMut::new(), RequestDecoder::new(Limits::default()));
//!         let head = loop {
//!             if let Ok(Some(Event::Head(head))) = decoder.decode(&mut read) { break head; }
//!             stream.read_buf(&mut read).await.unwrap();
//!         };
//!         let accepted = ServerHandshake::from_head(&head).unwrap().accept(None, None);
//!         let mut response = BytesMut::new();
//!         accepted.encode_response(&mut response);
//!         stream.write_all(&response).await.unwrap();
//!         // `read` may already hold the first frames: the actor starts with them.
//!         start_connection(stream, read, Role::Server, &accepted.negotiated,
//!                          WebSocketConfig::new(), Echo, None);
//!     });
//!
//!     let mut client = websocket_connect(format!("ws://127.0.0.1:{port}/echo")).await?;
//!     client.write_message(Message::text("hello")).await?;
//!     assert_eq!(client.read_message().await, Some(Message::text("hello")));
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Upgrading from the HTTP server
//!
//! The web framework checks the request with [`ServerHandshake::from_head`] (answering a
//! [`HandshakeError`] with its [`status`](HandshakeError::status)), lets the handler pick a
//! subprotocol and compression, answers 101 with [`Accepted::headers`], and once the 101 is
//! written the HTTP connection actor hands over its transport, the bytes it read past the
//! request head, and its registry slot: [`start_connection`]`(io, read_buf, Role::Server,
//! &accepted.negotiated, config, service, Some(slot))`. From then on the WebSocket actor
//! answers the registry (`close_all`, graceful `Shutdown` → close 1001, `notify_all` →
//! [`WebSocketService::on_notify`]).
//!
//! # Conformance
//!
//! The client passes Autobahn's fuzzingserver: `cargo build --release --example
//! autobahn_client`, then `../shared/conformance/autobahn.sh --client --port 9011 --
//! target/release/examples/autobahn_client` (2026-11-25, compression included: 517 cases, 505
//! OK, 9 non-strict, 3 informational, 0 failed, 0 unimplemented; the non-strict ones fail a
//! connection one frame later than strictly possible, because echoes go through the client's
//! queue while the actor reads ahead).
//!
//! # Limits and defaults
//!
//! | Setting | Default | At the limit |
//! |---|---|---|
//! | `max_message_size` | 10 MiB | close 1009 |
//! | `read_buffer_size` | 4 KiB | (initial; grows per frame, shrinks back) |
//! | `max_write_queue` | 1 MiB | drop the socket (a peer that stopped reading; a close frame could not get through) |
//! | `ping_interval` / `ping_timeout` | off / 30 s | a silent peer's socket is dropped |
//! | `close_timeout` | 5 s | socket dropped without the peer's close |
//! | `mailbox_capacity` | 64 messages | `write_message` waits, `try_write` fails |
//! | compression, default (no context takeover) | no zlib state per idle connection: the loop lends contexts per message | — |
//! | compression `memory_budget`, with `context_takeover(true)` | 320 KiB | server shrinks its window, or declines |
//! | broadcast cache ([`BROADCAST_CACHE_ENTRIES`], [`BROADCAST_CACHE_BYTES`]) | 32 payloads, 4 MiB per loop | the oldest is forgotten |
//!
//! # Close codes
//!
//! | Cause | Code |
//! |---|---|
//! | bad frame, reserved bits/opcodes, bad fragmentation, unmasked client frame, invalid close code from the peer | 1002 |
//! | text (or close reason) not UTF-8, checked per fragment; undecodable compressed data | 1007 |
//! | message over `max_message_size` | 1009 |
//! | the peer stopped reading: a message arrived with `max_write_queue` bytes queued | 1008 |
//! | a service callback (or the future `on_message` returned) panicked | 1011 |

mod client;
mod close;
mod codec;
mod connection;
mod deflate;
mod error;
mod frame;
mod handshake;
mod limits;
mod loop_zlib;
mod utf8;

use bytes::Bytes;
/// Text that is known to be UTF-8, over [`Bytes`]: cloning shares it (a room broadcasting
/// one text to many members copies it once), and it reads as a `&str` (`Deref`, `as_str`,
/// `==` with strings). Made with `From<String>`, `From<&str>`, `Utf8Bytes::from_static`, or
/// `TryFrom<Bytes>` (which checks the bytes). tungstenite's type, so messages move between
/// cyclone and tungstenite without a copy.
pub use tungstenite::Utf8Bytes;

pub use client::{
    ClientConnection, ConnectRequest, DEFAULT_CONNECT_TIMEOUT, DEFAULT_INCOMING_QUEUE,
    ReconnectPolicy, ReconnectingClient, Resubscribe, websocket_connect, websocket_connect_actor,
};
pub use close::{CloseCode, CloseFrame};
pub use codec::{Codec, Role};
pub use connection::{
    Flushed, Session, WebSocket, WebSocketConnection, WebSocketIo, WebSocketService,
    WebSocketStats, start_connection,
};
pub use deflate::{
    DEFAULT_MEMORY_BUDGET, DeflateConfig, DeflateParams, PERMESSAGE_DEFLATE, accept_answer,
    negotiate,
};
pub use error::{HandshakeError, ProtocolError, WebSocketError};
pub use handshake::{
    Accepted, ClientHandshake, Negotiated, ServerHandshake, accept_key, encode_rejection,
};
pub use limits::{
    DEFAULT_CLOSE_TIMEOUT, DEFAULT_MAILBOX_CAPACITY, DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_WRITE_QUEUE, DEFAULT_PING_TIMEOUT, DEFAULT_READ_BUFFER_SIZE, DEFAULT_WRITE_TIMEOUT,
    WebSocketConfig,
};
pub use loop_zlib::{
    BROADCAST_CACHE_BYTES, BROADCAST_CACHE_ENTRIES, BROADCAST_CACHE_MAX_PAYLOAD, BroadcastCounts,
    LOOP_SPARE_COMPRESSORS, LOOP_SPARE_DECOMPRESSORS, broadcast_counts,
};

/// One WebSocket message or control frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A UTF-8 text message.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping; the connection answers it with a pong by itself.
    Ping(Bytes),
    /// A pong (an answer to our ping, or unsolicited).
    Pong(Bytes),
    /// A close frame, with its code and reason when it carries one.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message (from a `String` without a copy, from a `&str` with one).
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// Whether this is a text or binary message (not a control frame).
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }
}
