//! Actor targets that see the route: [`RoutedRequest`], the message a [`routed_actor`] gets
//! (the request, the rule's [`PathArgs`], and a [`RoutedWriter`] for the answer).
//!
//! The protocol's [`HttpRequestMessage`](cyclone_protocol::server::HttpRequestMessage) (what
//! [`actor`](crate::actor) targets get) carries neither the path arguments nor any way for
//! the application to see the answer's status; this message carries both, and its writer
//! writes the access log line when the answer is finished (or given up), so every actor
//! answer is logged once, with its real status and duration.

use std::cell::Cell;

use actix::{Message, Recipient};
use bytes::Bytes;
use cyclone_protocol::server::{
    HttpResponse, HttpServerRequest, HttpService, Reply, ResponseWriter, WriterError, streaming,
};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

use crate::access_log::{LogFunction, RequestSummary};
use crate::routing::PathArgs;
use crate::target::{Target, TargetKind};

/// A request for an actor behind a [`routed_actor`] rule: the request, the route's path
/// arguments (percent-decoded, as a `RequestHandler` gets them) and the writer for the answer.
///
/// It is `Send`: the actor may live on any Arbiter. Actors compose by forwarding it whole to
/// another actor's `Recipient<RoutedRequest>`.
///
/// ```
/// use actix::prelude::*;
/// use cyclone_web::{Application, RoutedRequest, routed_actor, url};
/// use cyclone_web::httpserver::HttpResponse;
///
/// struct Users;
/// impl Actor for Users {
///     type Context = Context<Self>;
/// }
/// impl Handler<RoutedRequest> for Users {
///     type Result = ();
///     fn handle(&mut self, message: RoutedRequest, _: &mut Context<Self>) {
///         let id = message.path_args.named("id").unwrap_or("?");
///         let _ = message.writer.respond(HttpResponse::ok().text(format!("user {id}")));
///     }
/// }
///
/// actix_rt::System::new().block_on(async {
///     let users = Users.start();
///     let app = Application::new([url(r"/users/(?P<id>\d+)", routed_actor(users.recipient()))]);
///     # drop(app);
/// });
/// ```
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct RoutedRequest {
    /// The request.
    pub request: HttpServerRequest,
    /// The route pattern's groups, percent-decoded (Tornado's `path_args` / `path_kwargs`).
    pub path_args: PathArgs,
    /// Where the answer goes.
    pub writer: RoutedWriter,
}

/// The answer to a [`RoutedRequest`]: the protocol's
/// [`ResponseWriter`] with the same methods, which also writes the application's access log
/// line (or calls its `log_function`) when the answer is finished.
///
/// Dropping it unfinished ends the exchange as the protocol's writer does (500 if nothing was
/// flushed, else the connection closes), and the line is logged with the status the client
/// got.
#[derive(Debug)]
pub struct RoutedWriter {
    /// The connection's writer.
    writer: ResponseWriter,
    /// Writes the log line exactly once: at the finish, or when dropped.
    log: PendingLogLine,
}

/// A log line waiting for the answer's outcome; it logs itself when dropped.
#[derive(Debug)]
struct PendingLogLine {
    /// The request's facts.
    summary: RequestSummary,
    /// The application's `log_function`, if any.
    log_function: Option<LogFunction>,
    /// The status set (or sent with the head).
    status: StatusCode,
    /// The head went out, so the client got `status` whatever happens next.
    head_sent: bool,
    /// The answer was handed over complete.
    finished: bool,
}

impl Drop for PendingLogLine {
    fn drop(&mut self) {
        let status = if self.finished || self.head_sent {
            self.status
        } else {
            // The protocol answers a writer dropped before any flush with 500.
            StatusCode::INTERNAL_SERVER_ERROR
        };
        self.summary.log(self.log_function.as_ref(), status);
    }
}

impl RoutedWriter {
    /// Sets the status (before the first flush; ignored after). Default 200.
    pub fn set_status(&mut self, status: StatusCode) {
        if !self.log.head_sent {
            self.log.status = status;
        }
        self.writer.set_status(status);
    }

    /// The status that is (or will be) sent.
    pub fn status(&self) -> StatusCode {
        self.log.status
    }

    /// Sets a header field, replacing earlier values (before the first flush).
    pub fn set_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.writer.set_header(name, value);
    }

    /// The header fields to send, to change (before the first flush).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.writer.headers_mut()
    }

    /// Whether the head has been sent.
    pub fn head_sent(&self) -> bool {
        self.writer.head_sent()
    }

    /// Queues body bytes until the next [`flush`](Self::flush) or [`finish`](Self::finish).
    pub fn write(&mut self, data: impl Into<Bytes>) {
        self.writer.write(data);
    }

    /// Sends the head (the first time) and everything written so far, waiting while the
    /// connection's queue is full (see [`ResponseWriter::flush`]).
    pub async fn flush(&mut self) -> Result<(), WriterError> {
        let result = self.writer.flush().await;
        self.log.head_sent = self.writer.head_sent();
        result
    }

    /// Sends the rest and ends the response; the access log line is written.
    pub async fn finish(self) -> Result<(), WriterError> {
        let RoutedWriter { writer, mut log } = self;
        let result = writer.finish().await;
        log.finished = true;
        result
    }

    /// Sends `response` as the whole answer without waiting (from a synchronous `handle`);
    /// the access log line is written with its status (see [`ResponseWriter::respond`]).
    pub fn respond(self, response: HttpResponse) -> Result<(), WriterError> {
        let RoutedWriter { writer, mut log } = self;
        if !log.head_sent {
            log.status = response.status();
        }
        log.finished = true;
        writer.respond(response)
    }
}

/// A long-lived actor answering each request sent to it as a [`RoutedRequest`], with the
/// rule's path arguments; its answers are in the access log like any handler's. A mailbox hop
/// per request. (An [`actor`](crate::actor) target gets the protocol's bare message instead.)
pub fn routed_actor(recipient: Recipient<RoutedRequest>) -> Target {
    Target {
        kind: TargetKind::RoutedActor(recipient),
    }
}

impl From<Recipient<RoutedRequest>> for Target {
    fn from(recipient: Recipient<RoutedRequest>) -> Self {
        routed_actor(recipient)
    }
}

/// Sends `request` to `recipient` as a [`RoutedRequest`]; the answer streams back through the
/// connection's writer.
pub(crate) fn dispatch(
    recipient: &Recipient<RoutedRequest>,
    request: HttpServerRequest,
    path_args: PathArgs,
    log_function: Option<&LogFunction>,
) -> Reply {
    let summary = RequestSummary::of(&request);
    // The protocol makes writers only inside a service call; this one-shot service receives
    // it and sends the message (its closure is called exactly once, just below).
    let parts = Cell::new(Some((path_args, summary, log_function.cloned())));
    let recipient = recipient.clone();
    let service = streaming(move |request: HttpServerRequest, writer: ResponseWriter| {
        let delivery = parts.take().map(|(path_args, summary, log_function)| {
            let writer = RoutedWriter {
                writer,
                log: PendingLogLine {
                    summary,
                    log_function,
                    status: StatusCode::OK,
                    head_sent: false,
                    finished: false,
                },
            };
            recipient.send(RoutedRequest {
                request,
                path_args,
                writer,
            })
        });
        async move {
            if let Some(delivery) = delivery
                && delivery.await.is_err()
            {
                // The message (and its writer) was dropped: the client gets 500, logged so.
                tracing::warn!("request actor is gone; answering 500");
            }
        }
    });
    service.call(request).into_inner()
}
