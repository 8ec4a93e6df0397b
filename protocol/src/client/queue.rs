//! `max_clients`: at most that many fetches run at once; the rest wait in a FIFO queue of
//! bounded length, each for at most its queue timeout (Tornado's "Timeout in request queue").

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::{HttpClientError, TimeoutPhase};

/// Default `max_clients`: 10, as in Tornado.
pub const DEFAULT_MAX_CLIENTS: usize = 10;
/// Default `max_queue_size`: 10 000 waiting fetches (Tornado's queue is unbounded).
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 10_000;

/// The slots of one client.
#[derive(Debug)]
pub(crate) struct Slots {
    /// One permit per running fetch; tokio's semaphore is fair, so the queue is FIFO. Arc only
    /// because owned permits need it; nothing crosses threads.
    semaphore: Arc<Semaphore>,
    /// Fetches waiting now, held to `max_queue_size`.
    waiting: Rc<Cell<usize>>,
    /// The queue bound.
    max_queue_size: usize,
}

/// Lowers the waiting count however the wait ends (granted, timed out or cancelled).
struct Waiting(Rc<Cell<usize>>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

impl Slots {
    /// `max_clients` slots (at least one) and a queue of `max_queue_size`.
    pub(crate) fn new(max_clients: usize, max_queue_size: usize) -> Self {
        Slots {
            semaphore: Arc::new(Semaphore::new(max_clients.max(1))),
            waiting: Rc::new(Cell::new(0)),
            max_queue_size,
        }
    }

    /// Waits for a slot for at most `timeout`; the permit frees it when dropped.
    pub(crate) async fn acquire(
        &self,
        timeout: Duration,
    ) -> Result<OwnedSemaphorePermit, HttpClientError> {
        if let Ok(permit) = Arc::clone(&self.semaphore).try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.get() >= self.max_queue_size {
            return Err(HttpClientError::QueueFull(self.waiting.get()));
        }
        self.waiting.set(self.waiting.get() + 1);
        let _waiting = Waiting(Rc::clone(&self.waiting));
        let acquire = Arc::clone(&self.semaphore).acquire_owned();
        match tokio::time::timeout(timeout, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; treat it as a queue timeout all the same.
            Ok(Err(_)) | Err(_) => Err(HttpClientError::Timeout {
                phase: TimeoutPhase::Queue,
                after: timeout,
            }),
        }
    }

    /// Fetches waiting for a slot.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.get()
    }

    /// Fetches running.
    pub(crate) fn active(&self, max_clients: usize) -> usize {
        max_clients.max(1) - self.semaphore.available_permits()
    }
}
