//! [`HttpServerRequest`]: Tornado's `HTTPServerRequest`, one parsed request as a handler sees it.

use std::any::Any;
use std::cell::OnceCell;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Uri, Version};

use super::body::RequestBody;
use crate::h1::RequestHead;
use crate::httputil::{
    Arguments, Files, FormError, FormLimits, parse_body_arguments, parse_cookie,
    parse_qs_bytes_with_limits, split_host_and_port,
};

/// `request.host` when the request names none (an HTTP/1.0 request without `Host`), as Tornado.
const DEFAULT_HOST: &str = "127.0.0.1";

/// One request: its head, its body (or body stream), where it came from, and lazily parsed
/// arguments, files and cookies.
///
/// Arguments and cookies are parsed on first use and kept; a request that never asks for them
/// never parses them.
///
/// It is `Send` (an actor on another thread may handle it) but not `Sync`. It is one pointer:
/// a request travels by value from the decoder to whoever answers it, through every actor a
/// request message is forwarded to, and moving a pointer costs nothing where moving the
/// request itself would copy hundreds of bytes each time.
#[derive(Debug)]
pub struct HttpServerRequest {
    /// The request's parts, boxed once.
    inner: Box<Inner>,
}

/// What a request holds.
#[derive(Debug)]
struct Inner {
    /// Request line and header fields, sharing the connection's read buffer.
    head: RequestHead,
    /// The whole body for a buffered handler; empty for a streaming one.
    body: Bytes,
    /// The body stream for a handler that asked for one, until it takes it.
    body_stream: Option<RequestBody>,
    /// A buffered body's trailer fields, when it had any (rare: boxed, one word here).
    trailers: Option<Box<HeaderMap>>,
    /// The client's address as the socket saw it.
    peer: SocketAddr,
    /// The client's IP: the peer's, or the proxy-reported one with `xheaders`.
    remote_ip: IpAddr,
    /// `"http"` or `"https"`: the transport's, or the proxy-reported one with `xheaders`.
    protocol: &'static str,
    /// When the head arrived, for [`request_time`](Self::request_time).
    start: Instant,
    /// Bounds on argument parsing, from the server's options.
    form_limits: FormLimits,
    /// Arguments, files and cookies, allocated on first use: most requests never ask, and a
    /// request moves through the connection several times, so it is kept small.
    parsed: OnceCell<Box<Parsed>>,
    /// What the router that routed the request attached (the web layer's application), so
    /// that whoever the request is forwarded to can reach it.
    app_data: Option<Arc<dyn Any + Send + Sync>>,
}

impl Drop for HttpServerRequest {
    fn drop(&mut self) {
        // The head's map goes back to this thread's pool for the next request's head.
        self.inner.head.recycle_headers();
    }
}

/// What [`HttpServerRequest`] parses lazily, each on first use.
#[derive(Debug, Default)]
struct Parsed {
    /// The query's arguments.
    query_arguments: OnceCell<Result<Arguments, FormError>>,
    /// The body's arguments and files.
    body_arguments: OnceCell<Result<(Arguments, Files), FormError>>,
    /// Query and body arguments merged.
    arguments: OnceCell<Result<Arguments, FormError>>,
    /// The `Cookie` header's pairs.
    cookies: OnceCell<Vec<(String, String)>>,
}

impl HttpServerRequest {
    /// A request from a decoded head that arrived at `start`; the connection fills in the body
    /// later.
    pub(crate) fn new(
        head: RequestHead,
        start: Instant,
        peer: SocketAddr,
        remote_ip: IpAddr,
        protocol: &'static str,
        form_limits: FormLimits,
    ) -> Self {
        // Written straight into its allocation: `Box::new` builds the ~300-byte `Inner` on the
        // stack and copies it (~76 instructions a request, callgrind).
        HttpServerRequest {
            inner: Box::write(
                Box::new_uninit(),
                Inner {
                    head,
                    body: Bytes::new(),
                    body_stream: None,
                    trailers: None,
                    peer,
                    remote_ip,
                    protocol,
                    start,
                    form_limits,
                    parsed: OnceCell::new(),
                    app_data: None,
                },
            ),
        }
    }

