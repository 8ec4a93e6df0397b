//! Scratch directories for the tests that need files on disk (a database, a browser profile):
//! one per test and process under the system's temporary directory, empty when handed out.

use std::path::PathBuf;

/// An empty directory `cyclone-NAME-PID` in the system's temporary directory, whatever an
/// earlier run left there removed first. The caller removes it when done (or leaves it, as
/// tests whose server outlives them do).
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cyclone-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
