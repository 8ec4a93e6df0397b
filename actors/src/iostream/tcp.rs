//! What only a TCP stream can do: socket options and addresses.

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpStream;

use super::IoStream;

impl IoStream<TcpStream> {
    /// Sets `TCP_NODELAY`: send small writes at once instead of waiting to coalesce them
    /// (Tornado's `set_nodelay`). Off by default, as the operating system sets it.
    /// Fails with [`io::ErrorKind::NotConnected`] once the stream is closed.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.socket()?.set_nodelay(nodelay)
    }

    /// The peer's address. Fails with [`io::ErrorKind::NotConnected`] once closed.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket()?.peer_addr()
    }

    /// The local address. Fails with [`io::ErrorKind::NotConnected`] once closed.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket()?.local_addr()
    }

    /// The socket, while open.
    fn socket(&self) -> io::Result<&TcpStream> {
        self.get_ref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "stream is closed"))
    }
}
