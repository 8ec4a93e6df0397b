//! One HTTP/2 request stream: its request built as an HTTP/1.1 one is, delivered to the
//! service as the one [`HttpRequestMessage`], its body (buffered or streamed) and its answer
//! read from the writer's [`ResponseStream`] and sent as HEADERS and DATA frames.
//!
//! # Flow control
//!
//! - Request bodies: window space goes back to the client only once the body bytes are taken
//!   (buffered within `max_body_size`, or accepted by a streaming handler's bounded queue), so
//!   a stream's upload held in the server is bounded by its window plus that queue.
//! - Answers: each DATA piece waits for window capacity from `h2`
//!   (`reserve_capacity`/`poll_capacity`, itself bounded by the config's
//!   `max_send_buffer_size`) before the next event is taken from the writer, whose queue holds
//!   at most [`RESPONSE_QUEUE_CHUNKS`](crate::server::RESPONSE_QUEUE_CHUNKS) events: a handler
//!   writing faster than the client reads waits in `flush`.

use std::cell::RefCell;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use cyclone_actors::registry::ConnectionSlot;
use futures::channel::mpsc;
use futures::future::Either;
use futures::{FutureExt, SinkExt};
use h2::server::SendResponse;
use h2::{Reason, RecvStream, SendStream};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri, Version};

use super::super::body::{BodyItem, RequestBody};
use super::super::decompress::{DecompressError, Decompressor};
use super::super::error::RequestBodyError;
use super::super::message::HttpRequestMessage;
use super::super::options::HttpServerOptions;
use super::super::path_args::PathArgs;
use super::super::request::HttpServerRequest;
use super::super::response::{
    HttpResponse, OnUpgrade, ResponseEvent, ResponseStream, ResponseWriter,
};
use super::super::sent::SentHook;
use super::super::service::HttpService;
use super::super::xheaders;
use super::Signal;
use super::tunnel::Tunnel;
use crate::h1::{BodyFraming, DateCache, RequestHead};

/// What every stream of one connection shares.
pub(crate) struct StreamContext<S> {
    /// The worker's service.
    pub(crate) service: Rc<S>,
    /// The client's address.
    pub(crate) peer: SocketAddr,
    /// `"http"` or `"https"`, before `xheaders`.
    pub(crate) protocol: &'static str,
    /// The `Date` value, formatted once a second.
    pub(crate) date: RefCell<DateCache>,
    /// `date` as a header value, made again when it changes: a clone of it is a reference
    /// count, where a new value per answer was a copy and a check of its bytes.
    pub(crate) date_value: RefCell<Option<HeaderValue>>,
    /// The server's settings.
    pub(crate) options: Arc<HttpServerOptions>,
    /// The connection's registry slot (the actor owns it; this future lives inside the actor):
    /// a WebSocket opened on a stream gets its own slot from it.
    pub(crate) slot: Rc<ConnectionSlot>,
    /// The actor's signals: a WebSocket is refused during a graceful shutdown.
    pub(crate) signal: Rc<Signal>,
}

impl<S> StreamContext<S> {
    /// The current `Date` value.
    fn date_value(&self) -> Option<HeaderValue> {
        let mut date = self.date.borrow_mut();
        date.refresh();
        let mut cached = self.date_value.borrow_mut();
        if let Some(value) = &*cached
            && value.as_bytes() == date.as_bytes()
        {
            return Some(value.clone());
        }
        let value = HeaderValue::from_bytes(date.as_bytes()).ok()?;
        *cached = Some(value.clone());
        Some(value)
    }
}

/// Serves one request stream to its end: the handler's work, the body's intake and the answer
/// run side by side, so a handler may answer before it reads the body, and go on after.
///
/// The request is taken in by a plain function first ([`take_in`]), and only what the rest
/// needs goes into the future: a future keeps an argument (the `h2` request, 240 bytes) and
/// every local that might still be read after an await for its whole life, and each stream's
/// future is moved into its box whole once per request (it was 2 096 bytes; a third of the
/// server's first-level data-cache write misses under h2load was that copy).
pub(crate) fn serve_stream<S: HttpService>(
    context: Rc<StreamContext<S>>,
    request: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) -> impl Future<Output = ()> {
    let taken = take_in(&context, request, &mut respond);
    serve_taken(context, respond, taken)
}

