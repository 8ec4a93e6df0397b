//! `PeriodicCallback`: Tornado's `tornado.ioloop.PeriodicCallback`, a callback run every period
//! on the current loop.
//!
//! ```
//! use std::{cell::Cell, rc::Rc, time::Duration};
//! use cyclone_actors::periodic::PeriodicCallback;
//!
//! cyclone_actors::runtime::run(async {
//!     let ticks = Rc::new(Cell::new(0));
//!     let counter = ticks.clone();
//!     let heartbeat = PeriodicCallback::new(move || counter.set(counter.get() + 1),
//!                                           Duration::from_millis(10));
//!     heartbeat.start().unwrap();
//!     tokio::time::sleep(Duration::from_millis(100)).await;
//!     heartbeat.stop();
//!     assert!(ticks.get() >= 1);
//! });
//! ```
//!
//! # Scheduling
//!
//! The first run is one period after [`start`](PeriodicCallback::start). Like Tornado, runs that
//! were missed (the callback or the loop was slow) are skipped, not run in a burst: the next
//! deadline becomes `next + period * (floor((now - next) / period) + 1)`. With
//! [`with_jitter`](PeriodicCallback::with_jitter) each period is scaled by
//! `1 + jitter * (random - 0.5)`, so many clients do not all wake at once.
//!
//! A callback that panics is logged with `tracing::error!` and the schedule goes on.
//!
//! # Lifetime
//!
//! As in Tornado, a started callback keeps running when its handles are dropped: the loop holds
//! it until [`stop`](PeriodicCallback::stop) (or until the loop stops). A callback that needs to
//! stop itself should capture a [`WeakPeriodicCallback`], not a clone, to avoid a reference
//! cycle.

use std::{
    cell::{Cell, RefCell},
    fmt,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    rc::{Rc, Weak},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use crate::ioloop::{IoLoop, LoopError, TimeoutHandle, log_panics};
use crate::panics::panic_message;

/// The shortest period accepted; a zero period would spin the loop.
pub const MIN_PERIOD: Duration = Duration::from_millis(1);

/// A future a [`PeriodicCallback::new_async`] callback returns.
type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

/// The user's callback, plain or returning a future to await before the next run.
enum Callback {
    /// Runs to completion inside the timer.
    Plain(Box<dyn FnMut()>),
    /// Returns a future; the next run is scheduled only once it completes.
    Async(Box<dyn FnMut() -> LocalFuture>),
}

/// State shared by the handles and the pending timer.
struct Inner {
    /// What to run each period.
    callback: RefCell<Callback>,
    /// The nominal period, before jitter.
    period: Duration,
    /// Fraction of the period to randomise each run by (0 means none).
    jitter: Cell<f64>,
    /// Whether runs should go on; cleared by `stop`, even from inside the callback.
    running: Cell<bool>,
    /// Bumped by each `start`, so a run begun before a stop/start pair does not schedule a
    /// second chain of timers.
    generation: Cell<u64>,
    /// When the next run is due; advanced by whole periods.
    next_deadline: Cell<Instant>,
    /// The pending timer, cancelled by `stop`.
    timeout: RefCell<Option<TimeoutHandle>>,
    /// The loop the callback was started on.
    io_loop: RefCell<Option<IoLoop>>,
    /// xorshift state for jitter; a crate for randomness would be overkill here.
    rng: Cell<u64>,
}

/// A callback run every period on the loop it was started on (Tornado's `PeriodicCallback`).
///
/// Not `Send`: it lives on one loop, like the callback it holds. Cheap to clone; clones control
/// the same schedule.
#[derive(Clone)]
pub struct PeriodicCallback {
    /// The schedule every clone controls.
    inner: Rc<Inner>,
}

/// A handle that does not keep a [`PeriodicCallback`] alive; for use inside its own callback.
#[derive(Clone)]
pub struct WeakPeriodicCallback {
    /// The schedule, if it still exists.
    inner: Weak<Inner>,
}

impl fmt::Debug for PeriodicCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeriodicCallback")
            .field("period", &self.inner.period)
            .field("jitter", &self.inner.jitter.get())
            .field("running", &self.inner.running.get())
            .finish()
    }
}

impl fmt::Debug for WeakPeriodicCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakPeriodicCallback")
            .finish_non_exhaustive()
    }
}

impl WeakPeriodicCallback {
    /// The callback, unless every strong handle and the loop's timer have let go of it.
    pub fn upgrade(&self) -> Option<PeriodicCallback> {
        self.inner.upgrade().map(|inner| PeriodicCallback { inner })
    }

    /// Stops the callback if it still exists; see [`PeriodicCallback::stop`].
    pub fn stop(&self) {
        if let Some(callback) = self.upgrade() {
            callback.stop();
        }
    }
}

impl PeriodicCallback {
    /// A callback to run every `period` (at least [`MIN_PERIOD`]); not started yet.
    pub fn new<F>(callback: F, period: Duration) -> Self
    where
        F: FnMut() + 'static,
    {
        Self::with_callback(Callback::Plain(Box::new(callback)), period)
    }

