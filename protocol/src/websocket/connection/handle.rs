//! [`WebSocket`]: the cloneable, `Send` handle through which any actor on any thread writes to
//! a connection, through the connection actor's bounded mailbox.

use std::fmt;

use actix::prelude::*;
use bytes::Bytes;
use cyclone_actors::registry::ConnectionControl;
use tokio::sync::oneshot;

use super::super::Message;
use super::super::close::{CloseCode, CloseFrame};
use super::super::error::WebSocketError;
use super::WebSocketConnection;

/// A message for the peer, from a [`WebSocket`] handle.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Outgoing {
    /// What to send.
    pub(super) message: Message,
    /// Told when it is written.
    pub(super) flushed: Option<oneshot::Sender<Result<(), WebSocketError>>>,
}

/// Asks a connection what it holds.
#[derive(Message)]
#[rtype(result = "WebSocketStats")]
pub(super) struct Stats;

/// What a connection holds right now, from [`WebSocket::stats`]: its own memory accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebSocketStats {
    /// permessage-deflate was negotiated.
    pub compressed: bool,
    /// zlib memory the connection holds (by the estimate in [`DeflateConfig`]'s docs): 0
    /// between messages without context takeover, the default, since the loop lends contexts
    /// per message; about 300 KiB at 15-bit windows with context takeover.
    ///
    /// [`DeflateConfig`]: super::super::DeflateConfig
    pub compression_memory: usize,
    /// Encoded bytes queued for the peer and not yet written.
    pub write_queue: usize,
}

/// A cloneable, `Send` handle on a connection: any actor on any thread writes to the peer
/// through it (rooms keep one per member).
#[derive(Clone)]
pub struct WebSocket {
    /// The connection actor's mailbox (bounded by `mailbox_capacity`).
    pub(super) addr: Addr<WebSocketConnection>,
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("connected", &self.addr.connected())
            .finish()
    }
}

impl WebSocket {
    /// Queues `message` (waiting while the mailbox is full) and resolves once it has been
    /// written to the socket: await it for backpressure (Tornado's `write_message` future).
    pub async fn write_message(&self, message: Message) -> Result<(), WebSocketError> {
        let (sender, receiver) = oneshot::channel();
        self.addr
            .send(Outgoing {
                message,
                flushed: Some(sender),
            })
            .await
            .map_err(|_| WebSocketError::Closed)?;
        receiver.await.unwrap_or(Err(WebSocketError::Closed))
    }

    /// Queues `message` without waiting: fails with [`WebSocketError::Full`] when the
    /// connection's mailbox is full (a broadcast skips a slow member) and
    /// [`WebSocketError::Closed`] when it is gone.
    pub fn try_write(&self, message: Message) -> Result<(), WebSocketError> {
        self.addr
            .try_send(Outgoing {
                message,
                flushed: None,
            })
            .map_err(|error| match error {
                SendError::Full(_) => WebSocketError::Full,
                SendError::Closed(_) => WebSocketError::Closed,
            })
    }

    /// Sends a ping (payload cut to 125 bytes) without waiting.
    pub fn ping(&self, data: impl Into<Bytes>) -> Result<(), WebSocketError> {
        self.try_write(Message::Ping(data.into()))
    }

    /// Starts the close handshake with `code` and `reason` (Tornado's `close`); the
    /// connection ends once the peer answers or `close_timeout` passes. Delivered even into a
    /// full mailbox.
    pub fn close(&self, code: CloseCode, reason: impl Into<String>) {
        self.addr.do_send(Outgoing {
            message: Message::Close(Some(CloseFrame::new(code, reason))),
            flushed: None,
        });
    }

    /// What the connection holds right now (compression state, write queue), asked through
    /// its mailbox (waiting while it is full). Fails with [`WebSocketError::Closed`] when it is
    /// gone.
    pub async fn stats(&self) -> Result<WebSocketStats, WebSocketError> {
        self.addr
            .send(Stats)
            .await
            .map_err(|_| WebSocketError::Closed)
    }

    /// Whether the connection actor is still alive.
    pub fn is_connected(&self) -> bool {
        self.addr.connected()
    }

    /// Drops the connection at once, without a close handshake.
    pub fn abort(&self) {
        self.addr.do_send(ConnectionControl::Close);
    }
}
