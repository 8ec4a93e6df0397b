//! The accept loop one worker runs per listening socket.
//!
//! It accepts *before* taking a `max_connections` permit: with `SO_REUSEPORT` each worker has
//! its own kernel queue, and a worker that took the last permit while its own queue was empty
//! would sit on it while another worker's queue held the waiting client. Accepting first means
//! only workers with a client in hand compete for permits; the cost is that at the limit each
//! accept loop holds one accepted connection unserved (its client sees the same as a client in
//! the backlog: connected, no answer yet).

use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use super::ServeConnection;
use crate::registry::ConnectionRegistry;

/// What every accept loop of one server shares, whichever worker runs it.
#[derive(Debug)]
pub(super) struct Shared<F> {
    /// Starts the actor that owns each accepted connection.
    pub(super) factory: Arc<F>,
    /// Where each accepted connection is listed.
    pub(super) registry: ConnectionRegistry,
    /// One permit per allowed live connection (`max_connections`), shared by all workers.
    pub(super) permits: Arc<Semaphore>,
    /// How long to stop accepting after an error such as `EMFILE`, so the loop neither spins
    /// nor dies while the process is out of descriptors.
    pub(super) accept_error_backoff: Duration,
}

/// Accepts from `listener` until the server says stop (or is dropped), handing each connection
/// to the factory on this thread. Dropping the listener on return closes this worker's socket.
pub(super) async fn accept_loop<F: ServeConnection>(
    listener: std::net::TcpListener,
    shared: Arc<Shared<F>>,
    mut stop: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
) {
    let local = listener.local_addr().ok();
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(?local, %error, "cannot watch the listening socket; not accepting on it");
            return;
        }
    };
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.wait_for(|stopped| *stopped) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_per_connection(&error) => {
                tracing::debug!(?local, %error, "a connection failed before it was accepted");
                continue;
            }
            Err(error) => {
                tracing::error!(
                    ?local, %error, backoff = ?shared.accept_error_backoff,
                    "accept failed; pausing before the next accept"
                );
                tokio::select! {
                    biased;
                    _ = stop.wait_for(|stopped| *stopped) => break,
                    () = tokio::time::sleep(shared.accept_error_backoff) => {}
                }
                continue;
            }
        };
        // At the limit this waits, holding this one connection unserved, and accepts nothing
        // more: later clients queue in the kernel's backlog.
        let permit = tokio::select! {
            biased;
            _ = stop.wait_for(|stopped| *stopped) => break,
            permit = shared.permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
        };
        hand_over(&shared, stream, peer, permit);
    }
    tracing::debug!(?local, "stopped accepting");
}

/// Gives an accepted connection its slot and its actor, on this worker's thread.
fn hand_over<F: ServeConnection>(
    shared: &Shared<F>,
    stream: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
) {
    let slot = shared.registry.open_slot(peer, Some(permit));
    let id = slot.id();
    // A factory that panics loses this connection, not the worker's accept loop.
    if catch_unwind(AssertUnwindSafe(|| {
        shared.factory.serve(stream, peer, slot)
    }))
    .is_err()
    {
        tracing::error!(%peer, %id, "the connection factory panicked; connection dropped");
    }
}

/// Errors that concern only the connection being accepted, not the listening socket: accept
/// the next one at once.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}
