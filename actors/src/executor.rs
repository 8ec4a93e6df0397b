//! The blocking pool: an actix `SyncArbiter` of worker threads serving `run_in_executor`
//! (Tornado's `IOLoop.run_in_executor` over a `ThreadPoolExecutor`).
//!
//! Blocking work (file I/O, CPU-heavy hashing, a blocking client library) must never run on a
//! loop; hand it to the pool and await the result.
//!
//! ```
//! use cyclone_actors::executor::{BlockingPool, run_in_executor};
//!
//! cyclone_actors::runtime::run(async {
//!     // The System's default pool, created on first use.
//!     assert_eq!(run_in_executor(|| 2 + 2).await.unwrap(), 4);
//!
//!     // A dedicated pool: 2 threads, at most 8 jobs queued or running.
//!     let pool = BlockingPool::new(2, 8).unwrap();
//!     assert_eq!(pool.run(|| "done").await.unwrap(), "done");
//! });
//! ```
//!
//! # Limits and defaults
//!
//! | What | Default | Setting |
//! |------|---------|---------|
//! | worker threads | `min(32, cores + 4)` ([`default_blocking_threads`]) | [`BlockingPool::new`], `Runtime::blocking_threads` |
//! | jobs queued or running | [`DEFAULT_EXECUTOR_QUEUE_LIMIT`] (10 000) | [`BlockingPool::new`], `Runtime::executor_queue_limit` |
//!
//! A job over the limit is refused at once with [`ExecutorError::QueueFull`]; it is never queued.
//!
//! # Panics and cancellation
//!
//! A job that panics resolves to [`ExecutorError::Panicked`]; its worker thread lives on. Dropping
//! the returned future before the job starts skips the job; once started, a job runs to the end
//! (a thread cannot be interrupted) and its result is discarded.

use std::{
    fmt,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Arc, LazyLock,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
};

use actix::{Actor, Addr, Handler, Message, SyncArbiter, SyncContext};
use actix_rt::System;
use dashmap::{DashMap, mapref::entry::Entry};
use tokio::sync::oneshot;

use crate::ioloop::run_logged;
use crate::panics::panic_message;

/// Jobs a pool holds, queued or running, before refusing more. Python's executor has no limit;
/// an unbounded queue here would let a burst of requests eat the memory of a slow disk.
pub const DEFAULT_EXECUTOR_QUEUE_LIMIT: usize = 10_000;

/// How long [`BlockingPool::new`] waits for its dispatcher thread to start.
const DISPATCHER_START_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The most threads [`default_blocking_threads`] picks, as in Python's `ThreadPoolExecutor`.
pub const MAX_DEFAULT_BLOCKING_THREADS: usize = 32;

/// The default worker count: `min(32, cores + 4)`, as Python's `ThreadPoolExecutor`: blocking
/// jobs mostly wait on I/O, so a few more threads than cores keeps the cores busy.
pub fn default_blocking_threads() -> usize {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    (cores + 4).min(MAX_DEFAULT_BLOCKING_THREADS)
}

/// Why a job handed to the blocking pool did not produce a value.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// The pool's queue is at its limit; the job was not queued.
    #[error("the blocking pool's queue is full ({limit} jobs)")]
    QueueFull {
        /// The queue limit in force.
        limit: usize,
    },
    /// The job panicked; the pool lives on.
    #[error("the blocking job panicked: {0}")]
    Panicked(String),
    /// The pool has shut down.
    #[error("the blocking pool is closed")]
    Closed,
    /// No actix System is running on this thread, so there is no default pool to use.
    #[error("no actix System is running on this thread")]
    NoSystem,
}

/// Default pools, one per actix System (by System id), created on first use and forgotten when
/// the System's runtime ends.
static DEFAULT_POOLS: LazyLock<DashMap<usize, BlockingPool>> = LazyLock::new(DashMap::new);

/// Numbers pools, to name their threads.
static POOL_COUNT: AtomicUsize = AtomicUsize::new(0);

/// A fixed set of worker threads (an actix `SyncArbiter`) running blocking jobs.
///
/// Cheap to clone; the threads end once every clone is dropped, or the System stops, and their
/// current jobs finish.
#[derive(Clone)]
pub struct BlockingPool {
    /// Shared by every clone.
    inner: Arc<PoolInner>,
}

