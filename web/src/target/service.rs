//! [`service`]: any [`HttpService`] mounted under a rule (Tornado's `FallbackHandler`).

use std::borrow::Cow;

use cyclone_protocol::server::{HttpRequestMessage, HttpServerRequest, HttpService};

use super::{RouteTarget, Target, Work, work_in_place};
use crate::app::AppContext;

/// Any [`HttpService`] mounted under a rule (Tornado's `FallbackHandler`): it gets each
/// request message whole, as if it were the server's own service.
pub fn service<S>(service: S) -> Target
where
    S: HttpService + Send + Sync,
{
    Target::new(ServiceTarget(service))
}

/// The target [`service`] makes.
struct ServiceTarget<S>(S);

impl<S: HttpService + Send + Sync> RouteTarget for ServiceTarget<S> {
    fn deliver(&self, message: HttpRequestMessage, _app: &AppContext) -> Option<Work> {
        Some(work_in_place!(self.0.call(message)))
    }

    fn stream_request_body(&self, request: &HttpServerRequest) -> bool {
        self.0.stream_request_body(request)
    }

    fn may_stream(&self) -> bool {
        true
    }

    fn name(&self) -> Cow<'static, str> {
        std::any::type_name::<S>().into()
    }
}
