//! Timeouts: what the connection waits for (a head, a body, an idle keep-alive, a client that
//! does not read, the linger before the close) and the one timer armed for it.

use std::future::Future;
use std::task::{Context as TaskContext, Poll};

use http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::super::service::HttpService;
use super::ExchangeLoop;

/// What the connection is waiting for when its timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    /// The client to read what we wrote.
    Write,
    /// More body bytes.
    Body,
    /// The rest of a request head.
    Head,
    /// A first request, or the next one on a kept-alive connection.
    Idle,
    /// The client to close after our last answer.
    Linger,
}

impl<S: HttpService, T: AsyncRead + AsyncWrite + Unpin> ExchangeLoop<S, T> {
    /// What the connection waits for now, and until when.
    pub(super) fn waiting_for(&self) -> Option<(Wait, Instant)> {
        let options = &self.options;
        if let Some(until) = self.linger {
            return Some((Wait::Linger, until));
        }
        if self.stream.write_buffer_len() > 0 {
            return Some((Wait::Write, self.last_write + options.write_timeout));
        }
        if self.reading.is_some() {
            if self.body_blocked || !self.decoder.is_reading_body() {
                return None;
            }
            return Some((Wait::Body, self.last_read + options.body_timeout));
        }
        if !self.queue.is_empty() || !self.accepting {
            return None;
        }
        if let Some(started) = self.head_started {
            return Some((Wait::Head, started + options.header_timeout));
        }
        if self.answered == 0 {
            return Some((Wait::Idle, self.started + options.header_timeout));
        }
        Some((
            Wait::Idle,
            self.last_read.max(self.last_write) + options.idle_connection_timeout,
        ))
    }

    /// Whether the deadline of the current wait has passed; otherwise the timer is armed for it.
    pub(super) fn poll_timer(&mut self, cx: &mut TaskContext<'_>) -> bool {
        let Some((_, deadline)) = self.waiting_for() else {
            return false;
        };
        if deadline <= self.now() {
            return true;
        }
        if deadline < self.armed || self.timer.is_elapsed() {
            self.timer.as_mut().reset(deadline);
            self.armed = deadline;
            self.timer_waker = None;
        } else if self
            .timer_waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            // Armed for no later than the deadline and already holding this task's waker:
            // polling it again (every time the connection goes idle) would change nothing.
            return false;
        }
        loop {
            match self.timer.as_mut().poll(cx) {
                Poll::Pending => {
                    self.timer_waker = Some(cx.waker().clone());
                    return false;
                }
                Poll::Ready(()) => {
                    // Fired for an older, earlier deadline: re-arm for the current one.
                    if deadline <= Instant::now() {
                        return true;
                    }
                    self.timer.as_mut().reset(deadline);
                    self.armed = deadline;
                }
            }
        }
    }

    /// Acts on an expired wait. Returns whether the connection ends now.
    pub(super) fn on_timeout(&mut self) -> bool {
        let Some((wait, _)) = self.waiting_for() else {
            return false;
        };
        tracing::debug!(peer = %self.peer, ?wait, "connection timeout");
        match wait {
            Wait::Write | Wait::Idle | Wait::Linger => true,
            Wait::Body => {
                self.fail_body(Some(StatusCode::REQUEST_TIMEOUT));
                false
            }
            Wait::Head => {
                self.push_error(StatusCode::REQUEST_TIMEOUT, None);
                self.closing_after_queue();
                self.head_started = None;
                false
            }
        }
    }
}
