//! The per-loop timer heap behind `call_at`/`call_later`, and the one task that drives it.
//!
//! Like Tornado, timers live in a heap ordered by (deadline, sequence), so equal deadlines run in
//! scheduling order, and one driver task sleeps until the earliest deadline instead of one tokio
//! task per timer. Cancelling only flips a flag; entries are dropped when they surface at the
//! head of the heap, or all at once when cancelled entries outnumber live ones.

use std::{
    cell::{Cell, RefCell},
    cmp::Ordering as CmpOrdering,
    collections::BinaryHeap,
    fmt,
    rc::Rc,
    sync::{
        Arc,
        atomic::{AtomicIsize, AtomicU8, Ordering},
    },
    time::Instant,
};

use tokio::sync::Notify;

/// A timer not yet run nor cancelled.
const PENDING: u8 = 0;
/// A timer that was cancelled before it ran.
const CANCELLED: u8 = 1;
/// A timer whose callback has started.
const FIRED: u8 = 2;

/// Below this many cancelled entries, compacting the heap is not worth a rebuild.
const COMPACT_MIN_CANCELLED: isize = 64;

/// What a `TimeoutHandle` and its heap entry share.
struct TimerState {
    /// PENDING, CANCELLED or FIRED; atomic so any thread may cancel.
    status: AtomicU8,
    /// When the timer is due, for `TimeoutHandle::deadline`.
    deadline: Instant,
    /// The loop's count of cancelled entries still in the heap.
    cancelled_in_heap: Arc<AtomicIsize>,
}

/// A scheduled timeout, returned by `IoLoop::call_at`/`call_later`; cancel it with
/// [`cancel`](Self::cancel) or `IoLoop::remove_timeout`.
///
/// Cheap to clone and `Send`: a timeout may be cancelled from any thread. Dropping the handle
/// does not cancel the timeout.
#[derive(Clone)]
pub struct TimeoutHandle {
    /// State shared with the heap entry.
    state: Arc<TimerState>,
}

impl fmt::Debug for TimeoutHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.state.status.load(Ordering::Acquire) {
            PENDING => "pending",
            CANCELLED => "cancelled",
            _ => "fired",
        };
        f.debug_struct("TimeoutHandle")
            .field("deadline", &self.state.deadline)
            .field("status", &status)
            .finish()
    }
}

impl TimeoutHandle {
    /// A pending timeout due at `deadline`, counted in `cancelled_in_heap` once cancelled.
    pub(crate) fn new(deadline: Instant, cancelled_in_heap: Arc<AtomicIsize>) -> Self {
        TimeoutHandle {
            state: Arc::new(TimerState {
                status: AtomicU8::new(PENDING),
                deadline,
                cancelled_in_heap,
            }),
        }
    }

    /// Cancels the timeout so it never runs. Returns false if it already ran or was already
    /// cancelled. Callable from any thread.
    pub fn cancel(&self) -> bool {
        let cancelled = self
            .state
            .status
            .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if cancelled {
            self.state.cancelled_in_heap.fetch_add(1, Ordering::AcqRel);
        }
        cancelled
    }

    /// True until the timeout runs or is cancelled.
    pub fn is_pending(&self) -> bool {
        self.state.status.load(Ordering::Acquire) == PENDING
    }

    /// When the timeout is (or was) due.
    pub fn deadline(&self) -> Instant {
        self.state.deadline
    }
}

/// One timer in the heap.
struct TimerEntry {
    /// Tie-breaker so equal deadlines run in scheduling order.
    sequence: u64,
    /// Shared with the handle, for cancellation and the deadline.
    state: Arc<TimerState>,
    /// The work; not `Send`, as timers are created on the loop thread.
    callback: Box<dyn FnOnce()>,
}

impl TimerEntry {
    fn key(&self) -> (Instant, u64) {
        (self.state.deadline, self.sequence)
    }

    fn is_cancelled(&self) -> bool {
        self.state.status.load(Ordering::Acquire) == CANCELLED
    }
}

impl PartialEq for TimerEntry {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for TimerEntry {}

impl PartialOrd for TimerEntry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for TimerEntry {
    /// Reversed, so the max-heap `BinaryHeap` pops the earliest (deadline, sequence) first.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        other.key().cmp(&self.key())
    }
}

