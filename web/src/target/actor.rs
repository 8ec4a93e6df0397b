//! Actor targets: [`actor`] (one actor, on any thread), [`per_worker`] (one actor per worker,
//! on the worker's own loop), and [`Forward`], how any target passes a request message on.

use std::borrow::Cow;
use std::sync::Arc;

use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Handler, Recipient};
use cyclone_actors::local::{LocalAddr, LocalContext};
use cyclone_actors::loop_local::LoopLocal;
use cyclone_protocol::server::HttpRequestMessage;

use super::{RouteTarget, Target, Work};
use crate::app::AppContext;

/// Where a request message can go next: an actor's address, a route [`Target`], or anything
/// of your own. Targets compose by forwarding: an auth actor holds the next hop as a
/// `Forward` and passes on what it lets through.
///
/// Forwarding never waits. A request message exists only while its connection holds the
/// exchange, so the messages in any mailbox are bounded by the server's `max_connections` ×
/// `max_pipelined_requests`, whatever the mailbox's own capacity.
pub trait Forward: 'static {
    /// Passes `message` on. If it cannot be delivered (the actor is gone), dropping it answers
    /// 500.
    fn forward(&self, message: HttpRequestMessage);
}

impl Forward for Recipient<HttpRequestMessage> {
    fn forward(&self, message: HttpRequestMessage) {
        self.do_send(message);
    }
}

impl<A> Forward for Addr<A>
where
    A: Actor + Handler<HttpRequestMessage>,
    A::Context: ToEnvelope<A, HttpRequestMessage>,
{
    fn forward(&self, message: HttpRequestMessage) {
        self.do_send(message);
    }
}

/// A route target as the next hop: the request runs there on the current loop (its work, a
/// handler's, say, is spawned on it), with the application the request was routed by.
impl Forward for Target {
    fn forward(&self, message: HttpRequestMessage) {
        let app = message
            .request
            .app_data::<AppContext>()
            .map(|app| (*app).clone())
            .unwrap_or_default();
        if let Some(work) = self.deliver(message, &app) {
            actix::spawn(work);
        }
    }
}

/// A local actor on this loop: delivered by a direct call when it is idle.
impl<A> Forward for LocalAddr<A>
where
    A: Actor<Context = LocalContext<A>> + Handler<HttpRequestMessage>,
{
    fn forward(&self, message: HttpRequestMessage) {
        self.deliver(message);
    }
}

impl<F: Forward + ?Sized> Forward for Arc<F> {
    fn forward(&self, message: HttpRequestMessage) {
        (**self).forward(message);
    }
}

/// One long-lived actor answering every request routed here, sent to it as the
/// [`HttpRequestMessage`] it is (a mailbox hop; the actor may live on any Arbiter, so a
/// request from another worker crosses threads). Actors compose by forwarding the message
/// (see [`Forward`]). For an actor per worker, with no thread crossing, see [`per_worker`].
///
/// ```
/// use actix::prelude::*;
/// use cyclone_web::{Application, actor, url};
/// use cyclone_protocol::server::{HttpRequestMessage, HttpResponse};
///
/// struct Users;
/// impl Actor for Users {
///     type Context = Context<Self>;
/// }
/// impl Handler<HttpRequestMessage> for Users {
///     type Result = ();
///     fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
///         let id = message.path_args.named("id").unwrap_or("?");
///         let _ = message.writer.respond(HttpResponse::ok().text(format!("user {id}")));
///     }
/// }
///
/// actix_rt::System::new().block_on(async {
///     let users = Users.start();
///     let app = Application::new([url(r"/users/(?P<id>\d+)", actor(users.recipient()))]);
///     # drop(app);
/// });
/// ```
pub fn actor(recipient: impl Forward + Send + Sync) -> Target {
    Target::new(ActorTarget(recipient))
}

impl From<Recipient<HttpRequestMessage>> for Target {
    fn from(recipient: Recipient<HttpRequestMessage>) -> Self {
        actor(recipient)
    }
}

/// The target [`actor`] makes.
struct ActorTarget<F>(F);

impl<F: Forward + Send + Sync> RouteTarget for ActorTarget<F> {
    fn deliver(&self, message: HttpRequestMessage, _app: &AppContext) -> Option<Work> {
        self.0.forward(message);
        None
    }

    fn name(&self) -> Cow<'static, str> {
        "actor".into()
    }
}

/// An actor per worker: `start` runs once on each worker's loop, at the first request it
/// routes here, and what it returns takes that worker's requests. The actor lives on the same
/// thread as the connections it serves, so delivery crosses no thread, and its state needs no
/// lock (each worker has its own: a per-worker cache, counter or rate limit).
///
/// - Return a [`LocalAddr`] (an actor with a [`LocalContext`]) and a request reaching an idle
///   actor is handled by a direct call: no mailbox, no scheduler round trip. The fast path.
/// - Return an actix `Addr` or `Recipient` (an actor with a `Context`, or supervised with
///   actix's `Supervisor::start(|_| MyActor)`) and each request goes through its mailbox, on
///   the same thread.
///
/// ```
/// use actix::prelude::*;
/// use cyclone_web::{Application, per_worker, url};
/// use cyclone_protocol::server::{HttpRequestMessage, HttpResponse};
///
/// #[derive(Default)]
/// struct Counter(u64);
/// impl Actor for Counter {
///     type Context = Context<Self>;
/// }
/// impl Handler<HttpRequestMessage> for Counter {
///     type Result = ();
///     fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
///         self.0 += 1;
///         let _ = message.writer.respond(HttpResponse::ok().text(self.0.to_string()));
///     }
/// }
///
/// let app = Application::new([url("/count", per_worker(|| Counter::default().start()))]);
/// # drop(app);
/// ```
pub fn per_worker<F, S>(start: S) -> Target
where
    F: Forward + Clone,
    S: Fn() -> F + Send + Sync + 'static,
{
    Target::new(PerWorkerTarget(LoopLocal::new(start)))
}

/// The target [`per_worker`] makes.
struct PerWorkerTarget<F>(LoopLocal<F>);

impl<F: Forward + Clone> RouteTarget for PerWorkerTarget<F> {
    fn deliver(&self, message: HttpRequestMessage, _app: &AppContext) -> Option<Work> {
        self.0.get().forward(message);
        None
    }

    fn name(&self) -> Cow<'static, str> {
        "per-worker actor".into()
    }
}
