//! Running a Python script as a test's peer (an HTTP/2 or WebSocket client from Python's
//! libraries), bounded in time.

use super::wait::bounded;

/// Runs `script` with `python` and `args`; its stdout, or a failure naming `what` with its
/// output when it fails. Killed if the test gives up on it ([`bounded`]).
pub async fn run_python(python: &str, script: &str, args: &[&str], what: &str) -> String {
    let child = tokio::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = bounded(child).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
