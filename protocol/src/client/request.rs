//! [`HttpRequest`]: a URL and Tornado's request options, as a builder.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::Stream;
use futures::stream::LocalBoxStream;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// Default `connect_timeout` and `request_timeout`: 20 seconds, as in Tornado.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Default `max_redirects`: 5, as in Tornado.
pub const DEFAULT_MAX_REDIRECTS: usize = 5;
/// Default `max_body_size`: 100 MiB, as in Tornado.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 100 * 1024 * 1024;
/// Default `max_header_size`: 64 KiB (Tornado's simple client uses its 64 KiB chunk size too).
pub const DEFAULT_MAX_HEADER_SIZE: usize = 64 * 1024;
/// The `User-Agent` sent when none is set.
pub const DEFAULT_USER_AGENT: &str = concat!("cyclone/", env!("CARGO_PKG_VERSION"));

/// Receives body chunks as they arrive; shared by the clones a redirect makes.
pub(crate) type StreamingCallback = Rc<RefCell<dyn FnMut(Bytes)>>;
/// Receives each header line of the final response.
pub(crate) type HeaderCallback = Rc<RefCell<dyn FnMut(&str)>>;
/// Makes a fresh body stream for each attempt (a 307/308 redirect sends the body again).
pub(crate) type BodyProducer = Rc<dyn Fn() -> LocalBoxStream<'static, io::Result<Bytes>>>;

/// The request body.
#[derive(Clone, Default)]
pub(crate) enum RequestBody {
    /// No body and no `Content-Length`.
    #[default]
    Empty,
    /// A body known up front, sent with `Content-Length`.
    Bytes(Bytes),
    /// A body produced while sending, sent chunked unless the caller set `Content-Length`.
    Producer(BodyProducer),
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestBody::Empty => f.write_str("Empty"),
            RequestBody::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            RequestBody::Producer(_) => f.write_str("Producer"),
        }
    }
}

/// Where to send a request through a proxy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Proxy {
    /// The proxy's host name or address.
    pub(crate) host: String,
    /// The proxy's port.
    pub(crate) port: u16,
    /// Basic credentials for `Proxy-Authorization`.
    pub(crate) credentials: Option<(String, String)>,
}

/// TLS settings of an https request (Tornado's `validate_cert`, `ca_certs`, `client_cert`,
/// `client_key`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TlsOptions {
    /// Whether the server certificate must chain to a trusted root and name the host.
    pub(crate) validate_cert: bool,
    /// A PEM file of roots to trust instead of the built-in ones.
    pub(crate) ca_certs: Option<PathBuf>,
    /// A PEM client certificate chain, for servers that ask for one.
    pub(crate) client_cert: Option<PathBuf>,
    /// The PEM private key of `client_cert`.
    pub(crate) client_key: Option<PathBuf>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            validate_cert: true,
            ca_certs: None,
            client_cert: None,
            client_key: None,
        }
    }
}

/// One HTTP request and its options (Tornado's `HTTPRequest`). Built from a URL and refined
/// with the setters; every setter documents its default.
///
/// ```
/// use std::time::Duration;
/// use cyclone_protocol::client::{HttpRequest, Method};
///
/// let request = HttpRequest::new("http://example.com/upload")
///     .method(Method::POST)
///     .body("a=1")
///     .request_timeout(Duration::from_secs(5))
///     .follow_redirects(false);
/// assert_eq!(request.url(), "http://example.com/upload");
/// ```
#[derive(Clone)]
pub struct HttpRequest {
    /// The absolute http or https URL.
    pub(crate) url: String,
    /// The method; Tornado's default is GET.
    pub(crate) method: Method,
    /// Fields sent as given; the client adds Host, User-Agent and framing fields unless present.
    pub(crate) headers: HeaderMap,
    /// The body, if any.
    pub(crate) body: RequestBody,
    /// Basic credentials (`auth_username`, `auth_password`); dropped on a redirect to another host.
    pub(crate) auth: Option<(String, String)>,
    /// How `auth` is sent: Basic at once, or Digest in answer to a challenge.
    pub(crate) auth_mode: super::AuthMode,
    /// Bounds resolving and connecting.
    pub(crate) connect_timeout: Duration,
    /// Bounds the whole fetch after queueing: connect, send, receive.
    pub(crate) request_timeout: Duration,
    /// Sent as `If-Modified-Since`.
    pub(crate) if_modified_since: Option<SystemTime>,
    /// Whether 301, 302, 303, 307 and 308 are followed.
    pub(crate) follow_redirects: bool,
    /// How many redirects may be followed before `TooManyRedirects`.
    pub(crate) max_redirects: usize,
    /// The `User-Agent` value when the headers carry none.
    pub(crate) user_agent: Option<String>,
    /// Whether gzip and deflate bodies are asked for and inflated.
    pub(crate) decompress_response: bool,
    /// The local address to connect from (Tornado's `network_interface`).
    pub(crate) network_interface: Option<IpAddr>,
    /// Receives the body in pieces instead of `HttpResponse::body`.
    pub(crate) streaming_callback: Option<StreamingCallback>,
    /// Receives the header lines of the final response.
    pub(crate) header_callback: Option<HeaderCallback>,
    /// Sends the request through an HTTP proxy.
    pub(crate) proxy: Option<Proxy>,
    /// Certificate settings for https.
    pub(crate) tls: TlsOptions,
    /// Whether any method and any body/method combination is allowed.
    pub(crate) allow_nonstandard_methods: bool,
    /// Whether the body waits for the server's `100 Continue`.
    pub(crate) expect_100_continue: bool,
    /// The largest response body accepted (after decompression, too).
    pub(crate) max_body_size: u64,
    /// The largest response head accepted.
    pub(crate) max_header_size: usize,
    /// Whether a non-2xx response is an error.
    pub(crate) raise_error: bool,
    /// Whether a plain http fetch speaks HTTP/2 from the first byte (h2c, prior knowledge).
    pub(crate) http2_prior_knowledge: bool,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("url", &self.url)
            .field("method", &self.method)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("follow_redirects", &self.follow_redirects)
            .field("max_redirects", &self.max_redirects)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("proxy", &self.proxy)
            .field("raise_error", &self.raise_error)
            .field("http2_prior_knowledge", &self.http2_prior_knowledge)
            .finish_non_exhaustive()
    }
}

