//! cyclone: Tornado's web framework, HTTP server and client and asynchronous networking core,
//! rebuilt in Rust on the actor model (actix).
//!
//! This crate is the facade: it re-exports the workspace crates under Tornado's module names,
//! so a Tornado user finds `cyclone::ioloop`, `cyclone::iostream`, `cyclone::tcpserver`,
//! `cyclone::tcpclient` and `cyclone::netutil` where they expect them.
//!
//! | module | from | Tornado's |
//! |---|---|---|
//! | [`ioloop`] | `cyclone-actors` | `tornado.ioloop` (with `run_in_executor`'s pool) |
//! | [`iostream`] | `cyclone-actors` | `tornado.iostream` |
//! | [`tcpserver`] | `cyclone-actors` | `tornado.tcpserver` |
//! | [`tcpclient`] | `cyclone-actors` | `tornado.tcpclient` |
//! | [`netutil`] | `cyclone-actors` | `tornado.netutil` |
//! | [`web`] | `cyclone-web` | `tornado.web`, `tornado.routing` (with `StaticFileHandler`) |
//! | [`template`] | `cyclone-web` | `tornado.template` (on minijinja) |
//! | [`escape`] | `cyclone-web` | `tornado.escape` |
//! | [`locale`] | `cyclone-web` | `tornado.locale` |
//! | [`auth`] | `cyclone-web` | `tornado.auth` |
//! | [`options`] | `cyclone-options` | `tornado.options` |
//! | [`process`] | `cyclone-actors` | `tornado.process` |
//! | [`autoreload`] | `cyclone-actors` | `tornado.autoreload` |
//!
//! # Example
//!
//! Every accepted connection is an actor that owns its stream; `handle_stream` runs inside it.
//!
//! ```
//! use cyclone::iostream::IoStream;
//! use cyclone::tcpserver::{ConnectionInfo, TcpServer};
//! use cyclone::tcpclient::TcpClient;
//!
//! async fn handle_stream(mut stream: IoStream<cyclone::iostream::TcpStream>, _: ConnectionInfo) {
//!     while let Ok(line) = stream.read_until(b"\n", Some(64 * 1024)).await {
//!         if stream.write(line).await.is_err() {
//!             break;
//!         }
//!     }
//! }
//!
//! cyclone::run(async {
//!     let mut server = TcpServer::new(handle_stream);
//!     server.listen(0, Some("127.0.0.1")).unwrap(); // on this loop
//!     let port = server.local_addrs()[0].port();
//!
//!     let mut client = TcpClient::new().connect("localhost", port).await.unwrap();
//!     client.write(&b"ping\n"[..]).await.unwrap();
//!     assert_eq!(&client.read_until(b"\n", None).await.unwrap()[..], b"ping\n");
//! });
//! ```
//!
//! The guide is in `docs/` (start with `docs/runtime.md`).

#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![forbid(unsafe_code)]

/// Tornado's `tornado.ioloop`: the event loop handle, timers, periodic callbacks, the blocking pool.
pub mod ioloop {
    pub use cyclone_actors::executor::*;
    pub use cyclone_actors::ioloop::*;
    pub use cyclone_actors::periodic::*;
    pub use cyclone_actors::runtime::*;
}

/// Tornado's `tornado.iostream`: buffered streams with limits.
pub mod iostream {
    pub use cyclone_actors::iostream::*;
}

/// Tornado's `tornado.tcpserver`: the multi-worker TCP server, its connection actors and registry.
pub mod tcpserver {
    pub use cyclone_actors::connection::*;
    pub use cyclone_actors::registry::*;
    pub use cyclone_actors::tcpserver::*;
}

/// Tornado's `tornado.tcpclient`: dual-stack connects with resolvers.
pub mod tcpclient {
    pub use cyclone_actors::resolver::*;
    pub use cyclone_actors::tcpclient::*;
}

/// Tornado's `tornado.netutil`: listening sockets and resolvers.
pub mod netutil {
    pub use cyclone_actors::netutil::*;
    pub use cyclone_actors::resolver::*;
}

/// Local actors: actix actors whose messages from their own loop are handled by a direct
/// call when they are idle (per-worker route targets, rooms on one loop).
pub mod local {
    pub use cyclone_actors::local::{LOCAL_MAILBOX_CAPACITY, LocalAddr, LocalContext};
}

/// TLS for servers and clients (Tornado's `ssl_options`), with rustls.
pub mod tls {
    pub use cyclone_actors::tls::*;
}

/// Tornado's `tornado.httpserver`: the HTTP/1.1 server, its connection actor and handler contract.
pub mod httpserver {
    pub use cyclone_protocol::server::*;
}

/// Tornado's `tornado.httputil`: arguments, files, cookies and URL helpers.
pub mod httputil {
    pub use cyclone_protocol::httputil::*;
}

/// Tornado's `tornado.httpclient`: the pooled HTTP/1.1 client and its blocking wrapper.
pub mod httpclient {
    pub use cyclone_protocol::client::*;
}

/// Tornado's `tornado.websocket`: the WebSocket codec, connection actor and client.
pub mod websocket {
    pub use cyclone_protocol::websocket::*;
}

/// Tornado's `tornado.web` and `tornado.routing`: Application, routing, RequestHandler.
pub mod web {
    pub use cyclone_web::*;
}

/// Tornado's `tornado.template`: templates on minijinja, UI modules, the loader.
pub mod template {
    pub use cyclone_web::template::*;
}

/// Tornado's `tornado.escape`: HTML, URL and JSON escaping, `squeeze`, `linkify`.
pub mod escape {
    pub use cyclone_web::escape::*;
}

/// Tornado's `tornado.auth`: OAuth 2.0 logins (Google, GitHub, Facebook presets) with a
/// `state` bound to a signed cookie, and OAuth 1.0a signing.
pub mod auth {
    pub use cyclone_web::auth::*;
}

/// Tornado's `tornado.options`: `define`, `parse_command_line`, `parse_config_file` (TOML).
pub mod options {
    pub use cyclone_options::*;
}

/// Tornado's `tornado.process`: worker processes sharing listening sockets, and child
/// processes with their pipes as `IoStream`s.
pub mod process {
    pub use cyclone_actors::process::*;
}

/// Tornado's `tornado.autoreload`: restart on a changed executable or watched file, keeping
/// the listening sockets.
pub mod autoreload {
    pub use cyclone_actors::autoreload::*;
}

/// Tornado's `tornado.locale`: translations (CSV, gettext `.po`/`.mo`), plural forms and
/// contexts, dates, lists and numbers as Tornado words them.
pub mod locale {
    pub use cyclone_web::locale::*;
}

/// Tornado's `tornado.testing`: a test server on 127.0.0.1:0 and its client, `run_test`
/// (behind `#[cyclone::test]`), `ExpectLog`, `bind_unused_port`.
pub mod testing {
    pub use cyclone_web::testing::*;
}

/// Tornado's `@gen_test`: an `async fn` test on a fresh loop, with a timeout (5 s, or
/// `ASYNC_TEST_TIMEOUT`, or `#[cyclone::test(timeout = 30)]`).
///
/// ```
/// #[cyclone::test]
/// async fn answers() {
///     assert_eq!(async { 42 }.await, 42);
/// }
/// # fn main() {}
/// ```
pub use cyclone_macros::test;

pub use cyclone_actors::runtime::*;
