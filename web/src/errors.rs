//! [`HttpError`]: Tornado's `HTTPError` (and its `Finish`), returned from handler methods with
//! `?`, and the default error page Tornado's `write_error` writes.

use http::StatusCode;

/// An error that ends a request with an HTTP status, as Tornado's `HTTPError`.
///
/// Return it from a handler method (`Err(HttpError::new(StatusCode::NOT_FOUND))?`); the
/// framework clears what the handler wrote, sets the status and calls the handler's
/// [`write_error`](crate::RequestHandler::write_error). `log_message` is logged (never sent);
/// `reason` replaces the status line's standard reason phrase in the default error page.
///
/// ```
/// use cyclone_web::HttpError;
/// use http::StatusCode;
///
/// let error = HttpError::new(StatusCode::FORBIDDEN).log_message("user 7 is not an admin");
/// assert_eq!(error.status, StatusCode::FORBIDDEN);
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("HTTP {status}: {}", log_message.as_deref().unwrap_or("(no message)"))]
pub struct HttpError {
    /// The status the client gets.
    pub status: StatusCode,
    /// What goes to the log (never to the client), as Tornado's `log_message`.
    pub log_message: Option<String>,
    /// A reason phrase for the error page instead of the status's standard one.
    pub reason: Option<String>,
    /// Whether this is an error page to write or a request already answered.
    pub(crate) kind: ErrorKind,
}

/// What the framework does with an [`HttpError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Write an error page for `status`.
    Page,
    /// Tornado's `Finish`: the handler answered (a redirect, say); finish what it wrote.
    Finish,
    /// The client is gone: nothing can be written; call `on_connection_close`.
    ConnectionClosed,
    /// A handler panicked; `log_message` holds the panic message (served only in debug).
    Panic,
    /// A `RequestHandler` method the handler does not implement (the trait's default): 405.
    Unimplemented,
}

impl HttpError {
    /// An error with `status` and no messages.
    pub fn new(status: StatusCode) -> Self {
        HttpError {
            status,
            log_message: None,
            reason: None,
            kind: ErrorKind::Page,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request() -> Self {
        Self::new(StatusCode::BAD_REQUEST)
    }

    /// 403 Forbidden.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN)
    }

    /// 404 Not Found.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND)
    }

