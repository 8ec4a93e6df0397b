//! Moving answers into the write buffer: in request order, from each exchange's writer (whole,
//! streamed, or a protocol switch), or the connection's own error answers.

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use cyclone_actors::iostream::IoStream;
use http::header::HeaderValue;
use http::{HeaderMap, StatusCode, Version};
use tokio::io::{AsyncRead, AsyncWrite};

use super::super::response::{
    EntityTag, HttpResponse, ResponseEvent, Whole, add_defaults, empty_header_map,
};
use super::super::sent::SentHook;
use super::super::service::HttpService;
use super::super::upgrade::Switch;
use super::ExchangeLoop;
use super::exchange::State;
use crate::h1::{
    BodyEncoder, BodyLength, CONTINUE_100, DateCache, EncodeError, EncodedDefaults,
    ResponseContext, encode_response_head_cached, encode_response_head_with_defaults,
};

/// What moving one exchange's answer came to.
enum Outcome {
    /// The answer is not (all) there yet, or the write buffer is full.
    Waiting,
    /// The answer is complete; close the connection after it if `true`.
    Done(bool),
    /// The state changed (a switch taken from the writer): look at the exchange again.
    Again,
}

impl<S: HttpService, T: AsyncRead + AsyncWrite + Unpin> ExchangeLoop<S, T> {
    /// Brings the cached `Date` up to date, once per poll: every answer a poll encodes shares
    /// one clock read.
    pub(super) fn refresh_date(&mut self) {
        if !self.date_fresh {
            self.date.refresh();
            self.date_fresh = true;
        }
    }

    /// Encodes the answers that are next in line, in order, into the write buffer.
    pub(super) fn write_answers(&mut self, cx: &mut TaskContext<'_>) -> bool {
        let mut progress = false;
        if !self.queue.is_empty() {
            self.refresh_date();
        }
        while !self.queue.is_empty() {
            if self.stream.write_buffer_len() >= self.options.max_write_buffer_size {
                break;
            }
            if self.send_continue() {
                progress = true;
            }
            let close = match self.advance_front(cx) {
                Outcome::Waiting => break,
                Outcome::Again => continue,
                Outcome::Done(close) => close,
            };
            if self.switch.is_some() {
                // The 101 is in the buffer: nothing after it is HTTP.
                self.accepting = false;
                self.queue.clear();
                self.answered += 1;
                return true;
            }
            progress = true;
            let Some(exchange) = self.queue.pop_front() else {
                break;
            };
            let close = close || exchange.close_after;
            if self
                .upgrade_candidate
                .as_ref()
                .is_some_and(|candidate| candidate.id == exchange.id)
            {
                // Answered without a switch: what follows is HTTP after all, and its header
                // clock starts now, not when it arrived behind the paused request.
                self.upgrade_candidate = None;
                self.head_started = None;
            }
            self.retire(exchange);
            self.answered += 1;
            if close {
                self.closing = true;
                self.accepting = false;
                self.queue.clear();
                self.reading = None;
                self.waiting = None;
                break;
            }
        }
        progress
    }

    /// Writes `100 Continue` for the first exchange if it waits for one and its body is still
    /// unread. Returns whether it did.
    fn send_continue(&mut self) -> bool {
        let Some(exchange) = self.queue.front_mut() else {
            return false;
        };
        if !exchange.continue_pending {
            return false;
        }
        exchange.continue_pending = false;
        let body_unread = self.reading.as_ref().is_some_and(|r| r.id == exchange.id);
        if body_unread {
            self.stream
                .write_buffer_mut()
                .extend_from_slice(CONTINUE_100);
        }
        body_unread
    }

