//! [`AsyncHttpClient`]: Tornado's `AsyncHTTPClient` on one loop, with a keep-alive pool and a
//! `max_clients` queue.

use std::rc::Rc;
use std::time::{Instant, SystemTime};

use url::Url;

use super::checkout::{Carrier, Dialer, Wanted};
use super::connection::{PoolKey, Scheme};
use super::error::{HttpClientError, TimeoutPhase};
use super::exchange::{RequestHead, exchange, request_head, validate};
use super::http2::{self, Http2Pool, Http2Settings};
use super::options::ClientOptions;
use super::pool::{Pool, PoolLimits};
use super::queue::Slots;
use super::receive::Outcome;
use super::redirect::{is_redirect, next_request};
use super::request::HttpRequest;
use super::response::{HttpResponse, StatusError, TimeInfo};
use super::tls::TlsConfigs;
use http::HeaderValue;

/// An HTTP client for one loop (Tornado's `AsyncHTTPClient`), speaking HTTP/1.1, and HTTP/2 to
/// servers that pick it by ALPN (or over h2c when asked). Cheap to clone: clones share the
/// pools and the `max_clients` slots.
///
/// Its futures are not `Send` and the pools are not shared across threads: make one client per
/// loop (an HTTP/2 connection's driver task runs on that loop). Dropping a fetch future
/// closes its HTTP/1.1 connection or resets its HTTP/2 stream, and frees its slot.
///
/// ```no_run
/// use cyclone_protocol::client::AsyncHttpClient;
///
/// actix_rt::System::new().block_on(async {
///     let client = AsyncHttpClient::new();
///     match client.fetch("http://www.example.com/").await {
///         Ok(response) => println!("{}", String::from_utf8_lossy(&response.body)),
///         Err(error) => eprintln!("Error: {error}"),
///     }
/// });
/// ```
#[derive(Debug, Clone)]
pub struct AsyncHttpClient {
    /// Shared by clones.
    inner: Rc<Inner>,
}

/// The state behind a client.
#[derive(Debug)]
struct Inner {
    /// The settings.
    options: ClientOptions,
    /// Idle keep-alive connections.
    pool: Rc<Pool>,
    /// Shared HTTP/2 connections, one per origin that speaks it.
    http2: Rc<Http2Pool>,
    /// The `max_clients` slots and their queue.
    slots: Slots,
    /// TLS configurations, built once per distinct set of options.
    tls: TlsConfigs,
}

impl Default for AsyncHttpClient {
    fn default() -> Self {
        AsyncHttpClient::new()
    }
}

/// Parses an absolute http(s) URL.
fn parse_url(url: &str) -> Result<Url, HttpClientError> {
    let parsed = Url::parse(url).map_err(|error| HttpClientError::InvalidUrl {
        url: url.to_owned(),
        reason: error.to_string(),
    })?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => return Err(HttpClientError::UnsupportedScheme(other.to_owned())),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(HttpClientError::InvalidUrl {
            url: url.to_owned(),
            reason: "no host".to_owned(),
        });
    }
    Ok(parsed)
}

