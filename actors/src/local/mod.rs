//! Local actors: actix actors whose messages from their own loop cost a call, not a scheduler
//! round trip.
//!
//! A message sent through an actix `Addr` is boxed, pushed onto a channel, and handled when
//! the actor's task is next polled: a wake-up and a trip through the loop's run queue, even
//! when sender and actor share the thread. [`LocalAddr::deliver`] skips all of that when it
//! can: if the actor is idle (not handling a message, not waiting on a future, nothing queued
//! before this message) it calls the actor's `Handler::handle` right away, on the caller's
//! stack. Otherwise the message joins the actor's local queue, handled in order by its driver,
//! so one message at a time and in order still hold.
//!
//! The actor is an ordinary actix actor with [`LocalContext`] as its context: `Handler`,
//! `ctx.spawn`, `ctx.notify`, `ctx.run_later`, `ctx.stop()` work as with `Context`, and
//! [`LocalAddr::address`] gives an actix `Addr` (so `Recipient`s) for other threads, whose
//! messages go through a real mailbox, handled by the actor's driver on its loop.
//!
//! - `mod.rs` (here): [`LocalAddr`], the shared cell, and the driver task.
//! - `context.rs`: [`LocalContext`], actix's context traits.
//!
//! ```
//! use actix::prelude::*;
//! use cyclone_actors::local::{LocalAddr, LocalContext};
//!
//! #[derive(Default)]
//! struct Counter(u64);
//! impl Actor for Counter {
//!     type Context = LocalContext<Self>;
//! }
//!
//! #[derive(Message)]
//! #[rtype(result = "()")]
//! struct Add(u64);
//!
//! impl Handler<Add> for Counter {
//!     type Result = ();
//!     fn handle(&mut self, Add(n): Add, _: &mut LocalContext<Self>) {
//!         self.0 += n;
//!     }
//! }
//!
//! #[derive(Message)]
//! #[rtype(result = "u64")]
//! struct Get;
//!
//! impl Handler<Get> for Counter {
//!     type Result = u64;
//!     fn handle(&mut self, _: Get, _: &mut LocalContext<Self>) -> u64 {
//!         self.0
//!     }
//! }
//!
//! actix_rt::System::new().block_on(async {
//!     let counter = LocalAddr::start(Counter::default());
//!     counter.deliver(Add(2)); // a call: handled before `deliver` returns
//!     counter.deliver(Add(3));
//!     // From any thread, through actix's mailbox:
//!     let total = counter.address().unwrap().send(Get).await.unwrap();
//!     assert_eq!(total, 5);
//! });
//! ```
//!
//! # Panics and supervision
//!
//! A handler or spawned future that panics does not unwind into the sender: the panic is
//! caught and logged, the message is dropped (a request message's writer then answers 500),
//! and the actor stops, as an actix actor's task would end. Started with
//! [`LocalAddr::start_supervised`], it is restarted instead: a fresh instance from the
//! factory (the panicked one may have been left half-updated), actix's
//! [`Supervised::restarting`] called on it, then `started`, behind the same address.

mod context;

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};

use actix::dev::{Mailbox, MessageResponse};
use actix::prelude::*;
use actix::{ActorState, Running};

use context::Item;
pub use context::LocalContext;

use crate::panics::panic_message;

/// Capacity of a local actor's actix mailbox (messages from other threads): actix's default,
/// 16; senders that find it full wait (`send`) or are refused (`try_send`).
pub const LOCAL_MAILBOX_CAPACITY: usize = 16;

/// A message queued for a local actor that could not take it at once.
trait LocalMessage<A: Actor<Context = LocalContext<A>>> {
    /// Hands the message to the actor.
    fn handle(self: Box<Self>, actor: &mut A, ctx: &mut LocalContext<A>);
}

/// A queued message of type `M`.
struct Queued<M>(M);

impl<A, M> LocalMessage<A> for Queued<M>
where
    A: Actor<Context = LocalContext<A>> + Handler<M>,
    M: Message + 'static,
{
    fn handle(self: Box<Self>, actor: &mut A, ctx: &mut LocalContext<A>) {
        let result = <A as Handler<M>>::handle(actor, self.0, ctx);
        result.handle(ctx, None);
    }
}

