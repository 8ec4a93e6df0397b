//! `IoLoop`: Tornado's `tornado.ioloop.IOLoop`, as a cheap handle to one actix Arbiter thread.
//!
//! Each worker thread runs one loop. Code on a loop is single-threaded, exactly as in Tornado;
//! the only ways in from another thread are [`IoLoop::add_callback`] (and the helpers built on
//! it: [`IoLoop::spawn_callback`], [`IoLoop::call_later_threadsafe`], [`IoLoop::run_sync`]) or an
//! actor's `Addr`.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use cyclone_actors::ioloop::IoLoop;
//!
//! cyclone_actors::runtime::run(async {
//!     let io_loop = IoLoop::current();
//!     let (tx, rx) = tokio::sync::oneshot::channel();
//!     io_loop
//!         .call_later(Duration::from_millis(5), move || {
//!             let _ = tx.send("fired");
//!         })
//!         .unwrap();
//!     assert_eq!(rx.await.unwrap(), "fired");
//! });
//! ```
//!
//! # Limits and defaults
//!
//! | What | Default | Setting |
//! |------|---------|---------|
//! | callbacks queued on one loop and not yet run | [`DEFAULT_CALLBACK_BACKLOG`] (100 000) | [`IoLoop::set_callback_backlog`], `Runtime::callback_backlog` |
//! | wait for a new loop's thread to start | 10 s | none |
//!
//! # Panics and cancellation
//!
//! A callback or timer that panics is caught, logged with `tracing::error!`, and the loop goes
//! on. A cancelled timeout never runs; its heap entry is dropped lazily (when it reaches the
//! head of the heap, or when cancelled entries outnumber live ones).

mod timer;

pub use timer::TimeoutHandle;

use std::{
    cell::RefCell,
    fmt,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    rc::Rc,
    sync::{
        Arc, Weak,
        atomic::{AtomicIsize, AtomicUsize, Ordering},
    },
    thread::{self, ThreadId},
    time::{Duration, Instant},
};

use actix_rt::{Arbiter, ArbiterHandle, System};
use futures::{
    FutureExt,
    future::{AbortHandle, Abortable},
};
use tokio::sync::mpsc;

use crate::panics::panic_message;

use timer::TimerQueue;

/// How many callbacks may wait in one loop's queue before [`IoLoop::add_callback`] refuses more.
///
/// actix's own queues are unbounded; this limit is what keeps a flood of cross-thread callbacks
/// from eating the memory of a loop that cannot keep up.
pub const DEFAULT_CALLBACK_BACKLOG: usize = 100_000;

/// After this many callbacks in a row the drain task yields, so sockets and timers on the same
/// loop are not starved by a burst of callbacks.
const CALLBACKS_PER_YIELD: usize = 256;

/// How long [`IoLoop::new`] waits for its new thread to report in.
const NEW_LOOP_START_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an [`IoLoop`] operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    /// The loop already holds `limit` callbacks that have not run yet; this one was refused.
    #[error("the IoLoop's callback backlog is full ({limit} callbacks)")]
    BacklogFull {
        /// The backlog limit in force.
        limit: usize,
    },
    /// The loop's arbiter has stopped; nothing will run there again.
    #[error("the IoLoop is closed")]
    Closed,
    /// `run_sync` was called on the loop's own thread, which would wait for itself forever.
    #[error("run_sync called on the IoLoop's own thread would deadlock")]
    WouldDeadlock,
    /// A loop-thread-only operation (`call_later`, `call_at`, `PeriodicCallback::start`) was
    /// called from another thread; use the `_threadsafe` variant or `add_callback`.
    #[error("this IoLoop operation must be called on the loop's own thread")]
    NotOnLoop,
    /// No actix System is registered on this thread (start one with `cyclone::run`).
    #[error("no actix System is running on this thread")]
    NoSystem,
    /// The operating system refused to start the loop's thread.
    #[error("could not start the IoLoop thread: {0}")]
    Spawn(#[from] std::io::Error),
    /// `run_sync_timeout` gave up waiting; the future was cancelled.
    #[error("run_sync timed out after {after:?}")]
    TimedOut {
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The future given to `run_sync` panicked; the loop lives on.
    #[error("the future given to run_sync panicked: {0}")]
    Panicked(String),
}

/// A callback on its way to the loop thread.
type Callback = Box<dyn FnOnce() + Send + 'static>;

/// A callback plus its place in the backlog count.
struct QueuedCallback {
    /// The work to run on the loop thread.
    callback: Callback,
    /// Frees the callback's backlog slot when it starts running, or when it is dropped unrun
    /// because the loop stopped.
    _slot: BacklogSlot,
}

/// One counted place in a loop's callback backlog.
struct BacklogSlot {
    /// The loop's count of queued, not yet run callbacks.
    pending: Arc<AtomicUsize>,
}

impl BacklogSlot {
    /// Takes a slot unless `limit` callbacks are already waiting.
    fn acquire(pending: &Arc<AtomicUsize>, limit: usize) -> Option<Self> {
        pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
                (queued < limit).then_some(queued + 1)
            })
            .ok()
            .map(|_| BacklogSlot {
                pending: pending.clone(),
            })
    }
}

