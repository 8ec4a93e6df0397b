//! [`LocalContext`]: the actix context of a local actor. It implements actix's context traits
//! ([`ActorContext`], [`AsyncContext`], [`ToEnvelope`]), so a local actor is written exactly
//! like any actix actor: `handle`, `ctx.spawn`, `ctx.notify`, `ctx.run_later`, `ctx.address()`,
//! `ctx.stop()`.

use std::fmt;
use std::pin::Pin;
use std::rc::Rc;

use actix::dev::channel::AddressSender;
use actix::dev::{Envelope, ToEnvelope};
use actix::prelude::*;
use actix::{ActorState, SpawnHandle};

/// A future spawned into a local actor's context, with its handle.
pub(super) type Item<A> = (SpawnHandle, Pin<Box<dyn ActorFuture<A, Output = ()>>>);

/// Makes senders on the actor's actix mailbox (the channel's producer is not nameable outside
/// actix, so it is kept inside this closure).
pub(super) type MakeSender<A> = Rc<dyn Fn() -> AddressSender<A>>;

/// The context of an actor started with [`LocalAddr::start`](super::LocalAddr::start):
/// actix's `Context`, but kept where a delivery on the actor's own loop can reach it, so
/// that a message to an idle actor is handled by a direct call.
pub struct LocalContext<A: Actor<Context = LocalContext<A>>> {
    /// Makes the actor's actix address.
    pub(super) make_sender: MakeSender<A>,
    /// Where the actor is in its life.
    pub(super) state: ActorState,
    /// Futures spawned since the driver last looked.
    pub(super) spawned: Vec<Item<A>>,
    /// Futures the actor waits for, added since the driver last looked; nothing else runs
    /// until they are done.
    pub(super) new_waits: Vec<Item<A>>,
    /// How many waited-for futures the driver holds: while any, the actor is paused.
    pub(super) waits_held: usize,
    /// Handles cancelled since the driver last looked.
    pub(super) cancelled: Vec<SpawnHandle>,
    /// The last handle given out.
    pub(super) last_handle: SpawnHandle,
}

impl<A: Actor<Context = LocalContext<A>>> fmt::Debug for LocalContext<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalContext")
            .field("state", &self.state)
            .field("spawned", &self.spawned.len())
            .field("waits", &(self.waits_held + self.new_waits.len()))
            .finish_non_exhaustive()
    }
}

impl<A: Actor<Context = LocalContext<A>>> LocalContext<A> {
    /// A context not yet started.
    pub(super) fn new(make_sender: MakeSender<A>) -> Self {
        LocalContext {
            make_sender,
            state: ActorState::Started,
            spawned: Vec::new(),
            new_waits: Vec::new(),
            waits_held: 0,
            cancelled: Vec::new(),
            last_handle: SpawnHandle::default(),
        }
    }

    /// Whether the driver has something to pick up after a call it did not make (an inline
    /// delivery spawned a future or stopped the actor).
    pub(super) fn needs_driver(&self) -> bool {
        !self.spawned.is_empty()
            || !self.new_waits.is_empty()
            || !self.cancelled.is_empty()
            || self.state != ActorState::Running
    }

    /// Whether the actor is running and handles messages now.
    pub(super) fn accepts_messages(&self) -> bool {
        self.state == ActorState::Running && !self.waiting()
    }
}

impl<A: Actor<Context = LocalContext<A>>> ActorContext for LocalContext<A> {
    fn stop(&mut self) {
        if self.state == ActorState::Running || self.state == ActorState::Started {
            self.state = ActorState::Stopping;
        }
    }

    fn terminate(&mut self) {
        self.state = ActorState::Stopped;
    }

    fn state(&self) -> ActorState {
        self.state
    }
}

impl<A: Actor<Context = LocalContext<A>>> AsyncContext<A> for LocalContext<A> {
    fn address(&self) -> Addr<A> {
        Addr::new((self.make_sender)())
    }

    fn spawn<F>(&mut self, fut: F) -> SpawnHandle
    where
        F: ActorFuture<A, Output = ()> + 'static,
    {
        self.last_handle = self.last_handle.next();
        self.spawned.push((self.last_handle, Box::pin(fut)));
        self.last_handle
    }

    fn wait<F>(&mut self, fut: F)
    where
        F: ActorFuture<A, Output = ()> + 'static,
    {
        self.last_handle = self.last_handle.next();
        self.new_waits.push((self.last_handle, Box::pin(fut)));
    }

    fn waiting(&self) -> bool {
        self.waits_held > 0
            || !self.new_waits.is_empty()
            || matches!(self.state, ActorState::Stopping | ActorState::Stopped)
    }

    fn cancel_future(&mut self, handle: SpawnHandle) -> bool {
        self.cancelled.push(handle);
        true
    }
}

impl<A, M> ToEnvelope<A, M> for LocalContext<A>
where
    A: Actor<Context = LocalContext<A>> + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    fn pack(msg: M, tx: Option<actix::dev::OneshotSender<M::Result>>) -> Envelope<A> {
        Envelope::new(msg, tx)
    }
}