/// A request stream taken in: its request, and how its body or tunnel goes on.
struct Taken {
    /// The request as handlers see it.
    request: HttpServerRequest,
    /// What follows the head.
    rest: Rest,
    /// A `HEAD` request: the answer's body is not sent.
    head_request: bool,
    /// The body arrives gzipped and is inflated.
    gzip: bool,
}

/// What follows a request's head on its stream.
enum Rest {
    /// No body: the HEADERS frame ended the stream.
    Nothing,
    /// A body to collect before the handler is called.
    Collect(BodyReader),
    /// A body streamed to the handler as it arrives (the pump that feeds it).
    Stream(Pin<Box<dyn Future<Output = ()>>>),
    /// An extended CONNECT's stream, for the WebSocket handler's upgrade callback. Boxed: a
    /// head inline would grow every stream's future.
    Tunnel(Box<Tunnel>),
}

/// Turns `h2`'s request into the one handlers see, answering at once (and returning `None`)
/// what no handler is asked about: another protocol than WebSocket over CONNECT (501), a body
/// declared larger than the limit (413), a handler that panics when asked whether it streams
/// its body (500).
fn take_in<S: HttpService>(
    context: &StreamContext<S>,
    request: Request<RecvStream>,
    respond: &mut SendResponse<Bytes>,
) -> Option<Taken> {
    let options = &context.options;
    let (parts, recv) = request.into_parts();
    // An extended CONNECT (RFC 8441): `h2` admits one only with SETTINGS_ENABLE_CONNECT_PROTOCOL
    // announced, and only as CONNECT with `:scheme` and `:path`.
    let connect_protocol = parts
        .extensions
        .get::<h2::ext::Protocol>()
        .map(|protocol| Box::<str>::from(protocol.as_str()));
    let connect = connect_protocol.is_some();
    if connect_protocol
        .as_deref()
        .is_some_and(|protocol| !protocol.eq_ignore_ascii_case("websocket"))
    {
        // No route speaks any other protocol over a stream.
        answer_status(context, respond, StatusCode::NOT_IMPLEMENTED);
        return None;
    }
    let gzip = !connect
        && options.decompress_request
        && parts
            .headers
            .get(header::CONTENT_ENCODING)
            .is_some_and(|coding| coding.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let head_request = parts.method == Method::HEAD;
    let headers_only = recv.is_end_stream();
    // A tunnel's DATA frames are the new protocol's, not a body: its request has none.
    let mut head = request_head(parts, gzip, connect || headers_only);
    head.connect_protocol = connect_protocol;
    if head
        .content_length
        .is_some_and(|length| length > options.limits.max_body_size)
    {
        // Refused before any of it is read, as HTTP/1.1 does.
        answer_status(context, respond, StatusCode::PAYLOAD_TOO_LARGE);
        return None;
    }
    let (remote_ip, protocol) = if options.xheaders {
        (
            xheaders::remote_ip(
                head.headers(),
                context.peer.ip(),
                &options.trusted_downstream,
            ),
            xheaders::protocol(head.headers(), context.protocol),
        )
    } else {
        (context.peer.ip(), context.protocol)
    };
    let mut request = HttpServerRequest::new(
        head,
        Instant::now(),
        context.peer,
        remote_ip,
        protocol,
        options.form_limits,
    );
    let rest = if connect {
        Rest::Tunnel(Box::new(Tunnel {
            recv,
            head: request.head().clone(),
        }))
    } else {
        let stream_body = match std::panic::catch_unwind(AssertUnwindSafe(|| {
            context.service.stream_request_body(&request)
        })) {
            Ok(stream) => stream,
            Err(_) => {
                tracing::error!(peer = %context.peer, "HTTP handler panicked; answered 500");
                answer_status(context, respond, StatusCode::INTERNAL_SERVER_ERROR);
                return None;
            }
        };
        let body = BodyReader::new(recv, headers_only, gzip, options);
        if stream_body {
            let (sender, stream) = RequestBody::channel(options.body_queue_chunks);
            request.set_body_stream(stream);
            Rest::Stream(Box::pin(body.stream_to(sender)))
        } else if headers_only {
            // A request whose HEADERS ended the stream (a GET) has no body to wait for.
            Rest::Nothing
        } else {
            Rest::Collect(body)
        }
    };
    Some(Taken {
        request,
        rest,
        head_request,
        gzip,
    })
}

/// The rest of [`serve_stream`]: the body collected (if the handler wants it whole), then the
/// handler's work, the streamed body's pump and the answer side by side.
async fn serve_taken<S: HttpService>(
    context: Rc<StreamContext<S>>,
    mut respond: SendResponse<Bytes>,
    taken: Option<Taken>,
) {
    let Some(Taken {
        mut request,
        rest,
        head_request,
        gzip,
    }) = taken
    else {
        return;
    };
    let mut pump = None;
    let mut tunnel = None;
    match rest {
        Rest::Nothing => {}
        Rest::Tunnel(taken) => tunnel = Some(taken),
        Rest::Stream(taken) => pump = Some(taken),
        Rest::Collect(mut body) => {
            // Boxed: only a request with a body waits here, and the wait (a timer among it)
            // inline would grow every stream's future.
            match Box::pin(body.collect()).await {
                Ok(whole) => {
                    if gzip {
                        request
                            .head_mut()
                            .headers_mut()
                            .insert(header::CONTENT_LENGTH, HeaderValue::from(whole.len()));
                    }
                    request.set_body(whole);
                    if let Some(trailers) = body.trailers().await {
                        request.set_trailers(trailers);
                    }
                }
                Err(error) => {
                    let status = match error {
                        RequestBodyError::Invalid { status } => status,
                        RequestBodyError::Timeout => StatusCode::REQUEST_TIMEOUT,
                        // The client reset the stream: nobody to answer.
                        RequestBodyError::Incomplete => return,
                    };
                    return answer_status(&context, &mut respond, status);
                }
            }
        }
    }
    let (writer, answer) = ResponseWriter::channel();
    let message = HttpRequestMessage {
        request,
        path_args: PathArgs::default(),
        writer,
    };
    let peer = context.peer;
    let service = &*context.service;
    let work = match std::panic::catch_unwind(AssertUnwindSafe(|| service.call(message))) {
        Ok(work) => Some(work),
        Err(_) => {
            // The message, and its writer, went with the panic: the answer is 500.
            tracing::error!(%peer, "HTTP handler panicked; answered 500");
            None
        }
    };
    let work = async move {
        if let Some(work) = work
            && AssertUnwindSafe(work).catch_unwind().await.is_err()
        {
            tracing::error!(%peer, "HTTP handler panicked; answered 500");
        }
    };
    let pump = async move {
        if let Some(pump) = pump {
            pump.await;
        }
    };
    let answer = std::pin::pin!(send_answer(&context, answer, respond, head_request, tunnel));
    // `join` itself, not `join!` in an async block, which would hold both futures twice (the
    // block's captures and the macro's slots): the stream's future is moved into its box whole,
    // so every byte of it is copied per request.
    let running = std::pin::pin!(futures::future::join(work, pump));
    match futures::future::select(answer, running).await {
        // Answered: the handler may go on after its answer (as Tornado's may after `finish`).
        Either::Left((Answered::Done, running)) => {
            running.await;
        }
        // The client reset the stream: what still computes its answer is cancelled, as on
        // HTTP/1.1 when the client leaves.
        Either::Left((Answered::Reset, _)) => {}
        Either::Right((((), ()), answer)) => {
            answer.await;
        }
    }
}

/// How an answer ended.
enum Answered {
    /// Sent (or cut short by the writer): the handler's work may go on.
    Done,
    /// The client reset the stream.
    Reset,
}

/// The request head an HTTP/1.1 handler would have seen: origin-form target, `Host` from
/// `:authority`, the version HTTP/2.
fn request_head(parts: http::request::Parts, gzip: bool, ended: bool) -> RequestHead {
    let http::request::Parts {
        method,
        uri,
        mut headers,
        ..
    } = parts;
    if !headers.contains_key(header::HOST)
        && let Some(authority) = uri.authority()
        && let Ok(host) = HeaderValue::from_str(authority.as_str())
    {
        headers.insert(header::HOST, host);
    }
    let uri = match uri.path_and_query() {
        Some(target) => Uri::from(target.clone()),
        None => uri,
    };
    let mut content_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    if gzip {
        // As on HTTP/1.1: the handler sees the inflated body.
        headers.remove(header::CONTENT_ENCODING);
        headers.remove(header::CONTENT_LENGTH);
        headers.insert(
            "x-consumed-content-encoding",
            HeaderValue::from_static("gzip"),
        );
        content_length = None;
    }
    let framing = match content_length {
        Some(length) => BodyFraming::Length(length),
        None if ended => BodyFraming::Length(0),
        // HTTP/2 frames bodies itself; "chunked" is the HTTP/1.1 name for "length unknown".
        None => BodyFraming::Chunked,
    };
    RequestHead::from_parts(
        method,
        uri,
        Version::HTTP_2,
        headers,
        content_length,
        framing,
    )
}

/// A request body as it arrives: held to `max_body_size` (after inflation too) and to
/// `body_timeout` between pieces.
struct BodyReader {
    /// The stream's body.
    recv: RecvStream,
    /// Inflates a gzip body with `decompress_request`. Boxed: the inflater is ~2 KiB, and a
    /// reader held inline made every stream's future 8 KiB, copied twice per request.
    inflater: Option<Box<Decompressor>>,
    /// Bytes received so far.
    received: u64,
    /// `max_body_size`.
    limit: u64,
    /// `body_timeout`.
    timeout: Duration,
    /// The request's HEADERS ended the stream: no body and no trailers to ask for.
    headers_only: bool,
}

impl BodyReader {
    fn new(recv: RecvStream, headers_only: bool, gzip: bool, options: &HttpServerOptions) -> Self {
        let limit = options.limits.max_body_size;
        BodyReader {
            recv,
            inflater: gzip.then(|| Box::new(Decompressor::new(limit))),
            received: 0,
            limit,
            timeout: options.body_timeout,
            headers_only,
        }
    }

    /// The next piece (inflated) with the bytes of window it took, or `None` at the end.
    async fn next(&mut self) -> Result<Option<(Bytes, usize)>, RequestBodyError> {
        loop {
            let data = match tokio::time::timeout(self.timeout, self.recv.data()).await {
                Err(_) => return Err(RequestBodyError::Timeout),
                Ok(None) => {
                    return match self.inflater.as_deref_mut().map(Decompressor::finish) {
                        Some(Ok(rest)) if !rest.is_empty() => Ok(Some((rest, 0))),
                        Some(Err(error)) => Err(invalid(error)),
                        _ => Ok(None),
                    };
                }
                Ok(Some(Err(_))) => return Err(RequestBodyError::Incomplete),
                Ok(Some(Ok(data))) => data,
            };
            let window = data.len();
            self.received += window as u64;
            if self.received > self.limit {
                return Err(RequestBodyError::Invalid {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                });
            }
            let data = match &mut self.inflater {
                None => data,
                Some(inflater) => inflater.feed(&data).map_err(invalid)?,
            };
            if data.is_empty() {
                self.release(window);
                continue;
            }
            return Ok(Some((data, window)));
        }
    }

    /// The trailer fields after the last DATA frame, if the client sent any. Asked once the
    /// body has ended, when `h2` has them already (or knows there are none): no waiting.
    async fn trailers(&mut self) -> Option<HeaderMap> {
        if self.headers_only {
            return None;
        }
        self.recv.trailers().await.ok().flatten()
    }

    /// Gives `window` bytes of window back to the client.
    fn release(&mut self, window: usize) {
        // Fails only once the stream is gone, when there is nothing left to give back.
        let _ = self.recv.flow_control().release_capacity(window);
    }

    /// The whole body.
    async fn collect(&mut self) -> Result<Bytes, RequestBodyError> {
        let mut first: Option<Bytes> = None;
        let mut joined = BytesMut::new();
        while let Some((data, window)) = self.next().await? {
            self.release(window);
            match first.take() {
                None if joined.is_empty() => first = Some(data),
                None => joined.extend_from_slice(&data),
                Some(earlier) => {
                    joined.extend_from_slice(&earlier);
                    joined.extend_from_slice(&data);
                }
            }
        }
        Ok(first.unwrap_or_else(|| joined.freeze()))
    }

    /// Streams the body into a handler's bounded queue, giving window back only as the queue
    /// takes pieces; a broken body ends the queue with its error.
    async fn stream_to(mut self, mut sender: mpsc::Sender<BodyItem>) {
        loop {
            match self.next().await {
                Ok(Some((data, window))) => {
                    if sender.send(BodyItem::Data(data)).await.is_err() {
                        // The handler dropped its stream: refuse the rest of the body.
                        self.recv.flow_control().release_capacity(window).ok();
                        return;
                    }
                    self.release(window);
                }
                Ok(None) => {
                    if let Some(trailers) = self.trailers().await {
                        let _ = sender.send(BodyItem::Trailers(Box::new(trailers))).await;
                    }
                    return;
                }
                Err(error) => {
                    let _ = sender.send(BodyItem::Failed(error)).await;
                    return;
                }
            }
        }
    }
}

/// The body error a failed inflation is.
fn invalid(error: DecompressError) -> RequestBodyError {
    let status = match error {
        DecompressError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        DecompressError::Invalid => StatusCode::BAD_REQUEST,
    };
    RequestBodyError::Invalid { status }
}

/// Answers with `status` and no body (the connection's own answers: 413, 408, 500).
fn answer_status<S>(
    context: &StreamContext<S>,
    respond: &mut SendResponse<Bytes>,
    status: StatusCode,
) {
    let head = response_head(context, status, HeaderMap::new(), Some(0));
    // Fails only if the client reset the stream already.
    let _ = respond.send_response(head, true);
}

/// What the answer pump is waiting for.
enum Next {
    /// The writer's next event (`None`: it is gone).
    Event(Option<ResponseEvent>),
    /// The client reset the stream.
    Reset,
}

/// Reads the answer from the writer and sends it, HEADERS then DATA as the client's window
/// allows; fires the writer's `on_sent` hook (the access log) once it is done. An extended
/// CONNECT's `tunnel` is handed to the writer's upgrade callback if it answers with one.
async fn send_answer<S>(
    context: &StreamContext<S>,
    mut answer: ResponseStream,
    mut respond: SendResponse<Bytes>,
    head_request: bool,
    mut tunnel: Option<Box<Tunnel>>,
) -> Answered {
    let mut sent: Option<SentHook> = None;
    let mut body: Option<SendStream<Bytes>> = None;
    // A HEAD request's answer has its head only; body events are read and dropped.
    let mut head_done = false;
    let write_timeout = context.options.write_timeout;
    loop {
        if sent.is_none()
            && let Some(callback) = answer.take_on_sent()
        {
            sent = Some(SentHook::new(callback));
        }
        let next = poll_fn(|cx| {
            if let Poll::Ready(event) = answer.poll_event(cx) {
                return Poll::Ready(Next::Event(event));
            }
            let reset = match &mut body {
                Some(body) => body.poll_reset(cx),
                None => respond.poll_reset(cx),
            };
            if reset.is_ready() {
                return Poll::Ready(Next::Reset);
            }
            Poll::Pending
        })
        .await;
        let event = match next {
            // Dropping the answer tells the writer the client is gone.
            Next::Reset => return Answered::Reset,
            Next::Event(event) => event,
        };
        let started = body.is_some() || head_done;
        match event {
            Some(ResponseEvent::Whole(response)) => {
                let (status, headers, data) = response.into_boxed_parts();
                if started {
                    // After a streamed head: the body's last piece.
                    if let Some(stream) = &mut body {
                        let _ = send_data(stream, data, true, write_timeout).await;
                    }
                    return Answered::Done;
                }
                note_head(&mut sent, status);
                let length = (!head_request).then_some(data.len() as u64);
                let length = length.or_else(|| {
                    (!headers.contains_key(header::CONTENT_LENGTH)).then_some(data.len() as u64)
                });
                let head = response_head(context, status, *headers, length);
                let bodyless = head_request || data.is_empty() || !has_body(status);
                match respond.send_response(head, bodyless) {
                    Ok(mut stream) if !bodyless => {
                        let _ = send_data(&mut stream, data, true, write_timeout).await;
                    }
                    _ => {}
                }
                return Answered::Done;
            }
            Some(ResponseEvent::Head(status, headers)) => {
                if started {
                    continue;
                }
                note_head(&mut sent, status);
                let head = response_head(context, status, *headers, None);
                let bodyless = head_request || !has_body(status);
                match respond.send_response(head, bodyless) {
                    Ok(stream) if !bodyless => body = Some(stream),
                    Ok(_) => head_done = true,
                    Err(_) => return Answered::Done,
                }
            }
            Some(ResponseEvent::Data(data)) => {
                if !started {
                    note_head(&mut sent, StatusCode::OK);
                    let head = response_head(context, StatusCode::OK, HeaderMap::new(), None);
                    match respond.send_response(head, head_request) {
                        Ok(stream) if !head_request => body = Some(stream),
                        Ok(_) => head_done = true,
                        Err(_) => return Answered::Done,
                    }
                }
                if let Some(stream) = &mut body
                    && send_data(stream, data, false, write_timeout).await.is_err()
                {
                    // The client reset the stream, or opened no window in time.
                    return Answered::Reset;
                }
            }
            Some(event @ (ResponseEvent::End | ResponseEvent::Trailers(_))) => {
                match &mut body {
                    Some(stream) => {
                        let _ = match event {
                            ResponseEvent::Trailers(trailers) => stream.send_trailers(*trailers),
                            _ => stream.send_data(Bytes::new(), true),
                        };
                    }
                    None if !head_done => {
                        note_head(&mut sent, StatusCode::OK);
                        let head =
                            response_head(context, StatusCode::OK, HeaderMap::new(), Some(0));
                        let _ = respond.send_response(head, true);
                    }
                    None => {}
                }
                return Answered::Done;
            }
            Some(ResponseEvent::Upgrade(response, on_upgrade)) if !started && tunnel.is_some() => {
                let Some(tunnel) = tunnel.take() else {
                    return Answered::Done;
                };
                open_tunnel(context, respond, *tunnel, response, on_upgrade, &mut sent);
                return Answered::Done;
            }
            Some(ResponseEvent::Upgrade(..)) => {
                // No protocol switch on an HTTP/2 stream (RFC 9113 §8.6) but the extended
                // CONNECT's: the answer is broken.
                tracing::warn!(peer = %context.peer, "protocol switch asked on HTTP/2; answered 500");
                if !started {
                    note_head(&mut sent, StatusCode::INTERNAL_SERVER_ERROR);
                    answer_status(context, &mut respond, StatusCode::INTERNAL_SERVER_ERROR);
                }
                return Answered::Done;
            }
            None => {
                // The writer was dropped unfinished: 500 if nothing was sent, else the stream
                // is reset (HTTP/1.1 closes the connection instead).
                match &mut body {
                    Some(stream) => stream.send_reset(Reason::INTERNAL_ERROR),
                    None if !head_done => {
                        note_head(&mut sent, StatusCode::INTERNAL_SERVER_ERROR);
                        answer_status(context, &mut respond, StatusCode::INTERNAL_SERVER_ERROR);
                    }
                    None => {}
                }
                return Answered::Done;
            }
        }
    }
}

/// Accepts an extended CONNECT (RFC 8441 §5): `200` with the writer's fields (the 101 an
/// HTTP/1.1 upgrade would send, without what HTTP/2 has no use for: `Upgrade`, `Connection`,
/// `Sec-WebSocket-Accept`), the stream left open, then the stream handed to the writer's
/// callback as the new protocol's transport. During a graceful shutdown the answer is 503, as
/// an HTTP/1.1 upgrade's: a WebSocket opened after the shutdown began would never hear of it.
fn open_tunnel<S>(
    context: &StreamContext<S>,
    mut respond: SendResponse<Bytes>,
    tunnel: Tunnel,
    response: HttpResponse,
    on_upgrade: OnUpgrade,
    sent: &mut Option<SentHook>,
) {
    if context.signal.shutdown.get() {
        note_head(sent, StatusCode::SERVICE_UNAVAILABLE);
        return answer_status(context, &mut respond, StatusCode::SERVICE_UNAVAILABLE);
    }
    let (_, headers, _) = response.into_boxed_parts();
    let mut headers = *headers;
    headers.remove(header::SEC_WEBSOCKET_ACCEPT);
    note_head(sent, StatusCode::OK);
    let head = response_head(context, StatusCode::OK, headers, None);
    // Fails only if the client reset the stream meanwhile: nothing to hand over.
    if let Ok(send) = respond.send_response(head, false) {
        tunnel.hand_over(send, &context.slot, context.peer, on_upgrade);
    }
}

/// Records the status of the head sent (the first one counts).
fn note_head(sent: &mut Option<SentHook>, status: StatusCode) {
    if let Some(hook) = sent {
        hook.head_sent(status);
    }
}

/// Whether an answer with `status` may carry a body (RFC 9110 §6.4.1).
fn has_body(status: StatusCode) -> bool {
    !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED)
}

