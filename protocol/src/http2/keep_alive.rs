//! [`KeepAlive`]: the PINGs that find a peer which is gone without a word: a client of the
//! server (`Http2Config::keep_alive_interval`) or a server the client's fetches wait on
//! (`ClientOptions::http2_keep_alive_interval`).

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use h2::{Ping, PingPong};
use tokio::time::{Instant, Sleep};

/// One connection's keep-alive: a PING after `interval` of silence, the connection's end if
/// its answer takes longer than `timeout`.
#[derive(Debug)]
pub(crate) struct KeepAlive {
    /// The connection's user PINGs (one in flight at a time).
    pings: PingPong,
    /// Silence from the peer before a PING.
    interval: Duration,
    /// Longest wait for the PING's answer.
    timeout: Duration,
    /// When the peer last sent bytes (set by the transport, [`Watched`](super::Watched)).
    last_read: Rc<Cell<Instant>>,
    /// Whether a PING is in flight.
    awaiting_pong: bool,
    /// The next deadline: the PING's due time, or the answer's.
    timer: Pin<Box<Sleep>>,
}

impl KeepAlive {
    pub(crate) fn new(
        pings: PingPong,
        interval: Duration,
        timeout: Duration,
        last_read: Rc<Cell<Instant>>,
    ) -> Self {
        let due = last_read.get() + interval;
        KeepAlive {
            pings,
            interval,
            timeout,
            last_read,
            awaiting_pong: false,
            timer: Box::pin(tokio::time::sleep_until(due)),
        }
    }

    /// Sends the PING when it is due; `Ready` once its answer is late (close the connection).
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.awaiting_pong {
                match self.pings.poll_pong(cx) {
                    Poll::Ready(Ok(_)) => {
                        self.awaiting_pong = false;
                        continue;
                    }
                    // The connection is broken; polling it reports why and ends it.
                    Poll::Ready(Err(_)) => return Poll::Pending,
                    Poll::Pending => return self.timer.as_mut().poll(cx),
                }
            }
            let due = self.last_read.get() + self.interval;
            if Instant::now() < due {
                if self.timer.deadline() != due {
                    self.timer.as_mut().reset(due);
                }
                if self.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                // The timer fired at `due`: the clock has reached it too.
            }
            if self.pings.send_ping(Ping::opaque()).is_err() {
                // Only while the connection is closing: nothing left to keep alive.
                return Poll::Pending;
            }
            self.awaiting_pong = true;
            self.timer.as_mut().reset(Instant::now() + self.timeout);
        }
    }
}