impl From<&str> for HttpRequest {
    fn from(url: &str) -> Self {
        HttpRequest::new(url)
    }
}

impl From<String> for HttpRequest {
    fn from(url: String) -> Self {
        HttpRequest::new(url)
    }
}

impl From<&String> for HttpRequest {
    fn from(url: &String) -> Self {
        HttpRequest::new(url.as_str())
    }
}

impl HttpRequest {
    /// A GET of `url` with every option at its default.
    pub fn new(url: impl Into<String>) -> Self {
        HttpRequest {
            url: url.into(),
            method: Method::GET,
            headers: HeaderMap::new(),
            body: RequestBody::Empty,
            auth: None,
            auth_mode: super::AuthMode::Basic,
            connect_timeout: DEFAULT_TIMEOUT,
            request_timeout: DEFAULT_TIMEOUT,
            if_modified_since: None,
            follow_redirects: true,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            user_agent: None,
            decompress_response: true,
            network_interface: None,
            streaming_callback: None,
            header_callback: None,
            proxy: None,
            tls: TlsOptions::default(),
            allow_nonstandard_methods: false,
            expect_100_continue: false,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            raise_error: true,
            http2_prior_knowledge: false,
        }
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The method.
    pub fn get_method(&self) -> &Method {
        &self.method
    }

    /// The header fields set so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The method. Default is GET. POST, PUT and PATCH need a body and other standard methods
    /// must not have one, unless [`allow_nonstandard_methods`](Self::allow_nonstandard_methods).
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Adds a header field (repeats are kept). Default is none; Host, User-Agent,
    /// Accept-Encoding, Content-Length or Transfer-Encoding are added unless set here.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Replaces all header fields.
    pub fn headers_map(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// A body known up front, sent with `Content-Length`. Default is none.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = RequestBody::Bytes(body.into());
        self
    }

    /// A streaming body (Tornado's `body_producer`): `producer` makes a stream of chunks, called
    /// once per attempt (again for a 307/308 redirect). Sent chunked unless a `Content-Length`
    /// header is set. A stream error abandons the request with
    /// [`BodyProducer`](super::HttpClientError::BodyProducer).
    pub fn body_producer<F, S>(mut self, producer: F) -> Self
    where
        F: Fn() -> S + 'static,
        S: Stream<Item = io::Result<Bytes>> + 'static,
    {
        self.body = RequestBody::Producer(Rc::new(move || Box::pin(producer())));
        self
    }

    /// Basic credentials (`auth_username`, `auth_password`). Default is none. Not sent again
    /// after a redirect to another host.
    pub fn auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Some((username.into(), password.into()));
        self
    }

    /// How the [`auth`](Self::auth) credentials are sent (Tornado's `auth_mode`): Basic with
    /// the request (default), or Digest (RFC 7616) in answer to the server's `401`
    /// challenge, which costs one round trip more. A request with a streamed body is not
    /// sent twice, so its challenge is returned as the `401`.
    pub fn auth_mode(mut self, mode: super::AuthMode) -> Self {
        self.auth_mode = mode;
        self
    }

