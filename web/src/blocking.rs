//! Blocking handlers (Tornado's `WSGIContainer` role): a synchronous function runs on the
//! blocking pool (`run_in_executor`), so a blocking library can answer requests without
//! stalling the connection's loop, which keeps serving other requests meanwhile.

use std::sync::Arc;

use cyclone_actors::executor::{ExecutorError, run_in_executor};
use cyclone_protocol::server::{HttpResponse, HttpServerRequest};
use http::StatusCode;

use crate::target::{Target, function};

/// A target that answers each request by running `handler` on the blocking pool. The pool's
/// size and queue limit are the runtime's (`cyclone::ioloop`); a full queue answers 503, a
/// panic 500 (the pool and the server live on).
///
/// ```
/// use cyclone_web::{blocking::blocking, url};
/// use cyclone_protocol::server::HttpResponse;
///
/// let rule = url("/report", blocking(|_request| {
///     std::thread::sleep(std::time::Duration::from_millis(10)); // a blocking library call
///     HttpResponse::ok().text("done")
/// }));
/// # drop(rule);
/// ```
pub fn blocking<F>(handler: F) -> Target
where
    F: Fn(&HttpServerRequest) -> HttpResponse + Send + Sync + 'static,
{
    let handler = Arc::new(handler);
    function(move |request, _args| {
        let handler = handler.clone();
        async move {
            match run_in_executor(move || handler(&request)).await {
                Ok(response) => response,
                Err(error @ ExecutorError::QueueFull { .. }) => {
                    tracing::warn!("blocking handler refused: {error}");
                    HttpResponse::new(StatusCode::SERVICE_UNAVAILABLE)
                }
                Err(error) => {
                    tracing::error!("blocking handler failed: {error}");
                    HttpResponse::new(StatusCode::INTERNAL_SERVER_ERROR)
                }
            }
        }
    })
}
