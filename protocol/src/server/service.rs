//! The handler contract: [`HttpService`], what it returns ([`Reply`]), and the adapters for
//! streaming functions ([`streaming`]) and actors ([`actor`], [`HttpRequestMessage`]).
//!
//! A service runs on the connection's own loop: `call` takes `&self` and its future need not be
//! `Send`, so a plain function answers with no mailbox hop and no allocation. Actors are reached
//! through a message, which is `Send` and carries the request and a [`ResponseWriter`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix::{Message, Recipient};
use futures::future::LocalBoxFuture;

use super::request::HttpServerRequest;
use super::response::{HttpResponse, ResponseEvents, ResponseWriter};
use super::sent::SentCallback;
use super::upgrade::{OnUpgrade, Upgraded};

/// Answers requests on one worker's loop. Built per worker by the server's factory, so it need
/// not be `Send` or `Sync`.
///
/// Implemented for every `Fn(HttpServerRequest) -> impl Future<Output = impl Into<Reply>>`:
///
/// ```
/// use cyclone_protocol::server::{HttpResponse, HttpServerRequest, HttpService};
///
/// async fn hello(_request: HttpServerRequest) -> HttpResponse {
///     HttpResponse::ok().text("Hello, world")
/// }
/// fn is_service<S: HttpService>(_: &S) {}
/// is_service(&hello);
/// ```
pub trait HttpService: 'static {
    /// The answer being computed.
    type Future: Future<Output = Reply> + 'static;

    /// Answers `request`. Called when the body is complete, or when the head arrives if
    /// [`stream_request_body`](Self::stream_request_body) says so.
    fn call(&self, request: HttpServerRequest) -> Self::Future;

    /// Whether this request's body is handed over as a stream
    /// ([`HttpServerRequest::take_body_stream`]) as it arrives, instead of whole. Asked when
    /// the head arrives; the request has no body yet. Default: no.
    fn stream_request_body(&self, _request: &HttpServerRequest) -> bool {
        false
    }
}

/// What a service answers with: a whole [`HttpResponse`], a response streamed through a
/// [`ResponseWriter`], or a switch to another protocol ([`Reply::upgrade`]).
pub struct Reply {
    /// Which kind of answer.
    kind: ReplyKind,
    /// Told the status the client got once the answer is done ([`Reply::on_sent`]).
    on_sent: Option<SentCallback>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("kind", &self.kind)
            .field("on_sent", &self.on_sent.is_some())
            .finish()
    }
}

/// The two kinds of answer, as the connection consumes them.
pub(crate) enum ReplyKind {
    /// Sent at once with `Content-Length`.
    Whole(HttpResponse),
    /// Pieces from a [`ResponseWriter`], with the work producing them.
    Streamed {
        /// The writer's pieces.
        events: ResponseEvents,
        /// The handler writing them, polled by the connection (so it stops with it).
        driver: Option<LocalBoxFuture<'static, ()>>,
    },
    /// `101 Switching Protocols` with these headers, then the connection goes to `on_upgrade`.
    Upgrade {
        /// The 101's header fields.
        response: HttpResponse,
        /// Takes the connection over.
        on_upgrade: OnUpgrade,
    },
}

impl std::fmt::Debug for ReplyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplyKind::Whole(response) => f.debug_tuple("Whole").field(response).finish(),
            ReplyKind::Streamed { .. } => f.write_str("Streamed"),
            ReplyKind::Upgrade { response, .. } => {
                f.debug_tuple("Upgrade").field(response).finish()
            }
        }
    }
}

impl Reply {
    /// A streamed answer: `work` runs on the connection's loop (it is dropped if the
    /// connection closes) and writes through the writer that goes with `events`.
    pub(crate) fn streamed(events: ResponseEvents, work: LocalBoxFuture<'static, ()>) -> Self {
        Reply {
            kind: ReplyKind::Streamed {
                events,
                driver: Some(work),
            },
            on_sent: None,
        }
    }