    /// Bounds resolving and connecting (and the TLS handshake and proxy tunnel). Default is
    /// 20 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Bounds each hop from leaving the queue to the end of its body, connect included.
    /// Default is 20 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sends `If-Modified-Since` with this time. Default is none.
    pub fn if_modified_since(mut self, time: SystemTime) -> Self {
        self.if_modified_since = Some(time);
        self
    }

    /// Whether redirects are followed. Default is true.
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = follow;
        self
    }

    /// How many redirects are followed before
    /// [`TooManyRedirects`](super::HttpClientError::TooManyRedirects). Default is 5.
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// The `User-Agent` sent when the headers carry none. Default is [`DEFAULT_USER_AGENT`].
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Whether `Accept-Encoding: gzip, deflate` is sent and such bodies are inflated.
    /// Default is true.
    pub fn decompress_response(mut self, decompress: bool) -> Self {
        self.decompress_response = decompress;
        self
    }

    /// The local address to connect from (Tornado's `network_interface`). Default is none.
    pub fn network_interface(mut self, ip: IpAddr) -> Self {
        self.network_interface = Some(ip);
        self
    }

    /// Hands the body to `callback` piece by piece as it arrives instead of keeping it in
    /// [`HttpResponse::body`](super::HttpResponse::body), which stays empty. Pieces are at
    /// most one socket read (64 KiB) or one inflate window. Only the final response's body
    /// is streamed, not that of a followed redirect. Default is none.
    pub fn streaming_callback(mut self, callback: impl FnMut(Bytes) + 'static) -> Self {
        self.streaming_callback = Some(Rc::new(RefCell::new(callback)));
        self
    }

    /// Receives the final response's head line by line, as Tornado's `header_callback` does:
    /// the status line, each `Name: value\r\n`, then `"\r\n"`. Default is none.
    pub fn header_callback(mut self, callback: impl FnMut(&str) + 'static) -> Self {
        self.header_callback = Some(Rc::new(RefCell::new(callback)));
        self
    }

    /// Sends the request through the HTTP proxy at `host:port`: http URLs in absolute form,
    /// https URLs through a CONNECT tunnel. Default is none.
    pub fn proxy(mut self, host: impl Into<String>, port: u16) -> Self {
        let credentials = self.proxy.take().and_then(|proxy| proxy.credentials);
        self.proxy = Some(Proxy {
            host: host.into(),
            port,
            credentials,
        });
        self
    }

    /// Basic credentials for the proxy (`proxy_username`, `proxy_password`); needs
    /// [`proxy`](Self::proxy) first. Default is none.
    pub fn proxy_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        if let Some(proxy) = &mut self.proxy {
            proxy.credentials = Some((username.into(), password.into()));
        }
        self
    }

    /// Whether an https server's certificate must be valid for the host. Default is true.
    pub fn validate_cert(mut self, validate: bool) -> Self {
        self.tls.validate_cert = validate;
        self
    }

    /// A PEM file of roots to trust for https. Default is the built-in roots.
    pub fn ca_certs(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca_certs = Some(path.into());
        self
    }

    /// A PEM certificate chain and key to present to https servers. Default is none.
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls.client_cert = Some(cert.into());
        self.tls.client_key = Some(key.into());
        self
    }

    /// Allows any method and any body with it. Default is false.
    pub fn allow_nonstandard_methods(mut self, allow: bool) -> Self {
        self.allow_nonstandard_methods = allow;
        self
    }

    /// Sends `Expect: 100-continue` and holds the body until the server's `100 Continue`
    /// (a final answer instead means the body is never sent). Default is false.
    pub fn expect_100_continue(mut self, expect: bool) -> Self {
        self.expect_100_continue = expect;
        self
    }

    /// The largest response body accepted, streamed or not, checked as it arrives (and after
    /// inflating). Default is 100 MiB.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// The largest response head accepted. Default is 64 KiB.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.max_header_size = bytes;
        self
    }

    /// Whether a response outside 2xx is returned as
    /// [`HttpClientError::Http`](super::HttpClientError::Http). Default is true; with false
    /// it is returned as `Ok` with [`HttpResponse::error`](super::HttpResponse::error) set.
    /// Failures without a response are errors either way.
    pub fn raise_error(mut self, raise: bool) -> Self {
        self.raise_error = raise;
        self
    }

    /// Sends a plain `http://` request over HTTP/2 from the first byte (h2c with prior
    /// knowledge, RFC 9113 §3.3), on a connection shared with the other such fetches to the
    /// same origin. Only for servers known to accept it. Ignored for https (ALPN decides, see
    /// [`ClientOptions::http2`](super::ClientOptions::http2)) and through a proxy. Default is
    /// false, unless the client's
    /// [`http2_prior_knowledge`](super::ClientOptions::http2_prior_knowledge) is on.
    pub fn http2_prior_knowledge(mut self, on: bool) -> Self {
        self.http2_prior_knowledge = on;
        self
    }
}
