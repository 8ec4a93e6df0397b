//! The blocking pool: an actix `SyncArbiter` of worker threads serving `run_in_executor`.
//! (Stub: the real pool replaces this file.)

use std::future::Future;

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
}

/// Runs `job` on the default blocking pool and resolves with its result.
pub fn run_in_executor<F, T>(job: F) -> impl Future<Output = Result<T, ExecutorError>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    async move {
        let _ = job;
        Err(ExecutorError::Closed)
    }
}
