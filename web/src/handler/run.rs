//! Runs one request through a [`RequestHandler`] in Tornado's `_execute` order, and the
//! factory that erases the handler type for the routing table.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use cyclone_protocol::server::{HttpResponse, HttpServerRequest};
use futures::FutureExt;
use http::header::ALLOW;
use http::{HeaderValue, Method, StatusCode};

use super::RequestHandler;
use super::context::{AppRef, RequestContext};
use super::driver::HandlerDriver;
use super::panic_message;
use crate::errors::{ErrorKind, HttpError};
use crate::routing::PathArgs;

/// A handler type behind the erasure: makes one per request and runs it.
pub(crate) trait ErasedHandler: Send + Sync {
    /// The future answering `request`.
    fn start(&self, request: HttpServerRequest, args: PathArgs, app: AppRef) -> HandlerDriver;
    /// Whether the handler streams request bodies.
    fn streams(&self) -> bool;
    /// The handler's type name, for `Debug`.
    fn type_name(&self) -> &'static str;
}

/// Makes handlers of type `H` with the rule's factory.
pub(crate) struct HandlerFactory<H, F> {
    /// The rule's factory (Tornado's `initialize` arguments, captured).
    factory: F,
    /// The factory makes `H`s.
    _handler: std::marker::PhantomData<fn() -> H>,
}

impl<H, F> HandlerFactory<H, F> {
    pub(crate) fn new(factory: F) -> Self {
        HandlerFactory {
            factory,
            _handler: std::marker::PhantomData,
        }
    }
}

impl<H, F> ErasedHandler for HandlerFactory<H, F>
where
    H: RequestHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    fn start(&self, request: HttpServerRequest, args: PathArgs, app: AppRef) -> HandlerDriver {
        let mut cx = RequestContext::new(request, args, app);
        cx.compute_etag = H::compute_etag;
        // The rule's factory is user code too: its panic is a 500 like a method's.
        match std::panic::catch_unwind(AssertUnwindSafe(|| (self.factory)())) {
            Ok(handler) => HandlerDriver::new(run(handler, cx)),
            Err(panic) => {
                let error = HttpError::panic(panic_message(&*panic).to_owned());
                log_error(&cx, &error);
                cx.finish_with_panic_page(&error);
                let response = cx.take_response();
                HandlerDriver::new(std::future::ready(response))
            }
        }
    }

    fn streams(&self) -> bool {
        H::STREAM_REQUEST_BODY
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<H>()
    }
}

/// Calls `on_connection_close` if the run is dropped (the client left) before it is done.
struct CloseGuard<H: RequestHandler> {
    /// The handler.
    handler: H,
    /// The run finished (or already reported the close).
    done: bool,
}

impl<H: RequestHandler> Drop for CloseGuard<H> {
    fn drop(&mut self) {
        if !self.done {
            self.handler.on_connection_close();
        }
    }
}

/// One request through `handler`: Tornado's `_execute` and its error handling. The whole
/// answer, or `None` when it was streamed, cut or the client left.
///
/// Panics are caught here, where the context survives them: a method's panic is a 500 page
/// by `write_error` (as Tornado treats an uncaught exception), and a panic in `write_error`,
/// `compute_etag` or `on_finish` falls back to the default 500 page; either way the request
/// is logged once.
///
/// A plain function returning an `async move` block, not an `async fn`: an async fn's
/// arguments get a slot of their own next to the locals they move into, and the context
/// would be stored twice in every request's future.
pub(crate) fn run<H: RequestHandler>(
    handler: H,
    cx: RequestContext,
) -> impl Future<Output = Option<HttpResponse>> {
    let mut guard = CloseGuard {
        handler,
        done: false,
    };
    let mut cx = cx;
    async move {
        match AssertUnwindSafe(answer(&mut guard, &mut cx))
            .catch_unwind()
            .await
        {
            Ok(response) => response,
            Err(panic) => after_panic(&mut guard, &mut cx, &*panic),
        }
    }
}

/// The default 500 page after a panic outside the method (the response may be half done).
fn after_panic<H: RequestHandler>(
    guard: &mut CloseGuard<H>,
    cx: &mut RequestContext,
    panic: &(dyn Any + Send),
) -> Option<HttpResponse> {
    let error = HttpError::panic(panic_message(panic).to_owned());
    log_error(cx, &error);
    if cx.headers_sent() {
        return cut(cx);
    }
    if !cx.answered_whole() {
        cx.finish_with_panic_page(&error);
    }
    // Answered (and logged): a panic in `on_finish` does not take the answer back.
    guard.done = true;
    cx.take_response()
}

