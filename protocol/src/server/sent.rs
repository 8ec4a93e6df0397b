//! [`ResponseWriter::on_sent`](super::ResponseWriter::on_sent)'s hook: tells whoever built an answer which status
//! its client got, once the answer is done, so that a layer above (the web framework's access
//! log) can account for answers it did not write itself.

use std::panic::{AssertUnwindSafe, catch_unwind};

use http::StatusCode;

use super::response::SentCallback;

/// One exchange's hook: the callback and, once the answer's head is encoded, its status. It
/// fires when the exchange ends (the answer is complete, or cut after its head went out); an
/// exchange dropped before any head (the client left first) never calls it.
pub(crate) struct SentHook {
    /// What to call; taken when called.
    callback: Option<SentCallback>,
    /// The status of the head encoded for this answer, if one was.
    status: Option<StatusCode>,
}

impl SentHook {
    pub(crate) fn new(callback: SentCallback) -> Self {
        SentHook {
            callback: Some(callback),
            status: None,
        }
    }

    /// The answer's head was encoded with `status` (the first head counts).
    pub(crate) fn head_sent(&mut self, status: StatusCode) {
        self.status.get_or_insert(status);
    }
}

impl Drop for SentHook {
    fn drop(&mut self) {
        if let (Some(callback), Some(status)) = (self.callback.take(), self.status) {
            // A panicking hook must not take the connection with it.
            if catch_unwind(AssertUnwindSafe(|| callback(status))).is_err() {
                tracing::error!("an on_sent callback panicked");
            }
        }
    }
}
