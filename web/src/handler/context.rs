//! [`RequestContext`]: one request's state as a handler sees it (Tornado's `RequestHandler`
//! instance state): the request, the path arguments, the answer's status and header fields
//! (kept in the request's writer), the written body, and `finish` / `flush`.

use std::sync::Arc;

use bytes::Bytes;
use cyclone_protocol::server::{
    EntityTag, HttpResponse, HttpServerRequest, InvalidReasonPhrase, ResponseWriter,
};
use http::header::{
    CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_TYPE, ETAG, HeaderName, LOCATION, SET_COOKIE,
};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::access_log::{AccessLogEntry, log_request};
use crate::app::{AppContext, DEFAULT_CONTENT_TYPE};
use crate::compress::GzipStream;
use crate::errors::{HttpError, default_error_page};
use crate::routing::{PathArgs, RouteError};
use crate::settings::Settings;
use crate::transform::Transforms;

use super::pieces::Pieces;
use super::verb::Verb;

/// The application a request belongs to: settings and routes, shared by every worker.
pub(crate) type AppRef = AppContext;

/// One request's state, passed to every [`RequestHandler`](crate::RequestHandler) method:
/// Tornado's `self.request`, `self.write`, `self.set_header`, `self.finish` and friends.
///
/// Written bytes are kept until the request finishes (one whole response with
/// `Content-Length`) or until [`flush`](Self::flush), which sends the head and streams the
/// body chunked from then on.
pub struct RequestContext {
    /// The request being answered.
    pub(crate) request: HttpServerRequest,
    /// The route's groups.
    path_args: PathArgs,
    /// Settings and routes.
    app: AppRef,
    /// The status to send.
    status: StatusCode,
    /// The header fields to send (until the head is flushed): a pooled map, taken when the
    /// first field is set and handed to the response whole; `None` before (most answers set
    /// none: the application's defaults and the ETag travel beside the map) and once it went
    /// (a read then sees an empty map).
    headers: Option<Box<HeaderMap>>,
    /// The request's writer; `None` once the answer is handed over whole or finished.
    writer: Option<ResponseWriter>,
    /// Body pieces written since the last flush.
    buffer: Pieces,
    /// `finish` ran: nothing more may be written.
    finished: bool,
    /// Set by the first `flush`: the head is sent and the answer streams from then on. Boxed:
    /// most answers never flush, and a small context keeps the per-request work small.
    stream: Option<Box<Stream>>,
    /// The user [`get_current_user`](crate::RequestHandler::get_current_user) returned.
    pub(crate) current_user: Option<String>,
    /// The handler's `compute_etag`.
    pub(crate) compute_etag: fn(&RequestContext) -> Option<EntityTag>,
    /// The request's method as one of the seven handler methods, found once.
    pub(crate) verb: Verb,
    /// The route's record of which handler methods work, for a 405's `Allow`.
    pub(crate) methods_seen: Option<super::methods_seen::SeenRecord>,
    /// What few requests use, in one box made on first use: most contexts carry none of it,
    /// and a smaller context is cheaper to build, move into its handler's future and drop.
    rare: Option<Box<Rare>>,
}

/// The parts of a [`RequestContext`] most requests never set.
#[derive(Default)]
pub(crate) struct Rare {
    /// A reason phrase of the handler's for the status line (Tornado's `set_status(code,
    /// reason)`), already checked.
    reason: Option<Box<str>>,
    /// This request's XSRF token, once made (Tornado's `_xsrf_token`).
    pub(crate) xsrf_token: Option<String>,
    /// An error page asked for by [`send_error`](RequestContext::send_error), rendered by the
    /// handler's `write_error` once its method returns (the context cannot reach the handler).
    send_error: Option<HttpError>,
    /// The handler's mailbox, made the first time the handler hands out its address.
    pub(crate) inbox: Option<super::inbox::Inbox>,
    /// Trailer fields to end the body with ([`add_trailer`](RequestContext::add_trailer)).
    trailers: Option<Box<HeaderMap>>,
}

