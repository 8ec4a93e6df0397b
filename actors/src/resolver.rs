//! Name resolution for [`TcpClient`](crate::tcpclient::TcpClient): Tornado's
//! `netutil.Resolver`, `DefaultExecutorResolver` and `OverrideResolver`.
//!
//! A [`Resolver`] turns a host and a port into socket addresses without blocking the loop.
//! [`DefaultResolver`] runs the system's `getaddrinfo` on the blocking pool
//! ([`run_in_executor`]); IP literals are answered at once, without the pool.
//! [`OverrideResolver`] rewrites chosen hosts (or host, port and family triples) before
//! delegating, for tests and for pinning a name to an address.
//!
//! ```
//! use cyclone_actors::resolver::{Family, OverrideResolver, Resolver};
//!
//! actix_rt::System::new().block_on(async {
//!     let resolver = OverrideResolver::new().map_host_port("example.test", 80, "127.0.0.1", 8080);
//!     let addresses = resolver.resolve("example.test", 80, Family::Unspec).await.unwrap();
//!     assert_eq!(addresses, vec!["127.0.0.1:8080".parse().unwrap()]);
//! });
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use futures::future::LocalBoxFuture;

use crate::executor::{ExecutorError, run_in_executor};

/// How long [`DefaultResolver`] waits for `getaddrinfo` by default: 20 seconds.
///
/// The blocking thread cannot be interrupted, so a lookup that outlives this limit keeps its
/// pool thread until the system gives up; only the waiting future is released.
pub const DEFAULT_RESOLVE_TIMEOUT: Duration = Duration::from_secs(20);

/// An address family, as in Tornado's `socket.AF_UNSPEC`, `AF_INET` and `AF_INET6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Family {
    /// Either family: whatever the resolver answers.
    #[default]
    Unspec,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// The family of a concrete address (never [`Family::Unspec`]).
    pub fn of(address: &SocketAddr) -> Family {
        Family::of_ip(&address.ip())
    }

    /// The family of an IP address (never [`Family::Unspec`]).
    pub fn of_ip(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Whether `address` belongs to this family; [`Family::Unspec`] admits every address.
    pub fn admits(self, address: &SocketAddr) -> bool {
        self == Family::Unspec || self == Family::of(address)
    }
}

/// Why a name could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The lookup succeeded but gave no address of the requested family.
    #[error("no {family:?} address found for {host}:{port}")]
    NotFound {
        /// The host that was looked up.
        host: String,
        /// The port that was asked for.
        port: u16,
        /// The family that was asked for.
        family: Family,
    },
    /// The system resolver failed (unknown name, no network, bad name).
    #[error("could not resolve {host}:{port}: {source}")]
    Io {
        /// The host that was looked up.
        host: String,
        /// The port that was asked for.
        port: u16,
        /// The system's error.
        #[source]
        source: io::Error,
    },
    /// The blocking pool refused or lost the lookup (queue full, closed, or the job panicked).
    #[error("could not resolve {host}:{port}: {source}")]
    Executor {
        /// The host that was looked up.
        host: String,
        /// The port that was asked for.
        port: u16,
        /// What the pool reported.
        #[source]
        source: ExecutorError,
    },
    /// The lookup took longer than the resolver's limit.
    #[error("resolving {host}:{port} took longer than {after:?}")]
    Timeout {
        /// The host that was looked up.
        host: String,
        /// The port that was asked for.
        port: u16,
        /// The limit that was exceeded.
        after: Duration,
    },
}

/// Turns a host and a port into socket addresses without blocking the loop (Tornado's
/// `Resolver.resolve`).
///
/// The returned future is `'static` and need not be `Send`: it runs on the caller's loop,
/// like every future on an actix Arbiter. Addresses come back in preference order; the
/// family of each is [`Family::of`] it. An empty list is allowed; callers treat it as "no
/// addresses".
pub trait Resolver: fmt::Debug {
    /// Resolves `host:port`, keeping only addresses of `family`.
    fn resolve(
        &self,
        host: &str,
        port: u16,
        family: Family,
    ) -> LocalBoxFuture<'static, Result<Vec<SocketAddr>, ResolveError>>;
}

impl<R: Resolver + ?Sized> Resolver for Arc<R> {
    fn resolve(
        &self,
        host: &str,
        port: u16,
        family: Family,
    ) -> LocalBoxFuture<'static, Result<Vec<SocketAddr>, ResolveError>> {
        (**self).resolve(host, port, family)
    }
}

/// Parses `host` as an IP literal, with or without IPv6 brackets (`"[::1]"`).
pub(crate) fn parse_ip_literal(host: &str) -> Option<IpAddr> {
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    unbracketed.parse().ok()
}

/// The system resolver (`getaddrinfo`) run on the blocking pool, so the loop never waits on
/// DNS (Tornado's `DefaultExecutorResolver`).
///
/// IP literals are answered directly. Duplicate addresses are removed, keeping the system's
/// order, which is its preference order (RFC 6724).
#[derive(Debug, Clone)]
pub struct DefaultResolver {
    /// Bounds how long a caller waits for one lookup; getaddrinfo may retry for a long time.
    timeout: Duration,
}

impl Default for DefaultResolver {
    fn default() -> Self {
        DefaultResolver::new()
    }
}

