//! Tornado's `tornado.testing` for cyclone: a [`TestServer`] serving an [`Application`] on
//! `127.0.0.1` on a free port, with a client, so an app is tested through real HTTP in three
//! lines (Tornado's `AsyncHTTPTestCase`: `fetch`, `websocket_connect`, `url`); [`run_test`],
//! which `#[cyclone::test]` expands to (Tornado's `gen_test`); [`ExpectLog`] over `tracing`;
//! [`bind_unused_port`].
//!
//! ```
//! use cyclone_web::{Application, function, url};
//! use cyclone_protocol::server::HttpResponse;
//! use cyclone_web::testing::TestServer;
//!
//! actix_rt::System::new().block_on(async {
//!     let app = Application::new([url("/", function(|_, _| async { HttpResponse::ok().text("hi") }))]).unwrap();
//!     let server = TestServer::start(app).unwrap();
//!     assert_eq!(server.fetch("/").await.unwrap().body.as_ref(), b"hi");
//! });
//! ```

mod expect_log;
mod gen_test;

use std::time::Duration;

use cyclone_protocol::client::{AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse};
use cyclone_protocol::server::{HttpServer, HttpServerError};
use cyclone_protocol::websocket::{ClientConnection, ConnectRequest, WebSocketError};

use crate::application::Application;

pub use expect_log::ExpectLog;
pub use gen_test::{DEFAULT_ASYNC_TEST_TIMEOUT, async_test_timeout, run_test};

/// A listening socket on a free port of 127.0.0.1 and its port (Tornado's
/// `bind_unused_port`), for a server of your own in a test.
///
/// ```
/// let (listener, port) = cyclone_web::testing::bind_unused_port().unwrap();
/// assert_eq!(listener.local_addr().unwrap().port(), port);
/// assert_ne!(port, 0);
/// ```
pub fn bind_unused_port() -> std::io::Result<(std::net::TcpListener, u16)> {
    use cyclone_actors::netutil::{DEFAULT_BACKLOG, Family, bind_sockets};
    let mut sockets = bind_sockets(0, Some("127.0.0.1"), Family::V4, DEFAULT_BACKLOG, false)?;
    let listener = sockets
        .pop()
        .ok_or_else(|| std::io::Error::other("no socket bound"))?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

/// How long a test fetch may take before it fails: 10 s (tests must not hang).
pub const TEST_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// An application served on `127.0.0.1:<free port>` on the current loop, and a client for it
/// (Tornado's `AsyncHTTPTestCase`). Needs an actix System (`#[actix_rt::test]`).
#[derive(Debug)]
pub struct TestServer {
    /// The server; stopped when the test ends with it.
    server: HttpServer<Application>,
    /// The port it listens on.
    port: u16,
    /// A pooled client (keep-alive, like a browser).
    client: AsyncHttpClient,
}

impl TestServer {
    /// Serves `app` on a free port of 127.0.0.1.
    pub fn start(app: Application) -> Result<TestServer, HttpServerError> {
        let server = app.listen_on(0, Some("127.0.0.1"))?;
        let port = server
            .local_addrs()
            .first()
            .map_or(0, |address| address.port());
        Ok(TestServer {
            server,
            port,
            client: AsyncHttpClient::new(),
        })
    }

    /// The port served.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A request for `path` that returns error statuses instead of failing and does not
    /// follow redirects (what tests want to see); change it with the builder.
    pub fn request(&self, path: &str) -> HttpRequest {
        HttpRequest::new(self.url(path))
            .raise_error(false)
            .follow_redirects(false)
            .request_timeout(TEST_REQUEST_TIMEOUT)
    }

    /// GETs `path` (see [`request`](Self::request)).
    pub async fn fetch(&self, path: &str) -> Result<HttpResponse, HttpClientError> {
        self.client.fetch(self.request(path)).await
    }

    /// Sends `request`.
    pub async fn fetch_request(
        &self,
        request: HttpRequest,
    ) -> Result<HttpResponse, HttpClientError> {
        self.client.fetch(request).await
    }

    /// `ws://127.0.0.1:<port><path>`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    /// Opens a WebSocket to `path` with cyclone's client (Tornado's `websocket_connect` in an
    /// `AsyncHTTPTestCase`); the connect timeout is [`TEST_REQUEST_TIMEOUT`].
    pub async fn websocket_connect(&self, path: &str) -> Result<ClientConnection, WebSocketError> {
        self.websocket_connect_request(ConnectRequest::new(self.ws_url(path)))
            .await
    }

    /// Opens a WebSocket with `request` (headers, subprotocols, compression: make it with
    /// [`ws_url`](Self::ws_url)); bounded by [`TEST_REQUEST_TIMEOUT`] unless it sets a shorter
    /// connect timeout.
    pub async fn websocket_connect_request(
        &self,
        request: ConnectRequest,
    ) -> Result<ClientConnection, WebSocketError> {
        tokio::time::timeout(
            TEST_REQUEST_TIMEOUT,
            cyclone_protocol::websocket::websocket_connect(request),
        )
        .await
        .unwrap_or(Err(WebSocketError::ConnectTimeout))
    }

    /// The client, for requests of your own.
    pub fn client(&self) -> &AsyncHttpClient {
        &self.client
    }

    /// The server, to shut it down or inspect its connections.
    pub fn server_mut(&mut self) -> &mut HttpServer<Application> {
        &mut self.server
    }

    /// Stops the server, closing connections within a second.
    pub async fn stop(mut self) {
        self.client.close();
        self.server.shutdown(Duration::from_secs(1)).await;
    }
}
