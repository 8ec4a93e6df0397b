//! Bounded waits. Every wait in the tests ends, and a test that needs something to have
//! happened waits for that event (a channel, a condition polled until a deadline), never for a
//! guess of how long it takes.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The longest any single wait may take before the test fails. Generous, because the machine
/// may be busy: only a failing test ever waits this long.
pub const WAIT: Duration = Duration::from_secs(20);

/// How often a polled condition is checked again.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Runs `future` for at most [`WAIT`]: a hang fails the test instead of stalling the suite.
pub async fn bounded<F: Future>(future: F) -> F::Output {
    within(WAIT, future).await
}

/// Runs `future` for at most `limit`.
pub async fn within<F: Future>(limit: Duration, future: F) -> F::Output {
    match tokio::time::timeout(limit, future).await {
        Ok(output) => output,
        Err(_) => panic!("did not finish within {limit:?}"),
    }
}

/// Polls `condition` until it holds; fails, naming `what` was awaited, after [`WAIT`].
pub async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Polls an asynchronous `probe` (one that asks an actor, or retries a connect) until it
/// answers `Some`; fails, naming `what` was awaited, after [`WAIT`].
pub async fn until_some<T, Probe, Answer>(what: &str, mut probe: Probe) -> T
where
    Probe: FnMut() -> Answer,
    Answer: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(value) = within(WAIT, probe()).await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Polls an asynchronous `condition` (one that asks an actor) until it holds; fails, naming
/// `what` was awaited, after [`WAIT`].
pub async fn until_async<Condition, Answer>(what: &str, mut condition: Condition)
where
    Condition: FnMut() -> Answer,
    Answer: Future<Output = bool>,
{
    let probe = || {
        let answer = condition();
        async move { answer.await.then_some(()) }
    };
    until_some(what, probe).await
}

/// Checks that `condition` holds throughout `window`, failing with `what` the moment it does
/// not. For what must *not* happen (a second close, a duplicate log line): no event marks that
/// it never will, so a window of watching is the only evidence.
pub async fn holds_for(window: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + window;
    loop {
        assert!(condition(), "{what}");
        if tokio::time::Instant::now() >= end {
            return;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Blocks this thread until `condition` holds, for tests that drive a loop from outside it;
/// fails, naming `what` was awaited, after [`WAIT`].
pub fn blocking_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(POLL_INTERVAL);
    }
}

/// Runs `test` on a thread of its own and fails if it has not finished within `limit`: for
/// tests that run a whole system (`cyclone::run`), which a hang would otherwise block for good.
/// A panic in `test` fails the caller with the same payload.
pub fn on_own_thread<T: Send + 'static>(
    limit: Duration,
    test: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, outcome) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(catch_unwind(AssertUnwindSafe(test)));
    });
    match outcome.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => resume_unwind(panic),
        Err(_) => panic!("test did not finish within {limit:?}"),
    }
}