/// The pool key of sending `request` to `url`.
fn pool_key(request: &HttpRequest, url: &Url) -> Result<PoolKey, HttpClientError> {
    let scheme = if url.scheme() == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let host = match url.host() {
        Some(url::Host::Ipv6(address)) => address.to_string(),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    let port = url
        .port_or_known_default()
        .ok_or_else(|| HttpClientError::InvalidUrl {
            url: url.to_string(),
            reason: "no port".to_owned(),
        })?;
    Ok(PoolKey {
        scheme,
        host,
        port,
        proxy: request.proxy.clone(),
        tls: (scheme == Scheme::Https).then(|| request.tls.clone()),
        network_interface: request.network_interface,
    })
}

impl AsyncHttpClient {
    /// A client with the default [`ClientOptions`].
    pub fn new() -> Self {
        AsyncHttpClient::with_options(ClientOptions::new())
    }

    /// A client with `options`.
    pub fn with_options(options: ClientOptions) -> Self {
        let pool = Pool::new(PoolLimits {
            idle_timeout: options.idle_timeout,
            max_idle_per_host: options.max_idle_per_host,
            max_idle_total: options.max_idle_total,
        });
        let slots = Slots::new(options.max_clients, options.max_queue_size);
        AsyncHttpClient {
            inner: Rc::new(Inner {
                options,
                pool,
                http2: Rc::new(Http2Pool::default()),
                slots,
                tls: TlsConfigs::default(),
            }),
        }
    }

    /// Fetches a URL or an [`HttpRequest`], following redirects, and returns the final
    /// response. A response outside 2xx is an [`HttpClientError::Http`] unless the request
    /// has `raise_error(false)`.
    pub async fn fetch(
        &self,
        request: impl Into<HttpRequest>,
    ) -> Result<HttpResponse, HttpClientError> {
        let started = Instant::now();
        let start_time = SystemTime::now();
        let mut request = request.into();
        let mut url = parse_url(&request.url)?;
        validate(&request)?;
        let queue_timeout = self
            .inner
            .options
            .queue_timeout
            .unwrap_or(request.connect_timeout.min(request.request_timeout));
        let _slot = self.inner.slots.acquire(queue_timeout).await?;
        let mut time_info = TimeInfo {
            queue: started.elapsed(),
            ..TimeInfo::default()
        };
        let mut digest_answered = false;
        loop {
            let timeout = request.request_timeout;
            let hop = self.hop(&request, &url, &mut time_info);
            let outcome = tokio::time::timeout(timeout, hop).await.unwrap_or(Err(
                HttpClientError::Timeout {
                    phase: TimeoutPhase::Request,
                    after: timeout,
                },
            ))?;
            if let Some(location) = &outcome.follow {
                let (next, next_url) = next_request(&request, &url, outcome.status, location)?;
                request = next;
                url = parse_url(next_url.as_str())?;
                time_info.redirects += 1;
                continue;
            }
            if !digest_answered && let Some(authorization) = digest_answer(&request, &url, &outcome)
            {
                // One more round trip with the answer to the server's challenge.
                digest_answered = true;
                request
                    .headers
                    .insert(http::header::AUTHORIZATION, authorization);
                continue;
            }
            let exhausted = request.follow_redirects
                && request.max_redirects == 0
                && is_redirect(outcome.status)
                && outcome.headers.contains_key(http::header::LOCATION);
            time_info.total = started.elapsed();
            let response = build_response(outcome, &url, started, start_time, time_info);
            if exhausted && request.raise_error {
                return Err(HttpClientError::TooManyRedirects {
                    max_redirects: time_info.redirects,
                    response: Box::new(response),
                });
            }
            return match &response.error {
                Some(error) if request.raise_error => Err(HttpClientError::Http {
                    code: error.code,
                    response: Box::new(response),
                }),
                _ => Ok(response),
            };
        }
    }

    /// One hop: a stream on a shared HTTP/2 connection, or a pooled or new HTTP/1.1
    /// connection (back to the pool afterwards if it may be reused). A reused connection that
    /// fails before any response byte (the server closed it while idle, or sent GOAWAY) is
    /// replaced by a new one, once.
    async fn hop(
        &self,
        request: &HttpRequest,
        url: &Url,
        time_info: &mut TimeInfo,
    ) -> Result<Outcome, HttpClientError> {
        let key = pool_key(request, url)?;
        let plain_proxy = key.proxy.is_some() && key.scheme == Scheme::Http;
        let head: RequestHead = request_head(request, url, plain_proxy)?;
        let wanted = Wanted::of(&self.inner.options, request, &key);
        let dialer = Dialer {
            tcp: &self.inner.options.tcp_client,
            tls: &self.inner.tls,
            pool: &self.inner.pool,
            http2: &self.inner.http2,
            http2_settings: Http2Settings::of(&self.inner.options),
        };
        let hop_started = Instant::now();
        let mut retried = false;
        loop {
            let carrier = dialer.checkout(&key, request, wanted, retried).await?;
            time_info.connect = hop_started.elapsed();
            let outcome = match carrier {
                Carrier::Http1(mut connection) => {
                    connection.received = 0;
                    match exchange(&mut connection, request, &head, hop_started).await {
                        Ok(outcome) => {
                            if outcome.reusable {
                                self.inner.pool.put(connection);
                            }
                            outcome
                        }
                        Err(HttpClientError::Io(_) | HttpClientError::ConnectionClosed)
                            if connection.reused && connection.received == 0 && !retried =>
                        {
                            retried = true;
                            continue;
                        }
                        Err(error) => return Err(error),
                    }
                }
                Carrier::Http2(mut lease) => {
                    match http2::exchange(&mut lease, request, url, &head, hop_started).await {
                        Ok(outcome) => outcome,
                        Err(error) => {
                            let error = lease.connection.explain(error);
                            if closes_connection(&error) {
                                // Its driver may not have run yet: no new fetch may pick it.
                                lease.connection.retire();
                            }
                            if lease.reused && !lease.answered && !retried && retryable(&error) {
                                retried = true;
                                continue;
                            }
                            return Err(error);
                        }
                    }
                }
            };
            time_info.starttransfer = outcome.first_byte;
            return Ok(outcome);
        }
    }

    /// Idle HTTP/1.1 keep-alive connections held now.
    pub fn idle_connections(&self) -> usize {
        self.inner.pool.idle_count()
    }

    /// HTTP/2 connections open now (one per origin that speaks HTTP/2, idle or carrying
    /// streams).
    pub fn http2_connections(&self) -> usize {
        self.inner.http2.open_count()
    }

    /// Fetches waiting in the `max_clients` queue now.
    pub fn queued(&self) -> usize {
        self.inner.slots.waiting()
    }

    /// Fetches running now.
    pub fn active(&self) -> usize {
        self.inner.slots.active(self.inner.options.max_clients)
    }

    /// Closes every idle connection (Tornado's `close()`): HTTP/1.1 ones in the pool, and
    /// HTTP/2 ones without a stream open. Fetches in flight are not touched (an HTTP/2
    /// connection carrying some closes when they end) and the client stays usable.
    pub fn close(&self) {
        self.inner.pool.clear();
        self.inner.http2.clear();
    }
}

/// Whether an HTTP/2 error means the connection can carry no more streams.
fn closes_connection(error: &HttpClientError) -> bool {
    matches!(
        error,
        HttpClientError::Http2GoAway { .. }
            | HttpClientError::Io(_)
            | HttpClientError::ConnectionClosed
    )
}

/// Whether an HTTP/2 stream that failed before its response head may be sent again on a new
/// connection: the server closed a reused connection (GOAWAY, or the socket), or refused the
/// stream unprocessed (RFC 9113 §8.7).
fn retryable(error: &HttpClientError) -> bool {
    closes_connection(error)
        || matches!(
            error,
            HttpClientError::Http2StreamReset { reason } if *reason == h2::Reason::REFUSED_STREAM
        )
}

/// The response of the last hop.
fn build_response(
    outcome: Outcome,
    url: &Url,
    started: Instant,
    start_time: SystemTime,
    time_info: TimeInfo,
) -> HttpResponse {
    let status = outcome.status;
    let reason = status.canonical_reason().unwrap_or("Unknown").to_owned();
    let error = (!status.is_success()).then(|| StatusError {
        code: status.as_u16(),
        reason: reason.clone(),
    });
    HttpResponse {
        code: status.as_u16(),
        version: outcome.version,
        reason,
        headers: outcome.headers,
        trailers: outcome.trailers,
        body: outcome.body,
        effective_url: url.to_string(),
        request_time: started.elapsed(),
        start_time,
        time_info,
        error,
    }
}

/// The `Authorization` answering a `401`'s Digest challenge, when the request asked for
/// Digest, has credentials (its own or the URL's) and a body that can be sent again.
fn digest_answer(request: &HttpRequest, url: &Url, outcome: &Outcome) -> Option<HeaderValue> {
    if request.auth_mode != super::AuthMode::Digest
        || outcome.status != http::StatusCode::UNAUTHORIZED
        || matches!(request.body, super::request::RequestBody::Producer(_))
    {
        return None;
    }
    let (username, password) = request.auth.clone().or_else(|| {
        (!url.username().is_empty()).then(|| {
            (
                url.username().to_owned(),
                url.password().unwrap_or_default().to_owned(),
            )
        })
    })?;
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    // The client nonce only needs to be unpredictable to the server: std's randomly keyed
    // hasher gives such bytes, as the WebSocket handshake's key does.
    let cnonce = {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos()),
        );
        hasher.finish().to_le_bytes()
    };
    let cnonce = hex::encode(cnonce);
    outcome
        .headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|challenge| challenge.to_str().ok())
        .find_map(|challenge| {
            super::digest_authorization(
                challenge,
                &username,
                &password,
                request.method.as_str(),
                &target,
                &cnonce,
                1,
            )
        })
        .and_then(|answer| HeaderValue::from_str(&answer).ok())
}
