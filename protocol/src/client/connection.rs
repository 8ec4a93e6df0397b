//! One client connection: a transport (plain TCP, TLS, or TLS inside a proxy tunnel) with its
//! read buffer, and what the pool needs to know about it.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use cyclone_actors::iostream::IoStream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::request::{Proxy, TlsOptions};

/// How much room each socket read gets: also the largest body piece a `streaming_callback`
/// sees for a body that is not inflated.
pub(crate) const READ_SIZE: usize = 64 * 1024;

/// Any byte stream a request can travel on; futures here run on one loop, so no `Send`.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Unpin {}

impl<T: AsyncRead + AsyncWrite + Unpin> Transport for T {}

/// The raw transport of an [`IoStream`] fresh from `TcpClient`, whose buffers are still empty:
/// the codec keeps its own read buffer, so the stream's buffering is bypassed, not doubled.
pub(crate) struct Unbuffered<S>(pub(crate) IoStream<S>);

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "stream is closed")
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Unbuffered<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().0.get_mut() {
            Some(inner) => Pin::new(inner).poll_read(cx, buf),
            None => Poll::Ready(Err(closed())),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Unbuffered<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().0.get_mut() {
            Some(inner) => Pin::new(inner).poll_write(cx, buf),
            None => Poll::Ready(Err(closed())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().0.get_mut() {
            Some(inner) => Pin::new(inner).poll_flush(cx),
            None => Poll::Ready(Err(closed())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().0.get_mut() {
            Some(inner) => Pin::new(inner).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

/// The URL scheme, which decides the transport and the default port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Scheme {
    /// Plain TCP.
    Http,
    /// TLS over TCP.
    Https,
}

/// What makes two requests able to share a connection: the pool is keyed by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    /// http or https.
    pub(crate) scheme: Scheme,
    /// The origin's host (without IPv6 brackets).
    pub(crate) host: String,
    /// The origin's port.
    pub(crate) port: u16,
    /// The proxy the connection goes through, if any.
    pub(crate) proxy: Option<Proxy>,
    /// The certificate settings an https connection was made with.
    pub(crate) tls: Option<TlsOptions>,
    /// The local address the connection was bound to.
    pub(crate) network_interface: Option<IpAddr>,
}

/// A connection and its read buffer; it leaves the pool for one request at a time (no
/// pipelining) and goes back only when a response ended cleanly.
pub(crate) struct Connection {
    /// The byte stream.
    io: Box<dyn Transport>,
    /// Bytes read but not yet decoded; empty between requests on a reusable connection.
    pub(crate) read: BytesMut,
    /// Which pool list it returns to.
    pub(crate) key: PoolKey,
    /// When it went idle, for the pool's idle timeout.
    pub(crate) idle_since: Instant,
    /// Bytes received during the current request: a reused connection that fails before
    /// receiving any is retried once on a fresh connection (the server closed it while idle).
    pub(crate) received: u64,
    /// Whether it came from the pool, for that same retry rule.
    pub(crate) reused: bool,
    /// The server picked `h2` by ALPN: the transport must carry HTTP/2 frames, never an
    /// HTTP/1.1 request.
    pub(crate) http2: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("key", &self.key)
            .field("buffered", &self.read.len())
            .field("reused", &self.reused)
            .field("http2", &self.http2)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Wraps a connected transport.
    pub(crate) fn new(io: Box<dyn Transport>, key: PoolKey) -> Self {
        Connection {
            io,
            read: BytesMut::with_capacity(READ_SIZE),
            key,
            idle_since: Instant::now(),
            received: 0,
            reused: false,
            http2: false,
        }
    }

    /// The transport, for TLS to wrap (a fresh connection or a proxy tunnel whose answer was
    /// read exactly, so the read buffer is empty).
    pub(crate) fn into_transport(self) -> Box<dyn Transport> {
        self.io
    }

    /// Writes all of `data`.
    pub(crate) async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.io.write_all(data).await?;
        self.io.flush().await
    }

    /// Reads what the socket has into the read buffer; 0 means the server closed its side.
    pub(crate) async fn read_more(&mut self) -> io::Result<usize> {
        self.read.reserve(READ_SIZE);
        let read = self.io.read_buf(&mut self.read).await?;
        self.received += read as u64;
        Ok(read)
    }

    /// Whether an idle connection can still carry a request: a read that would block means
    /// the server has neither closed it nor sent anything unasked.
    pub(crate) fn is_usable(&mut self) -> bool {
        if !self.read.is_empty() {
            return false;
        }
        let mut probe = [0u8; 1];
        let mut buf = ReadBuf::new(&mut probe);
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        matches!(
            Pin::new(&mut self.io).poll_read(&mut cx, &mut buf),
            Poll::Pending
        )
    }
}
