//! Local actors (`cyclone_actors::local`): a message to an idle actor on its own loop is handled
//! by a direct call; one arriving while the actor is busy waits its turn, in order; other
//! threads reach it through an actix `Addr`; the actix context works (spawn, notify,
//! run_later, stop); a panic stops it, or restarts a supervised one; an actor nobody can reach
//! stops.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

mod support;

use actix::prelude::*;
use cyclone::local::{LocalAddr, LocalContext};
use support::wait;

/// Records what it handled, in order.
struct Recorder {
    /// The log, shared with the test.
    log: Rc<RefCell<Vec<String>>>,
    /// Its own handle, to send itself messages while handling one.
    me: Option<LocalAddr<Recorder>>,
    /// `stopped` ran.
    stopped: Arc<AtomicUsize>,
}

impl Actor for Recorder {
    type Context = LocalContext<Self>;

    fn stopped(&mut self, _: &mut LocalContext<Self>) {
        self.stopped.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Note(&'static str);

impl Handler<Note> for Recorder {
    type Result = ();

    fn handle(&mut self, Note(text): Note, _: &mut LocalContext<Self>) {
        self.log.borrow_mut().push(text.to_owned());
        if text == "first" {
            // Sent while this one is being handled: it must wait its turn.
            if let Some(me) = &self.me {
                me.deliver(Note("sent from inside"));
            }
            self.log.borrow_mut().push("first done".to_owned());
        }
    }
}

/// Sent from another thread, through the actix mailbox.
#[derive(Message)]
#[rtype(result = "usize")]
struct Count;

impl Handler<Count> for Recorder {
    type Result = usize;

    fn handle(&mut self, _: Count, _: &mut LocalContext<Self>) -> usize {
        self.log.borrow().len()
    }
}

/// Uses the actix context: spawn a future, notify itself, run something later, then stop.
#[derive(Message)]
#[rtype(result = "()")]
struct UseContext;

impl Handler<UseContext> for Recorder {
    type Result = ();

    fn handle(&mut self, _: UseContext, ctx: &mut LocalContext<Self>) {
        ctx.notify(Note("notified"));
        ctx.run_later(Duration::from_millis(5), |actor, ctx| {
            actor.log.borrow_mut().push("later".to_owned());
            ctx.stop();
        });
        ctx.spawn(
            async {}
                .into_actor(self)
                .map(|(), actor, _| actor.log.borrow_mut().push("spawned".to_owned())),
        );
    }
}

fn recorder() -> (
    LocalAddr<Recorder>,
    Rc<RefCell<Vec<String>>>,
    Arc<AtomicUsize>,
) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let stopped = Arc::new(AtomicUsize::new(0));
    let addr = LocalAddr::start(Recorder {
        log: Rc::clone(&log),
        me: None,
        stopped: Arc::clone(&stopped),
    });
    (addr, log, stopped)
}

#[actix_rt::test]
async fn an_idle_actor_handles_a_local_message_before_deliver_returns() {
    let (addr, log, _) = recorder();
    addr.deliver(Note("a"));
    assert_eq!(*log.borrow(), ["a"], "handled inline, no loop turn needed");
    addr.deliver(Note("b"));
    assert_eq!(*log.borrow(), ["a", "b"]);
}

#[actix_rt::test]
async fn a_message_to_a_busy_actor_waits_its_turn_in_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let addr = LocalAddr::start(Recorder {
        log: Rc::clone(&log),
        me: None,
        stopped: Arc::new(AtomicUsize::new(0)),
    });
    // Give the actor its own handle through a message (it cannot hold it before it starts).
    struct SetMe(LocalAddr<Recorder>);
    impl Message for SetMe {
        type Result = ();
    }
    impl Handler<SetMe> for Recorder {
        type Result = ();
        fn handle(&mut self, SetMe(me): SetMe, _: &mut LocalContext<Self>) {
            self.me = Some(me);
        }
    }
    addr.deliver(SetMe(addr.clone()));
    addr.deliver(Note("first"));
    // The inner message was queued, not run inside the first handler.
    assert_eq!(*log.borrow(), ["first", "first done"]);
    addr.deliver(Note("second"));
    wait::until("both queued messages", || log.borrow().len() == 4).await;
    assert_eq!(
        *log.borrow(),
        ["first", "first done", "sent from inside", "second"],
        "queued messages keep their order, and later ones wait behind them"
    );
}

#[actix_rt::test]
async fn other_threads_reach_it_through_an_actix_address() {
    let (addr, log, _) = recorder();
    addr.deliver(Note("local"));
    let address = addr.address().expect("running");
    let (answer, answered) = tokio::sync::oneshot::channel();
    // Another thread with a loop of its own; this loop stays free to run the actor.
    std::thread::spawn(move || {
        let count = actix_rt::System::new().block_on(async move { address.send(Count).await });
        let _ = answer.send(count);
    });
    let count = wait::bounded(answered).await.unwrap().unwrap();
    assert_eq!(count, 1);
    assert_eq!(*log.borrow(), ["local"]);
}

#[actix_rt::test]
async fn the_actix_context_spawns_notifies_runs_later_and_stops() {
    let (addr, log, stopped) = recorder();
    addr.deliver(UseContext);
    wait::until("the actor to stop", || stopped.load(Ordering::SeqCst) == 1).await;
    let log = log.borrow();
    assert!(log.contains(&"notified".to_owned()), "{log:?}");
    assert!(log.contains(&"spawned".to_owned()), "{log:?}");
    assert_eq!(log.last().map(String::as_str), Some("later"), "{log:?}");
    drop(log);
    assert!(!addr.connected());
    addr.deliver(Note("after stop")); // dropped, no panic
}

#[actix_rt::test]
async fn an_actor_nobody_can_reach_stops() {
    let (addr, _log, stopped) = recorder();
    addr.deliver(Note("x"));
    drop(addr);
    wait::until("the actor to stop", || stopped.load(Ordering::SeqCst) == 1).await;
}

/// Panics on `Boom`; counts instances made.
struct Fragile {
    /// This instance's number.
    generation: usize,
    /// `restarting` calls.
    restarts: Arc<AtomicUsize>,
}

impl Actor for Fragile {
    type Context = LocalContext<Self>;
}

impl Supervised for Fragile {
    fn restarting(&mut self, _: &mut LocalContext<Self>) {
        self.restarts.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Boom;

impl Handler<Boom> for Fragile {
    type Result = ();

    fn handle(&mut self, _: Boom, _: &mut LocalContext<Self>) {
        panic!("boom in generation {}", self.generation);
    }
}

#[derive(Message)]
#[rtype(result = "usize")]
struct Generation;

impl Handler<Generation> for Fragile {
    type Result = usize;

    fn handle(&mut self, _: Generation, _: &mut LocalContext<Self>) -> usize {
        self.generation
    }
}

#[actix_rt::test]
async fn a_panic_stops_an_actor_and_restarts_a_supervised_one() {
    let made = Arc::new(AtomicUsize::new(0));
    let restarts = Arc::new(AtomicUsize::new(0));
    let factory = {
        let (made, restarts) = (Arc::clone(&made), Arc::clone(&restarts));
        move || Fragile {
            generation: made.fetch_add(1, Ordering::SeqCst),
            restarts: Arc::clone(&restarts),
        }
    };
    let plain = LocalAddr::start(factory());
    plain.deliver(Boom); // caught: the panic does not unwind into this test
    wait::until("the panicked actor to stop", || !plain.connected()).await;

    let supervised = LocalAddr::start_supervised(factory);
    supervised.deliver(Boom);
    assert!(supervised.connected(), "restarted behind the same address");
    assert_eq!(restarts.load(Ordering::SeqCst), 1);
    let generation = supervised
        .address()
        .expect("running")
        .send(Generation)
        .await
        .unwrap();
    assert_eq!(generation, 2, "a fresh instance from the factory");
    assert_eq!(made.load(Ordering::SeqCst), 3);
}
