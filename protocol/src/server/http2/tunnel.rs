//! [`Tunnel`]: an extended CONNECT (RFC 8441, WebSocket over HTTP/2) waiting for its answer,
//! and its hand-over to the upgrade callback once answered 200, with the stream as the
//! WebSocket connection actor's transport ([`StreamIo`], shared with the client).

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::{Bytes, BytesMut};
use cyclone_actors::panics::panic_message;
use cyclone_actors::registry::ConnectionSlot;
use h2::{RecvStream, SendStream};

use super::super::response::OnUpgrade;
use super::super::upgrade::{Upgraded, UpgradedIo};
use crate::h1::RequestHead;
use crate::http2::StreamIo;

/// An extended CONNECT waiting for its answer: what the WebSocket needs once it is accepted.
pub(crate) struct Tunnel {
    /// The stream's DATA frames from the client: the WebSocket's bytes, not a body, so they are
    /// left unread until the answer is known.
    pub(crate) recv: RecvStream,
    /// The request, for [`Upgraded::head`].
    pub(crate) head: RequestHead,
}

impl Tunnel {
    /// Hands the stream, answered 200 with `send` open, to the writer's callback, as an
    /// HTTP/1.1 connection hands its socket over after a 101. The WebSocket actor the callback
    /// starts gets a registry slot of its own ([`ConnectionSlot::stream_slot`]), so a shutdown
    /// reaches it. A callback that panics loses this stream (reset), not the connection.
    pub(crate) fn hand_over(
        self,
        send: SendStream<Bytes>,
        slot: &ConnectionSlot,
        peer: SocketAddr,
        on_upgrade: OnUpgrade,
    ) {
        let upgraded = Upgraded {
            io: UpgradedIo::new(StreamIo::new(self.recv, send)),
            read_buf: BytesMut::new(),
            head: self.head,
            slot: slot.stream_slot(),
            peer,
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(move || on_upgrade(upgraded))) {
            let message = panic_message(&*panic);
            tracing::error!(%peer, panic = message, "upgrade callback panicked; stream closed");
        }
    }
}
