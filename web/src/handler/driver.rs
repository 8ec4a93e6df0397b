//! [`HandlerDriver`]: the future the connection polls for a handler request. It answers with
//! the whole response when the handler finishes without flushing (the fast path), and turns
//! into a streamed answer the moment the handler first flushes.
//!
//! The switch costs nothing on the fast path: a flushing handler parks on [`take_writer`],
//! which leaves a fresh handoff cell in a thread-local; the driver picks it up right after
//! the poll that left it (same thread, same call stack, so no other request can see it),
//! asks the protocol for a [`ResponseWriter`], puts the writer in the cell, and hands the
//! rest of the handler to the connection as the streamed answer's work.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use cyclone_protocol::h1::{Limits, RequestDecoder, RequestEvent};
use cyclone_protocol::server::{
    HttpResponse, HttpServerRequest, HttpService, Reply, ResponseWriter, streaming,
};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use http::{Method, Uri};

use super::context::AppRef;
use crate::access_log::{AccessLogEntry, log_request};
use crate::errors::{HttpError, default_error_page};

/// Where a writer goes from the driver to the parked handler.
type WriterCell = Rc<RefCell<Option<ResponseWriter>>>;

thread_local! {
    /// A parked flush's cell, left for the driver that polled it.
    static FLUSH_REQUEST: Cell<Option<WriterCell>> = const { Cell::new(None) };
}

/// Waits for the driver to switch this request to a streamed answer; resolves with its writer.
pub(crate) fn take_writer() -> impl Future<Output = ResponseWriter> {
    TakeWriter { cell: None }
}

/// The future [`take_writer`] returns.
struct TakeWriter {
    /// The handoff cell, once left for the driver.
    cell: Option<WriterCell>,
}

impl Future for TakeWriter {
    type Output = ResponseWriter;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<ResponseWriter> {
        match &self.cell {
            None => {
                let cell = WriterCell::default();
                FLUSH_REQUEST.with(|request| request.set(Some(cell.clone())));
                self.cell = Some(cell);
                Poll::Pending
            }
            Some(cell) => match cell.borrow_mut().take() {
                Some(writer) => Poll::Ready(writer),
                // The driver wakes the connection after handing the writer over.
                None => Poll::Pending,
            },
        }
    }
}

/// What a handler run ends with: the whole answer, nothing (streamed, or the client left),
/// or a panic.
pub(crate) type RunOutput = Result<Option<HttpResponse>, Box<dyn Any + Send>>;

/// What the access log needs if the handler panics and takes its context with it.
pub(crate) struct Summary {
    /// The method.
    method: Method,
    /// The target.
    uri: Uri,
    /// The client.
    remote_ip: std::net::IpAddr,
    /// The peer, for the dummy request a streamed answer is built with.
    peer: SocketAddr,
    /// When the request arrived.
    start: std::time::Instant,
}

/// The connection's future for one handler request.
pub(crate) struct HandlerDriver {
    /// The handler's run, panics caught; taken when the answer turns streamed.
    run: Option<LocalBoxFuture<'static, RunOutput>>,
    /// Settings (for the panic page and log).
    app: AppRef,
    /// The request's summary.
    summary: Summary,
}

impl Summary {
    /// The summary of `request`.
    pub(crate) fn of(request: &HttpServerRequest) -> Self {
        Summary {
            method: request.method().clone(),
            uri: request.uri().clone(),
            remote_ip: request.remote_ip(),
            peer: request.peer(),
            start: std::time::Instant::now() - request.request_time(),
        }
    }
}

impl HandlerDriver {
    pub(crate) fn new(
        summary: Summary,
        app: AppRef,
        run: impl Future<Output = Option<HttpResponse>> + 'static,
    ) -> Self {
        HandlerDriver {
            run: Some(Box::pin(AssertUnwindSafe(run).catch_unwind())),
            app,
            summary,
        }
    }

    fn panic_reply(&self, panic: &(dyn Any + Send)) -> Reply {
        let message = panic_message(panic);
        tracing::error!(
            method = %self.summary.method,
            uri = %self.summary.uri,
            "handler panicked: {message}"
        );
        let error = HttpError::panic(message);
        let (page, content_type) =
            default_error_page(&error, self.app.settings.serve_traceback_enabled());
        let response = HttpResponse::new(error.status)
            .header(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(content_type),
            )
            .body(page);
        let entry = AccessLogEntry {
            status: error.status,
            method: &self.summary.method,
            uri: self
                .summary
                .uri
                .path_and_query()
                .map_or("/", |path| path.as_str()),
            remote_ip: self.summary.remote_ip,
            request_time: self.summary.start.elapsed(),
        };
        log_request(self.app.settings.log_function.as_ref(), &entry);
        response.into()
    }
}

impl Future for HandlerDriver {
    type Output = Reply;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        let Some(run) = self.run.as_mut() else {
            return Poll::Ready(HttpResponse::new(http::StatusCode::INTERNAL_SERVER_ERROR).into());
        };
        match run.as_mut().poll(cx) {
            Poll::Ready(Ok(Some(response))) => Poll::Ready(response.into()),
            Poll::Ready(Ok(None)) => {
                // The client left mid-request; the connection discards this.
                Poll::Ready(HttpResponse::new(http::StatusCode::INTERNAL_SERVER_ERROR).into())
            }
            Poll::Ready(Err(panic)) => Poll::Ready(self.panic_reply(&*panic)),
            Poll::Pending => {
                let Some(cell) = FLUSH_REQUEST.with(Cell::take) else {
                    return Poll::Pending;
                };
                let Some(run) = self.run.take() else {
                    return Poll::Pending;
                };
                let reply = streamed_reply(cell, run, self.summary.peer);
                // The connection polls the streamed work when woken; the handler is parked.
                cx.waker().wake_by_ref();
                Poll::Ready(reply)
            }
        }
    }
}

/// A streamed reply whose work is the rest of `run`; its writer goes into `cell`.
fn streamed_reply(
    cell: WriterCell,
    run: LocalBoxFuture<'static, RunOutput>,
    peer: SocketAddr,
) -> Reply {
    let run = RefCell::new(Some(run));
    let service = streaming(move |_request: HttpServerRequest, writer: ResponseWriter| {
        *cell.borrow_mut() = Some(writer);
        let run = run.borrow_mut().take();
        async move {
            if let Some(run) = run
                && let Err(panic) = run.await
            {
                // The writer was dropped unfinished: the connection closes.
                tracing::error!(
                    "handler panicked while streaming: {}",
                    panic_message(&*panic)
                );
            }
        }
    });
    // The protocol makes writers only for a service call; this request is a stand-in (the
    // real one is inside the handler's context) and is dropped unread.
    let Some(stand_in) = stand_in_request(peer) else {
        return HttpResponse::new(http::StatusCode::INTERNAL_SERVER_ERROR).into();
    };
    service.call(stand_in).into_inner()
}

/// A minimal request, decoded from bytes (heads are only made by the decoder).
fn stand_in_request(peer: SocketAddr) -> Option<HttpServerRequest> {
    let mut decoder = RequestDecoder::new(Limits::default());
    let mut bytes = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: stand-in\r\n\r\n"[..]);
    match decoder.decode(&mut bytes) {
        Ok(Some(RequestEvent::Head(head))) => {
            Some(HttpServerRequest::from_parts(head, Bytes::new(), peer))
        }
        _ => None,
    }
}

/// A panic payload's message.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
