//! cyclone's wire protocols: a sans-IO HTTP/1.1 codec, and the HTTP server and client that
//! drive it (Tornado's `httpserver`, `http1connection`, `httputil` and `httpclient`).
//!
//! # Layout
//!
//! - [`h1`]: HTTP/1.1 (RFC 9112) without I/O. [`h1::RequestDecoder`] turns a read buffer into
//!   request events (head, body data, end); [`h1::encode_response_head`] and
//!   [`h1::BodyEncoder`] append responses to a write buffer; [`h1::ResponseDecoder`] is the
//!   client side. Body framing ([`h1::BodyDecoder`]) is shared by both sides. No sockets, no
//!   tokio, no actix: the connection actor owns the connection's `IoStream` (the socket and
//!   its two buffers) and decodes from and encodes into them in place.
//! - [`httputil`]: query and form arguments, multipart bodies with files, cookies and
//!   `Set-Cookie`, pure functions over bytes.
//! - [`server`]: `HttpServer` and its per-connection **actor**, which owns the connection's
//!   `IoStream`, drives [`h1`], and hands every request to an `HttpService` on the connection's
//!   own loop as one `HttpRequestMessage` (request, path arguments, `ResponseWriter`), which
//!   the service may answer itself or forward to any actor. See `docs/http.md`.
//! - [`client`]: `AsyncHttpClient` (keep-alive pool, HTTP/2 by ALPN or h2c with one shared
//!   connection per origin, redirects, streaming, TLS, proxies) and the blocking
//!   `HttpClient`. See `docs/httpclient.md`.
//! - [`websocket`]: RFC 6455 with permessage-deflate: a sans-IO codec and handshake, the
//!   per-connection **actor** (`WebSocketConnection`, reached from any thread through its
//!   cloneable `WebSocket` handle), and the client (`websocket_connect`, `ReconnectingClient`).
//!   See `docs/websocket.md`.
//!
//! # Example
//!
//! Decode a request and answer it:
//!
//! ```
//! use bytes::BytesMut;
//! use cyclone_protocol::h1::{
//!     BodyLength, DateCache, Event, Limits, RequestDecoder, encode_response_head,
//! };
//! use http::{HeaderMap, StatusCode};
//!
//! let mut decoder = RequestDecoder::new(Limits::default());
//! let mut read = BytesMut::from(&b"POST /echo HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"[..]);
//!
//! let Some(Event::Head(head)) = decoder.decode(&mut read)? else { panic!("a head") };
//! assert_eq!(head.uri.path(), "/echo");
//! let mut body = Vec::new();
//! while let Some(event) = decoder.decode(&mut read)? {
//!     match event {
//!         Event::Data(data) => body.extend_from_slice(&data),
//!         Event::End { .. } => break,
//!         Event::Head(_) => unreachable!("one request"),
//!     }
//! }
//! assert_eq!(body, b"hello");
//!
//! let mut write = BytesMut::new();
//! let mut date = DateCache::new();
//! let mut encoder = encode_response_head(
//!     &head.response_context(),
//!     StatusCode::OK,
//!     &HeaderMap::new(),
//!     BodyLength::Known(body.len() as u64),
//!     &mut date,
//!     &mut write,
//! );
//! encoder.encode_data(&body, &mut write)?;
//! encoder.encode_end(None, &mut write)?;
//! assert!(write.starts_with(b"HTTP/1.1 200 OK\r\ndate: "));
//! assert!(write.ends_with(b"\r\ncontent-length: 5\r\n\r\nhello"));
//! assert!(!encoder.must_close());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limits and defaults
//!
//! Every limit is a field of [`h1::Limits`]; exceeding one yields a [`h1::ParseError`] whose
//! [`response`](h1::ParseError::response) names the status to answer before closing.
//!
//! | Limit | Default | Answer |
//! |---|---|---|
//! | `max_head_size` (request line + fields) | 64 KiB | 431 |
//! | `max_headers` (field lines per head or trailer section) | 100 | 431 |
//! | `max_request_line_size` | 8 KiB | 414 |
//! | `max_body_size` (Content-Length up front; chunked as it arrives) | 100 MiB | 413 |
//! | `max_chunk_extensions_size` (per body) | 16 KiB | 400 |
//! | `max_trailer_size` | 16 KiB | 431 |
//!
//! Protocol choices that RFC 9112 leaves open:
//!
//! - `Content-Length: 5, 5` (identical repeats) is accepted; differing values are 400.
//! - `Transfer-Encoding` must be exactly `chunked`: `gzip, chunked` is 501 (we decode no other
//!   coding), a list not ending in `chunked` is 400, and any Transfer-Encoding in an HTTP/1.0
//!   request, or next to a Content-Length, is 400.
//! - A well-formed but unsupported version (`HTTP/2.0`, `HTTP/1.2`) is 505; a request line
//!   without a version (HTTP/0.9) is 400.
//! - Heads accept a bare LF as a line end (as RFC 9112 §2.2 allows); chunk-size lines and chunk
//!   data must end in CRLF.
//! - Every parse error closes the connection: after one, the framing of what follows is unknown.
//!
//! # Panics and cancellation
//!
//! Nothing in this crate panics on input from the network: malformed bytes are errors. The
//! codec holds no I/O, so there is nothing to cancel; dropping a decoder mid-message loses only
//! its state, and unread bytes stay in the caller's buffer.
//!
//! # Feature flags
//!
//! None.
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod client;
pub mod h1;
mod http2;
pub mod httputil;
pub mod server;
pub mod websocket;