    /// Moves as much of the first exchange's answer as there is into the write buffer.
    fn advance_front(&mut self, cx: &mut TaskContext<'_>) -> Outcome {
        let reading_id = self.reading.as_ref().map(|reading| reading.id);
        let body_open = !self.decoder.is_closed();
        let max_write = self.options.max_write_buffer_size;
        let Some(exchange) = self.queue.front_mut() else {
            return Outcome::Waiting;
        };
        let body_unread = reading_id == Some(exchange.id);
        match &mut exchange.state {
            State::Collecting => Outcome::Waiting,
            State::Whole(_) => {
                if body_unread && exchange.context.version == Version::HTTP_11 && body_open {
                    // Answered before its body was read: the client may or may not send it
                    // now, so the next request's start is unknown. Close after.
                    exchange.close_after = true;
                }
                let State::Whole(response) =
                    std::mem::replace(&mut exchange.state, State::Collecting)
                else {
                    return Outcome::Waiting;
                };
                note_head(&mut exchange.sent, response.status());
                Outcome::Done(encode_whole(
                    &exchange.context,
                    response,
                    None,
                    None,
                    None,
                    &self.date,
                    &mut self.stream,
                ))
            }
            State::Upgrade { .. } => {
                if body_unread {
                    // The client speaks the new protocol only after the whole request.
                    return Outcome::Waiting;
                }
                self.switch_front()
            }
            State::Answering {
                answer, encoder, ..
            } => {
                if exchange.sent.is_none()
                    && let Some(callback) = answer.take_on_sent()
                {
                    exchange.sent = Some(SentHook::new(callback));
                }
                // An answer that came whole after its work ran (an async handler's), its
                // writer gone: taken without the lock, with the application's default fields
                // and the ETag beside its map, as an answer made at once is (`poll_event`
                // would insert them into the map: a hashed insert each and an allocation for
                // the tag).
                if encoder.is_none()
                    && let Some(whole) = answer.take_whole_unshared()
                {
                    if body_unread && exchange.context.version == Version::HTTP_11 && body_open {
                        exchange.close_after = true;
                    }
                    return Outcome::Done(encode_taken(
                        whole,
                        &exchange.context,
                        &mut exchange.sent,
                        &mut self.encoded_defaults,
                        &self.date,
                        &mut self.stream,
                    ));
                }
                while self.stream.write_buffer_len() < max_write {
                    let event = match answer.poll_event(cx) {
                        Poll::Pending => return Outcome::Waiting,
                        Poll::Ready(event) => event,
                    };
                    match event {
                        Some(ResponseEvent::Whole(response)) => {
                            if body_unread
                                && exchange.context.version == Version::HTTP_11
                                && body_open
                            {
                                exchange.close_after = true;
                            }
                            note_head(&mut exchange.sent, response.status());
                            return Outcome::Done(encode_whole(
                                &exchange.context,
                                response,
                                None,
                                None,
                                encoder.as_mut(),
                                &self.date,
                                &mut self.stream,
                            ));
                        }
                        Some(ResponseEvent::Head(status, headers)) => {
                            if encoder.is_none() {
                                note_head(&mut exchange.sent, status);
                                let reason = answer.take_reason();
                                *encoder = Some(encode_response_head_cached(
                                    &exchange.context,
                                    status,
                                    reason.as_deref(),
                                    &headers,
                                    BodyLength::Streaming,
                                    &self.date,
                                    self.stream.write_buffer_mut(),
                                ));
                            }
                            crate::h1::recycle_boxed(headers);
                        }
                        Some(ResponseEvent::Data(data)) => {
                            let encoder = encoder.get_or_insert_with(|| {
                                note_head(&mut exchange.sent, StatusCode::OK);
                                encode_response_head_cached(
                                    &exchange.context,
                                    StatusCode::OK,
                                    None,
                                    &http::HeaderMap::new(),
                                    BodyLength::Streaming,
                                    &self.date,
                                    self.stream.write_buffer_mut(),
                                )
                            });
                            if queue_data(encoder, data, &mut self.stream).is_err() {
                                return Outcome::Done(true);
                            }
                        }
                        Some(event @ (ResponseEvent::End | ResponseEvent::Trailers(_))) => {
                            let trailers = match &event {
                                ResponseEvent::Trailers(trailers) => Some(&**trailers),
                                _ => None,
                            };
                            let close = match encoder {
                                Some(encoder) => {
                                    encoder
                                        .encode_end(trailers, self.stream.write_buffer_mut())
                                        .is_err()
                                        || encoder.must_close()
                                }
                                None => {
                                    note_head(&mut exchange.sent, StatusCode::OK);
                                    encode_whole(
                                        &exchange.context,
                                        HttpResponse::ok(),
                                        None,
                                        None,
                                        None,
                                        &self.date,
                                        &mut self.stream,
                                    )
                                }
                            };
                            return Outcome::Done(close);
                        }
                        Some(ResponseEvent::Upgrade(response, on_upgrade)) => {
                            if encoder.is_some() {
                                // A switch after a streamed head cannot happen through the
                                // writer's API; treat it as a broken answer.
                                return Outcome::Done(true);
                            }
                            exchange.state = State::Upgrade {
                                response,
                                on_upgrade,
                            };
                            return Outcome::Again;
                        }
                        None => {
                            // The writer was dropped unfinished: 500 if nothing was sent yet,
                            // else the answer is cut and the connection closes.
                            if encoder.is_none() {
                                note_head(&mut exchange.sent, StatusCode::INTERNAL_SERVER_ERROR);
                                encode_whole(
                                    &exchange.context,
                                    HttpResponse::new(StatusCode::INTERNAL_SERVER_ERROR),
                                    None,
                                    None,
                                    None,
                                    &self.date,
                                    &mut self.stream,
                                );
                            }
                            return Outcome::Done(true);
                        }
                    }
                }
                Outcome::Waiting
            }
        }
    }

