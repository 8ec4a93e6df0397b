//! The example binaries cargo builds next to the tests (`cargo test` builds every example), and
//! a guard that kills one started by a test however the test ends.

use std::path::PathBuf;
use std::process::Child;

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