impl Drop for BacklogSlot {
    fn drop(&mut self) {
        self.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The part of a loop every handle shares, on any thread.
struct Shared {
    /// The actix arbiter whose thread is this loop; used to stop it.
    arbiter: ArbiterHandle,
    /// The loop's thread, so `is_current` and `run_sync` can tell where they are called from.
    thread: ThreadId,
    /// The System the loop belongs to: a thread can host a new System after an old one ended,
    /// and its old loop state must not be reused.
    system_id: usize,
    /// The FIFO queue into the loop thread; one drain task on the loop reads it.
    callbacks: mpsc::UnboundedSender<QueuedCallback>,
    /// Callbacks queued and not yet run, checked against `backlog_limit`.
    pending: Arc<AtomicUsize>,
    /// The most callbacks that may wait at once.
    backlog_limit: AtomicUsize,
    /// Cancelled timeouts still sitting in the timer heap; shared with `TimeoutHandle`s so a
    /// cancel from any thread is counted, and the loop knows when compacting pays off.
    cancelled_timers: Arc<AtomicIsize>,
}

/// What only the loop's own thread holds.
struct LocalLoop {
    /// The handle state this thread's loop hands out.
    shared: Arc<Shared>,
    /// The timer heap; not `Send`, because timer callbacks need not be.
    timers: Rc<TimerQueue>,
}

thread_local! {
    /// This thread's loop, so `IoLoop::current()` returns the same loop every time.
    static CURRENT: RefCell<Option<LocalLoop>> = const { RefCell::new(None) };
}

/// A handle to one event loop (one actix Arbiter thread): Tornado's `IOLoop`.
///
/// Cheap to clone and `Send`: hand it to other threads and use [`add_callback`](Self::add_callback)
/// to get work onto the loop.
#[derive(Clone)]
pub struct IoLoop {
    /// State shared by every handle to this loop.
    shared: Arc<Shared>,
}

impl fmt::Debug for IoLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoLoop")
            .field("thread", &self.shared.thread)
            .field("system_id", &self.shared.system_id)
            .field("pending_callbacks", &self.pending_callbacks())
            .field("callback_backlog", &self.callback_backlog())
            .finish()
    }
}

impl PartialEq for IoLoop {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl Eq for IoLoop {}

impl IoLoop {
    /// The loop of the calling thread (Tornado's `IOLoop.current()`).
    ///
    /// Every call on one thread returns a handle to the same loop.
    ///
    /// # Panics
    ///
    /// Panics if the calling thread runs no actix Arbiter (no `cyclone::run`,
    /// `#[actix_rt::test]`, or Arbiter thread). Use [`try_current`](Self::try_current) to check.
    pub fn current() -> IoLoop {
        match Self::try_current() {
            Some(io_loop) => io_loop,
            None => panic!(
                "IoLoop::current() called outside an actix System/Arbiter: start one with \
                 cyclone::run(..), cyclone::Runtime, or #[actix_rt::test]"
            ),
        }
    }

