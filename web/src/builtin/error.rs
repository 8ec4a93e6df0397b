//! [`ErrorHandler`]: answers every request with one error status (Tornado's `ErrorHandler`).

use http::{Method, StatusCode};

use crate::errors::HttpError;
use crate::handler::{RequestContext, RequestHandler};

/// Answers every request with `status` and the error page (Tornado's `ErrorHandler`); the
/// application answers unmatched paths with one for 404.
///
/// ```
/// use cyclone_web::{ErrorHandler, handler_with, url};
/// use http::StatusCode;
///
/// let rule = url("/gone", handler_with(|| ErrorHandler::new(StatusCode::GONE)));
/// # drop(rule);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ErrorHandler {
    /// The status every request gets.
    status: StatusCode,
}

impl ErrorHandler {
    /// Answers with `status`.
    pub fn new(status: StatusCode) -> Self {
        ErrorHandler { status }
    }
}

/// Every method, so the error (not 405) is what a client sees.
const ALL_METHODS: &[Method] = &[
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::DELETE,
    Method::PATCH,
    Method::PUT,
    Method::OPTIONS,
    Method::CONNECT,
    Method::TRACE,
];

impl RequestHandler for ErrorHandler {
    const SUPPORTED_METHODS: &'static [Method] = ALL_METHODS;
    // Tornado's ErrorHandler skips the XSRF check: an unknown path is 404 for POSTs too.
    const CHECK_XSRF_COOKIE: bool = false;

    async fn prepare(&mut self, _cx: &mut RequestContext) -> Result<(), HttpError> {
        Err(HttpError::new(self.status))
    }
}
