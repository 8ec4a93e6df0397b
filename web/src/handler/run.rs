//! Runs one request through a [`RequestHandler`] in Tornado's `_execute` order: method check,
//! current user, XSRF, `prepare`, streamed body, the method, `finish`, `on_finish`, and the
//! error and panic paths between them.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use http::header::ALLOW;
use http::{HeaderValue, Method, StatusCode};

use super::RequestHandler;
use super::context::RequestContext;
use super::methods_seen::SeenRecord;
use super::panic_message;
use super::verb::Verb;
use crate::errors::{ErrorKind, HttpError};

/// Calls `on_connection_close` if the run is dropped (the client left) before it is done.
struct CloseGuard<H: RequestHandler> {
    /// The handler.
    handler: H,
    /// The run finished (or already reported the close).
    done: bool,
    /// The handler's own steps are running (`prepare`, the method...): a panic now is the
    /// method's, answered by `write_error` as Tornado answers an uncaught exception.
    in_steps: bool,
}

impl<H: RequestHandler> Drop for CloseGuard<H> {
    fn drop(&mut self) {
        if !self.done {
            self.handler.on_connection_close();
        }
    }
}

/// One request through `handler`: Tornado's `_execute` and its error handling; the answer goes
/// out through the context's writer.
///
/// Panics are caught here, where the context survives them: a method's panic is a 500 page
/// by `write_error` (as Tornado treats an uncaught exception), and a panic in `write_error`,
/// `compute_etag` or `on_finish` falls back to the default 500 page; either way the request
/// is logged once. One `catch_unwind` covers the whole run (the guard says which step
/// panicked), so an answer that goes well crosses one, not two.
///
/// A plain function returning an `async move` block, not an `async fn`: an async fn's
/// arguments get a slot of their own next to the locals they move into, and the context
/// would be stored twice in every request's future.
pub(crate) fn run<H: RequestHandler>(handler: H, cx: RequestContext) -> impl Future<Output = ()> {
    let mut guard = CloseGuard {
        handler,
        done: false,
        in_steps: false,
    };
    let mut cx = cx;
    async move {
        let Err(panic) = AssertUnwindSafe(answer(&mut guard, &mut cx))
            .catch_unwind()
            .await
        else {
            return;
        };
        if !guard.in_steps {
            return after_panic(&mut guard, &mut cx, &*panic);
        }
        let error = HttpError::panic(panic_message(&*panic).to_owned());
        // Boxed: the error path's future would otherwise sit in every request's.
        if let Err(panic) = AssertUnwindSafe(Box::pin(conclude(&mut guard, &mut cx, Err(error))))
            .catch_unwind()
            .await
        {
            after_panic(&mut guard, &mut cx, &*panic);
        }
    }
}

/// The default 500 page after a panic outside the method (the response may be half done).
fn after_panic<H: RequestHandler>(
    guard: &mut CloseGuard<H>,
    cx: &mut RequestContext,
    panic: &(dyn Any + Send),
) {
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
}

/// Tornado's `_execute`, then `finish` and `on_finish`.
async fn answer<H: RequestHandler>(guard: &mut CloseGuard<H>, cx: &mut RequestContext) {
    set_default_headers(&mut guard.handler, cx);
    guard.in_steps = true;
    let outcome = steps(&mut guard.handler, cx).await;
    guard.in_steps = false;
    if !conclude_now(guard, cx, &outcome) {
        conclude(guard, cx, outcome).await;
    }
}

/// [`conclude`] when nothing is left to wait for (the steps went well and the answer goes
/// whole, nearly every request): `true` once done. `false` (and nothing done) sends the run
/// to `conclude`, whose future most requests then never make.
fn conclude_now<H: RequestHandler>(
    guard: &mut CloseGuard<H>,
    cx: &mut RequestContext,
    outcome: &Result<(), HttpError>,
) -> bool {
    if outcome.is_err() || cx.send_error_pending() {
        return false;
    }
    if !cx.is_finished() {
        match cx.finish_now() {
            None => return false,
            Some(Err(_)) => {
                cut(cx);
                return true;
            }
            Some(Ok(())) => {}
        }
    }
    guard.done = true;
    guard.handler.on_finish(cx);
    true
}

