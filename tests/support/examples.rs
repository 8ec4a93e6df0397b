//! The example binaries cargo builds next to the tests (`cargo test` builds every example), and
//! a guard that kills one started by a test however the test ends.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The path of example `name` built next to this test binary.
pub fn example(name: &str) -> PathBuf {
    let mut path = std::env::current_exe().expect("the test's path");
    path.pop(); // the test binary
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples").join(name)
}

/// A child process killed (and reaped) when dropped.
pub struct Running(pub Child);

impl Running {
    /// The child, to read its pipes or send it a signal.
    pub fn child(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts example `name` with `args` (which should ask for a free port, `--port=0`), its log
/// silenced, and waits for its first line, `listening on http://ADDRESS`: the running example
/// and that address.
pub fn start_listening(name: &str, args: &[&str]) -> (Running, SocketAddr) {
    let child = Command::new(example(name))
        .args(args)
        .stdout(Stdio::piped())
        // Its access log would bury the test's own output.
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot start the {name} example ({error}): `cargo test` builds it; \
                 for one test, `cargo build --examples` first"
            )
        });
    let mut running = Running(child);
    let stdout = running.0.stdout.take().expect("its stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap_or_else(|error| panic!("no address in {line:?}: {error}"));
    (running, address)
}