    /// The loop of the calling thread, or `None` if the thread runs no actix Arbiter.
    pub fn try_current() -> Option<IoLoop> {
        let arbiter = Arbiter::try_current()?;
        let system_id = System::try_current()?.id();
        let (io_loop, stale) = CURRENT
            .try_with(|cell| {
                let mut slot = cell.try_borrow_mut().ok()?;
                let reusable = slot.as_ref().filter(|local| {
                    local.shared.system_id == system_id && local.shared.arbiter.alive()
                });
                if let Some(local) = reusable {
                    let shared = local.shared.clone();
                    return Some((IoLoop { shared }, None));
                }
                let limit = crate::runtime::settings_for(system_id).callback_backlog_limit();
                let fresh = install(arbiter, system_id, limit);
                let io_loop = IoLoop {
                    shared: fresh.shared.clone(),
                };
                Some((io_loop, slot.replace(fresh)))
            })
            .ok()??;
        // A previous System's loop state is dropped outside the borrow: its timers' captures
        // may run arbitrary drop code.
        drop(stale);
        Some(io_loop)
    }

    /// Starts a new loop on a new thread (a new actix Arbiter) in the current System.
    ///
    /// The loop runs until [`stop`](Self::stop) or until the System stops; dropping the handles
    /// does not stop it. Its callback backlog is the System's default (see
    /// [`DEFAULT_CALLBACK_BACKLOG`]).
    ///
    /// # Errors
    ///
    /// [`LoopError::NoSystem`] outside an actix System, [`LoopError::Spawn`] if the thread could
    /// not be started, [`LoopError::Closed`] if it did not report in within 10 seconds.
    pub fn new() -> Result<IoLoop, LoopError> {
        if System::try_current().is_none() {
            return Err(LoopError::NoSystem);
        }
        let arbiter = Arbiter::try_new()?;
        let (reply, started) = std::sync::mpsc::sync_channel(1);
        let sent = arbiter.spawn_fn(move || {
            let _ = reply.send(IoLoop::try_current());
        });
        if !sent {
            return Err(LoopError::Closed);
        }
        match started.recv_timeout(NEW_LOOP_START_TIMEOUT) {
            Ok(Some(io_loop)) => Ok(io_loop),
            Ok(None) | Err(_) => {
                arbiter.stop();
                Err(LoopError::Closed)
            }
        }
    }

    /// Starts a new loop like [`new`](Self::new), with its own callback backlog limit.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_callback_backlog(limit: usize) -> Result<IoLoop, LoopError> {
        let io_loop = Self::new()?;
        io_loop.set_callback_backlog(limit);
        Ok(io_loop)
    }

    /// True when called on this loop's own thread.
    pub fn is_current(&self) -> bool {
        thread::current().id() == self.shared.thread
    }

    /// The id of the thread this loop runs on.
    pub fn thread_id(&self) -> ThreadId {
        self.shared.thread
    }

    /// The actix Arbiter under this loop, to spawn actors or futures on it directly.
    pub fn arbiter(&self) -> &ArbiterHandle {
        &self.shared.arbiter
    }

    /// The loop's clock (Tornado's `IOLoop.time()`): a monotonic instant for `call_at`.
    pub fn time(&self) -> Instant {
        Instant::now()
    }

    /// Stops the loop's Arbiter: queued callbacks and timers are dropped unrun, and later
    /// calls return [`LoopError::Closed`]. Returns false if it had already stopped.
    ///
    /// For the loop `cyclone::run` drives, `run` returns when its future completes; stopping
    /// that loop's Arbiter would only strand the future.
    pub fn stop(&self) -> bool {
        self.shared.arbiter.stop()
    }

    /// The most callbacks that may wait on this loop at once.
    pub fn callback_backlog(&self) -> usize {
        self.shared.backlog_limit.load(Ordering::Relaxed)
    }

    /// Changes the callback backlog limit (at least 1). Default is [`DEFAULT_CALLBACK_BACKLOG`],
    /// or the System's `Runtime::callback_backlog`.
    pub fn set_callback_backlog(&self, limit: usize) {
        self.shared
            .backlog_limit
            .store(limit.max(1), Ordering::Relaxed);
    }

    /// Callbacks queued on this loop and not yet started.
    pub fn pending_callbacks(&self) -> usize {
        self.shared.pending.load(Ordering::Acquire)
    }

