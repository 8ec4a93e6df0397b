//! Listening sockets, as Tornado's `tornado.netutil.bind_sockets`.
//!
//! [`bind_sockets`] resolves a host name (or "every interface") to one address per family and
//! returns one non-blocking listener per address, ready to hand to
//! [`TcpServer::add_sockets`](crate::tcpserver::TcpServer::add_sockets).
//!
//! ```
//! use cyclone_actors::netutil::{bind_sockets, Family, DEFAULT_BACKLOG};
//!
//! // Port 0: the kernel picks a free port, shared by every family bound.
//! let listeners = bind_sockets(0, Some("127.0.0.1"), Family::V4, DEFAULT_BACKLOG, false).unwrap();
//! assert_eq!(listeners.len(), 1);
//! assert_ne!(listeners[0].local_addr().unwrap().port(), 0);
//! ```

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// The listen backlog used when the caller has no opinion: how many fully open connections the
/// kernel queues for us before refusing more. Tornado uses 128; a server meant for tens of
/// thousands of connections sees bursts of reconnects, so we queue more. The kernel caps it at
/// `net.core.somaxconn`. Default is 1024.
pub const DEFAULT_BACKLOG: i32 = 1024;

/// Which address families [`bind_sockets`] may bind (Tornado's `family` argument): the
/// resolver's [`Family`], re-exported so `netutil` reads on its own.
/// [`Family::Unspec`] binds every family the name resolves to; an IPv6 address the host cannot
/// bind is then skipped.
pub use crate::resolver::Family;

/// Whether `address` belongs to `family`.
fn admits(family: Family, address: &SocketAddr) -> bool {
    match family {
        Family::Unspec => true,
        Family::V4 => address.is_ipv4(),
        Family::V6 => address.is_ipv6(),
    }
}

/// Creates listening sockets bound to `port` on every address `address` resolves to.
///
/// - `address` `None` (or `Some("")`) means every interface: `0.0.0.0` and `::`.
///   A name such as `"localhost"` resolves with the system resolver (this call blocks while it
///   does; call it before serving, as Tornado does).
/// - `family` restricts the families bound; [`Family::Unspec`] binds each one found.
/// - IPv6 sockets get `IPV6_V6ONLY`, so an IPv4 and an IPv6 socket can share one port.
/// - Every socket gets `SO_REUSEADDR` (a restarted server binds at once despite `TIME_WAIT`),
///   and `SO_REUSEPORT` when `reuse_port` is true (several sockets, one per worker or process,
///   share the port and the kernel spreads connections over them).
/// - With `port` 0, the first socket gets a port from the kernel and the others reuse it, so all
///   families listen on the same port.
/// - `backlog` is the kernel's queue of connections not yet accepted; see [`DEFAULT_BACKLOG`].
///
/// Returned listeners are non-blocking. An error binding any address closes the ones already
/// bound and is returned, except an IPv6 address the host does not support under
/// [`Family::Unspec`], which is skipped (a host without IPv6 still serves IPv4).
pub fn bind_sockets(
    port: u16,
    address: Option<&str>,
    family: Family,
    backlog: i32,
    reuse_port: bool,
) -> io::Result<Vec<TcpListener>> {
    let candidates = resolve(port, address, family)?;
    let mut listeners: Vec<TcpListener> = Vec::with_capacity(candidates.len());
    let mut bound_port: Option<u16> = None;
    for mut candidate in candidates {
        if port == 0
            && let Some(first) = bound_port
        {
            candidate.set_port(first);
        }
        match bind_socket(candidate, backlog, reuse_port) {
            Ok(listener) => {
                bound_port.get_or_insert(listener.local_addr()?.port());
                listeners.push(listener);
            }
            Err(error)
                if family == Family::Unspec && candidate.is_ipv6() && ipv6_missing(&error) =>
            {
                tracing::debug!(%candidate, %error, "skipping an IPv6 address this host cannot bind");
            }
            Err(error) => return Err(error),
        }
    }
    if listeners.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("no address to bind for {address:?} in family {family:?}"),
        ));
    }
    Ok(listeners)
}

/// Binds one non-blocking listener to exactly `address`, with the options [`bind_sockets`]
/// documents (`SO_REUSEADDR`, `IPV6_V6ONLY`, optional `SO_REUSEPORT`).
///
/// [`TcpServer`](crate::tcpserver::TcpServer) uses it to give each worker its own socket on a
/// port that is already bound with `SO_REUSEPORT`.
pub fn bind_socket(address: SocketAddr, backlog: i32, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&SockAddr::from(address))?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// The addresses to bind, one per distinct address, IPv4 first (Tornado sorts by family, so a
/// port 0 picked by the IPv4 socket is the one the IPv6 socket reuses).
fn resolve(port: u16, address: Option<&str>, family: Family) -> io::Result<Vec<SocketAddr>> {
    let mut found: Vec<SocketAddr> = match address {
        None | Some("") => vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
        ],
        Some(host) => (host, port).to_socket_addrs()?.collect(),
    };
    found.retain(|candidate| admits(family, candidate));
    found.sort_by_key(|candidate| candidate.is_ipv6());
    found.dedup();
    Ok(found)
}

/// Whether binding failed because this host has no usable IPv6 (no kernel support, IPv6
/// disabled, or no `::1` on the loopback).
fn ipv6_missing(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::AddrNotAvailable | io::ErrorKind::Unsupported
    ) || error.raw_os_error() == Some(EAFNOSUPPORT)
}

/// Linux's "address family not supported" (a kernel built or booted without IPv6); std maps it
/// to no `ErrorKind`, and we take no libc dependency for one constant.
const EAFNOSUPPORT: i32 = 97;

/// Binds a listening Unix domain socket at `path` (Tornado's `bind_unix_socket`): a socket file
/// left there by an earlier run is removed first (any other kind of file is an error, never
/// deleted), the file gets the permissions `mode` (Tornado's default is `0o600`), and the
/// listener is non-blocking, for [`TcpServer::add_unix_socket`](crate::tcpserver::TcpServer::add_unix_socket).
///
/// ```
/// let path = std::env::temp_dir().join(format!("cyclone-doc-{}.sock", std::process::id()));
/// let listener = cyclone_actors::netutil::bind_unix_socket(&path, 0o600, 128).unwrap();
/// # drop(listener);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn bind_unix_socket(
    path: impl AsRef<std::path::Path>,
    mode: u32,
    backlog: i32,
) -> io::Result<std::os::unix::net::UnixListener> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let path = path.as_ref();
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_socket() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SockAddr::unix(path)?)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    socket.listen(backlog)?;
    Ok(std::os::unix::net::UnixListener::from(
        std::os::fd::OwnedFd::from(socket),
    ))
}
