//! The queue of exchanges: delivering each request to the service as an
//! [`HttpRequestMessage`] with a writer, and polling the work the service returns.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite};

use super::super::message::HttpRequestMessage;
use super::super::path_args::PathArgs;
use super::super::request::HttpServerRequest;
use super::super::response::{HttpResponse, OnUpgrade, ResponseStream, ResponseWriter};
use super::super::sent::SentHook;
use super::super::service::HttpService;
use super::{ExchangeLoop, log_panic};
use crate::h1::{BodyEncoder, ResponseContext};

/// A work future in a box that is reused for later requests, so that pending work costs an
/// allocation only the first time a connection has some.
pub(super) type FutureSlot<F> = Pin<Box<Option<F>>>;

/// Answer channels kept for reuse per connection; more only happens with deep pipelining.
const SPARE_ANSWERS: usize = 4;

/// One request from its head to the end of its answer, in the queue of answers.
pub(super) struct Exchange<F> {
    /// Matches the exchange whose body is being read.
    pub(super) id: u64,
    /// Version, HEAD and keep-alive facts for the encoder.
    pub(super) context: ResponseContext,
    /// Send `100 Continue` once this exchange is first in line and its body is still unread.
    pub(super) continue_pending: bool,
    /// Close the connection after this answer (a panic, a body error after the answer began).
    pub(super) close_after: bool,
    /// The writer's `on_sent` callback, taken with the answer's first event; fires when the
    /// exchange is dropped, with the status of the head sent (if one was).
    pub(super) sent: Option<SentHook>,
    /// Where its answer stands.
    pub(super) state: State<F>,
}

pub(super) enum State<F> {
    /// The body is still being collected; the service is not called yet.
    Collecting,
    /// Delivered: the answer arrives through the writer, read from `answer`.
    Answering {
        /// The service's work, polled until done; `None` once it is.
        work: Option<FutureSlot<F>>,
        /// The receiving end of the request's writer.
        answer: ResponseStream,
        /// Frames a streamed body once its head is written.
        encoder: Option<BodyEncoder>,
    },
    /// An answer of the connection's own (400, 408, 413, 500...), waiting for its turn.
    Whole(HttpResponse),
    /// A switch to another protocol, waiting for its turn and for the request's body to end.
    Upgrade {
        /// The 101's header fields.
        response: HttpResponse,
        /// Takes the connection over.
        on_upgrade: OnUpgrade,
    },
}

impl<F> State<F> {
    /// Whether the answer is still being computed: cancelled if the client leaves.
    pub(super) fn computing(&self) -> bool {
        match self {
            State::Collecting => true,
            State::Answering { work, answer, .. } => work.is_some() || !answer.writer_gone(),
            State::Whole(_) | State::Upgrade { .. } => false,
        }
    }

    /// Whether a streamed answer's head went out.
    pub(super) fn started(&self) -> bool {
        matches!(
            self,
            State::Answering {
                encoder: Some(_),
                ..
            }
        )
    }
}

/// The answer of the connection's own to a broken exchange: 500.
pub(super) fn internal_error<F>() -> State<F> {
    State::Whole(HttpResponse::new(StatusCode::INTERNAL_SERVER_ERROR))
}

impl<S: HttpService, T: AsyncRead + AsyncWrite + Unpin> ExchangeLoop<S, T> {
    /// Runs `call` on the service, catching a panic (`None`).
    pub(super) fn call_guarded<R>(&self, call: impl FnOnce(&S) -> R) -> Option<R> {
        let service = &*self.service;
        match catch_unwind(AssertUnwindSafe(|| call(service))) {
            Ok(result) => Some(result),
            Err(panic) => {
                log_panic(self.peer, &*panic);
                None
            }
        }
    }

    /// A writer for the next request and the stream its answer arrives on, on a reused
    /// channel when there is one.
    fn new_answer(&mut self) -> (ResponseWriter, ResponseStream) {
        match self.spare_answers.pop() {
            Some(answer) => (answer.writer(), answer),
            None => ResponseWriter::channel(),
        }
    }

    /// Keeps `answer`'s channel for a later request if its writer is gone.
    pub(super) fn recycle_answer(&mut self, mut answer: ResponseStream) {
        if self.spare_answers.len() < SPARE_ANSWERS && answer.reset_if_unshared() {
            self.spare_answers.push(answer);
        }
    }

