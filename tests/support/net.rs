//! Addresses and resolvers for connect tests.

use std::net::SocketAddr;

use cyclone::netutil::{Family, ResolveError, Resolver};
use futures::future::LocalBoxFuture;

/// A loopback address on `ip` where nothing listens: connecting is refused at once. (The port
/// was free a moment ago; loopback ports are rarely taken in between.)
pub fn refusing_address(ip: &str) -> SocketAddr {
    let socket = std::net::TcpListener::bind((ip, 0)).unwrap();
    socket.local_addr().unwrap()
    // Dropped here: the port is closed, so a connect is refused.
}

/// A free port on 127.0.0.1, for a server the test starts itself (or for nothing to listen on).
pub fn free_port() -> u16 {
    refusing_address("127.0.0.1").port()
}

/// A resolver whose answer the test chooses, while the connects stay real.
#[derive(Debug)]
pub enum StubResolver {
    /// Every name resolves to these addresses, in this order: the test chooses what a
    /// connect (and its dual-stack race) sees.
    Answers(Vec<SocketAddr>),
    /// No answer ever, like a DNS server that dropped the query: the connect phase can only
    /// end by its timeout.
    Silent,
}

impl Resolver for StubResolver {
    fn resolve(
        &self,
        _host: &str,
        _port: u16,
        _family: Family,
    ) -> LocalBoxFuture<'static, Result<Vec<SocketAddr>, ResolveError>> {
        match self {
            StubResolver::Answers(addresses) => {
                let addresses = addresses.clone();
                Box::pin(async move { Ok(addresses) })
            }
            StubResolver::Silent => Box::pin(futures::future::pending()),
        }
    }
}