    /// A whole request made outside a connection: from another stack's request (a `tower`
    /// bridge), or in a test. `head` is what [`RequestDecoder`](crate::h1::RequestDecoder)
    /// decoded, `body` the whole body, `peer` the client (also its `remote_ip`); the protocol
    /// is `http` and the form limits are the defaults.
    pub fn from_head(head: RequestHead, body: Bytes, peer: SocketAddr) -> Self {
        let mut request = Self::new(
            head,
            Instant::now(),
            peer,
            peer.ip(),
            "http",
            FormLimits::default(),
        );
        request.set_body(body);
        request
    }

    pub(crate) fn set_body(&mut self, body: Bytes) {
        self.inner.body = body;
    }

    /// Sets the trailer fields [`trailers`](Self::trailers) returns: the connection does for a
    /// buffered body; code that reads a [`RequestBody`] itself (a framework's streaming
    /// handler) does with [`RequestBody::take_trailers`], so later code finds them here.
    pub fn set_trailers(&mut self, trailers: HeaderMap) {
        self.inner.trailers = Some(Box::new(trailers));
    }

    pub(crate) fn set_body_stream(&mut self, stream: RequestBody) {
        self.inner.body_stream = Some(stream);
    }

    pub(crate) fn head_mut(&mut self) -> &mut RequestHead {
        &mut self.inner.head
    }

    /// Replaces where the request came from: the proxy-reported client and protocol, with
    /// `xheaders`.
    pub(crate) fn set_origin(&mut self, remote_ip: IpAddr, protocol: &'static str) {
        self.inner.remote_ip = remote_ip;
        self.inner.protocol = protocol;
    }

    /// Attaches what a router wants every target the request reaches to find (the web
    /// layer's application context), replacing what was attached before.
    pub fn set_app_data(&mut self, data: Arc<dyn Any + Send + Sync>) {
        self.inner.app_data = Some(data);
    }