/// What a [`LocalAddr`] and the actor's driver share.
struct Shared<A: Actor<Context = LocalContext<A>>> {
    /// The actor and its context; borrowed by whoever runs it (the driver, or an inline
    /// delivery). `None` once the actor stopped.
    core: RefCell<Option<Core<A>>>,
    /// Messages from this loop waiting for the actor, in order.
    queue: RefCell<VecDeque<Box<dyn LocalMessage<A>>>>,
    /// The driver's task, woken when the queue or the context has work for it.
    waker: RefCell<Option<Waker>>,
    /// Makes a fresh actor after a panic (a supervised actor); `None`: a panic stops it.
    restart: Option<Restart<A>>,
}

/// Makes a supervised actor's fresh instance, `Supervised::restarting` already called on it.
type Restart<A> = Box<dyn Fn(&mut LocalContext<A>) -> A>;

/// The actor, its context and what only the driver polls.
struct Core<A: Actor<Context = LocalContext<A>>> {
    /// The actor.
    actor: A,
    /// Its context.
    ctx: LocalContext<A>,
    /// Messages from other threads (through `Addr`).
    mailbox: Mailbox<A>,
    /// Futures spawned into the context, polled by the driver.
    running: Vec<Item<A>>,
    /// Futures the actor waits for, most recent last; while any, nothing else runs.
    waits: Vec<Item<A>>,
    /// A panic stopped the actor: it is dropped without `stopped` (its state may be broken).
    panicked: bool,
}

impl<A: Actor<Context = LocalContext<A>>> Core<A> {
    /// Calls `started` if it has not been called.
    fn start(&mut self) {
        if self.ctx.state == ActorState::Started {
            self.actor.started(&mut self.ctx);
            if self.ctx.state == ActorState::Started {
                self.ctx.state = ActorState::Running;
            }
        }
    }

    /// Moves what the context collected (spawned and waited-for futures, cancellations) into
    /// the driver's lists. Returns whether anything moved.
    fn merge(&mut self) -> bool {
        let ctx = &mut self.ctx;
        let changed =
            !ctx.spawned.is_empty() || !ctx.new_waits.is_empty() || !ctx.cancelled.is_empty();
        self.running.append(&mut ctx.spawned);
        self.waits.append(&mut ctx.new_waits);
        for handle in ctx.cancelled.drain(..) {
            self.running.retain(|(item, _)| *item != handle);
            self.waits.retain(|(item, _)| *item != handle);
        }
        ctx.waits_held = self.waits.len();
        changed
    }
}

/// A handle on a local actor, usable on its loop only (it is not `Send`): deliver messages by a
/// direct call when the actor is idle. For other threads, take an actix
/// [`address`](Self::address).
pub struct LocalAddr<A: Actor<Context = LocalContext<A>>> {
    /// The actor's cell, shared with its driver.
    shared: Rc<Shared<A>>,
}

impl<A: Actor<Context = LocalContext<A>>> Clone for LocalAddr<A> {
    fn clone(&self) -> Self {
        LocalAddr {
            shared: Rc::clone(&self.shared),
        }
    }
}

impl<A: Actor<Context = LocalContext<A>>> fmt::Debug for LocalAddr<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalAddr")
            .field("actor", &std::any::type_name::<A>())
            .field("connected", &self.connected())
            .finish()
    }
}

impl<A: Actor<Context = LocalContext<A>>> LocalAddr<A> {
    /// Starts `actor` on the current loop (inside an actix system). A panic stops it.
    pub fn start(actor: A) -> Self {
        Self::start_with(actor, None)
    }

