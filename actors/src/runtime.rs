//! The entry point: [`run`] a future on a fresh actix System, or configure one with [`Runtime`]
//! (Tornado's `IOLoop.current().run_sync(main)`).
//!
//! actix actors need an actix System on the thread that starts them; under a plain
//! `#[tokio::main]` starting an actor panics. `run` creates the System, drives the future on the
//! calling thread (which becomes the System's first loop), and stops the System's other loops
//! when the future completes.
//!
//! ```
//! let answer = cyclone_actors::runtime::Runtime::new()
//!     .blocking_threads(2)
//!     .run(async {
//!         cyclone_actors::executor::run_in_executor(|| 6 * 7).await.unwrap()
//!     });
//! assert_eq!(answer, 42);
//! ```
//!
//! # Defaults
//!
//! | Setting | Default |
//! |---------|---------|
//! | [`Runtime::blocking_threads`] | `min(32, cores + 4)`, as Python's `ThreadPoolExecutor` |
//! | [`Runtime::executor_queue_limit`] | 10 000 jobs queued or running |
//! | [`Runtime::callback_backlog`] | 100 000 callbacks per loop |

use std::{future::Future, sync::LazyLock};

use actix_rt::System;
use dashmap::DashMap;

use crate::{
    executor::{DEFAULT_EXECUTOR_QUEUE_LIMIT, default_blocking_threads},
    ioloop::DEFAULT_CALLBACK_BACKLOG,
};

/// Settings of the Systems started by [`Runtime::run`], by System id, read when a System's
/// default pool or loops are first created.
static SYSTEM_SETTINGS: LazyLock<DashMap<usize, Runtime>> = LazyLock::new(DashMap::new);

/// The settings for the System `system_id`: those it was started with, or the defaults (for
/// Systems started elsewhere, such as `#[actix_rt::test]`).
pub(crate) fn settings_for(system_id: usize) -> Runtime {
    SYSTEM_SETTINGS
        .get(&system_id)
        .map(|entry| entry.value().clone())
        .unwrap_or_default()
}

/// Builds and runs an actix System with cyclone's settings.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Worker threads of the default blocking pool.
    blocking_threads: usize,
    /// Jobs the default blocking pool holds (queued or running) before refusing more.
    executor_queue_limit: usize,
    /// Callbacks each loop holds (queued, not yet run) before refusing more.
    callback_backlog: usize,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            blocking_threads: default_blocking_threads(),
            executor_queue_limit: DEFAULT_EXECUTOR_QUEUE_LIMIT,
            callback_backlog: DEFAULT_CALLBACK_BACKLOG,
        }
    }
}

impl Runtime {
    /// A runtime with the defaults listed in the [module docs](self).
    pub fn new() -> Self {
        Self::default()
    }

    /// Worker threads of the System's default blocking pool (at least 1).
    /// Default is `min(32, cores + 4)`.
    pub fn blocking_threads(mut self, threads: usize) -> Self {
        self.blocking_threads = threads.max(1);
        self
    }

    /// Jobs the default blocking pool holds, queued or running, before `run_in_executor`
    /// answers `ExecutorError::QueueFull` (at least 1). Default is 10 000.
    pub fn executor_queue_limit(mut self, limit: usize) -> Self {
        self.executor_queue_limit = limit.max(1);
        self
    }

    /// Callbacks each loop of the System holds, queued and not yet run, before `add_callback`
    /// answers `LoopError::BacklogFull` (at least 1). Default is 100 000.
    pub fn callback_backlog(mut self, limit: usize) -> Self {
        self.callback_backlog = limit.max(1);
        self
    }

    /// The default blocking pool's thread count.
    pub(crate) fn blocking_thread_count(&self) -> usize {
        self.blocking_threads
    }

    /// The default blocking pool's queue limit.
    pub(crate) fn executor_queue_capacity(&self) -> usize {
        self.executor_queue_limit
    }

    /// Each loop's callback backlog limit.
    pub(crate) fn callback_backlog_limit(&self) -> usize {
        self.callback_backlog
    }

    /// Creates an actix System, runs `future` to completion on the calling thread, then stops
    /// the System (its other loops and the blocking pool wind down) and returns the output.
    ///
    /// # Panics
    ///
    /// Panics if the operating system refuses to create the runtime (threads, I/O driver), and
    /// re-raises a panic of `future` itself.
    pub fn run<F: Future>(self, future: F) -> F::Output {
        let runner = System::new();
        let stopped = runner.stop_future();
        runner.block_on(async move {
            let system_id = System::current().id();
            SYSTEM_SETTINGS.insert(system_id, self);
            let _forget = ForgetSettings(system_id);
            let output = future.await;
            System::current().stop();
            // Wait until the System controller has told every Arbiter to stop, so their
            // threads end instead of outliving the System.
            let _ = stopped.await;
            output
        })
    }
}

/// Drops a System's settings when its `run` ends (or unwinds).
struct ForgetSettings(usize);

impl Drop for ForgetSettings {
    fn drop(&mut self) {
        SYSTEM_SETTINGS.remove(&self.0);
    }
}

/// Runs `future` on a new actix System with the default [`Runtime`] settings.
///
/// ```
/// let sum = cyclone_actors::runtime::run(async { 1 + 1 });
/// assert_eq!(sum, 2);
/// ```
///
/// # Panics
///
/// As [`Runtime::run`].
pub fn run<F: Future>(future: F) -> F::Output {
    Runtime::new().run(future)
}
