//! [`HttpClient`]: the blocking client for scripts and tests (Tornado's `HTTPClient`), which
//! runs its own loop for each fetch.

use std::fmt;

use super::async_client::AsyncHttpClient;
use super::error::HttpClientError;
use super::options::ClientOptions;
use super::request::HttpRequest;
use super::response::HttpResponse;

/// A blocking HTTP client: each [`fetch`](HttpClient::fetch) runs the client's own loop until
/// the response is complete. Keep-alive connections stay pooled between fetches.
///
/// Like Tornado's `HTTPClient`, it must not be used on a thread that is already running a
/// loop (that panics in the runtime); use [`AsyncHttpClient`] there.
///
/// ```no_run
/// use cyclone_protocol::client::HttpClient;
///
/// let client = HttpClient::new();
/// let response = client.fetch("http://www.example.com/")?;
/// println!("{}", String::from_utf8_lossy(&response.body));
/// # Ok::<(), cyclone_protocol::client::HttpClientError>(())
/// ```
pub struct HttpClient {
    /// The private loop (an actix System on this thread), run only inside `fetch`.
    runner: actix_rt::SystemRunner,
    /// The client whose pool lives on that loop.
    client: AsyncHttpClient,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl HttpClient {
    /// A blocking client with the default [`ClientOptions`].
    pub fn new() -> Self {
        HttpClient::with_options(ClientOptions::new())
    }

    /// A blocking client with `options`.
    pub fn with_options(options: ClientOptions) -> Self {
        let runner = actix_rt::System::new();
        let client = runner.block_on(async move { AsyncHttpClient::with_options(options) });
        HttpClient { runner, client }
    }

    /// Fetches a URL or [`HttpRequest`] and blocks until the response (or error) is complete.
    pub fn fetch(&self, request: impl Into<HttpRequest>) -> Result<HttpResponse, HttpClientError> {
        let request = request.into();
        self.runner.block_on(self.client.fetch(request))
    }

    /// Closes the idle connections (Tornado's `close()`).
    pub fn close(&self) {
        self.client.close();
    }
}