    /// Switches the connection to another protocol (RFC 9110 §7.8): the connection answers
    /// `101 Switching Protocols` with `response`'s header fields, flushes it, and calls
    /// `on_upgrade` with the connection (see [`Upgraded`]) on the connection's own loop; the
    /// HTTP actor then stops without closing the socket.
    ///
    /// - `response`'s status is replaced by 101 and its body is not sent. Set the `Upgrade`
    ///   field (and the new protocol's fields, such as `Sec-WebSocket-Accept`);
    ///   `Connection: upgrade` is added when missing.
    /// - Only a request that asked for it can be switched: an HTTP/1.1 request with
    ///   `Connection: upgrade` and an `Upgrade` field
    ///   ([`RequestHead::upgrade`](crate::h1::RequestHead::upgrade)). The connection decodes
    ///   nothing after such a request until its answer is known, so the bytes after it are
    ///   the new protocol's ([`Upgraded::read_buf`]). Any other request answered this way
    ///   gets `500` and the connection closes; so does an upgrade answered during a graceful
    ///   shutdown (`503`).
    /// - A request with a body is switched only once its body has been read in full (the
    ///   client sends the whole request before it speaks the new protocol); with
    ///   `Expect: 100-continue` the `100` goes before the `101`.
    /// - Answering such a request with an ordinary response ignores the `Upgrade` (as RFC 9110
    ///   §7.8 allows) and the connection goes on serving HTTP.
    ///
    /// ```
    /// use cyclone_protocol::server::{HttpResponse, HttpServerRequest, Reply};
    /// use http::header::{HeaderValue, UPGRADE};
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// /// Switches to a toy protocol that echoes every byte.
    /// async fn echo(request: HttpServerRequest) -> Reply {
    ///     if !request.head().upgrade {
    ///         return HttpResponse::new(http::StatusCode::UPGRADE_REQUIRED).into();
    ///     }
    ///     let switch = HttpResponse::ok().header(UPGRADE, HeaderValue::from_static("echo"));
    ///     Reply::upgrade(switch, |mut upgraded| {
    ///         // A real protocol starts an actor here that registers with `upgraded.slot`.
    ///         actix_rt::spawn(async move {
    ///             let mut buf = upgraded.read_buf.to_vec();
    ///             loop {
    ///                 if upgraded.io.write_all(&buf).await.is_err() {
    ///                     return;
    ///                 }
    ///                 buf.resize(4096, 0);
    ///                 match upgraded.io.read(&mut buf).await {
    ///                     Ok(0) | Err(_) => return,
    ///                     Ok(read) => buf.truncate(read),
    ///                 }
    ///             }
    ///         });
    ///     })
    /// }
    /// # drop(echo);
    /// ```
    pub fn upgrade(response: HttpResponse, on_upgrade: impl FnOnce(Upgraded) + 'static) -> Self {
        Reply {
            kind: ReplyKind::Upgrade {
                response,
                on_upgrade: Box::new(on_upgrade),
            },
            on_sent: None,
        }
    }

    /// The answer and its [`on_sent`](Self::on_sent) callback, for the connection.
    pub(crate) fn into_parts(self) -> (ReplyKind, Option<SentCallback>) {
        (self.kind, self.on_sent)
    }

    /// Calls `callback` with the status the client got once this answer is done: written
    /// whole, streamed to its end, or cut after its head went out (a handler that panics
    /// mid-stream, a client that leaves). It is not called when no head was sent (the client
    /// left first). A layer that forwards requests to services it does not write itself (the
    /// web framework's access log for mounted services and actors) learns the outcome this
    /// way. Several callbacks run in the order they were added. It runs on the connection's
    /// loop; a panic in it is caught and logged.
    ///
    /// ```
    /// use cyclone_protocol::server::{HttpResponse, Reply};
    ///
    /// let reply = Reply::from(HttpResponse::ok()).on_sent(|status| {
    ///     tracing::info!(%status, "answered");
    /// });
    /// # drop(reply);
    /// ```
    pub fn on_sent(mut self, callback: impl FnOnce(http::StatusCode) + 'static) -> Self {
        self.on_sent = Some(match self.on_sent.take() {
            None => Box::new(callback),
            Some(earlier) => Box::new(move |status| {
                earlier(status);
                callback(status);
            }),
        });
        self
    }
}

impl From<HttpResponse> for Reply {
    fn from(response: HttpResponse) -> Self {
        Reply {
            kind: ReplyKind::Whole(response),
            on_sent: None,
        }
    }
}