    /// Runs `f` on this loop, after every callback queued before it (Tornado's `add_callback`).
    ///
    /// The one thread-safe entry: callable from any thread, including the loop's own (then `f`
    /// runs on a later turn of the loop, never inline). A panic in `f` is caught and logged.
    ///
    /// # Errors
    ///
    /// [`LoopError::BacklogFull`] when the backlog limit is reached (the callback is dropped
    /// unrun; retry later), [`LoopError::Closed`] when the loop has stopped.
    pub fn add_callback<F>(&self, f: F) -> Result<(), LoopError>
    where
        F: FnOnce() + Send + 'static,
    {
        self.enqueue(Box::new(f))
    }

    /// Runs the future `f` makes on this loop (Tornado's `spawn_callback`).
    ///
    /// `f` is sent to the loop and called there, so the future need not be `Send`. It counts
    /// against the backlog until it is spawned. A panic inside the future is caught and logged.
    ///
    /// # Errors
    ///
    /// As [`add_callback`](Self::add_callback).
    pub fn spawn_callback<F, Fut>(&self, f: F) -> Result<(), LoopError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.enqueue(Box::new(move || {
            actix_rt::spawn(log_panics(f()));
        }))
    }

    /// Runs `f` at `deadline` on this loop (Tornado's `call_at` / `add_timeout`).
    ///
    /// Callbacks with equal deadlines run in the order they were scheduled. `f` need not be
    /// `Send`, so this must be called on the loop's own thread; from another thread use
    /// [`call_at_threadsafe`](Self::call_at_threadsafe). A panic in `f` is caught and logged.
    ///
    /// # Errors
    ///
    /// [`LoopError::NotOnLoop`] when called from another thread.
    pub fn call_at<F>(&self, deadline: Instant, f: F) -> Result<TimeoutHandle, LoopError>
    where
        F: FnOnce() + 'static,
    {
        let timers = self.local_timers()?;
        let handle = TimeoutHandle::new(deadline, self.shared.cancelled_timers.clone());
        timers.schedule(&handle, Box::new(f));
        Ok(handle)
    }

    /// Runs `f` once `delay` has passed (Tornado's `call_later`); see [`call_at`](Self::call_at).
    ///
    /// # Errors
    ///
    /// [`LoopError::NotOnLoop`] when called from another thread.
    pub fn call_later<F>(&self, delay: Duration, f: F) -> Result<TimeoutHandle, LoopError>
    where
        F: FnOnce() + 'static,
    {
        self.call_at(deadline_after(delay), f)
    }

    /// [`call_at`](Self::call_at) from any thread: `f` must be `Send`, and is routed through
    /// [`add_callback`](Self::add_callback) unless called on the loop itself.
    ///
    /// The handle can cancel the timeout even before it reaches the loop.
    ///
    /// # Errors
    ///
    /// As [`add_callback`](Self::add_callback).
    pub fn call_at_threadsafe<F>(&self, deadline: Instant, f: F) -> Result<TimeoutHandle, LoopError>
    where
        F: FnOnce() + Send + 'static,
    {
        if self.is_current() {
            return self.call_at(deadline, f);
        }
        let handle = TimeoutHandle::new(deadline, self.shared.cancelled_timers.clone());
        let scheduled = handle.clone();
        let shared = Arc::downgrade(&self.shared);
        self.add_callback(move || {
            if let Some(timers) = local_timers_for(&shared) {
                timers.schedule(&scheduled, Box::new(f));
            }
        })?;
        Ok(handle)
    }

    /// [`call_later`](Self::call_later) from any thread; see
    /// [`call_at_threadsafe`](Self::call_at_threadsafe).
    ///
    /// # Errors
    ///
    /// As [`add_callback`](Self::add_callback).
    pub fn call_later_threadsafe<F>(
        &self,
        delay: Duration,
        f: F,
    ) -> Result<TimeoutHandle, LoopError>
    where
        F: FnOnce() + Send + 'static,
    {
        self.call_at_threadsafe(deadline_after(delay), f)
    }

    /// Cancels a pending timeout (Tornado's `remove_timeout`): it will never run. Returns false
    /// if it already ran or was already cancelled. Callable from any thread.
    pub fn remove_timeout(&self, handle: &TimeoutHandle) -> bool {
        handle.cancel()
    }

    /// Entries in this loop's timer heap, cancelled ones not yet dropped included.
    ///
    /// # Errors
    ///
    /// [`LoopError::NotOnLoop`] when called from another thread.
    pub fn pending_timeouts(&self) -> Result<usize, LoopError> {
        Ok(self.local_timers()?.len())
    }

    /// Runs the future `f` makes on this loop and blocks the calling (foreign) thread until it
    /// completes (Tornado's `run_sync`). Blocks forever if the loop is not being driven; prefer
    /// [`run_sync_timeout`](Self::run_sync_timeout) when in doubt.
    ///
    /// # Errors
    ///
    /// [`LoopError::WouldDeadlock`] on the loop's own thread, [`LoopError::Panicked`] if `f` or
    /// its future panicked, and the errors of [`add_callback`](Self::add_callback).
    pub fn run_sync<F, Fut, T>(&self, f: F) -> Result<T, LoopError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        self.run_sync_inner(f, None)
    }

    /// [`run_sync`](Self::run_sync), giving up after `timeout`: the future is then cancelled
    /// (dropped at its next poll) and [`LoopError::TimedOut`] returned.
    ///
    /// # Errors
    ///
    /// As [`run_sync`](Self::run_sync), plus [`LoopError::TimedOut`].
    pub fn run_sync_timeout<F, Fut, T>(&self, timeout: Duration, f: F) -> Result<T, LoopError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        self.run_sync_inner(f, Some(timeout))
    }

    /// Runs `job` on the System's default blocking pool (Tornado's `run_in_executor`), so the
    /// loop is never blocked. Must be called on a thread of the System.
    pub fn run_in_executor<F, T>(
        &self,
        job: F,
    ) -> impl Future<Output = Result<T, crate::executor::ExecutorError>> + use<F, T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        crate::executor::run_in_executor(job)
    }

    /// Sends a callback to the loop, counted against the backlog.
    fn enqueue(&self, callback: Callback) -> Result<(), LoopError> {
        let limit = self.callback_backlog();
        let slot = BacklogSlot::acquire(&self.shared.pending, limit)
            .ok_or(LoopError::BacklogFull { limit })?;
        self.shared
            .callbacks
            .send(QueuedCallback {
                callback,
                _slot: slot,
            })
            .map_err(|_| LoopError::Closed)
    }

    /// The timer heap, if the calling thread is this loop's.
    fn local_timers(&self) -> Result<Rc<TimerQueue>, LoopError> {
        local_timers_for(&Arc::downgrade(&self.shared)).ok_or(LoopError::NotOnLoop)
    }

    fn run_sync_inner<F, Fut, T>(&self, f: F, timeout: Option<Duration>) -> Result<T, LoopError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        if self.is_current() {
            return Err(LoopError::WouldDeadlock);
        }
        let (reply, outcome) = std::sync::mpsc::sync_channel::<Result<T, String>>(1);
        let (abort, registration) = AbortHandle::new_pair();
        self.enqueue(Box::new(move || {
            let future = match catch_unwind(AssertUnwindSafe(f)) {
                Ok(future) => future,
                Err(payload) => {
                    let _ = reply.send(Err(panic_message(&*payload).to_owned()));
                    return;
                }
            };
            actix_rt::spawn(async move {
                let caught = AssertUnwindSafe(future).catch_unwind();
                if let Ok(result) = Abortable::new(caught, registration).await {
                    let _ =
                        reply.send(result.map_err(|payload| panic_message(&*payload).to_owned()));
                }
            });
        }))?;
        let received = match timeout {
            None => outcome.recv().map_err(|_| LoopError::Closed),
            Some(after) => outcome.recv_timeout(after).map_err(|error| match error {
                std::sync::mpsc::RecvTimeoutError::Timeout => {
                    abort.abort();
                    LoopError::TimedOut { after }
                }
                std::sync::mpsc::RecvTimeoutError::Disconnected => LoopError::Closed,
            }),
        };
        received?.map_err(LoopError::Panicked)
    }
}