    /// Starts an actor made by `factory` on the current loop, restarted after a panic with a
    /// fresh instance from `factory` (see the [module docs](self)).
    pub fn start_supervised(factory: impl Fn() -> A + 'static) -> Self
    where
        A: Supervised,
    {
        let actor = factory();
        let restart: Restart<A> = Box::new(move |ctx| {
            let mut fresh = factory();
            fresh.restarting(ctx);
            fresh
        });
        Self::start_with(actor, Some(restart))
    }

    /// Starts `actor`, with `restart` for a supervised one.
    fn start_with(actor: A, restart: Option<Restart<A>>) -> Self {
        let (sender, receiver) = actix::dev::channel::channel::<A>(LOCAL_MAILBOX_CAPACITY);
        // Only the producer is kept: a held sender would keep the mailbox "connected" and
        // the actor alive with nobody able to reach it.
        drop(sender);
        let mailbox = Mailbox::new(receiver);
        let producer = mailbox.sender_producer();
        let ctx = LocalContext::new(Rc::new(move || producer.sender()));
        let shared = Rc::new(Shared {
            core: RefCell::new(Some(Core {
                actor,
                ctx,
                mailbox,
                running: Vec::new(),
                waits: Vec::new(),
                panicked: false,
            })),
            queue: RefCell::new(VecDeque::new()),
            waker: RefCell::new(None),
            restart,
        });
        actix::spawn(Driver {
            shared: Rc::clone(&shared),
        });
        LocalAddr { shared }
    }

    /// Hands `message` to the actor: handled by a direct call if the actor is idle (its
    /// result, if any, is dropped), else queued behind what it is doing, in order. A stopped
    /// actor drops it.
    pub fn deliver<M>(&self, message: M)
    where
        A: Handler<M>,
        M: Message + 'static,
    {
        if self.shared.queue.borrow().is_empty()
            && let Ok(mut core) = self.shared.core.try_borrow_mut()
        {
            let Some(core) = core.as_mut() else {
                return; // stopped: the message is dropped
            };
            core.start();
            if core.ctx.accepts_messages() {
                let Core { actor, ctx, .. } = core;
                let handled = catch_unwind(AssertUnwindSafe(|| {
                    let result = <A as Handler<M>>::handle(actor, message, ctx);
                    result.handle(ctx, None);
                }));
                if let Err(panic) = handled {
                    self.shared.panicked(core, &*panic);
                }
                if core.ctx.needs_driver() {
                    self.shared.wake();
                }
                return;
            }
        }
        if self.shared.alive() {
            self.shared
                .queue
                .borrow_mut()
                .push_back(Box::new(Queued(message)));
            self.shared.wake();
        }
    }

    /// An actix address of the actor, for other threads and `Recipient`s (its messages go
    /// through the actor's mailbox, of [`LOCAL_MAILBOX_CAPACITY`]); `None` once it stopped.
    pub fn address(&self) -> Option<Addr<A>> {
        match self.shared.core.try_borrow() {
            Ok(core) => core.as_ref().map(|core| core.ctx.address()),
            // The actor is running (this is a call from inside it): its context is borrowed.
            Err(_) => None,
        }
    }

    /// Whether the actor is still alive.
    pub fn connected(&self) -> bool {
        self.shared.alive()
    }
}

impl<A: Actor<Context = LocalContext<A>>> Drop for LocalAddr<A> {
    fn drop(&mut self) {
        // The last handle besides the driver's: the driver checks whether the actor can still
        // be reached.
        if Rc::strong_count(&self.shared) == 2 {
            self.shared.wake();
        }
    }
}

impl<A: Actor<Context = LocalContext<A>>> Shared<A> {
    /// Whether the actor is alive (a cell borrowed right now holds a running one).
    fn alive(&self) -> bool {
        match self.core.try_borrow() {
            Ok(core) => core.is_some(),
            Err(_) => true,
        }
    }

    /// Wakes the driver, if it has been polled once (before that, it will be anyway).
    fn wake(&self) {
        if let Some(waker) = self.waker.borrow().as_ref() {
            waker.wake_by_ref();
        }
    }

    /// A handler or future of the actor panicked: log it, then restart the actor (supervised)
    /// or stop it.
    fn panicked(&self, core: &mut Core<A>, panic: &(dyn Any + Send)) {
        let actor = std::any::type_name::<A>();
        match &self.restart {
            Some(restart) => {
                tracing::error!(
                    actor,
                    panic = panic_message(panic),
                    "local actor panicked; restarting it"
                );
                core.running.clear();
                core.waits.clear();
                core.ctx.spawned.clear();
                core.ctx.new_waits.clear();
                core.ctx.cancelled.clear();
                core.ctx.waits_held = 0;
                core.ctx.state = ActorState::Started;
                core.actor = restart(&mut core.ctx);
                core.start();
            }
            None => {
                tracing::error!(
                    actor,
                    panic = panic_message(panic),
                    "local actor panicked; stopping it"
                );
                core.ctx.state = ActorState::Stopped;
                core.panicked = true;
            }
        }
    }
}

/// The task that runs a local actor when no inline delivery does: messages queued behind
/// others, messages from other threads, spawned futures, timers, stopping.
struct Driver<A: Actor<Context = LocalContext<A>>> {
    /// The actor's cell.
    shared: Rc<Shared<A>>,
}

impl<A: Actor<Context = LocalContext<A>>> Future for Driver<A> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<()> {
        let shared = &*self.shared;
        {
            let mut waker = shared.waker.borrow_mut();
            if !waker
                .as_ref()
                .is_some_and(|current| current.will_wake(task.waker()))
            {
                *waker = Some(task.waker().clone());
            }
        }
        let Ok(mut slot) = shared.core.try_borrow_mut() else {
            // Running inline right now; it wakes the driver if it leaves work.
            task.waker().wake_by_ref();
            return Poll::Pending;
        };
        let Some(core) = slot.as_mut() else {
            return Poll::Ready(());
        };
        // Handles besides the driver's own can still deliver.
        let handles = Rc::strong_count(&self.shared) > 1;
        match drive(shared, core, handles, task) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                *slot = None;
                drop(slot);
                // Messages still queued go with the actor (their writers answer 500).
                shared.queue.borrow_mut().clear();
                Poll::Ready(())
            }
        }
    }
}

