//! The protocol switch: what a writer hands over with [`ResponseWriter::upgrade`](super::ResponseWriter::upgrade)
//! and what its callback gets back once the `101 Switching Protocols` is on the wire
//! ([`Upgraded`], with the transport as an [`UpgradedIo`]).
//!
//! The HTTP connection actor owns its socket; after a switch it must stop without closing it.
//! So the connection writes the 101, flushes it, stops decoding, and moves everything the new
//! protocol needs (the transport, the bytes it already read past the request, the request head
//! and its place in the server's registry) into one [`Upgraded`] value, handed to the service's
//! callback on the same loop. Then the HTTP actor stops; the socket lives on in whatever the
//! callback started.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use cyclone_actors::registry::ConnectionSlot;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::h1::RequestHead;

/// What a transport must be to be handed over: the plain TCP socket or a TLS stream, behind
/// one type so the new protocol's code is not generic over it.
trait Transport: AsyncRead + AsyncWrite + Unpin {}

impl<T: AsyncRead + AsyncWrite + Unpin> Transport for T {}

/// The connection's transport after a switch (a `TcpStream`, or a `TlsStream` under
/// [`ssl_options`](super::HttpServer::ssl_options)), type-erased. Reads and writes go straight
/// to it: reads give the new protocol's bytes (after those in [`Upgraded::read_buf`]), writes
/// are plaintext (TLS encrypts underneath).
pub struct UpgradedIo {
    /// The socket or TLS stream, moved out of the HTTP connection.
    inner: Box<dyn Transport>,
}

impl UpgradedIo {
    /// Erases `transport`'s type.
    pub(crate) fn new(transport: impl AsyncRead + AsyncWrite + Unpin + 'static) -> Self {
        UpgradedIo {
            inner: Box::new(transport),
        }
    }
}

impl fmt::Debug for UpgradedIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UpgradedIo")
    }
}

impl AsyncRead for UpgradedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for UpgradedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A connection that switched protocols, handed to the callback of
/// [`ResponseWriter::upgrade`](super::ResponseWriter::upgrade) once the 101 is written and flushed.
///
/// The callback runs on the connection's worker loop, so it can start an actor there with
/// `Actor::create` and move this value (or its parts) into it. That actor now owns the socket
/// and must:
///
/// - call [`ConnectionSlot::register`] on [`slot`](Self::slot) with its own
///   `Recipient<ConnectionControl>` from its `started` (or `create`), so the server's
///   registry reaches it: `close_all` and a shutdown's deadline send
///   `ConnectionControl::Close`, a graceful shutdown sends `ConnectionControl::Shutdown`;
///   until it does, those messages go to the HTTP actor, which has stopped;
/// - keep the slot for as long as the connection lives: dropping it removes the connection
///   from the registry and frees its `max_connections` permit;
/// - read [`read_buf`](Self::read_buf) before the transport: the client may have sent the new
///   protocol's first bytes in the same packet as the request.
///
/// Dropping an `Upgraded` closes the connection.
///
/// # Over HTTP/2
///
/// An HTTP/2 extended CONNECT (RFC 8441, a WebSocket) answered with an upgrade hands over its
/// *stream*, not the connection: [`io`](Self::io) reads and writes the stream's DATA frames
/// (dropping or shutting it down ends the stream), [`read_buf`](Self::read_buf) is empty,
/// [`head`](Self::head) is the CONNECT (version HTTP/2, `connect_protocol` set), and
/// [`slot`](Self::slot) is a registry entry of the stream's own
/// ([`ConnectionSlot::stream_slot`]), to be registered and kept as above. The HTTP/2
/// connection actor goes on serving the connection's other streams.
#[derive(Debug)]
#[non_exhaustive]
pub struct Upgraded {
    /// The transport, positioned right after the request that asked for the switch.
    pub io: UpgradedIo,
    /// Bytes already read past that request: the start of the new protocol's stream.
    pub read_buf: BytesMut,
    /// The request that asked for the switch (its `Upgrade`, `Sec-WebSocket-*` fields).
    pub head: RequestHead,
    /// The connection's entry in the server's registry and its `max_connections` permit.
    pub slot: ConnectionSlot,
    /// The client's address (before `xheaders`).
    pub peer: SocketAddr,
}

/// A switch decided: the 101 is in the write buffer; once it is flushed the connection hands
/// these to the callback.
pub(crate) struct Switch {
    /// The request that asked for it.
    pub(crate) head: RequestHead,
    /// The service's callback.
    pub(crate) on_upgrade: super::response::OnUpgrade,
}