/// After the handler's steps: the error page if they failed, `finish`, `on_finish`.
async fn conclude<H: RequestHandler>(
    guard: &mut CloseGuard<H>,
    cx: &mut RequestContext,
    outcome: Result<(), HttpError>,
) {
    if let Err(error) = outcome {
        match error.kind {
            ErrorKind::Finish => {}
            ErrorKind::ConnectionClosed => return cut(cx),
            ErrorKind::Page | ErrorKind::Panic | ErrorKind::Unimplemented => {
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
    if !cx.is_finished() {
        let finished = match cx.finish_now() {
            Some(result) => result,
            None => cx.finish().await,
        };
        if finished.is_err() {
            return cut(cx);
        }
    }
    guard.done = true;
    guard.handler.on_finish(cx);
}

/// The response broke off (the client left, or an error came after the head was flushed): the
/// connection closes. If the head went out, the client saw its status: log that line (a
/// finished stream logged its own).
fn cut(cx: &mut RequestContext) {
    if cx.headers_sent() {
        cx.log();
    }
    cx.abandon();
}

async fn steps<H: RequestHandler>(
    handler: &mut H,
    cx: &mut RequestContext,
) -> Result<(), HttpError> {
    let verb = cx.verb;
    let supported = H::SUPPORTED_METHODS.contains(cx.request.method())
        || (verb == Verb::Head && H::SUPPORTED_METHODS.contains(&Method::GET));
    if !supported {
        return Err(HttpError::new(StatusCode::METHOD_NOT_ALLOWED));
    }
    let base = cx.settings().base_handler.clone();
    cx.current_user = handler.get_current_user(cx);
    if cx.current_user.is_none()
        && let Some(base) = &base
    {
        cx.current_user = base.0.get_current_user(cx);
    }
    // Tornado's `_cross_origin_protection`: unsafe methods only; WebSocket upgrades (GETs)
    // are checked by their own handler.
    if verb.is_unsafe() {
        if H::CHECK_XSRF_COOKIE && cx.settings().xsrf_cookies {
            cx.check_xsrf_cookie()?;
        }
        if cx.settings().cross_origin_protection
            && let Some(refusal) = crate::origin::cross_origin_error(cx.request(), |origin| {
                handler.check_trusted_origin(origin, cx)
            })
        {
            return Err(HttpError::forbidden().log_message(refusal));
        }
    }
    if let Some(base) = &base {
        base.0.prepare(cx)?;
        if cx.is_finished() {
            return Ok(());
        }
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
        // The body's trailers, if any, are the request's from here on.
        if let Some(trailers) = body.take_trailers() {
            cx.request.set_trailers(trailers);
        }
    }
    let outcome = match verb {
        Verb::Get => handler.get(cx).await,
        Verb::Head => handler.head(cx).await,
        Verb::Post => handler.post(cx).await,
        Verb::Put => handler.put(cx).await,
        Verb::Delete => handler.delete(cx).await,
        Verb::Patch => handler.patch(cx).await,
        Verb::Options => handler.options(cx).await,
        Verb::Other => Err(HttpError::new(StatusCode::METHOD_NOT_ALLOWED)),
    };
    let unimplemented = matches!(&outcome, Err(error) if error.kind == ErrorKind::Unimplemented);
    if !unimplemented && let Some(seen) = &cx.methods_seen {
        seen.note();
    }
    outcome
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
    set_default_headers(handler, cx);
    cx.set_status(error.status);
    if error.status == StatusCode::METHOD_NOT_ALLOWED {
        let refused = cx.request.method().clone();
        let allow = allow_header::<H>(cx.methods_seen.as_ref(), &refused);
        cx.headers_mut().insert(ALLOW, allow);
    }
    handler.write_error(cx, error);
    if !cx.is_finished() {
        cx.finish().await?;
    }
    Ok(())
}

/// Tornado's `clear()` ends with `set_default_headers`: the application's base first, then
/// the handler's own.
fn set_default_headers<H: RequestHandler>(handler: &mut H, cx: &mut RequestContext) {
    if let Some(base) = cx.settings().base_handler.clone() {
        base.0.set_default_headers(cx);
    }
    handler.set_default_headers(cx);
}

/// The methods for `Allow`: never one that would be refused. A handler that declares its
/// `SUPPORTED_METHODS` gets those (HEAD with GET, as it is answered automatically), less the
/// refused one. One that keeps the default seven gets those it has been seen to implement
/// (answered without the trait's default 405), since a method it does not implement would be
/// refused too.
fn allow_header<H: RequestHandler>(seen: Option<&SeenRecord>, refused: &Method) -> HeaderValue {
    let declared = H::SUPPORTED_METHODS != super::DEFAULT_SUPPORTED_METHODS;
    let mut names: Vec<&str> = H::SUPPORTED_METHODS
        .iter()
        .filter(|method| {
            *method != refused && (declared || seen.is_some_and(|seen| seen.contains(method)))
        })
        .map(Method::as_str)
        .collect();
    let get = names.contains(&"GET");
    if get && !names.contains(&"HEAD") && refused != Method::HEAD {
        names.push("HEAD");
    }
    HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static(""))
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
