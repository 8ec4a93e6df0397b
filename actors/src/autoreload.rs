//! Tornado's `tornado.autoreload`: in development, the process starts itself again when its
//! executable (a `cargo build`) or a watched file (a config, a template set) changes, and
//! keeps its listening sockets, so the port never refuses a connection while it reloads.
//!
//! ```no_run
//! use cyclone_actors::autoreload;
//! use cyclone_actors::netutil::{DEFAULT_BACKLOG, Family, bind_sockets};
//! use cyclone_actors::process::inherited_sockets_or;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The first start binds; a reloaded process gets the same sockets back.
//!     let sockets = inherited_sockets_or(|| {
//!         bind_sockets(8888, Some("127.0.0.1"), Family::V4, DEFAULT_BACKLOG, false)
//!     })?;
//!     autoreload::watch("config.toml");
//!     autoreload::start(&sockets)?;
//!     // ... serve `sockets`
//!     Ok(())
//! }
//! ```
//!
//! # How it differs from Tornado
//!
//! Tornado polls the modules' files every half second and starts from `debug=True`; here the
//! [`notify`](https://docs.rs/notify) crate tells us of changes (inotify on Linux), and the
//! program calls [`start`] with its sockets (the application does not own them). The reload
//! `exec`s the executable found at start (cargo replaces the file, so the running image's
//! path would be a deleted one), with the same arguments, the sockets as descriptors 3, 4, ...
//! and `LISTEN_FDS` (read back by [`inherited_sockets_or`](crate::process::inherited_sockets_or)).
//! The process id stays the same. Not for [`fork_processes`](crate::process::fork_processes)
//! workers, as in Tornado.

use std::net::TcpListener;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use command_fds::{CommandFdExt, FdMapping};
use notify::{RecursiveMode, Watcher};

/// How long a changed file must stay the same size before the reload (a build writes the
/// executable in pieces; starting a half-written one fails). Default 100 ms.
pub const SETTLE_TIME: Duration = Duration::from_millis(100);

/// Why autoreload could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AutoreloadError {
    /// The executable's path, or a socket's duplicate, could not be had.
    #[error("autoreload: {0}")]
    Io(#[from] std::io::Error),
    /// The file watcher could not start or watch a folder.
    #[error("autoreload: {0}")]
    Watch(#[from] notify::Error),
    /// [`start`] was called already.
    #[error("autoreload already started")]
    AlreadyStarted,
}

/// A hook run just before the process reloads (Tornado's `add_reload_hook`).
type ReloadHook = Box<dyn Fn() + Send>;

/// Files to watch besides the executable (Tornado's `_watched_files`).
static WATCHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Hooks to run before reloading.
static HOOKS: Mutex<Vec<ReloadHook>> = Mutex::new(Vec::new());

/// The watcher, kept alive for the life of the process once started.
static STARTED: OnceLock<notify::RecommendedWatcher> = OnceLock::new();

/// Adds `path` to the files whose change reloads the process (Tornado's `watch`). Files added
/// after [`start`] are watched too if their folder already is.
pub fn watch(path: impl Into<PathBuf>) {
    let path = path.into();
    let path = std::path::absolute(&path).unwrap_or(path);
    lock(&WATCHED).push(path);
}

/// Runs `hook` just before the process reloads (Tornado's `add_reload_hook`): flush a log,
/// close a database cleanly.
pub fn add_reload_hook(hook: impl Fn() + Send + 'static) {
    lock(&HOOKS).push(Box::new(hook));
}

/// Starts watching the executable and the [`watch`]ed files (Tornado's `start`); on a change
/// the process starts itself again with `sockets` (duplicates are kept for that). Returns at
/// once; the watching runs on threads of its own.
pub fn start(sockets: &[TcpListener]) -> Result<(), AutoreloadError> {
    if STARTED.get().is_some() {
        return Err(AutoreloadError::AlreadyStarted);
    }
    let executable = std::env::current_exe()?;
    let kept: Vec<OwnedFd> = sockets
        .iter()
        .map(|socket| socket.as_fd().try_clone_to_owned())
        .collect::<Result<_, _>>()?;
    let reload = Arc::new(Reload {
        executable: executable.clone(),
        sockets: Mutex::new(kept),
    });
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else {
            return;
        };
        if !event.kind.is_modify() && !event.kind.is_create() {
            return;
        }
        let watched = watched_files(&reload.executable);
        if let Some(changed) = event.paths.iter().find(|path| watched.contains(path)) {
            reload.run(changed);
        }
    })?;
    // Folders, not files: builds and editors replace a file by renaming a new one over it,
    // which a watch on the old file would not see.
    let mut folders: Vec<PathBuf> = watched_files(&executable)
        .iter()
        .filter_map(|path| path.parent().map(Path::to_path_buf))
        .collect();
    folders.sort();
    folders.dedup();
    for folder in folders {
        watcher.watch(&folder, RecursiveMode::NonRecursive)?;
    }
    STARTED
        .set(watcher)
        .map_err(|_| AutoreloadError::AlreadyStarted)
}

/// The executable and the watched files.
fn watched_files(executable: &Path) -> Vec<PathBuf> {
    let mut files = lock(&WATCHED).clone();
    files.push(executable.to_owned());
    files
}

/// What a reload needs.
struct Reload {
    /// The executable found at start.
    executable: PathBuf,
    /// Duplicates of the listening sockets, handed to the new image.
    sockets: Mutex<Vec<OwnedFd>>,
}

impl Reload {
    /// Waits for `changed` to settle, runs the hooks and `exec`s the program again; returns
    /// only if that failed (the old image then goes on, and the next change tries again).
    fn run(&self, changed: &Path) {
        settle(changed);
        eprintln!("{} modified; restarting", changed.display());
        for hook in lock(&HOOKS).iter() {
            hook();
        }
        let sockets = lock(&self.sockets);
        let mut mappings = Vec::with_capacity(sockets.len());
        for (index, socket) in sockets.iter().enumerate() {
            let Ok(fd) = socket.try_clone() else {
                eprintln!("autoreload: cannot pass socket {index}; not restarting");
                return;
            };
            mappings.push(FdMapping {
                parent_fd: fd,
                child_fd: 3 + i32::try_from(index).unwrap_or(0),
            });
        }
        let mut command = Command::new(&self.executable);
        command
            .args(std::env::args_os().skip(1))
            .env("LISTEN_FDS", sockets.len().to_string())
            .env_remove("LISTEN_PID")
            .env_remove("LISTEN_FDS_FIRST_FD");
        if command.fd_mappings(mappings).is_err() {
            eprintln!("autoreload: descriptor mappings collide; not restarting");
            return;
        }
        let error = command.exec();
        eprintln!(
            "autoreload: cannot start {}: {error}",
            self.executable.display()
        );
    }
}

/// Waits until `path`'s size stops changing (or it is gone), within a second.
fn settle(path: &Path) {
    let size = |path: &Path| std::fs::metadata(path).map(|meta| meta.len()).ok();
    let mut last = size(path);
    for _ in 0..10 {
        std::thread::sleep(SETTLE_TIME);
        let now = size(path);
        if now == last {
            return;
        }
        last = now;
    }
}

/// Locks `mutex`, taking it over from a panicked holder (the lists stay usable).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
