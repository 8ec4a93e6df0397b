//! The handler contract: [`HttpService`], which receives every request as an
//! [`HttpRequestMessage`], and the adapters that make one from a function ([`Reply`]), a
//! streaming function ([`streaming`]) or an actor ([`actor`]).
//!
//! A service runs on the connection's own loop: `call` takes `&self` and the work it returns
//! need not be `Send`; the connection polls that work (dropping it if the client leaves) and
//! reads the answer from the message's writer. So a plain function answers with no mailbox
//! hop, and an actor anywhere answers through the same writer.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix::Recipient;
use http::StatusCode;

use super::message::HttpRequestMessage;
use super::request::HttpServerRequest;
use super::response::{HttpResponse, ResponseWriter, SentCallback};
use super::upgrade::Upgraded;

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
    /// The work answering one request, polled on the connection's loop until it is done, or
    /// dropped if the connection closes first.
    type Future: Future<Output = ()> + 'static;

    /// Takes one request. The answer goes through `message.writer` (now, from the returned
    /// work, or from whoever the message is forwarded to). Called when the body is complete,
    /// or when the head arrives if [`stream_request_body`](Self::stream_request_body) says so.
    fn call(&self, message: HttpRequestMessage) -> Self::Future;

    /// Whether this request's body is handed over as a stream
    /// ([`HttpServerRequest::take_body_stream`]) as it arrives, instead of whole. Asked when
    /// the head arrives; the request has no body yet. Default: no.
    fn stream_request_body(&self, _request: &HttpServerRequest) -> bool {
        false
    }
}

/// What a function service answers with: a whole [`HttpResponse`] or a switch to another
/// protocol ([`Reply::upgrade`]), possibly with an [`on_sent`](Self::on_sent) callback. The
/// function adapter hands it to the request's [`ResponseWriter`].
pub struct Reply {
    /// Which kind of answer.
    kind: ReplyKind,
    /// Told the status the client got once the answer is done.
    on_sent: Option<SentCallback>,
}

/// The two kinds of answer a function gives.
enum ReplyKind {
    /// Sent at once with `Content-Length`.
    Whole(HttpResponse),
    /// `101 Switching Protocols` with these headers, then the connection goes to the callback.
    Upgrade(HttpResponse, super::response::OnUpgrade),
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Reply");
        match &self.kind {
            ReplyKind::Whole(response) => debug.field("whole", response),
            ReplyKind::Upgrade(response, _) => debug.field("upgrade", response),
        };
        debug.field("on_sent", &self.on_sent.is_some()).finish()
    }
}

impl Reply {
    /// Switches the connection to another protocol; see [`ResponseWriter::upgrade`] for the
    /// rules (only a request that asked for it, after its body, 101 then the callback on the
    /// connection's loop).
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
    pub fn upgrade(
        response: HttpResponse,
        on_upgrade: impl FnOnce(Upgraded) + Send + 'static,
    ) -> Self {
        Reply {
            kind: ReplyKind::Upgrade(response, Box::new(on_upgrade)),
            on_sent: None,
        }
    }

    /// Calls `callback` with the status the client got once this answer is done (see
    /// [`ResponseWriter::on_sent`]).
    ///
    /// ```
    /// use cyclone_protocol::server::{HttpResponse, Reply};
    ///
    /// let reply = Reply::from(HttpResponse::ok()).on_sent(|status| {
    ///     tracing::info!(%status, "answered");
    /// });
    /// # drop(reply);
    /// ```
    pub fn on_sent(mut self, callback: impl FnOnce(StatusCode) + Send + 'static) -> Self {
        self.on_sent = Some(match self.on_sent.take() {
            None => Box::new(callback),
            Some(earlier) => Box::new(move |status| {
                earlier(status);
                callback(status);
            }),
        });
        self
    }

    /// Hands this answer to `writer`.
    pub fn send(self, mut writer: ResponseWriter) {
        if let Some(callback) = self.on_sent {
            writer.on_sent(callback);
        }
        // An error means the client is gone: there is nobody to tell.
        let _ = match self.kind {
            ReplyKind::Whole(response) => writer.respond(response),
            ReplyKind::Upgrade(response, on_upgrade) => writer.upgrade(response, on_upgrade),
        };
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
    type Future = Answering<Fut>;

    fn call(&self, message: HttpRequestMessage) -> Self::Future {
        let HttpRequestMessage {
            request, writer, ..
        } = message;
        Answering {
            future: self(request),
            writer: Some(writer),
        }
    }
}

pin_project_lite::pin_project! {
    /// The work of a function service: its function's future, whose output goes to the
    /// request's writer.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Answering<Fut> {
        #[pin]
        future: Fut,
        writer: Option<ResponseWriter>,
    }
}

impl<Fut> Future for Answering<Fut>
where
    Fut: Future,
    Fut::Output: Into<Reply>,
{
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let reply = std::task::ready!(this.future.poll(cx)).into();
        if let Some(writer) = this.writer.take() {
            reply.send(writer);
        }
        Poll::Ready(())
    }
}

/// A service from a function that streams: it gets the request and its [`ResponseWriter`].
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
    type Future = Fut;

    fn call(&self, message: HttpRequestMessage) -> Fut {
        (self.handler)(message.request, message.writer)
    }

    fn stream_request_body(&self, _request: &HttpServerRequest) -> bool {
        self.stream_request_body
    }
}

/// A service that sends each request to an actor, as the [`HttpRequestMessage`] it is (a
/// mailbox hop; the actor may live on any thread).
///
/// The message goes in without waiting: a request message exists only while its connection
/// holds the exchange, so the messages in any mailbox are bounded by the server's
/// `max_connections` × `max_pipelined_requests`, whatever the mailbox's own capacity. An actor
/// that is gone drops the message, and its writer answers 500.
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
    type Future = std::future::Ready<()>;

    fn call(&self, message: HttpRequestMessage) -> Self::Future {
        self.recipient.do_send(message);
        std::future::ready(())
    }

    fn stream_request_body(&self, _request: &HttpServerRequest) -> bool {
        self.stream_request_body
    }
}