    /// A callback whose future is awaited before the next run is scheduled, so runs never
    /// overlap; a run that takes longer than the period skips the runs it overlapped.
    pub fn new_async<F, Fut>(mut callback: F, period: Duration) -> Self
    where
        F: FnMut() -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let boxed = move || -> LocalFuture { Box::pin(callback()) };
        Self::with_callback(Callback::Async(Box::new(boxed)), period)
    }

    fn with_callback(callback: Callback, period: Duration) -> Self {
        let now = Instant::now();
        PeriodicCallback {
            inner: Rc::new(Inner {
                callback: RefCell::new(callback),
                period: period.max(MIN_PERIOD),
                jitter: Cell::new(0.0),
                running: Cell::new(false),
                generation: Cell::new(0),
                next_deadline: Cell::new(now),
                timeout: RefCell::new(None),
                io_loop: RefCell::new(None),
                rng: Cell::new(seed()),
            }),
        }
    }

    /// Randomises each period by `jitter` of its length: period × (1 + jitter × (random − 0.5)).
    /// Clamped to 0..=1. Default is 0 (no jitter).
    pub fn with_jitter(self, jitter: f64) -> Self {
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        self.inner.jitter.set(jitter);
        self
    }

    /// The nominal period.
    pub fn period(&self) -> Duration {
        self.inner.period
    }

    /// A handle that does not keep the callback alive.
    pub fn downgrade(&self) -> WeakPeriodicCallback {
        WeakPeriodicCallback {
            inner: Rc::downgrade(&self.inner),
        }
    }

    /// Starts running on the current thread's loop, first one period from now. Starting a
    /// running callback does nothing.
    ///
    /// # Errors
    ///
    /// [`LoopError::NotOnLoop`] if the calling thread runs no loop.
    pub fn start(&self) -> Result<(), LoopError> {
        if self.inner.running.get() {
            return Ok(());
        }
        let io_loop = IoLoop::try_current().ok_or(LoopError::NotOnLoop)?;
        *self.inner.io_loop.borrow_mut() = Some(io_loop);
        self.inner.running.set(true);
        let generation = self.inner.generation.get().wrapping_add(1);
        self.inner.generation.set(generation);
        self.inner.next_deadline.set(Instant::now());
        let scheduled = schedule_next(&self.inner, generation);
        if scheduled.is_err() {
            self.inner.running.set(false);
        }
        scheduled
    }

    /// Stops the runs; the pending one is cancelled. Callable from inside the callback, after
    /// which no further run happens.
    pub fn stop(&self) {
        self.inner.running.set(false);
        if let Some(timeout) = self.inner.timeout.borrow_mut().take() {
            timeout.cancel();
        }
    }

    /// True between `start` and `stop`.
    pub fn is_running(&self) -> bool {
        self.inner.running.get()
    }
}

/// Schedules the next run, unless stopped or restarted since `generation` began.
fn schedule_next(inner: &Rc<Inner>, generation: u64) -> Result<(), LoopError> {
    if !inner.running.get() || inner.generation.get() != generation {
        return Ok(());
    }
    advance_deadline(inner, Instant::now());
    let io_loop = inner.io_loop.borrow().clone().ok_or(LoopError::NotOnLoop)?;
    let owner = inner.clone();
    let timeout = io_loop.call_at(inner.next_deadline.get(), move || run(owner, generation))?;
    *inner.timeout.borrow_mut() = Some(timeout);
    Ok(())
}

/// Moves `next_deadline` past `now` by whole (jittered) periods, skipping missed runs.
fn advance_deadline(inner: &Inner, now: Instant) {
    let mut period = inner.period;
    let jitter = inner.jitter.get();
    if jitter > 0.0 {
        period = period.mul_f64(1.0 + jitter * (next_random(&inner.rng) - 0.5));
    }
    let next = inner.next_deadline.get();
    let advanced = if next <= now {
        let missed = ((now - next).as_secs_f64() / period.as_secs_f64()).floor();
        next + period.mul_f64(missed + 1.0)
    } else {
        next + period
    };
    inner.next_deadline.set(advanced);
}

/// One run: the callback, then the next schedule (after the future, for async callbacks).
fn run(inner: Rc<Inner>, generation: u64) {
    if !inner.running.get() || inner.generation.get() != generation {
        return;
    }
    let future = {
        let Ok(mut callback) = inner.callback.try_borrow_mut() else {
            return;
        };
        match &mut *callback {
            Callback::Plain(callback) => {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(&mut **callback)) {
                    tracing::error!(
                        panic = %panic_message(&*payload),
                        "a PeriodicCallback panicked"
                    );
                }
                None
            }
            Callback::Async(callback) => match catch_unwind(AssertUnwindSafe(&mut **callback)) {
                Ok(future) => Some(future),
                Err(payload) => {
                    tracing::error!(
                        panic = %panic_message(&*payload),
                        "a PeriodicCallback panicked"
                    );
                    None
                }
            },
        }
    };
    match future {
        None => reschedule_logged(&inner, generation),
        Some(future) => {
            actix_rt::spawn(async move {
                log_panics(future).await;
                reschedule_logged(&inner, generation);
            });
        }
    }
}

/// Schedules the next run from inside the loop, where a failure can only be logged.
fn reschedule_logged(inner: &Rc<Inner>, generation: u64) {
    if let Err(error) = schedule_next(inner, generation) {
        inner.running.set(false);
        tracing::error!(%error, "a PeriodicCallback could not schedule its next run");
    }
}

/// A nonzero seed from the clock and a stack address, so callbacks created together differ.
fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let local = 0u8;
    let address = std::ptr::addr_of!(local) as u64;
    (nanos ^ address.rotate_left(32)) | 1
}

/// A uniform number in [0, 1) from xorshift64*.
fn next_random(state: &Cell<u64>) -> f64 {
    let mut x = state.get();
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    state.set(x);
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}
