//! [`HttpResponse`]: what a fetch returns, with its timings.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderMap;

use super::error::HttpClientError;

/// Where the time of one fetch went (Tornado's `time_info`; the simple client reports only
/// `queue`, cyclone measures each phase of the last hop).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeInfo {
    /// Waiting for one of the client's `max_clients` slots.
    pub queue: Duration,
    /// Taking a pooled connection or connecting a new one (TLS and proxy tunnel included).
    pub connect: Duration,
    /// From the start of the last hop until its final response head arrived.
    pub starttransfer: Duration,
    /// From the start of the fetch until the end of the last body, redirects included.
    pub total: Duration,
    /// How many redirects were followed.
    pub redirects: usize,
}

/// A non-2xx status, kept on a response fetched with `raise_error(false)` (Tornado's
/// `response.error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusError {
    /// The status code.
    pub code: u16,
    /// The reason phrase.
    pub reason: String,
}

/// An HTTP response (Tornado's `HTTPResponse`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpResponse {
    /// The status code.
    pub code: u16,
    /// The protocol that carried the response: `HTTP_11` (or `HTTP_10`), or `HTTP_2` when the
    /// server chose HTTP/2 by ALPN or the fetch used h2c with prior knowledge.
    pub version: http::Version,
    /// The reason phrase: the canonical one for the code (the codec does not keep the one on the
    /// wire), or "Unknown".
    pub reason: String,
    /// The response header fields. After decompression `Content-Encoding` is gone and its value
    /// is kept as `X-Consumed-Content-Encoding`, as Tornado does.
    pub headers: HeaderMap,
    /// The trailer fields of a chunked body, if it had any.
    pub trailers: Option<HeaderMap>,
    /// The whole body; empty when a `streaming_callback` received it instead.
    pub body: Bytes,
    /// The URL this response came from, after redirects.
    pub effective_url: String,
    /// From the start of the fetch (queueing included) to the end of the body.
    pub request_time: Duration,
    /// The wall-clock time the fetch started.
    pub start_time: SystemTime,
    /// Phase timings.
    pub time_info: TimeInfo,
    /// Set when the code is outside 2xx.
    pub error: Option<StatusError>,
}

impl HttpResponse {
    /// The body as UTF-8 text, if it is.
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.body)
    }

    /// Tornado's `rethrow()`: the status error as an [`HttpClientError::Http`], if there is one.
    pub fn rethrow(&self) -> Result<(), HttpClientError> {
        match &self.error {
            Some(error) => Err(HttpClientError::Http {
                code: error.code,
                response: Box::new(self.clone()),
            }),
            None => Ok(()),
        }
    }
}