/// Sets up loop state for the calling thread, which runs `arbiter`, and starts its drain task.
fn install(arbiter: ArbiterHandle, system_id: usize, backlog_limit: usize) -> LocalLoop {
    let (callbacks, queue) = mpsc::unbounded_channel();
    let cancelled_timers = Arc::new(AtomicIsize::new(0));
    let shared = Arc::new(Shared {
        arbiter: arbiter.clone(),
        thread: thread::current().id(),
        system_id,
        callbacks,
        pending: Arc::new(AtomicUsize::new(0)),
        backlog_limit: AtomicUsize::new(backlog_limit.max(1)),
        cancelled_timers: cancelled_timers.clone(),
    });
    // Spawned through the arbiter's own queue rather than spawn_local, so this works even
    // before the thread's runtime is being driven (a System thread outside block_on).
    arbiter.spawn(drain_callbacks(queue, Arc::downgrade(&shared)));
    LocalLoop {
        shared,
        timers: Rc::new(TimerQueue::new(cancelled_timers)),
    }
}

/// The loop thread's timer heap, if `shared` is the loop installed on this thread.
fn local_timers_for(shared: &Weak<Shared>) -> Option<Rc<TimerQueue>> {
    CURRENT
        .try_with(|cell| {
            let slot = cell.try_borrow().ok()?;
            let local = slot.as_ref()?;
            std::ptr::eq(Arc::as_ptr(&local.shared), shared.as_ptr()).then(|| local.timers.clone())
        })
        .ok()
        .flatten()
}