/// What every clone of a pool shares.
struct PoolInner {
    /// The SyncArbiter's address; its workers take jobs from one shared queue.
    workers: Addr<BlockingWorker>,
    /// The pool's own System, whose one thread forwards jobs to the workers (actix's
    /// SyncArbiter dispatches from its System's first Arbiter; in the user's System that would
    /// be the user's main loop). Stopped when the last clone of the pool is dropped.
    dispatcher: System,
    /// Jobs queued or running, checked against `queue_limit`.
    in_flight: Arc<AtomicUsize>,
    /// The most jobs queued or running at once.
    queue_limit: usize,
    /// Worker threads, for inspection.
    threads: usize,
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPool")
            .field("threads", &self.inner.threads)
            .field("queue_limit", &self.inner.queue_limit)
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl BlockingPool {
    /// Starts `threads` worker threads (at least 1) that hold at most `queue_limit` jobs
    /// (at least 1) queued or running. Use [`default_blocking_threads`] and
    /// [`DEFAULT_EXECUTOR_QUEUE_LIMIT`] for the defaults.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::NoSystem`] outside an actix System.
    ///
    /// # Panics
    ///
    /// Panics if the operating system refuses to start a thread (actix's `SyncArbiter` does).
    ///
    /// The pool's dispatcher runs on a thread (and actix System) of its own; `new` waits
    /// (briefly, once) for that thread to start.
    pub fn new(threads: usize, queue_limit: usize) -> Result<Self, ExecutorError> {
        if System::try_current().is_none() {
            return Err(ExecutorError::NoSystem);
        }
        let threads = threads.max(1);
        let pool_number = POOL_COUNT.fetch_add(1, Ordering::Relaxed);
        let (started, addr) = std::sync::mpsc::sync_channel(1);
        thread::Builder::new()
            .name(format!("cyclone-blocking-{pool_number}-dispatch"))
            .spawn(move || {
                // A System of the pool's own: actix's SyncArbiter forwards every job from the
                // first Arbiter of the System it is started in, whatever thread starts it. In the
                // user's System that is the user's main loop, and a busy or blocked main loop
                // would stall every job; here it is this thread, which does nothing else.
                let runner = System::new();
                runner.block_on(async move {
                    let mut worker_number = 0;
                    let workers = SyncArbiter::start_with_thread_builder(
                        threads,
                        || {
                            worker_number += 1;
                            thread::Builder::new()
                                .name(format!("cyclone-blocking-{pool_number}-{worker_number}"))
                        },
                        || BlockingWorker,
                    );
                    let _ = started.send((workers, System::current()));
                });
                let _ = runner.run();
            })
            .map_err(|_| ExecutorError::Closed)?;
        let (workers, dispatcher) = addr
            .recv_timeout(DISPATCHER_START_TIMEOUT)
            .map_err(|_| ExecutorError::Closed)?;
        Ok(BlockingPool {
            inner: Arc::new(PoolInner {
                workers,
                dispatcher,
                in_flight: Arc::new(AtomicUsize::new(0)),
                queue_limit: queue_limit.max(1),
                threads,
            }),
        })
    }

    /// Runs `job` on a worker thread and resolves with its result.
    ///
    /// The job is queued (or refused) when `run` is called, not when the future is first
    /// polled. Errors: [`ExecutorError::QueueFull`] at once when the pool is at its limit,
    /// [`ExecutorError::Panicked`] if the job panicked, [`ExecutorError::Closed`] if the pool
    /// shut down first.
    pub fn run<F, T>(&self, job: F) -> impl Future<Output = Result<T, ExecutorError>> + use<F, T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        outcome(self.submit(job))
    }

    /// Worker threads in the pool.
    pub fn threads(&self) -> usize {
        self.inner.threads
    }

    /// The most jobs the pool holds at once, queued or running.
    pub fn queue_limit(&self) -> usize {
        self.inner.queue_limit
    }

