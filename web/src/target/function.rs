//! [`function`]: an async function answering each request whole.

use std::borrow::Cow;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use cyclone_protocol::server::{HttpRequestMessage, HttpResponse, HttpServerRequest};
use futures::FutureExt;

use super::{RouteTarget, Target, Work, work_in_place};
use crate::app::AppContext;
use crate::routing::PathArgs;

/// An async function answering each request (with its path arguments) with a whole response.
/// It runs on the connection's loop; its future need not be `Send`. A panic answers 500 (the
/// message only with `serve_traceback`), as a handler's does.
///
/// ```
/// use cyclone_web::{function, url};
/// use cyclone_protocol::server::HttpResponse;
///
/// let rule = url(r"/hello/(\w+)", function(|_request, args| async move {
///     HttpResponse::ok().text(format!("hello {}", args.get(0).unwrap_or("")))
/// }));
/// # drop(rule);
/// ```
pub fn function<F, Fut>(function: F) -> Target
where
    F: Fn(HttpServerRequest, PathArgs) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + 'static,
{
    Target::new(FunctionTarget(function))
}

/// The target [`function`] makes.
struct FunctionTarget<F>(F);

impl<F, Fut> RouteTarget for FunctionTarget<F>
where
    F: Fn(HttpServerRequest, PathArgs) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + 'static,
{
    fn deliver(&self, message: HttpRequestMessage, app: &AppContext) -> Option<Work> {
        let HttpRequestMessage {
            request,
            path_args,
            writer,
        } = message;
        let answer = AssertUnwindSafe((self.0)(request, path_args)).catch_unwind();
        let serve_traceback = app.settings().serve_traceback_enabled();
        Some(work_in_place!(async move {
            let response = match answer.await {
                Ok(response) => response,
                Err(panic) => {
                    let message = crate::handler::panic_message(&*panic).to_owned();
                    tracing::error!("handler panicked: {message}");
                    let error = crate::errors::HttpError::panic(message);
                    crate::errors::error_response(&error, serve_traceback)
                }
            };
            // An error means the client left: nobody to tell.
            let _ = writer.respond(response);
        }))
    }

    fn name(&self) -> Cow<'static, str> {
        "function".into()
    }
}