    /// The first exchange answered with a protocol switch, its body read: write the 101 and
    /// keep the switch for when it is flushed, or refuse it with 500 (not asked for, a broken
    /// exchange) or 503 (during a graceful shutdown).
    fn switch_front(&mut self) -> Outcome {
        let shutting_down = self.shutdown.requested.get();
        let Some(exchange) = self.queue.front_mut() else {
            return Outcome::Waiting;
        };
        let State::Upgrade {
            mut response,
            on_upgrade,
        } = std::mem::replace(&mut exchange.state, State::Collecting)
        else {
            return Outcome::Waiting;
        };
        let candidate = self
            .upgrade_candidate
            .take_if(|candidate| candidate.id == exchange.id);
        let head = match candidate {
            Some(candidate) if !exchange.close_after && !shutting_down => candidate.head,
            candidate => {
                let status = if candidate.is_some() && !exchange.close_after {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                };
                tracing::warn!(peer = %self.peer, %status, "protocol switch refused");
                exchange.close_after = true;
                exchange.state = State::Whole(HttpResponse::new(status));
                return Outcome::Again;
            }
        };
        let headers = response.headers_mut();
        if !headers.contains_key(http::header::CONNECTION) {
            headers.insert(
                http::header::CONNECTION,
                HeaderValue::from_static("upgrade"),
            );
        }
        note_head(&mut exchange.sent, StatusCode::SWITCHING_PROTOCOLS);
        encode_response_head_cached(
            &exchange.context,
            StatusCode::SWITCHING_PROTOCOLS,
            None,
            response.headers(),
            BodyLength::Known(0),
            &self.date,
            self.stream.write_buffer_mut(),
        );
        self.switch = Some(Switch { head, on_upgrade });
        Outcome::Done(false)
    }

    /// An exchange whose answer is complete leaves the queue: work still running goes on in
    /// the background, its answer channel is kept for reuse, its `on_sent` hook fires.
    fn retire(&mut self, mut exchange: super::exchange::Exchange<S::Future>) {
        let state = std::mem::replace(&mut exchange.state, State::Collecting);
        if let State::Answering { work, answer, .. } = state {
            if let Some(work) = work {
                self.background.push(work);
            }
            self.recycle_answer(answer);
        }
    }
}

/// Records the status of the head an exchange's answer went out with (the first one counts:
/// a head already sent is not replaced by what follows it).
pub(super) fn note_head(sent: &mut Option<SentHook>, status: StatusCode) {
    if let Some(hook) = sent {
        hook.head_sent(status);
    }
}

/// Body pieces at least this large are queued as they are instead of copied into the write
/// buffer: past a few KiB, one more slice in a vectored write is cheaper than the copy. 4 KiB.
const SHARE_BODY_FROM: usize = 4 * 1024;

