//! What the HTTP client's errors say, for the tests that expect a particular one: each
//! accessor fails the test, naming the error, when it is of another kind.

use cyclone::httpclient::{HttpClientError, TimeoutPhase};

/// Which wait ran out, when `error` is a timeout; several client tests tell a request
/// timeout from a connect timeout by it.
pub fn timeout_phase(error: &HttpClientError) -> TimeoutPhase {
    match error {
        HttpClientError::Timeout { phase, .. } => *phase,
        other => panic!("expected a timeout, got {other:?}"),
    }
}
