//! Serving a Unix domain socket (Tornado's `bind_unix_socket` + `add_socket`): the same limits,
//! registry and shutdown as TCP sockets, with the connections' peer address `0.0.0.0:0` (a
//! Unix socket has no IP address; Tornado reports `0.0.0.0` too).

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};

use super::ServeConnection;
use super::accept::Shared;

/// The peer address a Unix socket's connections report.
pub(super) const UNIX_PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// Accepts connections on `listener` until the server stops, as the TCP accept loop does:
/// each waits for a `max_connections` permit and gets a registry slot.
pub(super) async fn unix_accept_loop<F: ServeConnection<UnixStream>>(
    listener: std::os::unix::net::UnixListener,
    shared: Arc<Shared<F>>,
    mut stop: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
) {
    let listener = match UnixListener::from_std(listener) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, "cannot watch the Unix socket; not accepting on it");
            return;
        }
    };
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.wait_for(|stopped| *stopped) => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::error!(%error, "accept on a Unix socket failed; pausing");
                tokio::select! {
                    biased;
                    _ = stop.wait_for(|stopped| *stopped) => break,
                    () = tokio::time::sleep(shared.accept_error_backoff) => {}
                }
                continue;
            }
        };
        let permit = tokio::select! {
            biased;
            _ = stop.wait_for(|stopped| *stopped) => break,
            permit = shared.permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
        };
        let slot = shared.registry.open_slot(UNIX_PEER, Some(permit));
        if catch_unwind(AssertUnwindSafe(|| {
            shared.factory.serve(stream, UNIX_PEER, slot)
        }))
        .is_err()
        {
            tracing::error!("the connection factory panicked; Unix connection dropped");
        }
    }
}
