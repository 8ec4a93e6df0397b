//! cyclone: Tornado's web framework, HTTP server and client and asynchronous networking core,
//! rebuilt in Rust on the actor model (actix).
//!
//! This crate is the facade: it re-exports the workspace crates under Tornado's module names.

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

pub use cyclone_actors::runtime::*;