/// One driver poll, as actix's `ContextFut` does it: waited-for futures first (they pause
/// everything), then queued local messages, the mailbox, spawned futures, then stopping.
fn drive<A: Actor<Context = LocalContext<A>>>(
    shared: &Shared<A>,
    core: &mut Core<A>,
    handles: bool,
    task: &mut TaskContext<'_>,
) -> Poll<()> {
    core.start();
    loop {
        core.merge();
        // Waited-for futures, most recent first; nothing else runs while one is pending.
        while let Some((_, item)) = core.waits.last_mut() {
            if core.ctx.state == ActorState::Stopped {
                break;
            }
            let polled = catch_unwind(AssertUnwindSafe(|| {
                item.as_mut().poll(&mut core.actor, &mut core.ctx, task)
            }));
            match polled {
                Ok(Poll::Pending) => {
                    core.ctx.waits_held = core.waits.len();
                    return Poll::Pending;
                }
                Ok(Poll::Ready(())) => {
                    core.waits.pop();
                    core.merge();
                }
                Err(panic) => shared.panicked(core, &*panic),
            }
        }
        // Local messages that could not be handled inline, in order.
        while core.ctx.accepts_messages() {
            let Some(message) = shared.queue.borrow_mut().pop_front() else {
                break;
            };
            let Core { actor, ctx, .. } = core;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| message.handle(actor, ctx))) {
                shared.panicked(core, &*panic);
            }
            core.merge();
        }
        if !core.waits.is_empty() {
            continue;
        }
        // Messages from other threads.
        if core.ctx.accepts_messages() {
            let Core {
                actor,
                ctx,
                mailbox,
                ..
            } = core;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| mailbox.poll(actor, ctx, task))) {
                shared.panicked(core, &*panic);
            }
            if core.merge() && !core.waits.is_empty() {
                continue;
            }
        }
        // Spawned futures.
        let mut index = 0;
        while index < core.running.len() && core.ctx.state != ActorState::Stopped {
            let (_, item) = &mut core.running[index];
            let polled = catch_unwind(AssertUnwindSafe(|| {
                item.as_mut().poll(&mut core.actor, &mut core.ctx, task)
            }));
            match polled {
                Ok(Poll::Pending) => index += 1,
                Ok(Poll::Ready(())) => {
                    core.running.swap_remove(index);
                }
                Err(panic) => {
                    core.running.swap_remove(index);
                    shared.panicked(core, &*panic);
                }
            }
        }
        if core.merge() {
            continue;
        }
        // Stopping: asked for, or nobody can reach the actor any more.
        let reachable = handles || core.mailbox.connected();
        let idle =
            core.running.is_empty() && core.waits.is_empty() && shared.queue.borrow().is_empty();
        if core.ctx.state == ActorState::Running && !reachable && idle {
            core.ctx.state = ActorState::Stopping;
        }
        match core.ctx.state {
            ActorState::Stopping => match core.actor.stopping(&mut core.ctx) {
                Running::Stop => {
                    core.ctx.state = ActorState::Stopped;
                    core.actor.stopped(&mut core.ctx);
                    return Poll::Ready(());
                }
                Running::Continue => {
                    core.ctx.state = ActorState::Running;
                    continue;
                }
            },
            ActorState::Stopped => {
                if !core.panicked {
                    core.actor.stopped(&mut core.ctx);
                }
                return Poll::Ready(());
            }
            ActorState::Started | ActorState::Running => return Poll::Pending,
        }
    }
}