/// Encodes a whole answer taken from its channel: the application's default fields from the
/// connection's encoded lines (`slots`) and the ETag beside the map, as every whole answer of
/// an `Application` is written. `sent` gets the answer's `on_sent` hook, if it has one, and
/// the status sent. Returns whether the connection must close after it.
///
/// Inlined: a call here, with its seven arguments spilled, cost the at-once path ~30
/// instructions a request (`bench/callgrind.sh pipelined`).
#[inline(always)]
pub(super) fn encode_taken<T: AsyncRead + AsyncWrite + Unpin>(
    whole: Whole,
    context: &ResponseContext,
    sent: &mut Option<SentHook>,
    slots: &mut [Option<EncodedDefaults>; 2],
    date: &DateCache,
    stream: &mut IoStream<T>,
) -> bool {
    let Whole {
        response,
        defaults,
        etag,
        on_sent,
    } = whole;
    if let Some(callback) = on_sent {
        *sent = Some(SentHook::new(callback));
    }
    note_head(sent, response.status());
    encode_whole(
        context,
        response,
        defaults.map(|defaults| encoded(slots, defaults)),
        etag.as_ref(),
        None,
        date,
        stream,
    )
}

/// The entry of `slots` holding `defaults`' encoded lines, encoding them into the entry used
/// less recently if neither holds them.
fn encoded(slots: &mut [Option<EncodedDefaults>; 2], defaults: Arc<HeaderMap>) -> &EncodedDefaults {
    let held = |slot: &Option<EncodedDefaults>| {
        slot.as_ref()
            .is_some_and(|encoded| encoded.is_for(&defaults))
    };
    let index = match slots.iter().position(held) {
        Some(index) => index,
        None => {
            // The newer entry moves to the second slot; the older one goes.
            slots.swap(0, 1);
            slots[0] = None;
            0
        }
    };
    slots[index].get_or_insert_with(|| EncodedDefaults::new(defaults))
}

/// Frames and queues one body piece: copied into the write buffer when small, queued as it is
/// when large.
pub(super) fn queue_data<T: AsyncRead + AsyncWrite + Unpin>(
    encoder: &mut BodyEncoder,
    data: Bytes,
    stream: &mut IoStream<T>,
) -> Result<(), EncodeError> {
    if data.len() < SHARE_BODY_FROM {
        return encoder.encode_data(&data, stream.write_buffer_mut());
    }
    if let Some((data, suffix)) = encoder.encode_data_shared(data, stream.write_buffer_mut())? {
        stream.push_write(data);
        stream.write_buffer_mut().extend_from_slice(suffix);
    }
    Ok(())
}

/// Encodes a whole answer (or, after a streamed head, its body and end) into the stream's
/// write queue. Returns whether the connection must close after it.
///
/// `defaults` (the writer's default header fields, not yet among the answer's) are written
/// after the answer's own fields where it lacks them, straight into the head: a map insert per
/// answer saved on the path every `Application` answer takes.
pub(super) fn encode_whole<T: AsyncRead + AsyncWrite + Unpin>(
    context: &ResponseContext,
    mut response: HttpResponse,
    defaults: Option<&EncodedDefaults>,
    etag: Option<&EntityTag>,
    started: Option<&mut BodyEncoder>,
    date: &DateCache,
    stream: &mut IoStream<T>,
) -> bool {
    let reason = response.take_reason();
    let fields = defaults.and_then(EncodedDefaults::fields);
    if let Some(defaults) = defaults
        && fields.is_none()
    {
        // Fields the encoder reads (framing, `Connection`, `Date`), or too many to track:
        // into the map, as any other reader of the answer gets them.
        add_defaults(response.headers_mut(), defaults.map());
    }
    let (status, headers, body) = response.into_parts_if_any();
    let mut fresh;
    let encoder = match started {
        Some(encoder) => encoder,
        None => {
            fresh = encode_response_head_with_defaults(
                context,
                status,
                reason.as_deref(),
                headers.as_deref().unwrap_or_else(|| empty_header_map()),
                fields,
                etag.map(EntityTag::as_bytes),
                BodyLength::Known(body.len() as u64),
                date,
                stream.write_buffer_mut(),
            );
            &mut fresh
        }
    };
    if let Some(headers) = headers {
        crate::h1::recycle_boxed(headers);
    }
    let failed = queue_data(encoder, body, stream).is_err()
        || encoder.encode_end(None, stream.write_buffer_mut()).is_err();
    failed || encoder.must_close()
}
