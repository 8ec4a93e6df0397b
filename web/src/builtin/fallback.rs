//! [`fallback`]: mount any other [`HttpService`] under a rule (Tornado's `FallbackHandler`,
//! which mounts a WSGI application).

use cyclone_protocol::server::HttpService;

use crate::target::{Target, service};

/// Routes matching requests to `service` whole, as if it were the server's own service (an
/// existing `HttpService`, another [`Application`](crate::Application), a streaming
/// function). Tornado's `FallbackHandler`.
///
/// ```
/// use cyclone_web::{fallback, url};
/// use cyclone_web::httpserver::{HttpResponse, HttpServerRequest};
///
/// async fn legacy(_request: HttpServerRequest) -> HttpResponse {
///     HttpResponse::ok().text("from the legacy service")
/// }
/// let rule = url("/legacy/.*", fallback(legacy));
/// # drop(rule);
/// ```
pub fn fallback<S: HttpService + Send + Sync>(service_to_mount: S) -> Target {
    service(service_to_mount)
}