impl DefaultResolver {
    /// A resolver with the default limit ([`DEFAULT_RESOLVE_TIMEOUT`], 20 seconds).
    pub fn new() -> Self {
        DefaultResolver {
            timeout: DEFAULT_RESOLVE_TIMEOUT,
        }
    }

    /// Sets how long one lookup may take before it fails with [`ResolveError::Timeout`].
    ///
    /// Default is 20 seconds ([`DEFAULT_RESOLVE_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl Resolver for DefaultResolver {
    fn resolve(
        &self,
        host: &str,
        port: u16,
        family: Family,
    ) -> LocalBoxFuture<'static, Result<Vec<SocketAddr>, ResolveError>> {
        let host = host.to_owned();
        let timeout = self.timeout;
        Box::pin(async move {
            if let Some(ip) = parse_ip_literal(&host) {
                let address = SocketAddr::new(ip, port);
                return if family.admits(&address) {
                    Ok(vec![address])
                } else {
                    Err(ResolveError::NotFound { host, port, family })
                };
            }
            let lookup_host = host.clone();
            let lookup = run_in_executor(move || {
                (lookup_host.as_str(), port)
                    .to_socket_addrs()
                    .map(|found| found.collect::<Vec<_>>())
            });
            let found = match tokio::time::timeout(timeout, lookup).await {
                Err(_elapsed) => {
                    return Err(ResolveError::Timeout {
                        host,
                        port,
                        after: timeout,
                    });
                }
                Ok(Err(source)) => return Err(ResolveError::Executor { host, port, source }),
                Ok(Ok(Err(source))) => return Err(ResolveError::Io { host, port, source }),
                Ok(Ok(Ok(found))) => found,
            };
            let mut addresses: Vec<SocketAddr> = Vec::with_capacity(found.len());
            for address in found {
                if family.admits(&address) && !addresses.contains(&address) {
                    addresses.push(address);
                }
            }
            if addresses.is_empty() {
                return Err(ResolveError::NotFound { host, port, family });
            }
            Ok(addresses)
        })
    }
}

/// Rewrites chosen names before delegating to another resolver (Tornado's
/// `OverrideResolver`), for tests and for pinning a name to an address.
///
/// Lookups try the most specific mapping first: host, port and family; then host and port;
/// then host alone (which keeps the asked-for port). Anything unmapped passes through.
#[derive(Debug, Clone)]
pub struct OverrideResolver {
    /// Answers every lookup after rewriting; the default is [`DefaultResolver`].
    inner: Arc<dyn Resolver + Send + Sync>,
    /// `host` → replacement host; the port is kept.
    by_host: HashMap<String, String>,
    /// `(host, port)` → replacement `(host, port)`.
    by_host_port: HashMap<(String, u16), (String, u16)>,
    /// `(host, port, family)` → replacement `(host, port)`.
    by_host_port_family: HashMap<(String, u16, Family), (String, u16)>,
}

impl Default for OverrideResolver {
    fn default() -> Self {
        OverrideResolver::new()
    }
}

impl OverrideResolver {
    /// An empty mapping over a [`DefaultResolver`].
    pub fn new() -> Self {
        OverrideResolver::wrapping(DefaultResolver::new())
    }

    /// An empty mapping over `inner`.
    pub fn wrapping(inner: impl Resolver + Send + Sync + 'static) -> Self {
        OverrideResolver {
            inner: Arc::new(inner),
            by_host: HashMap::new(),
            by_host_port: HashMap::new(),
            by_host_port_family: HashMap::new(),
        }
    }

    /// Sends every lookup of `host` to `to_host`, keeping the port.
    pub fn map_host(mut self, host: &str, to_host: &str) -> Self {
        self.by_host.insert(host.to_owned(), to_host.to_owned());
        self
    }

    /// Sends lookups of `host:port` to `to_host:to_port`.
    pub fn map_host_port(mut self, host: &str, port: u16, to_host: &str, to_port: u16) -> Self {
        self.by_host_port
            .insert((host.to_owned(), port), (to_host.to_owned(), to_port));
        self
    }

    /// Sends lookups of `host:port` for exactly `family` to `to_host:to_port`.
    pub fn map_host_port_family(
        mut self,
        host: &str,
        port: u16,
        family: Family,
        to_host: &str,
        to_port: u16,
    ) -> Self {
        self.by_host_port_family.insert(
            (host.to_owned(), port, family),
            (to_host.to_owned(), to_port),
        );
        self
    }

    /// Where a lookup of `host:port` in `family` is sent, after the mapping.
    pub fn rewrite(&self, host: &str, port: u16, family: Family) -> (String, u16) {
        if let Some(target) = self
            .by_host_port_family
            .get(&(host.to_owned(), port, family))
        {
            return target.clone();
        }
        if let Some(target) = self.by_host_port.get(&(host.to_owned(), port)) {
            return target.clone();
        }
        if let Some(to_host) = self.by_host.get(host) {
            return (to_host.clone(), port);
        }
        (host.to_owned(), port)
    }
}

impl Resolver for OverrideResolver {
    fn resolve(
        &self,
        host: &str,
        port: u16,
        family: Family,
    ) -> LocalBoxFuture<'static, Result<Vec<SocketAddr>, ResolveError>> {
        let (host, port) = self.rewrite(host, port, family);
        self.inner.resolve(&host, port, family)
    }
}
