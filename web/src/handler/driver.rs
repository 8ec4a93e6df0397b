//! [`HandlerDriver`]: the future the connection polls for a handler request. It answers with
//! the whole response when the handler finishes without flushing (the fast path), and turns
//! into a streamed answer the moment the handler first flushes.
//!
//! The switch costs nothing on the fast path: a flushing handler parks on [`take_writer`],
//! which leaves a fresh handoff cell in a thread-local; the driver picks it up right after
//! the poll that left it (same thread, same call stack, so no other request can see it),
//! asks the protocol for a [`ResponseWriter`], puts the writer in the cell, and hands the
//! rest of the handler to the connection as the streamed answer's work.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use cyclone_protocol::h1::{Limits, RequestDecoder, RequestEvent};
use cyclone_protocol::server::{
    HttpResponse, HttpServerRequest, HttpService, Reply, ResponseWriter, streaming,
};
use futures::future::LocalBoxFuture;

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

/// The connection's future for one handler request.
pub(crate) struct HandlerDriver {
    /// The handler's run (it catches its own panics); taken when the answer turns streamed.
    run: Option<LocalBoxFuture<'static, Option<HttpResponse>>>,
}

impl HandlerDriver {
    pub(crate) fn new(run: impl Future<Output = Option<HttpResponse>> + 'static) -> Self {
        HandlerDriver {
            run: Some(Box::pin(run)),
        }
    }
}

impl Future for HandlerDriver {
    type Output = Reply;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        let Some(run) = self.run.as_mut() else {
            return Poll::Ready(HttpResponse::new(http::StatusCode::INTERNAL_SERVER_ERROR).into());
        };
        match run.as_mut().poll(cx) {
            Poll::Ready(Some(response)) => Poll::Ready(response.into()),
            Poll::Ready(None) => {
                // The client left mid-request; the connection discards this.
                Poll::Ready(HttpResponse::new(http::StatusCode::INTERNAL_SERVER_ERROR).into())
            }
            Poll::Pending => {
                let Some(cell) = FLUSH_REQUEST.with(Cell::take) else {
                    return Poll::Pending;
                };
                let Some(run) = self.run.take() else {
                    return Poll::Pending;
                };
                let reply = streamed_reply(cell, run);
                // The connection polls the streamed work when woken; the handler is parked.
                cx.waker().wake_by_ref();
                Poll::Ready(reply)
            }
        }
    }
}

/// A streamed reply whose work is the rest of `run`; its writer goes into `cell`.
fn streamed_reply(cell: WriterCell, run: LocalBoxFuture<'static, Option<HttpResponse>>) -> Reply {
    let run = RefCell::new(Some(run));
    let service = streaming(move |_request: HttpServerRequest, writer: ResponseWriter| {
        *cell.borrow_mut() = Some(writer);
        let run = run.borrow_mut().take();
        async move {
            if let Some(run) = run {
                // A panic while streaming is caught, logged and cut inside the run.
                let _ = run.await;
            }
        }
    });
    // The protocol makes writers only for a service call; this request is a stand-in (the
    // real one is inside the handler's context) and is dropped unread.
    let Some(stand_in) = stand_in_request() else {
        return HttpResponse::new(http::StatusCode::INTERNAL_SERVER_ERROR).into();
    };
    service.call(stand_in).into_inner()
}

/// A minimal request, decoded from bytes (heads are only made by the decoder).
fn stand_in_request() -> Option<HttpServerRequest> {
    let peer = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut decoder = RequestDecoder::new(Limits::default());
    let mut bytes = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: stand-in\r\n\r\n"[..]);
    match decoder.decode(&mut bytes) {
        Ok(Some(RequestEvent::Head(head))) => {
            Some(HttpServerRequest::from_parts(head, Bytes::new(), peer))
        }
        _ => None,
    }
}