    /// 500 Internal Server Error, logging `error`.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR).log_message(error.to_string())
    }

    /// Tornado's `raise Finish()`: stop the handler and send what it wrote as it is (after a
    /// [`redirect`](crate::RequestContext::redirect), or an answer written in `prepare`).
    pub fn finish() -> Self {
        HttpError {
            kind: ErrorKind::Finish,
            ..Self::new(StatusCode::OK)
        }
    }

    /// Sets the message logged for this error.
    pub fn log_message(mut self, message: impl Into<String>) -> Self {
        self.log_message = Some(message.into());
        self
    }

    /// Sets the reason phrase shown on the error page.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Whether this is Tornado's `Finish` rather than an error.
    pub fn is_finish(&self) -> bool {
        self.kind == ErrorKind::Finish
    }

    /// Whether the client left (a flush found the connection closed).
    pub fn is_connection_closed(&self) -> bool {
        self.kind == ErrorKind::ConnectionClosed
    }

    /// The trait's default for a method a handler does not implement: 405, and the method
    /// is left out of the `Allow` header the handler's 405s carry.
    pub(crate) fn unimplemented_method() -> Self {
        HttpError {
            kind: ErrorKind::Unimplemented,
            ..Self::new(StatusCode::METHOD_NOT_ALLOWED)
        }
    }

    pub(crate) fn connection_closed() -> Self {
        HttpError {
            kind: ErrorKind::ConnectionClosed,
            ..Self::new(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }

    pub(crate) fn panic(message: String) -> Self {
        HttpError {
            kind: ErrorKind::Panic,
            ..Self::internal(message)
        }
    }

    /// The reason phrase: the one given, else the status's standard one.
    pub fn reason_phrase(&self) -> &str {
        self.reason
            .as_deref()
            .or(self.status.canonical_reason())
            .unwrap_or("Unknown")
    }

    /// Whether `log_message` may be shown to the client when tracebacks are served
    /// (internal errors and panics only: a 4xx message is the application's, not a trace).
    pub(crate) fn is_internal(&self) -> bool {
        self.kind == ErrorKind::Panic || self.status.is_server_error()
    }
}

/// A required argument is absent (Tornado's `MissingArgumentError`): answered 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Missing argument {0}")]
pub struct MissingArgumentError(pub String);

impl From<MissingArgumentError> for HttpError {
    fn from(error: MissingArgumentError) -> Self {
        HttpError::bad_request()
            .log_message(error.to_string())
            .reason(error.to_string())
    }
}

impl From<cyclone_protocol::httputil::FormError> for HttpError {
    fn from(error: cyclone_protocol::httputil::FormError) -> Self {
        HttpError::new(error.status()).log_message(error.to_string())
    }
}

impl From<cyclone_protocol::httputil::CookieError> for HttpError {
    fn from(error: cyclone_protocol::httputil::CookieError) -> Self {
        HttpError::internal(error)
    }
}

impl From<serde_json::Error> for HttpError {
    fn from(error: serde_json::Error) -> Self {
        HttpError::internal(error)
    }
}

impl From<std::io::Error> for HttpError {
    fn from(error: std::io::Error) -> Self {
        HttpError::internal(error)
    }
}

/// An actor a handler asked is gone or timed out (`addr.send(msg).await?`): 500, the cause
/// logged.
impl From<actix::MailboxError> for HttpError {
    fn from(error: actix::MailboxError) -> Self {
        HttpError::internal(format!("actor request failed: {error}"))
    }
}

/// An actor's mailbox refused a message (`addr.try_send(msg)?`): 503 when it was full (the
/// actor is overloaded; the client may retry), 500 when the actor is gone.
impl<M> From<actix::prelude::SendError<M>> for HttpError {
    fn from(error: actix::prelude::SendError<M>) -> Self {
        match error {
            actix::prelude::SendError::Full(_) => {
                HttpError::new(StatusCode::SERVICE_UNAVAILABLE).log_message("actor mailbox full")
            }
            actix::prelude::SendError::Closed(_) => HttpError::internal("actor is gone"),
        }
    }
}

/// A blocking job failed (`run_in_executor(f).await?`): 503 when the pool's queue is full,
/// 500 when the job panicked or the pool is gone; the cause is logged.
impl From<cyclone_actors::executor::ExecutorError> for HttpError {
    fn from(error: cyclone_actors::executor::ExecutorError) -> Self {
        match error {
            cyclone_actors::executor::ExecutorError::QueueFull { .. } => {
                HttpError::new(StatusCode::SERVICE_UNAVAILABLE).log_message(error.to_string())
            }
            other => HttpError::internal(other),
        }
    }
}

/// A URL could not be reversed (`cx.reverse_url(name, args)?`: no such rule, or the wrong
/// number of arguments), a mistake in the application as Tornado's `KeyError`: 500, the cause
/// logged.
///
/// ```
/// use cyclone_web::{HttpError, RequestContext, RequestHandler, RouteError};
///
/// struct NewStory;
/// impl RequestHandler for NewStory {
///     async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
///         let location = cx.reverse_url("story", &["42"])?;
///         cx.redirect(&location, false).await
///     }
/// }
///
/// let error = HttpError::from(RouteError::UnknownName("story".into()));
/// assert_eq!(error.status, http::StatusCode::INTERNAL_SERVER_ERROR);
/// ```
impl From<crate::routing::RouteError> for HttpError {
    fn from(error: crate::routing::RouteError) -> Self {
        HttpError::internal(error)
    }
}

impl From<cyclone_protocol::server::WriterError> for HttpError {
    fn from(_: cyclone_protocol::server::WriterError) -> Self {
        HttpError::connection_closed()
    }
}

/// Tornado's default error page: `<html><title>404: Not Found</title>...`, or with
/// `serve_traceback`, the internal error's message as plain text.
pub(crate) fn default_error_page(
    error: &HttpError,
    serve_traceback: bool,
) -> (String, &'static str) {
    if serve_traceback
        && error.is_internal()
        && let Some(message) = &error.log_message
    {
        return (
            format!(
                "{} {}\n\n{}\n",
                error.status.as_u16(),
                error.reason_phrase(),
                message
            ),
            "text/plain; charset=UTF-8",
        );
    }
    let code = error.status.as_u16();
    let reason = html_escape(error.reason_phrase());
    (
        format!("<html><title>{code}: {reason}</title><body>{code}: {reason}</body></html>"),
        "text/html; charset=UTF-8",
    )
}

/// The whole answer for `error` when no handler writes it: its status and the default page.
pub(crate) fn error_response(
    error: &HttpError,
    serve_traceback: bool,
) -> cyclone_protocol::server::HttpResponse {
    let (page, content_type) = default_error_page(error, serve_traceback);
    cyclone_protocol::server::HttpResponse::new(error.status)
        .header(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(content_type),
        )
        .body(page)
}

/// Tornado's `xhtml_escape`: `&<>"'` as entities.
pub fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
