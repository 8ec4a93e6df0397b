//! The example binaries cargo builds next to the tests (`cargo test` builds every example), a
//! guard that kills one started by a test however the test ends, and how the tests start one
//! and read what it prints.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a line from a started example, or one of its answers, may take.
pub const LINE_WAIT: Duration = Duration::from_secs(20);

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

/// Starts example `name` with `args`, its stdout piped and its stderr silenced (its access
/// log would bury the test's own output).
fn spawn_piped(name: &str, args: &[&str]) -> Running {
    let child = Command::new(example(name))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot start the {name} example ({error}): `cargo test` builds it; \
                 for one test, `cargo build --examples` first"
            )
        });
    Running(child)
}

/// Starts example `name` with `args` (which should ask for a free port, `--port=0`), its log
/// silenced, and waits for its first line, `listening on http://ADDRESS`: the running example
/// and that address.
pub fn start_listening(name: &str, args: &[&str]) -> (Running, SocketAddr) {
    let mut running = spawn_piped(name, args);
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

/// An example whose stdout is read line by line on a thread of its own, for the tests that
/// follow what it prints over its life (a restart, its workers), not only its first line.
pub struct Printing {
    /// The example, killed when this is dropped.
    pub running: Running,
    /// Its stdout's lines, as they come.
    lines: mpsc::Receiver<String>,
}

impl Printing {
    /// Starts example `name` with `args`, its stderr silenced.
    pub fn start(name: &str, args: &[&str]) -> Printing {
        let mut running = spawn_piped(name, args);
        let stdout = running.0.stdout.take().expect("its stdout");
        let (lines_in, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_in.send(line).is_err() {
                    break;
                }
            }
        });
        Printing { running, lines }
    }

    /// The next line it prints (within [`LINE_WAIT`]); fails the test naming `what` if none
    /// comes.
    pub fn next_line(&self, what: &str) -> String {
        self.lines
            .recv_timeout(LINE_WAIT)
            .unwrap_or_else(|error| panic!("{what}: no line within {LINE_WAIT:?} ({error})"))
    }
}

/// GETs `path` from `address` on a connection of its own (`Connection: close`, reads bounded
/// by [`LINE_WAIT`]): the answer's body, or `None` if the connection failed or closed without
/// an answer. Plain blocking I/O, for the tests that run an example as a process.
pub fn get_body(address: SocketAddr, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(LINE_WAIT)).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (_, body) = answer.split_once("\r\n\r\n")?;
    Some(body.to_owned())
}
