//! Tornado's `gen_test`: what `#[cyclone::test]` expands to.

use std::future::Future;
use std::time::Duration;

/// The timeout of `#[cyclone::test]` without `timeout = ..`: the `ASYNC_TEST_TIMEOUT`
/// environment variable (seconds), else 5 seconds, as Tornado's.
pub fn async_test_timeout() -> Duration {
    std::env::var("ASYNC_TEST_TIMEOUT")
        .ok()
        .and_then(|seconds| seconds.trim().parse::<f64>().ok())
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .unwrap_or(DEFAULT_ASYNC_TEST_TIMEOUT)
}

/// Default of [`async_test_timeout`]: 5 seconds.
pub const DEFAULT_ASYNC_TEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `test` on a fresh loop (a runtime of its own, as each Tornado `gen_test` gets a new
/// `IOLoop`) and panics with Tornado's message if it takes longer than `timeout` (`None`: see
/// [`async_test_timeout`]). The loop and whatever the test started on it stop when it ends.
///
/// ```
/// let answer = cyclone_web::testing::run_test(None, async { 6 * 7 });
/// assert_eq!(answer, 42);
/// ```
pub fn run_test<F: Future>(timeout: Option<Duration>, test: F) -> F::Output {
    let timeout = timeout.unwrap_or_else(async_test_timeout);
    cyclone_actors::runtime::run(async move {
        match tokio::time::timeout(timeout, test).await {
            Ok(output) => output,
            Err(_) => panic!(
                "Async operation timed out after {} seconds",
                timeout.as_secs_f64()
            ),
        }
    })
}
