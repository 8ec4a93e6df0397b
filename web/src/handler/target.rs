//! [`handler`] and [`handler_with`]: a [`RequestHandler`] type as a route target. Each request
//! message delivered here makes a fresh handler (the rule's factory is Tornado's
//! `initialize`), which runs the request on the connection's own loop: delivery is a call,
//! not a mailbox hop.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;

use cyclone_protocol::server::{HttpRequestMessage, HttpServerRequest};

use super::context::RequestContext;
use super::methods_seen::MethodsSeen;
use super::{RequestHandler, panic_message, run};
use crate::app::AppContext;
use crate::errors::HttpError;
use crate::target::{RouteTarget, Target, Work, work_in_place};

/// A `RequestHandler` type made with `Default` for each request.
pub fn handler<H: RequestHandler + Default>() -> Target {
    handler_with(H::default)
}

/// A `RequestHandler` made by `factory` for each request: the closure is Tornado's
/// per-rule `initialize(**kwargs)` (capture what the handler needs).
///
/// ```
/// use std::sync::Arc;
/// use cyclone_web::{RequestContext, RequestHandler, HttpError, handler_with, url};
///
/// struct Greeter { greeting: Arc<str> }
/// impl RequestHandler for Greeter {
///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
///         cx.write(self.greeting.to_string());
///         Ok(())
///     }
/// }
/// let greeting: Arc<str> = "hi".into();
/// let rule = url("/", handler_with(move || Greeter { greeting: greeting.clone() }));
/// # drop(rule);
/// ```
pub fn handler_with<H, F>(factory: F) -> Target
where
    H: RequestHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    Target::new(HandlerTarget {
        factory,
        methods_seen: MethodsSeen::default(),
        _handler: PhantomData,
    })
}

/// Makes handlers of type `H` with the rule's factory.
struct HandlerTarget<H, F> {
    /// The rule's factory (Tornado's `initialize` arguments, captured).
    factory: F,
    /// Which of the handler's methods have been seen working (for a 405's `Allow`).
    methods_seen: MethodsSeen,
    /// The factory makes `H`s.
    _handler: PhantomData<fn() -> H>,
}

impl<H, F> RouteTarget for HandlerTarget<H, F>
where
    H: RequestHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    fn deliver(&self, message: HttpRequestMessage, app: &AppContext) -> Option<Work> {
        let HttpRequestMessage {
            request,
            path_args,
            writer,
        } = message;
        let mut cx = RequestContext::new(request, path_args, writer, app.clone());
        cx.compute_etag = H::compute_etag;
        cx.methods_seen = Some(self.methods_seen.record_for(cx.verb));
        // The rule's factory is user code too: its panic is a 500 like a method's.
        match std::panic::catch_unwind(AssertUnwindSafe(|| (self.factory)())) {
            Ok(handler) => Some(work_in_place!(run::run(handler, cx))),
            Err(panic) => {
                let error = HttpError::panic(panic_message(&*panic).to_owned());
                tracing::error!("handler factory panicked: {}", panic_message(&*panic));
                cx.finish_with_panic_page(&error);
                None
            }
        }
    }

    fn stream_request_body(&self, _request: &HttpServerRequest) -> bool {
        H::STREAM_REQUEST_BODY
    }

    fn may_stream(&self) -> bool {
        H::STREAM_REQUEST_BODY
    }

    fn logs_itself(&self) -> bool {
        true
    }

    fn uses_app_context(&self) -> bool {
        true
    }

    fn name(&self) -> Cow<'static, str> {
        std::any::type_name::<H>().into()
    }
}
