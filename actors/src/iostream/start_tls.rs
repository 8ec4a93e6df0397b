//! `IoStream::start_tls`: a plain stream upgraded to TLS in place (Tornado's
//! `IOStream.start_tls`), as SMTP's STARTTLS, IMAP, XMPP and PostgreSQL need: the protocol
//! agrees in plain text to switch, then both sides run the handshake on the same connection.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::StreamError;
use super::close::CloseState;
use super::limits::StreamLimits;
use super::read_buffer::ReadBuffer;
use super::stream::IoStream;
use super::transport::Owned;
use super::write_buffer::WriteBuffer;
use crate::tls::{HandshakeError, TlsClientConfig, TlsServerConfig, TlsStream};

/// Why a stream could not switch to TLS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartTlsError {
    /// Bytes were read past the switch (the peer spoke before the handshake, or pipelined):
    /// they would belong to neither side. Tornado refuses the same way.
    #[error("{0} bytes read but not consumed before start_tls")]
    PendingRead(usize),
    /// The stream is closed (or split).
    #[error("the stream is closed")]
    Closed,
    /// Sending what was queued before the switch failed.
    #[error("flushing before start_tls: {0}")]
    Flush(#[from] StreamError),
    /// The TLS handshake failed (or took longer than the server config's handshake timeout).
    #[error("TLS handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// The server-side handshake failed.
    #[error("TLS handshake: {0}")]
    Io(#[from] std::io::Error),
}

impl<S: AsyncRead + AsyncWrite + Unpin> IoStream<S> {
    /// Upgrades this plain stream to TLS as the client (Tornado's `start_tls(False,
    /// ssl_options, server_hostname)`): what was written is flushed first, then the handshake
    /// runs with `server_hostname` as SNI and the name checked against the certificate, as
    /// `tls` says. The new stream keeps this one's limits.
    ///
    /// Nothing may be read but unconsumed ([`StartTlsError::PendingRead`]): switch right
    /// after reading the peer's go-ahead (`220 Ready to start TLS`).
    pub async fn start_tls(
        mut self,
        server_hostname: &str,
        tls: &TlsClientConfig,
    ) -> Result<IoStream<TlsStream<S>>, StartTlsError> {
        let (plain, reader, writer) = self.take_for_tls().await?;
        let secured = tls.handshake(server_hostname, plain).await?;
        Ok(IoStream::rebuilt(secured, reader, writer))
    }

    /// Upgrades this plain stream to TLS as the server (Tornado's `start_tls(True,
    /// ssl_options)`), within the config's handshake timeout; otherwise as
    /// [`start_tls`](Self::start_tls).
    pub async fn start_tls_server(
        mut self,
        tls: &TlsServerConfig,
    ) -> Result<IoStream<TlsStream<S>>, StartTlsError> {
        let (plain, reader, writer) = self.take_for_tls().await?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(tls.rustls()));
        let accepted = tokio::time::timeout(tls.handshake_timeout(), acceptor.accept(plain))
            .await
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timed out")
            })??;
        let secured = TlsStream::new(tokio_rustls::TlsStream::Server(accepted));
        Ok(IoStream::rebuilt(secured, reader, writer))
    }

    /// Flushes, checks nothing is left unread, and takes the transport and the buffers (with
    /// their limits) out, leaving this stream closed.
    async fn take_for_tls(&mut self) -> Result<(S, ReadBuffer, WriteBuffer), StartTlsError> {
        self.flush().await?;
        let unread = self.read_buffer_len();
        if unread > 0 {
            return Err(StartTlsError::PendingRead(unread));
        }
        let plain = self.transport.0.take().ok_or(StartTlsError::Closed)?;
        let limits = StreamLimits::default();
        let reader = std::mem::replace(&mut self.reader, ReadBuffer::new(&limits));
        let writer = std::mem::replace(&mut self.writer, WriteBuffer::new(&limits));
        Ok((plain, reader, writer))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> IoStream<T> {
    /// A stream over `transport` with the (empty) buffers of the stream it replaces.
    fn rebuilt(transport: T, reader: ReadBuffer, writer: WriteBuffer) -> Self {
        IoStream {
            transport: Owned(Some(transport)),
            reader,
            writer,
            close: CloseState::new(),
        }
    }
}
