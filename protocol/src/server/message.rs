//! [`HttpRequestMessage`]: the one message every route target receives.

use actix::Message;

use super::path_args::PathArgs;
use super::request::HttpServerRequest;
use super::response::ResponseWriter;

/// A request for whoever answers it: the request, the route's path arguments, and the writer
/// for the answer. The HTTP connection sends one per request to its service; a web
/// application's router forwards it to the rule's target: a handler on the connection's loop,
/// an actor on the same loop, or a shared actor on any thread. Targets compose by forwarding it
/// whole (an auth actor passes it on to the next one); nobody copies the body.
///
/// It is `Send`: the request holds only `Send` data and the writer is `Send`. Answer through
/// [`writer`](Self::writer); dropping it unanswered answers 500.
///
/// ```
/// use actix::prelude::*;
/// use cyclone_protocol::server::{HttpRequestMessage, HttpResponse};
///
/// struct Hello;
/// impl Actor for Hello {
///     type Context = Context<Self>;
/// }
/// impl Handler<HttpRequestMessage> for Hello {
///     type Result = ();
///     fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
///         let who = message.path_args.get(0).unwrap_or("world").to_owned();
///         let _ = message.writer.respond(HttpResponse::ok().text(format!("Hello, {who}")));
///     }
/// }
/// ```
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct HttpRequestMessage {
    /// The request.
    pub request: HttpServerRequest,
    /// The route pattern's groups, percent-decoded (empty outside a router).
    pub path_args: PathArgs,
    /// Where the answer goes.
    pub writer: ResponseWriter,
}

impl HttpRequestMessage {
    /// A message for `request` with no path arguments, and the stream its answer arrives on:
    /// for code that calls a route target itself (a test, another protocol).
    pub fn new(request: HttpServerRequest) -> (Self, super::ResponseStream) {
        let (writer, answer) = ResponseWriter::channel();
        let message = HttpRequestMessage {
            request,
            path_args: PathArgs::default(),
            writer,
        };
        (message, answer)
    }
}
