//! cyclone's runtime: Tornado's `ioloop`, `iostream`, `tcpserver`, `tcpclient` and `netutil`,
//! built on actix Arbiters and actors.
//!
//! (The guided tour of this crate root is written once the pieces below land; see
//! `docs/runtime.md`.)

#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod connection;
pub mod executor;
pub mod ioloop;
pub mod iostream;
pub mod netutil;
pub mod periodic;
pub mod registry;
pub mod resolver;
pub mod runtime;
pub mod tcpclient;
pub mod tcpserver;
