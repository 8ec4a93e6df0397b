//! Taking requests in: decoding heads and body pieces from the read buffer, collecting a
//! buffered body or streaming it to the handler with flow control, and the connection's own
//! answers to requests it cannot take (400, 408, 413, 417, 431...).

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::{Bytes, BytesMut};
use futures::Sink;
use futures::channel::mpsc;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, HeaderValue};
use http::{HeaderMap, StatusCode, Version};
use tokio::io::{AsyncRead, AsyncWrite};

use super::super::body::{BodyItem, RequestBody};
use super::super::decompress::{DecompressError, Decompressor};
use super::super::error::RequestBodyError;
use super::super::request::HttpServerRequest;
use super::super::response::HttpResponse;
use super::super::service::HttpService;
use super::super::xheaders;
use super::ExchangeLoop;
use super::exchange::{Exchange, State, internal_error};
use crate::h1::{BodyFraming, Event, Expectation, ParseError, RequestHead, ResponseContext};

/// The request whose body is being read.
pub(super) struct Reading {
    /// Its exchange's id.
    pub(super) id: u64,
    /// Where the body goes.
    sink: BodySink,
    /// Inflates a gzip body when `decompress_request` is on. Boxed: the inflater is large, rare, and `Reading` is set and taken for every request.
    decompressor: Option<Box<Decompressor>>,
    /// Whether another request may follow this one.
    keep_alive: bool,
    /// A second sender to a streaming handler's queue: each sender of the channel owns one
    /// guaranteed slot, so the final error (or the inflater's tail) gets through even when the
    /// queue is full, and a broken body is never mistaken for a complete one.
    last_word: Option<mpsc::Sender<BodyItem>>,
}

enum BodySink {
    /// A buffered handler: the body is collected, then the handler is called with it (the
    /// request waits in [`ExchangeLoop::waiting`]).
    Buffer(BodyBuffer),
    /// A streaming handler: pieces go to its queue; `None` once it dropped the stream.
    Stream(Option<mpsc::Sender<BodyItem>>),
}

/// A body collected without a copy when it arrives in one piece.
#[derive(Default)]
struct BodyBuffer {
    /// The only piece so far.
    first: Option<Bytes>,
    /// All pieces, once there is more than one.
    joined: BytesMut,
}

impl BodyBuffer {
    fn push(&mut self, data: Bytes) {
        if self.joined.is_empty() {
            match self.first.take() {
                None => self.first = Some(data),
                Some(first) => {
                    self.joined.reserve(first.len() + data.len());
                    self.joined.extend_from_slice(&first);
                    self.joined.extend_from_slice(&data);
                }
            }
        } else {
            self.joined.extend_from_slice(&data);
        }
    }

    fn finish(self) -> Bytes {
        match self.first {
            Some(first) => first,
            None => self.joined.freeze(),
        }
    }
}

/// A request that asked to switch protocols.
pub(super) struct UpgradeCandidate {
    /// Its exchange's id.
    pub(super) id: u64,
    /// Its head, for the new protocol's handshake (the service owns the request itself).
    pub(super) head: RequestHead,
}

