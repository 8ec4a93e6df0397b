//! Bridges to the `tower` ecosystem (Tornado's `WSGIContainer` and `FallbackHandler` spirit):
//!
//! - an [`Application`] is a `tower::Service<http::Request<B>>`, so tower middleware
//!   (tower-http's `TraceLayer`, `CorsLayer`, `TimeoutLayer`, compression) wraps it;
//! - [`TowerService`] serves any `tower::Service` (a wrapped application, an axum `Router`)
//!   as an [`HttpService`]: give it to `HttpServer::new`;
//! - [`tower_service`](fn@tower_service) mounts any `tower::Service` under a rule of an application.
//!
//! ```
//! use cyclone_protocol::server::{HttpResponse, HttpServer, HttpServerRequest};
//! use cyclone_web::tower_bridge::TowerService;
//! use cyclone_web::{Application, PathArgs, function, url};
//!
//! let app = Application::new([url("/", function(|_: HttpServerRequest, _: PathArgs| async {
//!     HttpResponse::ok().text("hi")
//! }))])
//! .unwrap();
//! // Any tower layer may wrap `app` here: `TraceLayer::new_for_http().layer(app)`.
//! let server = HttpServer::new(TowerService::new(app));
//! # drop(server);
//! ```
//!
//! Requests cross as `http::Request<http_body_util::Full<Bytes>>` (cyclone hands over whole
//! bodies); answers from a tower service stream through the writer frame by frame, and an
//! application's answer to a tower caller is collected whole.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use cyclone_protocol::h1::{Event, Limits, RequestDecoder};
use cyclone_protocol::server::{
    HttpRequestMessage, HttpResponse, HttpServerRequest, HttpService, ResponseWriter,
};
use futures::future::LocalBoxFuture;
use http::StatusCode;
use http_body::Body;
use http_body_util::{BodyExt, Full};

use crate::application::Application;
use crate::target::{Target, service};

/// Why a request could not cross the bridge.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// The request's head is not one HTTP/1.1 can carry (a method or URI our decoder refuses).
    #[error("request not expressible as HTTP/1.1: {0}")]
    Head(String),
    /// Reading the request body failed.
    #[error("request body: {0}")]
    Body(String),
}

/// A cyclone request from an `http` one: its head is written as HTTP/1.1 and decoded by
/// cyclone's own decoder, so it is held to the same rules as one from the network.
pub fn request_from_http(
    parts: http::request::Parts,
    body: Bytes,
) -> Result<HttpServerRequest, BridgeError> {
    let mut head = BytesMut::new();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |target| target.as_str());
    head.extend_from_slice(parts.method.as_str().as_bytes());
    head.extend_from_slice(b" ");
    head.extend_from_slice(target.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\n");
    let mut has_host = false;
    for (name, value) in &parts.headers {
        // The body is whole: its framing is ours to state.
        if name == http::header::TRANSFER_ENCODING || name == http::header::CONTENT_LENGTH {
            continue;
        }
        has_host |= name == http::header::HOST;
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    if !has_host {
        let host = parts
            .uri
            .authority()
            .map_or("localhost", |host| host.as_str());
        head.extend_from_slice(format!("host: {host}\r\n").as_bytes());
    }
    head.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    let mut decoder = RequestDecoder::new(Limits::default());
    let decoded = match decoder.decode(&mut head) {
        Ok(Some(Event::Head(head))) => head,
        Ok(_) => return Err(BridgeError::Head("incomplete head".into())),
        Err(error) => return Err(BridgeError::Head(error.to_string())),
    };
    let peer = parts
        .extensions
        .get::<SocketAddr>()
        .copied()
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    Ok(HttpServerRequest::from_head(decoded, body, peer))
}

/// An `http` request from a cyclone one (whole body).
pub fn request_to_http(request: &HttpServerRequest) -> http::Request<Full<Bytes>> {
    let mut builder = http::Request::builder()
        .method(request.method().clone())
        .uri(request.uri().clone())
        .version(request.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = request.headers().clone();
    }
    let mut converted = builder
        .body(Full::new(request.body().clone()))
        .unwrap_or_else(|_| http::Request::new(Full::new(Bytes::new())));
    converted.extensions_mut().insert(request.peer());
    converted
}

/// Any `tower::Service` over `http` types as cyclone's [`HttpService`]: each request is
/// converted, the service called (after `poll_ready`, on a clone, as tower asks), and its
/// answer streamed through the writer frame by frame.
#[derive(Debug, Clone)]
pub struct TowerService<S>(S);

impl<S> TowerService<S> {
    /// Serves `service`.
    pub fn new(service: S) -> Self {
        TowerService(service)
    }
}

impl<S, ResBody> HttpService for TowerService<S>
where
    S: tower_service::Service<http::Request<Full<Bytes>>, Response = http::Response<ResBody>>
        + Clone
        + 'static,
    S::Error: std::fmt::Display,
    S::Future: 'static,
    ResBody: Body<Data = Bytes> + 'static,
    ResBody::Error: std::fmt::Display,
{
    type Future = LocalBoxFuture<'static, ()>;

    fn call(&self, message: HttpRequestMessage) -> Self::Future {
        let mut service = self.0.clone();
        Box::pin(async move {
            let HttpRequestMessage {
                request, writer, ..
            } = message;
            let converted = request_to_http(&request);
            drop(request);
            if let Err(error) = std::future::poll_fn(|cx| service.poll_ready(cx)).await {
                return answer_error(writer, &error.to_string());
            }
            match service.call(converted).await {
                Ok(response) => stream_response(writer, response).await,
                Err(error) => answer_error(writer, &error.to_string()),
            }
        })
    }
}

/// A 500 for a service that failed instead of answering.
fn answer_error(writer: ResponseWriter, error: &str) {
    tracing::error!("tower service failed: {error}");
    let _ = writer.respond(HttpResponse::new(StatusCode::INTERNAL_SERVER_ERROR));
}

/// Sends `response` through `writer`: whole when its body's length is known and it ends at
/// once, else frame by frame, flushed as each arrives.
async fn stream_response<B>(mut writer: ResponseWriter, response: http::Response<B>)
where
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    let (parts, body) = response.into_parts();
    writer.set_status(parts.status);
    *writer.headers_mut() = parts.headers;
    let mut body = std::pin::pin!(body);
    let mut flushed = false;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    writer.write(data);
                    if !body.is_end_stream() {
                        // More is coming: let the client have this much now.
                        if writer.flush().await.is_err() {
                            return;
                        }
                        flushed = true;
                    }
                }
            }
            Err(error) => {
                tracing::error!("tower service's body failed: {error}");
                // Dropping the writer unfinished cuts the answer (or answers 500 if unsent).
                return;
            }
        }
    }
    let _ = if flushed {
        writer.finish().await
    } else {
        writer.finish_now()
    };
}

