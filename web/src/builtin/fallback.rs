//! [`fallback`]: mount any other [`HttpService`] under a rule (Tornado's `FallbackHandler`,
//! which mounts a WSGI application).

use std::any::Any;

use cyclone_protocol::server::HttpService;

use crate::application::Application;
use crate::target::{Target, service};

/// Routes matching requests to `service` whole, as if it were the server's own service (an
/// existing `HttpService`, another [`Application`](crate::Application), a streaming
/// function). Tornado's `FallbackHandler`.
///
/// ```
/// use cyclone_web::{fallback, url};
/// use cyclone_protocol::server::{HttpResponse, HttpServerRequest};
///
/// async fn legacy(_request: HttpServerRequest) -> HttpResponse {
///     HttpResponse::ok().text("from the legacy service")
/// }
/// let rule = url("/legacy/.*", fallback(legacy));
/// # drop(rule);
/// ```
pub fn fallback<S: HttpService + Send + Sync>(service_to_mount: S) -> Target {
    // A mounted Application routes with its own rules and logs its own answers.
    let mounted: Box<dyn Any> = Box::new(service_to_mount);
    match mounted.downcast::<Application>() {
        Ok(application) => Target::from(*application),
        Err(other) => match other.downcast::<S>() {
            Ok(other) => service(*other),
            // `other` is the `S` it was made from: this arm cannot be taken.
            Err(_) => service(
                |_request: cyclone_protocol::server::HttpServerRequest| async {
                    cyclone_protocol::server::HttpResponse::new(
                        http::StatusCode::INTERNAL_SERVER_ERROR,
                    )
                },
            ),
        },
    }
}