impl<F, Fut> HttpService for F
where
    F: Fn(HttpServerRequest) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: Into<Reply>,
{
    type Future = IntoReply<Fut>;

    fn call(&self, request: HttpServerRequest) -> Self::Future {
        IntoReply {
            future: self(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of a function service: its function's future, with the output converted
    /// into a [`Reply`] (statically, where `map(Into::into)` would call through a pointer).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct IntoReply<Fut> {
        #[pin]
        future: Fut,
    }
}

impl<Fut> Future for IntoReply<Fut>
where
    Fut: Future,
    Fut::Output: Into<Reply>,
{
    type Output = Reply;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        self.project().future.poll(cx).map(Into::into)
    }
}

/// A service from a function that streams: it gets the request and a [`ResponseWriter`].
///
/// ```
/// use cyclone_protocol::server::{HttpServerRequest, ResponseWriter, streaming};
///
/// let service = streaming(|_request: HttpServerRequest, mut writer: ResponseWriter| async move {
///     for word in ["streamed ", "in ", "pieces"] {
///         writer.write(word);
///         if writer.flush().await.is_err() {
///             return; // the client left
///         }
///     }
///     let _ = writer.finish().await;
/// });
/// # drop(service);
/// ```
pub fn streaming<F, Fut>(handler: F) -> Streaming<F>
where
    F: Fn(HttpServerRequest, ResponseWriter) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    Streaming {
        handler,
        stream_request_body: false,
    }
}

/// The service [`streaming`] makes.
#[derive(Debug, Clone)]
pub struct Streaming<F> {
    /// The user's function.
    handler: F,
    /// Whether request bodies are streamed to it too.
    stream_request_body: bool,
}

impl<F> Streaming<F> {
    /// Also stream request bodies to the function (take them with
    /// [`HttpServerRequest::take_body_stream`]). Default: bodies arrive whole.
    pub fn stream_request_body(mut self, stream: bool) -> Self {
        self.stream_request_body = stream;
        self
    }
}

impl<F, Fut> HttpService for Streaming<F>
where
    F: Fn(HttpServerRequest, ResponseWriter) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    type Future = std::future::Ready<Reply>;

    fn call(&self, request: HttpServerRequest) -> Self::Future {
        let (writer, events) = ResponseWriter::channel();
        let work = (self.handler)(request, writer);
        std::future::ready(Reply::streamed(events, Box::pin(work)))
    }

    fn stream_request_body(&self, _request: &HttpServerRequest) -> bool {
        self.stream_request_body
    }
}

/// A request for an actor: the request and the writer for its answer.
///
/// The message crosses threads (the actor may live on any Arbiter), so it is `Send`: the
/// request holds only `Send` data and the writer is a bounded channel. The actor answers with
/// [`ResponseWriter::respond`] (synchronously, from `handle`) or streams with `flush` /
/// `finish` from a future it spawns. If the actor drops the writer unanswered, or is gone (the
/// message is dropped with its writer), the client gets 500.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct HttpRequestMessage {
    /// The request.
    pub request: HttpServerRequest,
    /// Where the answer goes.
    pub writer: ResponseWriter,
}

/// A service that sends each request to an actor as an [`HttpRequestMessage`].
///
/// ```
/// use actix::prelude::*;
/// use cyclone_protocol::server::{HttpRequestMessage, HttpResponse, actor};
///
/// struct Hello;
/// impl Actor for Hello {
///     type Context = Context<Self>;
/// }
/// impl Handler<HttpRequestMessage> for Hello {
///     type Result = ();
///     fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
///         let _ = message.writer.respond(HttpResponse::ok().text("Hello from an actor"));
///     }
/// }
///
/// actix_rt::System::new().block_on(async {
///     let service = actor(Hello.start().recipient());
///     # drop(service);
/// });
/// ```
pub fn actor(recipient: Recipient<HttpRequestMessage>) -> ActorService {
    ActorService {
        recipient,
        stream_request_body: false,
    }
}

/// The service [`actor`] makes.
#[derive(Debug, Clone)]
pub struct ActorService {
    /// The actor's mailbox.
    recipient: Recipient<HttpRequestMessage>,
    /// Whether request bodies are streamed to the actor.
    stream_request_body: bool,
}

impl ActorService {
    /// Also stream request bodies to the actor (it takes them with
    /// [`HttpServerRequest::take_body_stream`]). Default: bodies arrive whole.
    pub fn stream_request_body(mut self, stream: bool) -> Self {
        self.stream_request_body = stream;
        self
    }
}

impl HttpService for ActorService {
    type Future = std::future::Ready<Reply>;

    fn call(&self, request: HttpServerRequest) -> Self::Future {
        let (writer, events) = ResponseWriter::channel();
        let delivery = self.recipient.send(HttpRequestMessage { request, writer });
        let work: Pin<Box<dyn Future<Output = ()>>> = Box::pin(async move {
            if delivery.await.is_err() {
                // The message (and its writer) was dropped: the client gets an error answer.
                tracing::warn!("request actor is gone; answering 500");
            }
        });
        std::future::ready(Reply::streamed(events, work))
    }

    fn stream_request_body(&self, _request: &HttpServerRequest) -> bool {
        self.stream_request_body
    }
}