/// Tornado's `_execute`, then `finish` and `on_finish`.
async fn answer<H: RequestHandler>(
    guard: &mut CloseGuard<H>,
    cx: &mut RequestContext,
) -> Option<HttpResponse> {
    let outcome = match AssertUnwindSafe(steps(&mut guard.handler, cx))
        .catch_unwind()
        .await
    {
        Ok(outcome) => outcome,
        Err(panic) => Err(HttpError::panic(panic_message(&*panic).to_owned())),
    };
    if let Err(error) = outcome {
        match error.kind {
            ErrorKind::Finish => {}
            ErrorKind::ConnectionClosed => return cut(cx),
            ErrorKind::Page | ErrorKind::Panic => {
                log_error(cx, &error);
                if send_error(&mut guard.handler, cx, &error).await.is_err() {
                    return cut(cx);
                }
            }
        }
    }
    if let Some(error) = cx.take_send_error()
        && (error.is_connection_closed()
            || send_error(&mut guard.handler, cx, &error).await.is_err())
    {
        return cut(cx);
    }
    if !cx.is_finished() && cx.finish().await.is_err() {
        return cut(cx);
    }
    guard.done = true;
    guard.handler.on_finish(cx);
    cx.take_response()
}

/// The response broke off (the client left, or an error came after the head was flushed): the
/// connection closes. If the head went out, the client saw its status: log that line (a
/// finished stream logged its own).
fn cut(cx: &RequestContext) -> Option<HttpResponse> {
    if cx.headers_sent() {
        cx.log();
    }
    None
}

async fn steps<H: RequestHandler>(
    handler: &mut H,
    cx: &mut RequestContext,
) -> Result<(), HttpError> {
    let method = cx.request.method().clone();
    let supported = H::SUPPORTED_METHODS.contains(&method)
        || (method == Method::HEAD && H::SUPPORTED_METHODS.contains(&Method::GET));
    if !supported {
        return Err(HttpError::new(StatusCode::METHOD_NOT_ALLOWED));
    }
    cx.current_user = handler.get_current_user(cx);
    if H::CHECK_XSRF_COOKIE
        && cx.settings().xsrf_cookies
        && method != Method::GET
        && method != Method::HEAD
        && method != Method::OPTIONS
    {
        cx.check_xsrf_cookie()?;
    }
    handler.prepare(cx).await?;
    if cx.is_finished() {
        return Ok(());
    }
    if H::STREAM_REQUEST_BODY
        && let Some(mut body) = cx.request.take_body_stream()
    {
        while let Some(chunk) = body.chunk().await {
            let chunk =
                chunk.map_err(|error| HttpError::bad_request().log_message(error.to_string()))?;
            handler.data_received(cx, chunk).await?;
        }
    }
    match method {
        Method::GET => handler.get(cx).await,
        Method::HEAD => handler.head(cx).await,
        Method::POST => handler.post(cx).await,
        Method::PUT => handler.put(cx).await,
        Method::DELETE => handler.delete(cx).await,
        Method::PATCH => handler.patch(cx).await,
        Method::OPTIONS => handler.options(cx).await,
        _ => Err(HttpError::new(StatusCode::METHOD_NOT_ALLOWED)),
    }
}

/// Tornado's `send_error`: clear, set the status, let the handler write its page, finish.
/// After a flushed head nothing can be fixed: the stream is cut (the connection closes).
async fn send_error<H: RequestHandler>(
    handler: &mut H,
    cx: &mut RequestContext,
    error: &HttpError,
) -> Result<(), HttpError> {
    if cx.headers_sent() {
        return Err(HttpError::connection_closed());
    }
    if cx.is_finished() {
        return Ok(());
    }
    cx.clear();
    cx.set_status(error.status);
    if error.status == StatusCode::METHOD_NOT_ALLOWED {
        let allow = allow_header(H::SUPPORTED_METHODS);
        cx.headers_mut().insert(ALLOW, allow);
    }
    handler.write_error(cx, error);
    if !cx.is_finished() {
        cx.finish().await?;
    }
    Ok(())
}

/// The methods for `Allow` (HEAD with GET, as it is answered automatically).
fn allow_header(methods: &[Method]) -> HeaderValue {
    let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
    if methods.contains(&Method::GET) && !methods.contains(&Method::HEAD) {
        names.push("HEAD");
    }
    HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static("GET"))
}

/// Tornado's `log_exception`: a warning for client errors with a message, an error for
/// server errors.
fn log_error(cx: &RequestContext, error: &HttpError) {
    let request = cx.request();
    if error.status.is_server_error() {
        tracing::error!(
            "{} {} {} ({}): {}",
            error.status.as_u16(),
            request.method(),
            request.uri(),
            request.remote_ip(),
            error.log_message.as_deref().unwrap_or("")
        );
    } else if let Some(message) = &error.log_message {
        tracing::warn!(
            "{} {} {} ({}): {message}",
            error.status.as_u16(),
            request.method(),
            request.uri(),
            request.remote_ip()
        );
    }
}