/// Mounts any `tower::Service` under a rule (an axum `Router`, a tower-http stack): Tornado's
/// `FallbackHandler` for the tower world. The request reaches it with its whole URI (nest an
/// axum router under the same prefix).
///
/// ```
/// use cyclone_web::tower_bridge::tower_service;
/// use cyclone_web::{Application, url};
///
/// let echo = tower_service(tower_service_fn());
/// let app = Application::new([url("/tower/.*", echo)]).unwrap();
/// # drop(app);
/// # fn tower_service_fn() -> impl tower_service::Service<http::Request<http_body_util::Full<bytes::Bytes>>,
/// #     Response = http::Response<http_body_util::Full<bytes::Bytes>>, Error = std::convert::Infallible,
/// #     Future = std::future::Ready<Result<http::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible>>>
/// #     + Clone + Send + Sync + 'static {
/// #     #[derive(Clone)] struct Echo;
/// #     impl tower_service::Service<http::Request<http_body_util::Full<bytes::Bytes>>> for Echo {
/// #         type Response = http::Response<http_body_util::Full<bytes::Bytes>>;
/// #         type Error = std::convert::Infallible;
/// #         type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
/// #         fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> { std::task::Poll::Ready(Ok(())) }
/// #         fn call(&mut self, request: http::Request<http_body_util::Full<bytes::Bytes>>) -> Self::Future {
/// #             std::future::ready(Ok(http::Response::new(request.into_body())))
/// #         }
/// #     }
/// #     Echo
/// # }
/// ```
pub fn tower_service<S, ResBody>(service_: S) -> Target
where
    S: tower_service::Service<http::Request<Full<Bytes>>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Error: std::fmt::Display,
    S::Future: 'static,
    ResBody: Body<Data = Bytes> + 'static,
    ResBody::Error: std::fmt::Display,
{
    service(TowerService::new(service_))
}

/// The future of an [`Application`] called as a tower service.
pub struct ApplicationFuture(LocalBoxFuture<'static, http::Response<Full<Bytes>>>);

impl std::fmt::Debug for ApplicationFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApplicationFuture(..)")
    }
}

impl Future for ApplicationFuture {
    type Output = Result<http::Response<Full<Bytes>>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx).map(Ok)
    }
}

/// An application as a tower service: the request body is read whole, the request routed and
/// answered as one from the network would be, and the answer collected whole. A request
/// cyclone cannot read is 400; an answer that breaks off is 500. The future runs on the
/// caller's loop (it is not `Send`, as an application's work is not).
impl<B> tower_service::Service<http::Request<B>> for Application
where
    B: Body + 'static,
    B::Data: Send,
    B::Error: std::fmt::Display,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ApplicationFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> ApplicationFuture {
        let app = self.clone();
        ApplicationFuture(Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(error) => return plain(StatusCode::BAD_REQUEST, &error.to_string()),
            };
            let request = match request_from_http(parts, body) {
                Ok(request) => request,
                Err(error) => return plain(StatusCode::BAD_REQUEST, &error.to_string()),
            };
            let (writer, answer) = ResponseWriter::channel();
            let message = HttpRequestMessage {
                request,
                path_args: Default::default(),
                writer,
            };
            let work = HttpService::call(&app, message);
            let (_, answer) = futures::join!(work, answer.into_response());
            match answer {
                Ok(response) => {
                    let (status, headers, body) = response.into_parts();
                    let mut converted = http::Response::new(Full::new(body));
                    *converted.status_mut() = status;
                    *converted.headers_mut() = headers;
                    converted
                }
                Err(error) => plain(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
            }
        }))
    }
}

/// A short text answer.
fn plain(status: StatusCode, text: &str) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}
