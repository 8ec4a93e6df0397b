//! Tornado's `tornado.process`: several worker processes sharing listening sockets
//! ([`fork_processes`], [`task_id`]) and child processes whose pipes are [`IoStream`]s
//! ([`Subprocess`]).
//!
//! - `fork.rs`: [`fork_processes`]. Rust cannot `fork()` a process that may have started
//!   threads (the allocator's or the runtime's locks could be held by a thread that does not
//!   exist in the child), so the workers are the program itself, started again with the
//!   listening sockets passed down as descriptors 3, 4, ... and `CYCLONE_TASK_ID` in their
//!   environment. The program's own `main` runs again in each: `fork_processes` returns there
//!   with the task id and the inherited sockets, as Tornado's returns in each forked child.
//! - `subprocess.rs`: [`Subprocess`] over tokio's process support: `stdin`, `stdout` and
//!   `stderr` as [`IoStream`]s of [`Pipe`]s, [`wait_for_exit`](Subprocess::wait_for_exit) as a
//!   future.
//!
//! [`IoStream`]: crate::iostream::IoStream

mod fork;
mod subprocess;

pub use fork::{DEFAULT_MAX_RESTARTS, TASK_ID_VAR, fork_processes, inherited_sockets_or, task_id};
pub use subprocess::{Pipe, Subprocess};

use std::process::ExitStatus;

/// Why a process could not be started, supervised or waited for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// Spawning, waiting or passing descriptors failed.
    #[error("process: {0}")]
    Io(#[from] std::io::Error),
    /// Workers died abnormally more often than `max_restarts` allowed (Tornado's "Too many
    /// child restarts, giving up").
    #[error("too many child restarts ({0}), giving up")]
    TooManyRestarts(usize),
    /// [`fork_processes`] was called in a worker it started, or twice.
    #[error("fork_processes called from a worker process")]
    AlreadyForked,
    /// The process exited with a failure status (Tornado's `CalledProcessError` from
    /// `wait_for_exit(raise_error=True)`).
    #[error("process exited with {0}")]
    Failed(ExitStatus),
}
