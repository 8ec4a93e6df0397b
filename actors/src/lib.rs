//! cyclone's runtime: Tornado's `ioloop`, `iostream`, `tcpserver`, `tcpclient` and `netutil`,
//! built on actix Arbiters and actors.
//!
//! # Layout
//!
//! | module | holds | Tornado's |
//! |---|---|---|
//! | [`runtime`] | [`run`](runtime::run) and [`Runtime`](runtime::Runtime): start the actix System | `IOLoop.current().run_sync` |
//! | [`ioloop`] | [`IoLoop`](ioloop::IoLoop): a handle to one Arbiter thread; callbacks and timers | `tornado.ioloop.IOLoop` |
//! | [`periodic`] | [`PeriodicCallback`](periodic::PeriodicCallback) | `PeriodicCallback` |
//! | [`executor`] | the blocking pool, an actix `SyncArbiter` **actor**, behind [`run_in_executor`](executor::run_in_executor) | `run_in_executor` |
//! | [`iostream`] | [`IoStream`](iostream::IoStream): buffered reads and writes with limits | `tornado.iostream.IOStream` |
//! | [`tcpserver`] | [`TcpServer`](tcpserver::TcpServer): worker Arbiters, SO_REUSEPORT, graceful shutdown | `tornado.tcpserver.TCPServer` |
//! | [`connection`] | the per-connection **actor** that owns a stream and runs `handle_stream` | `TCPServer.handle_stream` |
//! | [`registry`] | [`ConnectionRegistry`](registry::ConnectionRegistry): count, message, drain the live connections | |
//! | [`tcpclient`], [`resolver`] | [`TcpClient`](tcpclient::TcpClient) with the dual-stack race; resolvers | `tornado.tcpclient`, `netutil.Resolver` |
//! | [`netutil`] | [`bind_sockets`](netutil::bind_sockets) | `tornado.netutil` |
//! | [`autoreload`] | [`start`](autoreload::start), [`watch`](autoreload::watch): restart on a changed executable or file, keeping the sockets | `tornado.autoreload` |
//! | [`process`] | [`fork_processes`](process::fork_processes), [`Subprocess`](process::Subprocess) | `tornado.process` |
//!
//! The rule that keeps this as simple as Tornado: code on one loop is single-threaded, and the
//! only ways in from another thread are mailboxes ([`IoLoop::add_callback`](ioloop::IoLoop::add_callback),
//! an actor's `Addr`, the blocking pool). See `docs/runtime.md` for the whole chapter.
//!
//! # Example: Tornado's echo server and a client
//!
//! ```
//! use cyclone_actors::{iostream::IoStream, tcpclient::TcpClient, tcpserver::TcpServer};
//! use cyclone_actors::connection::ConnectionInfo;
//! use tokio::net::TcpStream;
//!
//! async fn handle_stream(mut stream: IoStream<TcpStream>, _info: ConnectionInfo) {
//!     while let Ok(line) = stream.read_until(b"\n", Some(64 * 1024)).await {
//!         if stream.write(line).await.is_err() {
//!             break;
//!         }
//!     }
//! }
//!
//! cyclone_actors::runtime::run(async {
//!     let mut server = TcpServer::new(handle_stream);
//!     server.bind(0, Some("127.0.0.1")).unwrap();
//!     server.start(2).unwrap(); // two worker Arbiters
//!     let port = server.local_addrs()[0].port();
//!
//!     let mut client = TcpClient::new().connect("127.0.0.1", port).await.unwrap();
//!     client.write(&b"hello\n"[..]).await.unwrap();
//!     assert_eq!(&client.read_until(b"\n", None).await.unwrap()[..], b"hello\n");
//!
//!     client.close();
//!     server.shutdown(std::time::Duration::from_secs(1)).await;
//! });
//! ```
//!
//! # Limits and defaults
//!
//! | what | default | setting |
//! |---|---|---|
//! | callbacks queued on one loop | 100 000 | [`Runtime::callback_backlog`](runtime::Runtime::callback_backlog) |
//! | blocking-pool threads | `min(32, cores + 4)` | [`Runtime::blocking_threads`](runtime::Runtime::blocking_threads) |
//! | blocking jobs queued or running | 10 000 | [`Runtime::executor_queue_limit`](runtime::Runtime::executor_queue_limit) |
//! | `IoStream` read buffer | 100 MiB | [`StreamLimits`](iostream::StreamLimits) |
//! | `IoStream` write buffer | 64 MiB | [`StreamLimits`](iostream::StreamLimits) |
//! | connections per server | 10 000 | [`TcpServer::max_connections`](tcpserver::TcpServer::max_connections) |
//! | listen backlog | 1 024 | [`TcpServer::backlog`](tcpserver::TcpServer::backlog) |
//! | notifications queued per connection | 32 | [`StreamFactory::inbox_capacity`](connection::StreamFactory::inbox_capacity) |
//! | connect timeout | 20 s | [`ConnectOptions::timeout`](tcpclient::ConnectOptions::timeout) |
//! | TLS handshake (server) | 10 s | [`TlsServerBuilder::handshake_timeout`](tls::TlsServerBuilder::handshake_timeout) |
//! | TLS sessions kept for resumption | 256 per server, 256 per client config | [`TlsServerBuilder::session_cache_size`](tls::TlsServerBuilder::session_cache_size) |
//!
//! # Panics and cancellation
//!
//! A callback, timer, periodic callback, blocking job or connection handler that panics is
//! caught and logged with `tracing::error!`; the loop, the pool and the server go on (a
//! panicking handler ends only its own connection). Every `IoStream` read is cancel-safe; a
//! cancelled `write` leaves its bytes queued.
//!
//! # Feature flags
//!
//! None yet.

#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod autoreload;
pub mod connection;
pub mod executor;
pub mod ioloop;
pub mod iostream;
pub mod local;
pub mod log;
pub mod loop_local;
pub mod netutil;
pub mod panics;
pub mod periodic;
pub mod process;
pub mod registry;
pub mod resolver;
pub mod runtime;
pub mod tcpclient;
pub mod tcpserver;
pub mod tls;