/// One loop's timers; lives on the loop thread only.
pub(crate) struct TimerQueue {
    /// Timers ordered by (deadline, sequence).
    heap: RefCell<BinaryHeap<TimerEntry>>,
    /// The next sequence number to hand out.
    next_sequence: Cell<u64>,
    /// Cancelled entries still in `heap`; raised by cancels on any thread.
    cancelled_in_heap: Arc<AtomicIsize>,
    /// Wakes the driver when a timer earlier than the one it sleeps for arrives.
    wake: Notify,
}

impl TimerQueue {
    pub(crate) fn new(cancelled_in_heap: Arc<AtomicIsize>) -> Self {
        TimerQueue {
            heap: RefCell::new(BinaryHeap::new()),
            next_sequence: Cell::new(0),
            cancelled_in_heap,
            wake: Notify::new(),
        }
    }

    /// Entries in the heap, cancelled ones not yet dropped included.
    pub(crate) fn len(&self) -> usize {
        self.heap.borrow().len()
    }

    /// Adds a timer for `handle`, unless it was cancelled on its way here.
    pub(crate) fn schedule(&self, handle: &TimeoutHandle, callback: Box<dyn FnOnce()>) {
        let state = handle.state.clone();
        if state.status.load(Ordering::Acquire) == CANCELLED {
            self.forget_cancelled(1);
            return;
        }
        let sequence = self.next_sequence.get();
        self.next_sequence.set(sequence + 1);
        let becomes_head = {
            let mut heap = self.heap.borrow_mut();
            heap.push(TimerEntry {
                sequence,
                state,
                callback,
            });
            heap.peek().is_some_and(|head| head.sequence == sequence)
        };
        if becomes_head {
            self.wake.notify_one();
        }
        self.compact_if_worthwhile();
    }

    /// The earliest live deadline, dropping cancelled entries from the head.
    fn next_deadline(&self) -> Option<Instant> {
        let mut heap = self.heap.borrow_mut();
        let mut dropped = 0;
        let next = loop {
            match heap.peek() {
                None => break None,
                Some(head) if head.is_cancelled() => {
                    heap.pop();
                    dropped += 1;
                }
                Some(head) => break Some(head.state.deadline),
            }
        };
        drop(heap);
        self.forget_cancelled(dropped);
        next
    }

    /// Pops the earliest entry if it is due by `now` (cancelled or not).
    fn pop_due(&self, now: Instant) -> Option<TimerEntry> {
        let mut heap = self.heap.borrow_mut();
        if heap.peek()?.state.deadline <= now {
            heap.pop()
        } else {
            None
        }
    }

    /// Rebuilds the heap without its cancelled entries once they are the majority, so a
    /// workload that cancels most timeouts (request timeouts, say) does not grow the heap.
    fn compact_if_worthwhile(&self) {
        let cancelled = self.cancelled_in_heap.load(Ordering::Acquire);
        let len = self.len();
        if cancelled < COMPACT_MIN_CANCELLED || (cancelled as usize) * 2 < len {
            return;
        }
        let mut heap = self.heap.borrow_mut();
        let before = heap.len();
        let live: Vec<TimerEntry> = std::mem::take(&mut *heap)
            .into_vec()
            .into_iter()
            .filter(|entry| !entry.is_cancelled())
            .collect();
        let removed = before - live.len();
        *heap = BinaryHeap::from(live);
        drop(heap);
        self.forget_cancelled(removed);
    }

    /// Records that `count` cancelled entries have left the heap.
    fn forget_cancelled(&self, count: usize) {
        if count > 0 {
            self.cancelled_in_heap
                .fetch_sub(count as isize, Ordering::AcqRel);
        }
    }

    /// Runs one popped entry unless it was cancelled (possibly from another thread, just now).
    fn run(&self, entry: TimerEntry) {
        let fired = entry
            .state
            .status
            .compare_exchange(PENDING, FIRED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if fired {
            super::run_logged(entry.callback, "an IoLoop timeout callback panicked");
        } else {
            self.forget_cancelled(1);
        }
    }
}

/// The loop's one timer task: sleeps until the earliest deadline, runs what is due, repeats.
pub(crate) async fn drive(queue: Rc<TimerQueue>) {
    loop {
        match queue.next_deadline() {
            None => queue.wake.notified().await,
            Some(deadline) if deadline > Instant::now() => {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline.into()) => {}
                    () = queue.wake.notified() => {}
                }
            }
            Some(_) => {
                // Only timers due at this instant run in this round; ones they schedule for
                // "now" wait for the next round, after other tasks had a turn.
                let now = Instant::now();
                while let Some(entry) = queue.pop_due(now) {
                    queue.run(entry);
                }
                queue.compact_if_worthwhile();
                tokio::task::yield_now().await;
            }
        }
    }
}
