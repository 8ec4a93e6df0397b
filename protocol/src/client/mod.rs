//! An HTTP client (Tornado's `tornado.httpclient` and `simple_httpclient`): HTTP/1.1 driven by
//! the sans-IO codec in [`h1`](crate::h1), and HTTP/2 on the `h2` crate for servers that pick
//! it by ALPN (or over h2c with prior knowledge, when asked).
//!
//! # Layout
//!
//! - [`AsyncHttpClient`]: `fetch(url | HttpRequest)` on one loop, with a keep-alive pool per
//!   (scheme, host, port), one shared HTTP/2 connection per origin that speaks it, and
//!   `max_clients` slots with a bounded FIFO queue.
//! - [`HttpClient`]: the blocking wrapper that runs its own loop.
//! - [`HttpRequest`]: a URL and Tornado's request options; [`ClientOptions`]: the client's.
//! - [`HttpResponse`] with [`TimeInfo`]; [`HttpClientError`], one variant per failure.
//!
//! Inside, one concept per module: the request encoder (`encode`), one HTTP/1.1
//! request/response on a connection (`exchange`), the final response and its body whichever
//! protocol carried it (`receive`), the keep-alive `pool`, what carries a hop (`checkout`:
//! a shared HTTP/2 stream, a pooled or a new connection), the HTTP/2 side (`http2`: the shared
//! connections, their driver task, the exchange on a stream), the slot `queue`, `redirect`
//! rules, `proxy` tunnels, the `tls` transport and its ALPN, `decompress`ion.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use cyclone_protocol::client::{AsyncHttpClient, HttpClientError, HttpRequest, Method};
//!
//! actix_rt::System::new().block_on(async {
//!     let client = AsyncHttpClient::new();
//!     let request = HttpRequest::new("http://example.com/form")
//!         .method(Method::POST)
//!         .body("name=value")
//!         .request_timeout(Duration::from_secs(5));
//!     match client.fetch(request).await {
//!         Ok(response) => println!("{} {}", response.code, response.effective_url),
//!         Err(HttpClientError::Http { code, response }) => println!("{code}: {:?}", response.body),
//!         Err(error) => println!("failed: {error}"),
//!     }
//! });
//! ```
//!
//! # Limits and defaults
//!
//! | Setting | Default |
//! |---|---|
//! | `connect_timeout`, `request_timeout` | 20 s each |
//! | queue timeout | `min(connect_timeout, request_timeout)` |
//! | `max_redirects` | 5 |
//! | `max_body_size` (streamed too, and after inflating) | 100 MiB |
//! | `max_header_size` | 64 KiB |
//! | `max_clients` / `max_queue_size` | 10 / 10 000 |
//! | pool: idle timeout / per host / total | 60 s / 10 / 100 |
//! | body pieces given to `streaming_callback` | at most one 64 KiB read or HTTP/2 DATA frame (32 KiB inflated) |
//! | `http2` (offer `h2` by ALPN on https) | on |
//! | `http2_prior_knowledge` (h2c for http) | off |
//! | HTTP/2 connections per origin | 1, shared; closed after `idle_timeout` without a stream |
//! | HTTP/2 streams per connection | the server's `max_concurrent_streams`; more fetches wait |
//! | HTTP/2 receive windows (stream / connection) | 2 MiB / 5 MiB (hyper's), handed back as consumed |
//! | HTTP/2 keep-alive PINGs (`http2_keep_alive_interval` / `_timeout` / `_while_idle`) | off / 20 s / off |
//!
//! No pipelining: an HTTP/1.1 connection carries one request at a time. HTTP/2 multiplexes
//! instead: every fetch to an origin that speaks it is a stream on the one connection, and
//! concurrent first fetches wait for that connection rather than each making one.
//!
//! # Cancellation
//!
//! Dropping a `fetch` future closes its HTTP/1.1 connection (it never returns to the pool
//! half-read), or resets its HTTP/2 stream (`CANCEL`) and leaves the shared connection to the
//! other fetches; either way it frees its slot.
//!
//! # Feature flags
//!
//! None.

mod async_client;
mod blocking;
mod body;
mod checkout;
mod connect;
pub(crate) mod connection;
mod decompress;
mod digest;
mod encode;
mod error;
mod exchange;
mod http2;
mod options;
mod pool;
mod proxy;
mod queue;
mod receive;
mod redirect;
mod request;
mod response;
mod tls;

pub use async_client::AsyncHttpClient;
pub use blocking::HttpClient;
pub use digest::{AuthMode, digest_authorization};
pub use error::{HttpClientError, TimeoutPhase};
/// An HTTP/2 error code, as carried by RST_STREAM and GOAWAY (RFC 9113 §7).
pub use h2::Reason as Http2Reason;
pub use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version, header};
pub use options::{ClientOptions, DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT};
pub use pool::{DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_IDLE_PER_HOST, DEFAULT_MAX_IDLE_TOTAL};
pub use queue::{DEFAULT_MAX_CLIENTS, DEFAULT_MAX_QUEUE_SIZE};
pub use request::{
    DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_HEADER_SIZE, DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT, HttpRequest,
};
pub use response::{HttpResponse, StatusError, TimeInfo};