impl<S: HttpService, T: AsyncRead + AsyncWrite + Unpin> ExchangeLoop<S, T> {
    /// Decodes what the read buffer holds, as far as the pipeline cap and the body queue
    /// allow. Returns whether anything happened.
    pub(super) fn decode(&mut self, cx: &mut TaskContext<'_>) -> bool {
        if self.preface_check && !self.check_preface() {
            self.update_head_clock();
            return false;
        }
        let mut progress = false;
        self.body_blocked = false;
        loop {
            if self.decoder.is_reading_body() {
                if self.reading.is_none() && !self.accepting {
                    // A body nobody will use, on a connection about to close.
                    break;
                }
                if let Some(Reading {
                    sink: BodySink::Stream(Some(sender)),
                    ..
                }) = &mut self.reading
                {
                    match Pin::new(sender).poll_ready(cx) {
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(_)) => {
                            // The handler dropped the stream: read on, discarding.
                            if let Some(reading) = &mut self.reading {
                                reading.sink = BodySink::Stream(None);
                            }
                        }
                        Poll::Pending => {
                            self.body_blocked = true;
                            break;
                        }
                    }
                }
            } else if !self.accepting
                || self.closing
                || self.upgrade_candidate.is_some()
                || self.stream.read_buffer_len() == 0
                || self.queue.len() >= self.options.max_pipelined_requests.max(1)
                || self.stream.write_buffer_len() >= self.options.max_write_buffer_size
            {
                break;
            }
            match self.decoder.decode(self.stream.read_buffer_mut()) {
                Ok(None) => break,
                Ok(Some(Event::Head(head))) => self.on_head(head, cx),
                Ok(Some(Event::Data(data))) => self.on_data(data),
                Ok(Some(Event::End { trailers })) => self.on_end(trailers, cx),
                Err(error) => {
                    self.on_parse_error(&error);
                    progress = true;
                    break;
                }
            }
            progress = true;
        }
        self.update_head_clock();
        progress
    }

    /// With h2c on, tells an HTTP/2 client by its first bytes. Returns whether decoding may go
    /// on as HTTP/1.1: not while the bytes so far are a prefix of the preface (the rest
    /// decides), and not once the whole preface is in (the loop ends and hands the connection
    /// to HTTP/2).
    fn check_preface(&mut self) -> bool {
        let read = self.stream.read_buffer_len();
        let preface = &super::super::http2::PREFACE[..];
        let buffer = &self.stream.read_buffer_mut()[..];
        if buffer.starts_with(preface) {
            self.preface_check = false;
            self.http2 = true;
            return false;
        }
        if read == 0 || preface.starts_with(buffer) {
            return read == 0;
        }
        // Not the preface: HTTP/1.1 from here on.
        self.preface_check = false;
        true
    }

    /// Starts the header timeout when the first byte of a head is waiting, stops it otherwise.
    fn update_head_clock(&mut self) {
        let partial_head = !self.decoder.is_reading_body() && self.stream.read_buffer_len() > 0;
        match (partial_head, self.head_started) {
            (true, None) => self.head_started = Some(self.now()),
            (false, Some(_)) => self.head_started = None,
            _ => {}
        }
    }

    fn on_head(&mut self, head: RequestHead, cx: &mut TaskContext<'_>) {
        // Boxed first and read from the box: every move of the ~220-byte head on the way to
        // its box was a copy (~30 instructions each, callgrind). The read that completed the
        // head: its clock read serves every request it carried.
        let mut request = HttpServerRequest::new(
            head,
            self.last_read.into_std(),
            self.peer,
            self.peer.ip(),
            self.protocol,
            self.options.form_limits,
        );
        let head = request.head_mut();
        let id = self.next_id;
        self.next_id += 1;
        let mut context = head.response_context();
        if self.options.no_keep_alive || !self.accepting {
            context.keep_alive = false;
        }
        let keep_alive = context.keep_alive;
        if head.expectation == Expectation::Unsupported {
            // 417, then close: the client may send its body anyway, and it is not framed for us.
            self.push_error(StatusCode::EXPECTATION_FAILED, Some(context.version));
            self.accepting = false;
            self.closing_after_queue();
            return;
        }
        let expects_continue = head.expects_continue();
        // RFC 9110 §7.8: an Upgrade in an HTTP/1.0 request is ignored.
        if head.upgrade && head.version == Version::HTTP_11 {
            self.upgrade_candidate = Some(UpgradeCandidate {
                id,
                head: head.clone(),
            });
        }
        let decompressor = self.decompressor_for(head);
        // Most requests (every GET) have no body: call the handler now rather than park the
        // request until the body's end, which would move it twice more.
        let bodyless = head.framing == BodyFraming::Length(0) && decompressor.is_none();
        if self.options.xheaders {
            let remote_ip = xheaders::remote_ip(
                head.headers(),
                self.peer.ip(),
                &self.options.trusted_downstream,
            );
            let protocol = xheaders::protocol(head.headers(), self.protocol);
            request.set_origin(remote_ip, protocol);
        }
        let stream_body = self.call_guarded(|service| service.stream_request_body(&request));
        let mut last_word = None;
        let (state, sink, close_after) = match stream_body {
            Some(true) => {
                let (sender, body) = RequestBody::channel(self.options.body_queue_chunks);
                last_word = Some(sender.clone());
                request.set_body_stream(body);
                let (state, panicked) = self.call(request, cx);
                (state, BodySink::Stream(Some(sender)), panicked)
            }
            Some(false) if bodyless => {
                let nothing_ahead = self.queue.is_empty()
                    && self.upgrade_candidate.is_none()
                    && self.stream.write_buffer_len() < self.options.max_write_buffer_size;
                let queued = if nothing_ahead {
                    self.call_and_answer(request, &context, cx)
                } else {
                    Some(self.call(request, cx))
                };
                let Some((state, panicked)) = queued else {
                    // Answered, nothing to queue; only the (empty) body's end is left to decode.
                    // (An early return: folding this into the queueing below costs the common
                    // case an extra move of the exchange's parts.)
                    self.reading = Some(Reading {
                        id,
                        sink: BodySink::Stream(None),
                        decompressor: None,
                        keep_alive,
                        last_word: None,
                    });
                    return;
                };
                (state, BodySink::Stream(None), panicked)
            }
            Some(false) => {
                self.waiting = Some(request);
                (
                    State::Collecting,
                    BodySink::Buffer(BodyBuffer::default()),
                    false,
                )
            }
            None => (internal_error(), BodySink::Stream(None), true),
        };
        self.queue.push_back(Exchange {
            id,
            context,
            continue_pending: expects_continue,
            close_after,
            sent: None,
            state,
        });
        self.reading = Some(Reading {
            id,
            sink,
            decompressor,
            keep_alive,
            last_word,
        });
    }

    /// A gzip inflater for this body if `decompress_request` is on and the body is gzip; the
    /// head is changed as Tornado does (no `Content-Encoding`, `X-Consumed-Content-Encoding`).
    fn decompressor_for(&self, head: &mut RequestHead) -> Option<Box<Decompressor>> {
        if !self.options.decompress_request {
            return None;
        }
        let gzip = head
            .headers()
            .get(CONTENT_ENCODING)
            .is_some_and(|coding| coding.as_bytes().eq_ignore_ascii_case(b"gzip"));
        if !gzip {
            return None;
        }
        head.headers_mut().remove(CONTENT_ENCODING);
        head.headers_mut().insert(
            "x-consumed-content-encoding",
            HeaderValue::from_static("gzip"),
        );
        Some(Box::new(Decompressor::new(
            self.options.limits.max_body_size,
        )))
    }

    fn on_data(&mut self, data: Bytes) {
        self.last_read = self.now();
        let Some(reading) = &mut self.reading else {
            return;
        };
        let data = match &mut reading.decompressor {
            None => data,
            Some(inflater) => match inflater.feed(&data) {
                Ok(data) => data,
                Err(error) => return self.fail_body(Some(decompress_status(error))),
            },
        };
        if data.is_empty() {
            return;
        }
        match &mut reading.sink {
            BodySink::Buffer(body) => body.push(data),
            BodySink::Stream(sender) => {
                if let Some(channel) = sender
                    && channel.start_send(BodyItem::Data(data)).is_err()
                {
                    *sender = None;
                }
            }
        }
    }

    /// The body is complete: hands a buffered request to its handler, or ends a streaming
    /// handler's queue (with the trailer fields, if any, as its last item).
    fn on_end(&mut self, trailers: Option<HeaderMap>, cx: &mut TaskContext<'_>) {
        let Some(mut reading) = self.reading.take() else {
            return;
        };
        if let Some(inflater) = &mut reading.decompressor {
            match inflater.finish() {
                Ok(rest) if !rest.is_empty() => match &mut reading.sink {
                    BodySink::Buffer(body) => body.push(rest),
                    BodySink::Stream(Some(_)) => {
                        if let Some(last_word) = &mut reading.last_word {
                            let _ = last_word.try_send(BodyItem::Data(rest));
                        }
                    }
                    BodySink::Stream(None) => {}
                },
                Ok(_) => {}
                Err(error) => {
                    self.reading = Some(reading);
                    return self.fail_body(Some(decompress_status(error)));
                }
            }
        }
        if !reading.keep_alive {
            self.accepting = false;
        }
        match reading.sink {
            BodySink::Stream(Some(mut sender)) => {
                // The decode loop waited for this sender to have room before it decoded the
                // end, so the trailers fit; the second sender's own slot is the fallback.
                // Dropping the senders then ends the handler's stream.
                if let Some(trailers) = trailers
                    && let Err(error) = sender.try_send(BodyItem::Trailers(Box::new(trailers)))
                    && let Some(last_word) = &mut reading.last_word
                {
                    let _ = last_word.try_send(error.into_inner());
                }
            }
            BodySink::Stream(None) => {}
            BodySink::Buffer(body) => {
                let Some(mut request) = self.waiting.take() else {
                    return;
                };
                let body = body.finish();
                if reading.decompressor.is_some() {
                    request
                        .head_mut()
                        .headers_mut()
                        .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
                }
                request.set_body(body);
                if let Some(trailers) = trailers {
                    request.set_trailers(trailers);
                }
                let (state, panicked) = self.call(request, cx);
                if let Some(exchange) = self.queue.iter_mut().rev().find(|e| e.id == reading.id) {
                    exchange.state = state;
                    exchange.close_after |= panicked;
                }
            }
        }
    }

    /// A head the decoder refused: answer its status (after the answers before it) and close.
    fn on_parse_error(&mut self, error: &ParseError) {
        let answer = error.response();
        tracing::debug!(peer = %self.peer, %error, status = %answer.status, "bad request");
        if self.reading.is_some() {
            self.fail_body(Some(answer.status));
        } else {
            self.push_error(answer.status, None);
        }
        self.accepting = false;
        self.stream.read_buffer_mut().clear();
    }

    /// The body being read broke off: tell a streaming handler, answer `status` if the answer
    /// has not begun (none when the client is gone), and close after.
    pub(super) fn fail_body(&mut self, status: Option<StatusCode>) {
        self.accepting = false;
        let Some(reading) = self.reading.take() else {
            return;
        };
        self.waiting = None;
        if let (BodySink::Stream(Some(_)), Some(mut sender)) = (reading.sink, reading.last_word) {
            let error = match status {
                Some(StatusCode::REQUEST_TIMEOUT) => RequestBodyError::Timeout,
                Some(status) => RequestBodyError::Invalid { status },
                None => RequestBodyError::Incomplete,
            };
            let _ = sender.try_send(BodyItem::Failed(error));
        }
        let Some(position) = self.queue.iter().position(|e| e.id == reading.id) else {
            return;
        };
        let exchange = &mut self.queue[position];
        exchange.close_after = true;
        exchange.continue_pending = false;
        let started = exchange.state.started();
        match status {
            Some(status) if !started => {
                exchange.state = State::Whole(HttpResponse::new(status));
                exchange.context.keep_alive = false;
            }
            // The answer has begun: it ends when the handler ends it, then the connection closes.
            Some(_) => {}
            None if !matches!(exchange.state, State::Collecting) => {
                // Nobody to answer, but a streaming handler runs on to see the error.
            }
            None => {
                // Nobody to answer and no handler yet: forget the exchange.
                self.queue.remove(position);
            }
        }
    }

    /// Queues an error answer (empty body, `Connection: close`).
    pub(super) fn push_error(&mut self, status: StatusCode, version: Option<Version>) {
        let id = self.next_id;
        self.next_id += 1;
        self.queue.push_back(Exchange {
            id,
            context: ResponseContext {
                version: version.unwrap_or(Version::HTTP_11),
                head_request: false,
                keep_alive: false,
            },
            continue_pending: false,
            close_after: true,
            sent: None,
            state: State::Whole(HttpResponse::new(status)),
        });
    }

    /// After the queued answers, close (no more decoding).
    pub(super) fn closing_after_queue(&mut self) {
        self.accepting = false;
        self.stream.read_buffer_mut().clear();
    }
}

fn decompress_status(error: DecompressError) -> StatusCode {
    match error {
        DecompressError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        DecompressError::Invalid => StatusCode::BAD_REQUEST,
    }
}
