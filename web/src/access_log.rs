//! The access log: one line per finished request in Tornado's form
//! (`200 GET / (127.0.0.1) 0.52ms`) through `tracing`, at a level chosen by the status class
//! (info below 400, warn for 4xx, error for 5xx), or the application's `log_function`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};

/// One finished request, as the access log sees it.
#[derive(Debug, Clone, Copy)]
pub struct AccessLogEntry<'a> {
    /// The status sent.
    pub status: StatusCode,
    /// The request method.
    pub method: &'a Method,
    /// The request target as sent (path and query).
    pub uri: &'a str,
    /// The client's address.
    pub remote_ip: IpAddr,
    /// From the request head's arrival to the finish.
    pub request_time: Duration,
}

impl std::fmt::Display for AccessLogEntry<'_> {
    /// Tornado's `_request_summary` with the status and time: `200 GET / (127.0.0.1) 0.52ms`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} ({}) {:.2}ms",
            self.status.as_u16(),
            self.method,
            self.uri,
            self.remote_ip,
            self.request_time.as_secs_f64() * 1000.0
        )
    }
}

/// An application's replacement for the access log line (Tornado's `log_function`).
#[derive(Clone)]
pub struct LogFunction(pub Arc<dyn Fn(&AccessLogEntry<'_>) + Send + Sync>);

impl std::fmt::Debug for LogFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogFunction(..)")
    }
}

/// Logs `entry` with the application's function, else through `tracing` (target
/// `cyclone::access`) at the status class's level.
pub(crate) fn log_request(log_function: Option<&LogFunction>, entry: &AccessLogEntry<'_>) {
    if let Some(LogFunction(log)) = log_function {
        log(entry);
        return;
    }
    let status = entry.status.as_u16();
    if status < 400 {
        tracing::info!(target: "cyclone::access", "{entry}");
    } else if status < 500 {
        tracing::warn!(target: "cyclone::access", "{entry}");
    } else {
        tracing::error!(target: "cyclone::access", "{entry}");
    }
}

/// Whether any line goes anywhere: to the application's `log_function`, or to a `tracing`
/// subscriber listening to the access log at all. When not, nothing is prepared for one.
pub(crate) fn enabled(log_function: Option<&LogFunction>) -> bool {
    log_function.is_some() || tracing::enabled!(target: "cyclone::access", tracing::Level::ERROR)
}

/// Whether a line for `status` goes anywhere: to the application's `log_function`, or to a
/// `tracing` subscriber listening at the status class's level. When not, the line is not made
/// (no clock read, no formatting).
#[inline(always)]
pub(crate) fn wanted(log_function: Option<&LogFunction>, status: StatusCode) -> bool {
    if log_function.is_some() {
        return true;
    }
    let status = status.as_u16();
    if status < 400 {
        tracing::enabled!(target: "cyclone::access", tracing::Level::INFO)
    } else if status < 500 {
        tracing::enabled!(target: "cyclone::access", tracing::Level::WARN)
    } else {
        tracing::enabled!(target: "cyclone::access", tracing::Level::ERROR)
    }
}

/// The request facts a log line needs once the request itself has moved on (into a function,
/// an actor's message): what was asked, by whom, and since when.
#[derive(Debug, Clone)]
pub(crate) struct RequestSummary {
    /// The method.
    pub(crate) method: Method,
    /// The target as sent.
    pub(crate) uri: http::Uri,
    /// The client.
    pub(crate) remote_ip: IpAddr,
    /// When the head arrived, so the duration covers the whole exchange.
    pub(crate) start: std::time::Instant,
}

impl RequestSummary {
    /// The summary of `request`.
    pub(crate) fn of(request: &cyclone_protocol::server::HttpServerRequest) -> Self {
        RequestSummary {
            method: request.method().clone(),
            uri: request.uri().clone(),
            remote_ip: request.remote_ip(),
            start: std::time::Instant::now() - request.request_time(),
        }
    }

    /// Logs the line for this request answered with `status`.
    pub(crate) fn log(&self, log_function: Option<&LogFunction>, status: StatusCode) {
        if !wanted(log_function, status) {
            return;
        }
        let entry = AccessLogEntry {
            status,
            method: &self.method,
            uri: self.uri.path_and_query().map_or("/", |path| path.as_str()),
            remote_ip: self.remote_ip,
            request_time: self.start.elapsed(),
        };
        log_request(log_function, &entry);
    }
}