/// The header fields HTTP/2 forbids (RFC 9113 §8.2.2): the HTTP/1.1 connection's business, not
/// a stream's. An answer carrying them would be refused by `h2`, so they are dropped.
/// Names, not strings: a `&str` key is parsed into a name for each lookup.
const CONNECTION_FIELDS: [HeaderName; 5] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// An answer's head as HTTP/2 sends it: no connection-specific fields, `Date` added, and the
/// body's length when it is known.
fn response_head<S>(
    context: &StreamContext<S>,
    status: StatusCode,
    mut headers: HeaderMap,
    length: Option<u64>,
) -> Response<()> {
    // One walk over the answer's names (most carry none of these) rather than five lookups.
    let mut has_date = false;
    let mut connection_fields = false;
    for name in headers.keys() {
        has_date |= name == header::DATE;
        connection_fields |= CONNECTION_FIELDS.contains(name);
    }
    if connection_fields {
        for name in &CONNECTION_FIELDS {
            headers.remove(name);
        }
    }
    if !has_date && let Some(value) = context.date_value() {
        headers.insert(header::DATE, value);
    }
    match length {
        Some(length) if has_body(status) => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        Some(_) => {
            headers.remove(header::CONTENT_LENGTH);
        }
        None => {}
    }
    let mut response = Response::new(());
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Sends `data` as the client's window allows: each piece waits for capacity, so nothing
/// beyond `max_send_buffer_size` is queued in the connection. A client that gives no window
/// for `timeout` gets the stream reset (`CANCEL`). Fails once the stream is gone.
async fn send_data(
    stream: &mut SendStream<Bytes>,
    data: Bytes,
    end: bool,
    timeout: Duration,
) -> Result<(), ()> {
    if data.is_empty() {
        return if end {
            stream.send_data(data, true).map_err(drop)
        } else {
            Ok(())
        };
    }
    stream.reserve_capacity(data.len());
    // `h2` assigns what the windows allow at once: the common case (a small answer into an
    // open window) sends without arming a timer.
    if stream.capacity() >= data.len() {
        return stream.send_data(data, end).map_err(drop);
    }
    // Boxed: the wait (a timer among it) would otherwise sit in every stream's future, which
    // is moved into its box whole for each request.
    Box::pin(send_data_as_window_opens(stream, data, end, timeout)).await
}

/// [`send_data`] for a piece larger than the window open now: each part waits for capacity,
/// and a client that opens none within `timeout` gets the stream reset (`CANCEL`).
async fn send_data_as_window_opens(
    stream: &mut SendStream<Bytes>,
    mut data: Bytes,
    end: bool,
    timeout: Duration,
) -> Result<(), ()> {
    while !data.is_empty() {
        stream.reserve_capacity(data.len());
        let capacity =
            match tokio::time::timeout(timeout, poll_fn(|cx| stream.poll_capacity(cx))).await {
                Err(_) => {
                    tracing::debug!("HTTP/2 client opened no window within write_timeout; reset");
                    stream.send_reset(Reason::CANCEL);
                    return Err(());
                }
                Ok(Some(Ok(capacity))) => capacity,
                Ok(Some(Err(_)) | None) => return Err(()),
            };
        if capacity == 0 {
            // Not expected from `h2` (it reports capacity once some is assigned), but never spin.
            tokio::task::yield_now().await;
            continue;
        }
        let piece = data.split_to(capacity.min(data.len()));
        stream
            .send_data(piece, end && data.is_empty())
            .map_err(drop)?;
    }
    Ok(())
}