    /// What a router attached with [`set_app_data`](Self::set_app_data), if it is a `T`.
    pub fn app_data<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.inner.app_data.clone()?.downcast::<T>().ok()
    }

    /// The decoded head (method, target, version, fields and framing facts).
    pub fn head(&self) -> &RequestHead {
        &self.inner.head
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.inner.head.method
    }

    /// The request target as sent (`/path?query`, or absolute form).
    pub fn uri(&self) -> &Uri {
        &self.inner.head.uri
    }

    /// The target's path.
    pub fn path(&self) -> &str {
        self.inner.head.uri.path()
    }

    /// The target's query string, without `?`; empty when there is none.
    pub fn query(&self) -> &str {
        self.inner.head.uri.query().unwrap_or("")
    }

    /// HTTP/1.0, HTTP/1.1, or HTTP/2 for a request that came over an HTTP/2 stream.
    pub fn version(&self) -> Version {
        self.inner.head.version
    }

    /// The header fields (case-insensitive names, several values per name).
    pub fn headers(&self) -> &HeaderMap {
        self.inner.head.headers()
    }

    /// The first value of the header field `name` as text, read without building the header
    /// map (a scan of the head's fields): the cheap way to read one field. `None` when absent
    /// or not UTF-8.
    pub fn header_str(&self, name: &http::HeaderName) -> Option<&str> {
        std::str::from_utf8(self.inner.head.header_bytes(name)?).ok()
    }

    /// The whole body, for a handler that does not stream it (empty for one that does).
    pub fn body(&self) -> &Bytes {
        &self.inner.body
    }

    /// The trailer fields that followed a buffered body (RFC 9110 §6.5: a chunked body's
    /// trailer section, an HTTP/2 request's closing HEADERS); `None` when it had none. They
    /// are kept apart from [`headers`](Self::headers), never merged. A streaming handler reads
    /// them from its [`RequestBody::trailers`].
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.inner.trailers.as_deref()
    }

    /// Takes the body stream of a handler that asked for one (see
    /// [`HttpService::stream_request_body`](super::HttpService::stream_request_body)); `None`
    /// for a buffered request or once taken.
    pub fn take_body_stream(&mut self) -> Option<RequestBody> {
        self.inner.body_stream.take()
    }

    /// The socket's peer address.
    pub fn peer(&self) -> SocketAddr {
        self.inner.peer
    }

    /// The client's IP address (from `X-Real-Ip` / `X-Forwarded-For` with `xheaders`).
    pub fn remote_ip(&self) -> IpAddr {
        self.inner.remote_ip
    }

    /// `"http"` or `"https"` (from `X-Scheme` / `X-Forwarded-Proto` with `xheaders`).
    pub fn protocol(&self) -> &'static str {
        self.inner.protocol
    }

    /// The host the request is for: an absolute-form target's authority, else `Host`, else
    /// `127.0.0.1` (Tornado's fallback).
    pub fn host(&self) -> &str {
        self.inner.head.host().unwrap_or(DEFAULT_HOST)
    }

    /// [`host`](Self::host) without the port, lower-cased only if it was not already.
    pub fn host_name(&self) -> String {
        split_host_and_port(self.host()).0.to_ascii_lowercase()
    }

    /// `protocol://host/path?query`.
    pub fn full_url(&self) -> String {
        let path = self
            .inner
            .head
            .uri
            .path_and_query()
            .map_or("/", |path| path.as_str());
        format!("{}://{}{}", self.inner.protocol, self.host(), path)
    }

    /// Time since the head arrived (Tornado's `request_time()` while the request runs).
    pub fn request_time(&self) -> Duration {
        self.inner.start.elapsed()
    }

    /// The query string's arguments (blank values kept, as Tornado).
    pub fn query_arguments(&self) -> Result<&Arguments, FormError> {
        self.parsed()
            .query_arguments
            .get_or_init(|| {
                parse_qs_bytes_with_limits(self.query().as_bytes(), true, &self.inner.form_limits)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The body's arguments (`application/x-www-form-urlencoded` or `multipart/form-data`;
    /// empty for other content types).
    pub fn body_arguments(&self) -> Result<&Arguments, FormError> {
        self.parsed_body().map(|(arguments, _)| arguments)
    }

    /// Files uploaded in a `multipart/form-data` body.
    pub fn files(&self) -> Result<&Files, FormError> {
        self.parsed_body().map(|(_, files)| files)
    }

    /// Query arguments followed by body arguments (Tornado's `request.arguments`).
    pub fn arguments(&self) -> Result<&Arguments, FormError> {
        self.parsed()
            .arguments
            .get_or_init(|| {
                let mut all = self.query_arguments()?.clone();
                all.merge(self.body_arguments()?.clone());
                Ok(all)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The cookies of every `Cookie` field, in order.
    pub fn cookies(&self) -> &[(String, String)] {
        self.parsed().cookies.get_or_init(|| {
            let mut all = Vec::new();
            for value in self.inner.head.headers().get_all(http::header::COOKIE) {
                if let Ok(value) = value.to_str() {
                    all.extend(parse_cookie(value));
                }
            }
            all
        })
    }

    /// The first cookie named `name`.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies()
            .iter()
            .find(|(cookie, _)| cookie == name)
            .map(|(_, value)| value.as_str())
    }

    fn parsed_body(&self) -> Result<&(Arguments, Files), FormError> {
        self.parsed()
            .body_arguments
            .get_or_init(|| {
                let content_type = self
                    .inner
                    .head
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("");
                parse_body_arguments(content_type, &self.inner.body, &self.inner.form_limits)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn parsed(&self) -> &Parsed {
        self.inner.parsed.get_or_init(Box::default)
    }
}
