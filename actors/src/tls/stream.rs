//! [`TlsStream`]: an encrypted transport for [`IoStream`], on either side of a connection.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use rustls::pki_types::CertificateDer;
use rustls::{CommonState, ProtocolVersion};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::iostream::IoStream;

/// A TLS connection over the transport `S` (normally a [`TcpStream`]), after a completed
/// handshake: what a TLS server hands its connections and what
/// [`TcpClient::connect_tls`](crate::tcpclient::TcpClient::connect_tls) returns, wrapped in an
/// [`IoStream`]. It reads and writes plaintext; the records go over `S`.
///
/// One type for both sides, so code written against `IoStream<TlsStream<TcpStream>>` serves
/// and connects alike.
///
/// # Closing
///
/// Dropping the stream (which [`IoStream::close`] does) first queues TLS's `close_notify`
/// alert and makes one non-blocking attempt to send it, then closes the socket. A peer that
/// reads to the end therefore sees a clean end of file rather than a truncation error whenever
/// the socket had room for the alert, which is nearly always.
pub struct TlsStream<S> {
    /// The tokio-rustls stream of either side; `Option` only so `Drop` can tell a stream that
    /// was taken apart by [`into_inner`](Self::into_inner), which must not be shut down.
    inner: Option<tokio_rustls::TlsStream<S>>,
    /// Sends `close_notify` without waiting. A function pointer chosen where `S` is known to
    /// be writable, because `Drop` cannot require more of `S` than the struct does.
    close_now: fn(&mut tokio_rustls::TlsStream<S>),
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream<S> {
    /// Wraps a stream from `tokio-rustls` (after its handshake).
    pub fn new(inner: tokio_rustls::TlsStream<S>) -> Self {
        TlsStream {
            inner: Some(inner),
            close_now: close_without_waiting::<S>,
        }
    }
}

impl<S> TlsStream<S> {
    /// The transport under the encryption (the socket). Reading or writing it directly
    /// corrupts the TLS session.
    pub fn get_ref(&self) -> Option<&S> {
        self.inner.as_ref().map(|inner| inner.get_ref().0)
    }

    /// The session state: negotiated version, ALPN protocol, peer certificates, and more.
    pub fn session(&self) -> Option<&CommonState> {
        self.inner.as_ref().map(|inner| inner.get_ref().1)
    }

    /// The ALPN protocol both sides agreed on, such as `b"http/1.1"`, if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.session().and_then(CommonState::alpn_protocol)
    }

    /// The certificate chain the peer presented, end entity first: the server's on a client,
    /// the client's on a server that asked for one.
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.session().and_then(CommonState::peer_certificates)
    }

    /// The TLS version in use.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.session().and_then(CommonState::protocol_version)
    }

    /// Whether the handshake resumed an earlier session (Python's `SSLSocket.session_reused`):
    /// no certificate was sent or verified this time.
    pub fn session_reused(&self) -> bool {
        self.session()
            .and_then(CommonState::handshake_kind)
            .is_some_and(|kind| kind == rustls::HandshakeKind::Resumed)
    }

    /// On a server: the host name the client asked for with SNI, if it sent one.
    pub fn server_name(&self) -> Option<&str> {
        match self.inner.as_ref()? {
            tokio_rustls::TlsStream::Server(server) => server.get_ref().1.server_name(),
            tokio_rustls::TlsStream::Client(_) => None,
        }
    }

    /// The tokio-rustls stream, without sending `close_notify` (for a caller that manages the
    /// session itself). Returns `None` only if already taken, which the public API cannot do.
    pub fn into_inner(mut self) -> Option<tokio_rustls::TlsStream<S>> {
        self.inner.take()
    }

    /// The open stream, or the error I/O on a taken-apart stream reports.
    fn open(&mut self) -> io::Result<&mut tokio_rustls::TlsStream<S>> {
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "TLS stream taken apart"))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().open() {
            Ok(inner) => Pin::new(inner).poll_read(cx, buf),
            Err(error) => Poll::Ready(Err(error)),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().open() {
            Ok(inner) => Pin::new(inner).poll_write(cx, buf),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().open() {
            Ok(inner) => Pin::new(inner).poll_write_vectored(cx, bufs),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(AsyncWrite::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().open() {
            Ok(inner) => Pin::new(inner).poll_flush(cx),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().open() {
            Ok(inner) => Pin::new(inner).poll_shutdown(cx),
            Err(error) => Poll::Ready(Err(error)),
        }
    }
}

impl<S> Drop for TlsStream<S> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.as_mut() {
            (self.close_now)(inner);
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// Queues `close_notify` and writes what the socket takes right now, polling once with a waker
/// that does nothing: a drop cannot wait, and when the socket has no room the peer only misses
/// the alert (and reads a truncation error instead of a clean end of file).
fn close_without_waiting<S: AsyncRead + AsyncWrite + Unpin>(
    inner: &mut tokio_rustls::TlsStream<S>,
) {
    let mut context = Context::from_waker(Waker::noop());
    let _ = Pin::new(inner).poll_shutdown(&mut context);
}

impl IoStream<TlsStream<TcpStream>> {
    /// The peer's address. Fails with [`io::ErrorKind::NotConnected`] once closed.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tls_socket()?.peer_addr()
    }

    /// The local address. Fails with [`io::ErrorKind::NotConnected`] once closed.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tls_socket()?.local_addr()
    }

    /// Sets `TCP_NODELAY` on the socket under the encryption (Tornado's `set_nodelay`).
    /// Fails with [`io::ErrorKind::NotConnected`] once closed.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.tls_socket()?.set_nodelay(nodelay)
    }

    /// The socket, while open.
    fn tls_socket(&self) -> io::Result<&TcpStream> {
        self.get_ref()
            .and_then(TlsStream::get_ref)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "stream is closed"))
    }
}