    /// Jobs queued or running now.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// Queues `job` and returns where its result will arrive.
    fn submit<F, T>(&self, job: F) -> Result<oneshot::Receiver<Result<T, String>>, ExecutorError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let limit = self.inner.queue_limit;
        let permit = JobPermit::acquire(&self.inner.in_flight, limit)
            .ok_or(ExecutorError::QueueFull { limit })?;
        if !self.inner.workers.connected() {
            return Err(ExecutorError::Closed);
        }
        let (reply, result) = oneshot::channel();
        let work = Box::new(move || {
            // The caller dropped its future before the job started: nobody wants the result.
            if reply.is_closed() {
                return;
            }
            let outcome = catch_unwind(AssertUnwindSafe(job))
                .map_err(|payload| panic_message(&*payload).to_owned());
            // Free the place before answering, so a caller that awaits one job and then submits
            // the next never finds the place still taken.
            drop(permit);
            let _ = reply.send(outcome);
        });
        self.inner.workers.do_send(RunJob { work });
        Ok(result)
    }
}

/// Waits for a submitted job's result.
async fn outcome<T>(
    submitted: Result<oneshot::Receiver<Result<T, String>>, ExecutorError>,
) -> Result<T, ExecutorError> {
    match submitted?.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(ExecutorError::Panicked(message)),
        Err(_) => Err(ExecutorError::Closed),
    }
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        // The workers end once their address is gone; the dispatcher's System must be told.
        self.dispatcher.stop();
    }
}

/// One counted place in a pool's queue, held from submission until the job has run.
struct JobPermit {
    /// The pool's count of jobs queued or running.
    in_flight: Arc<AtomicUsize>,
}

impl JobPermit {
    /// Takes a place unless `limit` jobs are already queued or running.
    fn acquire(in_flight: &Arc<AtomicUsize>, limit: usize) -> Option<Self> {
        in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held < limit).then_some(held + 1)
            })
            .ok()
            .map(|_| JobPermit {
                in_flight: in_flight.clone(),
            })
    }
}

impl Drop for JobPermit {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The message a worker runs.
struct RunJob {
    /// The job, already wrapped to send its result back; it owns the job's place in the queue
    /// (a `JobPermit`), freed once the job has run or when it is dropped unrun.
    work: Box<dyn FnOnce() + Send>,
}

impl Message for RunJob {
    type Result = ();
}

/// A worker thread of a [`BlockingPool`].
struct BlockingWorker;

impl Actor for BlockingWorker {
    type Context = SyncContext<Self>;
}

impl Handler<RunJob> for BlockingWorker {
    type Result = ();

    fn handle(&mut self, message: RunJob, _: &mut SyncContext<Self>) {
        // The job catches its own panic; this guard keeps the worker thread alive regardless,
        // since actix does not restart a SyncArbiter thread that unwinds.
        run_logged(
            message.work,
            "a blocking pool job panicked outside its guard",
        );
    }
}

/// The current System's default pool, created on first use with the System's `Runtime`
/// settings (or the defaults).
///
/// # Errors
///
/// [`ExecutorError::NoSystem`] outside an actix System.
pub fn default_pool() -> Result<BlockingPool, ExecutorError> {
    let system = System::try_current().ok_or(ExecutorError::NoSystem)?;
    let system_id = system.id();
    if let Some(pool) = DEFAULT_POOLS.get(&system_id) {
        return Ok(pool.clone());
    }
    match DEFAULT_POOLS.entry(system_id) {
        Entry::Occupied(entry) => Ok(entry.get().clone()),
        Entry::Vacant(entry) => {
            let settings = crate::runtime::settings_for(system_id);
            let pool = BlockingPool::new(
                settings.blocking_thread_count(),
                settings.executor_queue_capacity(),
            )?;
            entry.insert(pool.clone());
            // Parked on the System's first Arbiter: when that runtime is dropped, so is the
            // guard, and the pool with its threads goes with the System.
            system.arbiter().spawn(async move {
                let _forget = ForgetDefaultPool(system_id);
                std::future::pending::<()>().await;
            });
            Ok(pool)
        }
    }
}

/// Removes a System's default pool when the System's runtime ends.
struct ForgetDefaultPool(usize);

impl Drop for ForgetDefaultPool {
    fn drop(&mut self) {
        DEFAULT_POOLS.remove(&self.0);
    }
}

/// Runs `job` on the default blocking pool of the current actix System and resolves with its
/// result; see [`BlockingPool::run`] for when the job is queued and what can fail.
pub fn run_in_executor<F, T>(job: F) -> impl Future<Output = Result<T, ExecutorError>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    outcome(default_pool().and_then(|pool| pool.submit(job)))
}