/// Clears this thread's loop state when the loop's runtime drops its tasks, so stale timers
/// and callbacks do not outlive the loop in a thread-local.
struct ForgetLoopOnDrop {
    /// The loop this drain task served; only that loop's state is cleared.
    shared: Weak<Shared>,
}

impl Drop for ForgetLoopOnDrop {
    fn drop(&mut self) {
        let stale = CURRENT
            .try_with(|cell| {
                let mut slot = cell.try_borrow_mut().ok()?;
                let ours = slot.as_ref().is_some_and(|local| {
                    std::ptr::eq(Arc::as_ptr(&local.shared), self.shared.as_ptr())
                });
                if ours { slot.take() } else { None }
            })
            .ok()
            .flatten();
        drop(stale);
    }
}

/// The loop thread's one reader of the callback queue: runs callbacks in FIFO order and drives
/// the timer heap.
async fn drain_callbacks(mut queue: mpsc::UnboundedReceiver<QueuedCallback>, shared: Weak<Shared>) {
    let _forget = ForgetLoopOnDrop {
        shared: shared.clone(),
    };
    if let Some(timers) = local_timers_for(&shared) {
        actix_rt::spawn(timer::drive(timers));
    }
    let mut since_yield = 0;
    while let Some(QueuedCallback {
        callback,
        _slot: slot,
    }) = queue.recv().await
    {
        // The backlog counts callbacks not yet started, so the slot frees before the run.
        drop(slot);
        run_logged(callback, "an IoLoop callback panicked");
        since_yield += 1;
        if since_yield >= CALLBACKS_PER_YIELD {
            since_yield = 0;
            tokio::task::yield_now().await;
        }
    }
}

/// Runs `f`, catching and logging a panic so the loop goes on.
pub(crate) fn run_logged<F: FnOnce()>(f: F, what: &'static str) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        tracing::error!(panic = %panic_message(&*payload), "{what}");
    }
}

/// Wraps a future so a panic inside it is caught and logged instead of killing the task.
pub(crate) async fn log_panics<Fut: Future<Output = ()>>(future: Fut) {
    if let Err(payload) = AssertUnwindSafe(future).catch_unwind().await {
        tracing::error!(
            panic = %panic_message(&*payload),
            "a future spawned on the IoLoop panicked"
        );
    }
}

/// `now + delay`, saturating to about thirty years ahead instead of overflowing.
pub(crate) fn deadline_after(delay: Duration) -> Instant {
    const FAR_FUTURE: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);
    let now = Instant::now();
    now.checked_add(delay.min(FAR_FUTURE)).unwrap_or(now)
}
