//! [`fork_processes`]: N copies of this program serving the same listening sockets, restarted
//! when they die (Tornado's `fork_processes` and `task_id`).

use std::net::TcpListener;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, Command, ExitStatus};
use std::sync::OnceLock;
use std::sync::mpsc;

use command_fds::{CommandFdExt, FdMapping};

use super::ProcessError;

/// The environment variable that tells a worker its task id (and that it is one).
pub const TASK_ID_VAR: &str = "CYCLONE_TASK_ID";

/// How often workers may die abnormally before [`fork_processes`] gives up. Default 100, as
/// Tornado's.
pub const DEFAULT_MAX_RESTARTS: usize = 100;

/// The first descriptor the sockets are passed as (after standard input, output and error).
const FIRST_FD: i32 = 3;

/// This process's task id, once [`fork_processes`] has made it a worker.
static TASK_ID: OnceLock<usize> = OnceLock::new();

/// This worker's task id, from 0 to `num_processes - 1` (Tornado's `task_id()`); `None` in a
/// process that [`fork_processes`] did not start.
pub fn task_id() -> Option<usize> {
    TASK_ID.get().copied()
}

/// Runs this program as `num_processes` workers sharing the listening sockets `bind` makes
/// (Tornado's `fork_processes`; 0 means one per core).
///
/// In the parent (the program as started), `bind` is called once, then the workers are
/// started: the program's own executable, with its arguments, the sockets as descriptors 3,
/// 4, ... and `CYCLONE_TASK_ID` set. The parent then only supervises: a worker that exits
/// with status 0 is not replaced, one that fails or is killed by a signal is restarted with
/// the same task id, up to `max_restarts` times in all ([`ProcessError::TooManyRestarts`]);
/// when every worker has exited normally the parent exits with status 0, as Tornado's does.
/// So in the parent this function returns only with an error.
///
/// In a worker, `bind` is not called: this returns the worker's task id and the parent's
/// sockets, to serve (`TcpServer::add_sockets`, `HttpServer::add_sockets`). A worker dies with
/// its parent (it gets SIGTERM when the parent goes), so stopping the parent stops them all.
///
/// Call it first thing in `main`, before starting any runtime: in the parent no runtime is
/// needed, and a worker starts its own.
///
/// ```no_run
/// use cyclone_actors::netutil::{DEFAULT_BACKLOG, Family, bind_sockets};
/// use cyclone_actors::process::{DEFAULT_MAX_RESTARTS, fork_processes};
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let (task_id, sockets) = fork_processes(0, DEFAULT_MAX_RESTARTS, || {
///         bind_sockets(8888, None, Family::Unspec, DEFAULT_BACKLOG, false)
///     })?;
///     println!("worker {task_id} serving");
///     # drop(sockets);
///     // cyclone_actors::runtime::run(async move { server.add_sockets(sockets) ... })
///     Ok(())
/// }
/// ```
pub fn fork_processes(
    num_processes: usize,
    max_restarts: usize,
    bind: impl FnOnce() -> std::io::Result<Vec<TcpListener>>,
) -> Result<(usize, Vec<TcpListener>), ProcessError> {
    if let Some(id) = inherited_task_id() {
        if TASK_ID.set(id).is_err() {
            return Err(ProcessError::AlreadyForked);
        }
        // A worker must not outlive its supervisor (an orphan would keep serving the port).
        let _ =
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM));
        return Ok((id, inherited_sockets()?));
    }
    let sockets = bind()?;
    let num_processes = match num_processes {
        0 => std::thread::available_parallelism().map_or(1, |cpus| cpus.get()),
        count => count,
    };
    supervise(num_processes, max_restarts, &sockets)?;
    // Every worker exited normally: so does the parent, as Tornado's `sys.exit(0)`.
    std::process::exit(0)
}

