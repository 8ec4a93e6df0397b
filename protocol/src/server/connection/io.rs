//! The socket, through the connection's `IoStream`: reading into its read buffer when there
//! is room for what is read, writing its write buffer, the client's end of input, and
//! lingering before the close.

use std::io;
use std::task::{Context as TaskContext, Poll};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::super::service::HttpService;
use super::{ExchangeLoop, LINGER_MAX_DISCARD};

/// Read buffer capacity reserved while waiting for heads; bodies get the server's
/// `chunk_size`. 8 KiB.
const HEAD_READ_CAPACITY: usize = 8 * 1024;

impl<S: HttpService, T: AsyncRead + AsyncWrite + Unpin> ExchangeLoop<S, T> {
    /// Writes what the stream has queued (flushing TLS once it is all out). Returns whether
    /// bytes moved; errors end the connection.
    pub(super) fn poll_write(&mut self, cx: &mut TaskContext<'_>) -> io::Result<bool> {
        match self.stream.poll_send(cx) {
            Poll::Ready(Ok(moved)) => {
                if moved {
                    self.last_write = self.now();
                }
                Ok(moved)
            }
            Poll::Ready(Err(error)) => Err(error),
            Poll::Pending => Ok(false),
        }
    }

    /// The time as of this poll (one clock read per poll).
    pub(super) fn now(&mut self) -> Instant {
        *self.clock.get_or_insert_with(Instant::now)
    }

    /// Reads if there is room for what is read. Returns whether anything happened.
    pub(super) fn poll_read(&mut self, cx: &mut TaskContext<'_>) -> io::Result<bool> {
        let reading_body = self.decoder.is_reading_body();
        let room = !self.read_closed
            && !self.closing
            && (self.accepting || self.reading.is_some())
            && !self.body_blocked
            && self.stream.write_buffer_len() < self.options.max_write_buffer_size
            && (reading_body
                || (self.upgrade_candidate.is_none()
                    && self.queue.len() < self.options.max_pipelined_requests.max(1)));
        if !room || self.read_blocked {
            return Ok(false);
        }
        let want = if reading_body {
            self.options.chunk_size.max(1024)
        } else {
            HEAD_READ_CAPACITY
        };
        match self.stream.poll_fill(cx, want) {
            Poll::Pending => {
                self.read_blocked = true;
                Ok(false)
            }
            Poll::Ready(Ok(0)) => {
                self.on_eof();
                Ok(true)
            }
            Poll::Ready(Ok(_)) => {
                self.last_read = self.now();
                Ok(true)
            }
            Poll::Ready(Err(error)) => Err(error),
        }
    }

    /// The client closed its sending side: answer what is complete, drop what is not.
    ///
    /// As in Tornado, a client that closed is gone: answers already computed are still written
    /// (a client that only half-closed gets them), but handlers still computing theirs (a long
    /// poll, say) are cancelled now rather than when they first write, so that the web layer's
    /// `on_connection_close` runs at once. Answers queued behind a cancelled one cannot be sent
    /// in order and go too. A handler still reading the request body is not cancelled: its
    /// body stream ends with an error, which tells it.
    fn on_eof(&mut self) {
        self.read_closed = true;
        self.accepting = false;
        let body_failed = self.reading.as_ref().map(|reading| reading.id);
        if self.reading.is_some() {
            self.fail_body(None);
        }
        self.stream.read_buffer_mut().clear();
        let computing = self
            .queue
            .iter()
            .position(|exchange| Some(exchange.id) != body_failed && exchange.state.computing());
        if let Some(first) = computing {
            if self.upgrade_candidate.as_ref().is_some_and(|candidate| {
                self.queue.iter().skip(first).any(|e| e.id == candidate.id)
            }) {
                self.upgrade_candidate = None;
            }
            // Dropping the exchanges drops the handlers' work (and their writers' streams).
            self.queue.truncate(first);
            self.reading = None;
            self.waiting = None;
            tracing::debug!(peer = %self.peer, "client closed; unfinished handlers cancelled");
        }
    }

    /// Closing: shut the write side, then discard reads until the client closes or the linger
    /// time or byte budget runs out.
    pub(super) fn poll_linger(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        if self.stream.poll_shutdown(cx).is_pending() {
            return self.linger_wait(cx);
        }
        while !self.read_closed && self.discarded < LINGER_MAX_DISCARD {
            self.stream.read_buffer_mut().clear();
            match self.stream.poll_fill(cx, HEAD_READ_CAPACITY) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => self.read_closed = true,
                Poll::Ready(Ok(read)) => self.discarded += read,
                Poll::Pending => return self.linger_wait(cx),
            }
        }
        Poll::Ready(Ok(()))
    }

    fn linger_wait(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        if self.poll_timer(cx) {
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    }
}
