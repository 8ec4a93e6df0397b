//! Actors that serve as rule targets (`cyclone::web::actor`), for the tests of actor targets:
//! one that counts what it answered, to show which instance answered and that it kept its
//! state, and a gatekeeper in front of another target (an actor, a handler type) that lets
//! only the requests with the right token through, as a front actor that authenticates would.

use actix::prelude::*;
use cyclone::httpserver::{HttpRequestMessage, HttpResponse};
use cyclone::web::Forward;
use http::StatusCode;

/// Answers every request `PATH #N`, N counting the requests this instance answered.
pub struct Counter {
    /// Requests answered so far.
    pub count: usize,
}

impl Actor for Counter {
    type Context = Context<Self>;
}

impl Handler<HttpRequestMessage> for Counter {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
        self.count += 1;
        let body = format!("{} #{}", message.request.path(), self.count);
        let _ = message.writer.respond(HttpResponse::ok().text(body));
    }
}

/// Forwards requests whose query is `token=ok` to `next`; answers the others `refusal`.
pub struct TokenGate<N> {
    /// Where the let-through requests go (a `Recipient`, a `Target`, ...).
    pub next: N,
    /// The status of a refused request.
    pub refusal: StatusCode,
}

impl<N: Forward + Unpin> Actor for TokenGate<N> {
    type Context = Context<Self>;
}

impl<N: Forward + Unpin> Handler<HttpRequestMessage> for TokenGate<N> {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
        if message.request.query() == "token=ok" {
            self.next.forward(message);
        } else {
            let _ = message.writer.respond(HttpResponse::new(self.refusal));
        }
    }
}