    /// Delivers `request` to the service with a fresh writer, and polls the work it returns
    /// once: most handlers answer at once, and then the work's box goes back to the spares.
    /// Returns the exchange's state and whether the service panicked (its writer, dropped
    /// with the message, then answers 500).
    pub(super) fn call(
        &mut self,
        request: HttpServerRequest,
        cx: &mut TaskContext<'_>,
    ) -> (State<S::Future>, bool) {
        let (writer, answer) = self.new_answer();
        let message = HttpRequestMessage {
            request,
            path_args: PathArgs::default(),
            writer,
        };
        let mut slot = self.spare.pop().unwrap_or_else(|| Box::pin(None));
        // The work is built straight into its box: it holds the request, and moving it there
        // afterwards would copy both.
        let called = self.call_guarded(|service| slot.as_mut().set(Some(service.call(message))));
        if called.is_none() {
            self.spare.push(slot);
            return (answering(None, answer), true);
        }
        match poll_slot(&mut slot, cx, self.peer) {
            Poll::Pending => (answering(Some(slot), answer), false),
            Poll::Ready(outcome) => {
                slot.as_mut().set(None);
                self.spare.push(slot);
                (answering(None, answer), !outcome)
            }
        }
    }

    /// The common case, answered without queueing: a bodyless request with no answer ahead of
    /// it, answered whole at once. The answer goes straight into the write buffer; anything
    /// else becomes an exchange as usual (returned with whether the service panicked).
    pub(super) fn call_and_answer(
        &mut self,
        request: HttpServerRequest,
        context: &ResponseContext,
        cx: &mut TaskContext<'_>,
    ) -> Option<(State<S::Future>, bool)> {
        let (state, panicked) = self.call(request, cx);
        let State::Answering {
            work,
            mut answer,
            encoder: None,
        } = state
        else {
            return Some((state, panicked));
        };
        // Most answers come whole with their writer gone: the channel is then ours alone, and
        // is taken from and reset without its lock.
        let (whole, reset) = match answer.take_whole_unshared() {
            Some(whole) => (Some(whole), true),
            None => (answer.take_whole(), false),
        };
        let Some(whole) = whole else {
            return Some((
                State::Answering {
                    work,
                    answer,
                    encoder: None,
                },
                panicked,
            ));
        };
        self.refresh_date();
        let mut sent = None;
        let close = super::answer::encode_taken(
            whole,
            context,
            &mut sent,
            &mut self.encoded_defaults,
            &self.date,
            &mut self.stream,
        );
        // Dropping the hook reports the status sent.
        drop(sent);
        if let Some(work) = work {
            self.background.push(work);
        }
        if !reset {
            self.recycle_answer(answer);
        } else if self.spare_answers.len() < SPARE_ANSWERS {
            self.spare_answers.push(answer);
        }
        self.answered += 1;
        if close || panicked {
            self.closing = true;
            self.accepting = false;
        }
        None
    }

    /// Polls the work in flight (each exchange's, and what runs on after its answer), then
    /// moves answers that are next in line into the write buffer. Returns whether anything
    /// happened.
    pub(super) fn poll_exchanges(&mut self, cx: &mut TaskContext<'_>) -> bool {
        let mut progress = false;
        let peer = self.peer;
        for exchange in &mut self.queue {
            if let State::Answering { work, .. } = &mut exchange.state
                && let Some(slot) = work
                && let Poll::Ready(outcome) = poll_slot(slot, cx, peer)
            {
                progress = true;
                if !outcome {
                    exchange.close_after = true;
                }
                if let Some(mut slot) = work.take() {
                    slot.as_mut().set(None);
                    self.spare.push(slot);
                }
            }
        }
        if !self.background.is_empty() {
            progress |= self.poll_background(cx);
        }
        progress | self.write_answers(cx)
    }

    /// Polls work that outlived its answer; drops what finished.
    fn poll_background(&mut self, cx: &mut TaskContext<'_>) -> bool {
        let peer = self.peer;
        let before = self.background.len();
        let mut index = 0;
        while index < self.background.len() {
            if poll_slot(&mut self.background[index], cx, peer).is_ready() {
                let mut slot = self.background.swap_remove(index);
                slot.as_mut().set(None);
                self.spare.push(slot);
            } else {
                index += 1;
            }
        }
        self.background.len() != before
    }
}

/// An exchange's state once its request is delivered.
fn answering<F>(work: Option<FutureSlot<F>>, answer: ResponseStream) -> State<F> {
    State::Answering {
        work,
        answer,
        encoder: None,
    }
}

/// Polls a work future, catching a panic: `Ready(true)` when it finished, `Ready(false)` when it
/// panicked (logged). A slot already emptied is finished.
pub(super) fn poll_slot<F: Future<Output = ()>>(
    slot: &mut FutureSlot<F>,
    cx: &mut TaskContext<'_>,
    peer: SocketAddr,
) -> Poll<bool> {
    let Some(future) = slot.as_mut().as_pin_mut() else {
        return Poll::Ready(true);
    };
    match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(())) => Poll::Ready(true),
        Err(panic) => {
            log_panic(peer, &*panic);
            // The work, and the writer it held, go: the client gets 500 or a cut answer.
            slot.as_mut().set(None);
            Poll::Ready(false)
        }
    }
}