/// The listening sockets this process was started with (by [`fork_processes`] or an
/// [`autoreload`](crate::autoreload) restart: `LISTEN_FDS`, from descriptor 3, the systemd
/// protocol), else the ones `bind` makes. A program that reloads itself binds once and gets
/// the same sockets back each time, so the port never refuses connections.
pub fn inherited_sockets_or(
    bind: impl FnOnce() -> std::io::Result<Vec<TcpListener>>,
) -> std::io::Result<Vec<TcpListener>> {
    let inherited = inherited_sockets().map_err(|error| match error {
        ProcessError::Io(error) => error,
        other => std::io::Error::other(other),
    })?;
    if inherited.is_empty() {
        bind()
    } else {
        Ok(inherited)
    }
}

/// The task id this process was started with, if it is a worker.
fn inherited_task_id() -> Option<usize> {
    std::env::var(TASK_ID_VAR).ok()?.parse().ok()
}

/// The sockets the parent passed, as the systemd socket-activation protocol describes them
/// (`LISTEN_FDS`, from descriptor 3), which the `listenfd` crate reads.
fn inherited_sockets() -> Result<Vec<TcpListener>, ProcessError> {
    let mut passed = listenfd::ListenFd::from_env();
    let mut sockets = Vec::with_capacity(passed.len());
    for index in 0..passed.len() {
        if let Some(socket) = passed.take_tcp_listener(index)? {
            sockets.push(socket);
        }
    }
    Ok(sockets)
}

/// Starts the workers and restarts the ones that fail until all exit normally.
fn supervise(
    num_processes: usize,
    max_restarts: usize,
    sockets: &[TcpListener],
) -> Result<(), ProcessError> {
    let (exits, exited) = mpsc::channel::<(usize, std::io::Result<ExitStatus>)>();
    for id in 0..num_processes {
        watch(start_worker(id, sockets)?, id, exits.clone());
    }
    let mut running = num_processes;
    let mut restarts = 0;
    while running > 0 {
        let Ok((id, status)) = exited.recv() else {
            break;
        };
        match status {
            Ok(status) if status.success() => {
                eprintln!("child {id} exited normally");
                running -= 1;
                continue;
            }
            Ok(status) => eprintln!("child {id} exited with {status}, restarting"),
            Err(error) => eprintln!("child {id} could not be waited for ({error}), restarting"),
        }
        restarts += 1;
        if restarts > max_restarts {
            return Err(ProcessError::TooManyRestarts(max_restarts));
        }
        watch(start_worker(id, sockets)?, id, exits.clone());
    }
    Ok(())
}

/// Waits for `child` on a thread of its own (std has no wait-for-any), reporting its exit.
fn watch(mut child: Child, id: usize, exits: mpsc::Sender<(usize, std::io::Result<ExitStatus>)>) {
    std::thread::spawn(move || {
        let _ = exits.send((id, child.wait()));
    });
}

/// Starts worker `id`: this executable, its arguments, the sockets from descriptor 3.
fn start_worker(id: usize, sockets: &[TcpListener]) -> Result<Child, ProcessError> {
    let executable = std::env::current_exe()?;
    let mut command = Command::new(executable);
    command.args(std::env::args_os().skip(1));
    let mut mappings = Vec::with_capacity(sockets.len());
    for (index, socket) in sockets.iter().enumerate() {
        let fd: OwnedFd = socket.as_fd().try_clone_to_owned()?;
        mappings.push(FdMapping {
            parent_fd: fd,
            child_fd: FIRST_FD + i32::try_from(index).unwrap_or(i32::MAX - FIRST_FD),
        });
    }
    command
        .fd_mappings(mappings)
        .map_err(|_| std::io::Error::other("descriptor mappings collide"))?;
    command
        .env(TASK_ID_VAR, id.to_string())
        .env("LISTEN_FDS", sockets.len().to_string())
        .env_remove("LISTEN_PID")
        .env_remove("LISTEN_FDS_FIRST_FD");
    Ok(command.spawn()?)
}