/// A streamed answer's gzip stream (with `compress_response`, when it is worth it).
struct Stream {
    /// The gzip stream, if the answer is compressed.
    gzip: Option<GzipStream>,
    /// The application's output transforms, if it has any.
    transforms: Option<Transforms>,
}

impl Stream {
    /// Hands `pieces` to the writer (through the transforms and gzip, if any).
    fn write(&mut self, writer: &mut ResponseWriter, pieces: Pieces) -> Result<(), HttpError> {
        let pieces = match &mut self.transforms {
            Some(transforms) => Pieces::One(transforms.chunk(pieces.into_body(), false)),
            None => pieces,
        };
        self.send(writer, pieces)
    }

    /// Hands `pieces` to the writer (through gzip if on).
    fn send(&mut self, writer: &mut ResponseWriter, pieces: Pieces) -> Result<(), HttpError> {
        match &mut self.gzip {
            Some(gzip) => writer.write(gzip.flush(pieces.into_iter())?),
            None => {
                for piece in pieces {
                    writer.write(piece);
                }
            }
        }
        Ok(())
    }

    /// Sends the last `pieces` and ends the answer (with `trailers` after the body, if any).
    async fn finish(
        mut self: Box<Self>,
        mut writer: ResponseWriter,
        pieces: Pieces,
        trailers: Option<Box<HeaderMap>>,
    ) -> Result<(), HttpError> {
        let pieces = match &mut self.transforms {
            Some(transforms) => Pieces::One(transforms.chunk(pieces.into_body(), true)),
            None => pieces,
        };
        match self.gzip {
            Some(gzip) => writer.write(gzip.finish(pieces.into_iter())?),
            None => {
                for piece in pieces {
                    writer.write(piece);
                }
            }
        }
        match trailers {
            Some(trailers) => writer.finish_with_trailers(*trailers).await?,
            None => writer.finish().await?,
        }
        Ok(())
    }
}

/// Whether an answer with `status` carries no body (204, 304, 1xx).
fn bodiless(status: StatusCode) -> bool {
    status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status.is_informational()
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("method", self.request.method())
            .field("uri", self.request.uri())
            .field("status", &self.status)
            .field("finished", &self.finished)
            .field("streaming", &self.stream.is_some())
            .finish_non_exhaustive()
    }
}

impl RequestContext {
    pub(crate) fn new(
        request: HttpServerRequest,
        path_args: PathArgs,
        writer: ResponseWriter,
        app: AppRef,
    ) -> Self {
        RequestContext {
            verb: Verb::of(request.method()),
            request,
            path_args,
            app,
            status: StatusCode::OK,
            headers: None,
            writer: Some(writer),
            buffer: Pieces::Empty,
            finished: false,
            stream: None,
            current_user: None,
            compute_etag: |cx| Some(cx.default_etag()),
            methods_seen: None,
            rare: None,
        }
    }

    /// The request (Tornado's `self.request`).
    pub fn request(&self) -> &HttpServerRequest {
        &self.request
    }

    /// The request, to take its body stream and such.
    pub fn request_mut(&mut self) -> &mut HttpServerRequest {
        &mut self.request
    }

    /// The route pattern's groups, percent-decoded.
    pub fn path_args(&self) -> &PathArgs {
        &self.path_args
    }

    /// The application's settings.
    pub fn settings(&self) -> &Settings {
        self.app.settings()
    }

    /// The application's settings and named routes.
    pub fn app(&self) -> &AppContext {
        &self.app
    }

    /// The URL of the rule named `name` with `args` in its groups (Tornado's `reverse_url`).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, RouteError> {
        self.app.reverse_url(name, args)
    }

    /// The status to send. Default 200.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Sets the status (before the head is flushed), with its standard reason phrase.
    pub fn set_status(&mut self, status: StatusCode) {
        self.status = status;
        if let Some(rare) = &mut self.rare {
            rare.reason = None;
        }
    }

    /// Sets the status with a reason phrase of the handler's in the status line (Tornado's
    /// `set_status(code, reason)`): a status the `http` crate does not name, or wording of the
    /// application's. A reason that cannot go in a status line (CR, LF, another control
    /// character, non-ASCII) is the application's mistake: 500, logged.
    pub fn set_status_with_reason(
        &mut self,
        status: StatusCode,
        reason: &str,
    ) -> Result<(), HttpError> {
        if InvalidReasonPhrase::check(reason).is_err() {
            return Err(HttpError::internal(format!(
                "reason phrase {reason:?} cannot go in a status line"
            )));
        }
        self.status = status;
        self.rare_mut().reason = Some(Box::from(reason));
        Ok(())
    }

    /// The custom reason phrase set with
    /// [`set_status_with_reason`](Self::set_status_with_reason), if any.
    pub fn reason(&self) -> Option<&str> {
        self.rare.as_ref()?.reason.as_deref()
    }

    /// The rarely used parts, if any was set.
    pub(crate) fn rare(&self) -> Option<&Rare> {
        self.rare.as_deref()
    }

    /// The rarely used parts, made on first use.
    pub(crate) fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// The header fields to send (empty once the answer is handed over).
    pub fn headers(&self) -> &HeaderMap {
        match &self.headers {
            Some(headers) => headers,
            None => empty_headers(),
        }
    }

    /// The header fields to send, to change directly (after the answer is handed over,
    /// changes reach nobody).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.headers.get_or_insert_with(pooled_map)
    }

    /// Sets a header field, replacing its values. A name or value that cannot be sent (a
    /// newline smuggling another field, say) is an error (500), as in Tornado.
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<(), HttpError> {
        let (name, value) = header_pair(name, value)?;
        self.headers_mut().insert(name, value);
        Ok(())
    }

    /// Adds a header field value, keeping earlier ones (for `Set-Cookie`, `Link`...).
    pub fn add_header(&mut self, name: &str, value: &str) -> Result<(), HttpError> {
        let (name, value) = header_pair(name, value)?;
        self.headers_mut().append(name, value);
        Ok(())
    }

    /// Adds a trailer field, sent after the body (RFC 9110 §6.5; gRPC's `grpc-status`, a
    /// checksum computed while writing). An answer with trailers goes out streamed (chunked
    /// over HTTP/1.1, a closing HEADERS frame over HTTP/2); an HTTP/1.0 client or a bodiless
    /// answer gets none. Announce the names in a `Trailer` header if clients need them in
    /// advance. Fields that must not be trailers (`Content-Length`, `Content-Type`, `Host`,
    /// `Set-Cookie`...; see [`is_forbidden_trailer`]) are refused with an error (500 if
    /// the handler passes it on).
    ///
    /// [`is_forbidden_trailer`]: cyclone_protocol::server::is_forbidden_trailer
    pub fn add_trailer(&mut self, name: &str, value: &str) -> Result<(), HttpError> {
        let (name, value) = header_pair(name, value)?;
        if cyclone_protocol::server::is_forbidden_trailer(&name) {
            return Err(HttpError::internal(format!("{name} may not be a trailer")));
        }
        self.rare_mut()
            .trailers
            .get_or_insert_with(Box::default)
            .append(name, value);
        Ok(())
    }

    /// The trailer fields added so far.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.rare.as_ref()?.trailers.as_deref()
    }

    /// Removes a header field.
    pub fn clear_header(&mut self, name: &str) {
        self.headers_mut().remove(name);
    }

    /// Resets the status, header fields and written body (Tornado's `clear`). Cookies set
    /// with [`set_cookie`](Self::set_cookie) (its `Set-Cookie` fields) stay, as in Tornado,
    /// which keeps them apart from the header fields: a session or XSRF cookie set before an
    /// error survives [`send_error`](Self::send_error) and the error page.
    pub fn clear(&mut self) {
        self.status = StatusCode::OK;
        if let Some(rare) = &mut self.rare {
            rare.reason = None;
            rare.trailers = None;
        }
        self.buffer.clear();
        let Some(headers) = self.headers.as_deref_mut() else {
            return;
        };
        if !headers.contains_key(SET_COOKIE) {
            headers.clear();
            return;
        }
        let cookies: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
        headers.clear();
        for cookie in cookies {
            headers.append(SET_COOKIE, cookie);
        }
    }

    /// Appends body bytes (text, bytes, a `String`...). After `finish` it is ignored and
    /// logged.
    pub fn write(&mut self, data: impl Into<Bytes>) {
        if self.finished {
            tracing::warn!("write() after finish() ignored");
            return;
        }
        let data = data.into();
        if !data.is_empty() {
            self.buffer.push(data);
        }
    }

    /// Writes `value` as JSON with `Content-Type: application/json; charset=UTF-8` (Tornado's
    /// `write(dict)`).
    pub fn write_json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), HttpError> {
        let json = serde_json::to_vec(value)?;
        self.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        self.write(json);
        Ok(())
    }

    /// Whether the response is finished.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether the head was sent by a [`flush`](Self::flush) (status and header fields can no
    /// longer change).
    pub fn headers_sent(&self) -> bool {
        self.stream.is_some()
    }

    /// The user this request runs as (Tornado's `current_user`), from
    /// [`get_current_user`](crate::RequestHandler::get_current_user) or
    /// [`set_current_user`](Self::set_current_user).
    pub fn current_user(&self) -> Option<&str> {
        self.current_user.as_deref()
    }

    /// Sets the current user (Tornado's `self.current_user = ...`, typically in `prepare`).
    pub fn set_current_user(&mut self, user: Option<String>) {
        self.current_user = user;
    }

    /// Sends the head (the first time) and what is written so far; the body is chunked from
    /// then on. Waits while the client is slow (the connection holds a bounded queue). An
    /// error means the client left.
    pub async fn flush(&mut self) -> Result<(), HttpError> {
        if self.finished {
            return Err(HttpError::internal("flush() after finish()"));
        }
        let Some(writer) = self.writer.as_mut() else {
            return Err(HttpError::connection_closed());
        };
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => {
                if let Some(defaults) = self.app.answer_defaults() {
                    writer.set_default_headers(Arc::clone(defaults));
                }
                let headers = self.headers.get_or_insert_with(pooled_map);
                headers.entry(CONTENT_TYPE).or_insert(DEFAULT_CONTENT_TYPE);
                let mut transforms =
                    Transforms::start(&self.app.settings().transforms, &self.request);
                let mut first = std::mem::take(&mut self.buffer);
                if let Some(transforms) = &mut transforms {
                    let chunk =
                        transforms.first_chunk(&mut self.status, headers, first.into_body(), false);
                    first = Pieces::One(chunk);
                }
                writer.set_status(self.status);
                if let Some(reason) = self.rare.as_ref().and_then(|rare| rare.reason.as_deref()) {
                    // Checked when set.
                    let _ = writer.set_reason(reason);
                }
                let gzip = if self.app.settings().compress_response {
                    GzipStream::start(self.request.headers(), headers)
                } else {
                    None
                };
                // The map is swapped into the writer's, not copied; ours is left empty.
                std::mem::swap(writer.headers_mut(), headers);
                let stream = self.stream.insert(Box::new(Stream { gzip, transforms }));
                stream.send(writer, first)?;
                writer.flush().await?;
                return Ok(());
            }
        };
        stream.write(writer, std::mem::take(&mut self.buffer))?;
        writer.flush().await?;
        Ok(())
    }

    /// Finishes the response: computes the ETag (a match is 304), compresses when asked to,
    /// sends it, and logs it. The runner calls it when a method returns without finishing.
    pub async fn finish(&mut self) -> Result<(), HttpError> {
        if let Some(result) = self.finish_now() {
            return result;
        }
        if self.trailers().is_some() && self.stream.is_none() && self.writer.is_some() {
            // Trailers follow a streamed body: the answer goes out streamed.
            Box::pin(self.flush()).await?;
        }
        self.finished = true;
        if let Some(stream) = self.stream.take() {
            let trailers = self.rare.as_mut().and_then(|rare| rare.trailers.take());
            let result = match self.writer.take() {
                // Boxed: the streamed finish's future would otherwise sit in every request's.
                Some(writer) => {
                    Box::pin(stream.finish(writer, std::mem::take(&mut self.buffer), trailers))
                        .await
                }
                None => Err(HttpError::connection_closed()),
            };
            self.log();
            return result;
        }
        let result = self.finish_whole();
        self.log();
        result
    }

    /// [`finish`](Self::finish) when it has nothing to wait for (the answer goes whole, the
    /// common case, or `finish` ran already): its result. `None` when the answer streams
    /// (a flushed head, trailers): then only `finish` can end it. The runner calls this first,
    /// which spares most requests `finish`'s future.
    pub(crate) fn finish_now(&mut self) -> Option<Result<(), HttpError>> {
        if self.finished {
            return Some(Err(HttpError::internal("finish() called twice")));
        }
        if self.stream.is_some() || (self.trailers().is_some() && self.writer.is_some()) {
            return None;
        }
        self.finished = true;
        let result = self.finish_whole();
        self.log();
        Some(result)
    }

    /// Tornado's `finish` for an answer sent whole: handed to the writer at once.
    fn finish_whole(&mut self) -> Result<(), HttpError> {
        // The tag goes beside the answer's map (see `EntityTag`), unless a transform may
        // want to read or change it there.
        let mut etag = None;
        if self.status == StatusCode::OK
            && matches!(self.verb, Verb::Get | Verb::Head)
            && !has_field(self.headers(), ETAG)
            && let Some(tag) = (self.compute_etag)(self)
        {
            if self.none_match(&tag) {
                self.buffer.clear();
                self.status = StatusCode::NOT_MODIFIED;
            }
            etag = Some(tag);
        }
        let mut status = self.status;
        let mut body = std::mem::take(&mut self.buffer).into_body();
        let Some(mut writer) = self.writer.take() else {
            return Err(HttpError::connection_closed());
        };
        let headers = &mut self.headers;
        let settings = self.app.settings();
        if let Some(mut transforms) = Transforms::start(&settings.transforms, &self.request) {
            let headers = headers.get_or_insert_with(pooled_map);
            if let Some(tag) = etag.take() {
                headers.insert(ETAG, tag.to_header_value());
            }
            if !bodiless(status) {
                headers.entry(CONTENT_TYPE).or_insert(DEFAULT_CONTENT_TYPE);
            }
            body = transforms.first_chunk(&mut status, headers, body, true);
            self.status = status;
        }
        // The application's default fields go with the answer (the application leaves them
        // to us): the encoder writes those the map lacks straight into the head.
        let defaults = if bodiless(status) {
            body = Bytes::new();
            if let Some(headers) = headers {
                for name in [CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_TYPE] {
                    headers.remove(name);
                }
            }
            self.app.answer_defaults()
        } else if settings.compress_response {
            // gzip looks at the type.
            let headers = headers.get_or_insert_with(pooled_map);
            headers.entry(CONTENT_TYPE).or_insert(DEFAULT_CONTENT_TYPE);
            body = crate::compress::gzip_response(self.request.headers(), headers, body);
            self.app.answer_defaults()
        } else {
            // The default type comes with the others, which costs no insert into the map.
            Some(self.app.page_defaults())
        };
        if let Some(defaults) = defaults {
            writer.set_default_headers(Arc::clone(defaults));
        }
        // The map goes with the response (the connection recycles it); without one, the
        // response makes none.
        let response = match self.headers.take() {
            Some(headers) => HttpResponse::with_headers(status, headers),
            None => HttpResponse::new(status),
        };
        let mut response = response.body(body);
        if let Some(reason) = self.reason() {
            // Checked when set.
            let _ = response.set_reason(Some(reason));
        }
        writer.respond_with_etag(response, etag)?;
        Ok(())
    }

    /// The body written so far (before finish), for `compute_etag`.
    pub fn written(&self) -> &[Bytes] {
        self.buffer.as_slice()
    }

    /// Redirects to `url` with 301 (`permanent`) or 302 and finishes (Tornado's `redirect`).
    /// Return [`HttpError::finish`] or `Ok` after it.
    ///
    /// A relative `url` is resolved against the request's target, as Tornado's
    /// `urljoin(self.request.uri, url)` (RFC 3986): from `/a/x`, `b` is `/a/b`, `../c` is
    /// `/c`, `?q=1` is `/a/x?q=1`; absolute URLs and `//host/path` go as given. A URL with a
    /// control character (CR/LF would inject a header field) is a 500
    /// ([`RedirectUrlError`](crate::RedirectUrlError) in the log), and nothing is sent in it.
    pub async fn redirect(&mut self, url: &str, permanent: bool) -> Result<(), HttpError> {
        let status = if permanent {
            StatusCode::MOVED_PERMANENTLY
        } else {
            StatusCode::FOUND
        };
        self.redirect_with_status(url, status).await
    }

    /// Redirects with a chosen 3xx status (303, 307, 308...).
    pub async fn redirect_with_status(
        &mut self,
        url: &str,
        status: StatusCode,
    ) -> Result<(), HttpError> {
        if self.headers_sent() {
            return Err(HttpError::internal(
                "cannot redirect after the head was flushed",
            ));
        }
        if !status.is_redirection() {
            return Err(HttpError::internal(format!(
                "{status} is not a redirect status"
            )));
        }
        let base = self
            .request
            .uri()
            .path_and_query()
            .map_or("/", |target| target.as_str());
        let location = crate::urljoin::urljoin(base, url).map_err(HttpError::internal)?;
        let location = HeaderValue::from_bytes(location.as_bytes())
            .map_err(|_| HttpError::internal(format!("unsafe redirect location {url:?}")))?;
        self.status = status;
        self.headers_mut().insert(LOCATION, location);
        self.finish().await
    }

    /// Tornado's `send_error(status_code)`: drops what was written and the header fields set,
    /// sets `status`, and finishes the request with the page the handler's
    /// [`write_error`](crate::RequestHandler::write_error) writes. Later writes are ignored.
    ///
    /// The page is rendered and sent when the handler's method returns (Tornado renders it at
    /// once; here `write_error` needs the handler, which is busy running the method). After a
    /// [`flush`](Self::flush) the head is gone and no error page can be sent: the response is
    /// cut (the connection closes) and this returns the error to propagate with `?`.
    ///
    /// ```
    /// use cyclone_web::{HttpError, RequestContext, RequestHandler};
    /// use http::StatusCode;
    ///
    /// struct Teapot;
    /// impl RequestHandler for Teapot {
    ///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
    ///         cx.send_error(StatusCode::IM_A_TEAPOT)
    ///     }
    /// }
    /// ```
    pub fn send_error(&mut self, status: StatusCode) -> Result<(), HttpError> {
        self.send_error_with(HttpError::new(status))
    }

    /// [`send_error`](Self::send_error) with a whole [`HttpError`] (a `reason` for the page, a
    /// `log_message`), as Tornado's `send_error(status_code, **kwargs)` hands its arguments to
    /// `write_error`.
    pub fn send_error_with(&mut self, error: HttpError) -> Result<(), HttpError> {
        if self.headers_sent() {
            tracing::error!(
                "cannot send error response after the head was flushed ({} {}); closing",
                self.request.method(),
                self.request.uri()
            );
            self.finished = true;
            self.rare_mut().send_error = Some(HttpError::connection_closed());
            return Err(HttpError::connection_closed());
        }
        if self.finished {
            tracing::error!("send_error() after finish() ignored");
            return Ok(());
        }
        self.clear();
        self.status = error.status;
        self.finished = true;
        self.rare_mut().send_error = Some(error);
        Ok(())
    }

    /// Whether [`send_error`](Self::send_error) asked for an error page.
    pub(crate) fn send_error_pending(&self) -> bool {
        self.rare().is_some_and(|rare| rare.send_error.is_some())
    }

    /// The error [`send_error`](Self::send_error) asked for, reopening the response so the
    /// runner can render it.
    pub(crate) fn take_send_error(&mut self) -> Option<HttpError> {
        let error = self.rare.as_mut()?.send_error.take()?;
        self.finished = false;
        Some(error)
    }

    /// Writes Tornado's default error page for `error` (what the default `write_error` does).
    pub fn write_default_error(&mut self, error: &HttpError) {
        let (page, content_type) =
            default_error_page(error, self.app.settings().serve_traceback_enabled());
        self.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        self.write(page);
    }

    /// Whether the answer was handed to the writer whole (and logged).
    pub(crate) fn answered_whole(&self) -> bool {
        self.finished && self.writer.is_none() && self.stream.is_none()
    }

    /// Replaces whatever was under way (not flushed) with the default page for `error` (a
    /// panic's 500), finishes it whole and logs it: the answer when the handler's own error
    /// path cannot be trusted.
    pub(crate) fn finish_with_panic_page(&mut self, error: &HttpError) {
        self.clear();
        self.finished = false;
        self.status = error.status;
        self.write_default_error(error);
        self.finished = true;
        // A client that left cannot be told.
        let _ = self.finish_whole();
        self.log();
    }

    /// Gives up on the answer: a streamed one is cut (the connection closes), an unstarted one
    /// answered 500 by the connection.
    pub(crate) fn abandon(&mut self) {
        self.writer = None;
    }

    /// Writes the access log line with the current status. Whether anyone wants it is asked
    /// in line; the line is made out of line.
    #[inline]
    pub(crate) fn log(&self) {
        let log_function = self.app.settings().log_function.as_ref();
        if crate::access_log::wanted(log_function, self.status) {
            self.write_log();
        }
    }

    /// The access log line, wanted.
    #[inline(never)]
    fn write_log(&self) {
        let log_function = self.app.settings().log_function.as_ref();
        let entry = AccessLogEntry {
            status: self.status,
            method: self.request.method(),
            uri: self
                .request
                .uri()
                .path_and_query()
                .map_or("/", |path| path.as_str()),
            remote_ip: self.request.remote_ip(),
            request_time: self.request.request_time(),
        };
        log_request(log_function, &entry);
    }
}

fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), HttpError> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| HttpError::internal(format!("unsafe header name {name:?}")))?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| HttpError::internal(format!("unsafe header value {value:?}")))?;
    Ok((name, value))
}

/// An empty map from the thread's pool (the protocol crate keeps it; a response made without
/// fields hands one over on request).
fn pooled_map() -> Box<HeaderMap> {
    HttpResponse::ok().into_boxed_parts().1
}

/// Whether `headers` has `name`; an empty map (most answers' own fields, the defaults travelling
/// apart) is answered without hashing the name.
fn has_field(headers: &HeaderMap, name: HeaderName) -> bool {
    !headers.is_empty() && headers.contains_key(name)
}

/// The header map of a context whose answer is handed over.
fn empty_headers() -> &'static HeaderMap {
    static EMPTY: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(HeaderMap::new);
    &EMPTY
}
