//! [`LoopLocal`]: one value per loop, built on each loop the first time it is asked for
//! there: the per-worker actors a server's route starts on every worker, each living on its
//! worker's own thread next to the connections it serves.
//!
//! It is to a loop what actix's `ArbiterService` is to an Arbiter, but keyed per value rather
//! than per type, so two routes may each have their own instance of the same actor type.
//! Values never cross threads: each loop builds its own with the shared `init` function, and
//! reads hand out clones (an `Addr` or an `Rc`, typically).
//!
//! ```
//! use std::rc::Rc;
//! use cyclone_actors::loop_local::LoopLocal;
//!
//! let counter = LoopLocal::new(|| Rc::new(std::cell::Cell::new(0)));
//! counter.get().set(counter.get().get() + 1);
//! assert_eq!(counter.get().get(), 1); // the same value on this thread
//! let other_thread = std::thread::spawn({
//!     let counter = counter.clone();
//!     move || counter.get().get()
//! });
//! assert_eq!(other_thread.join().unwrap(), 0); // its own
//! ```

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Tells values apart in each loop's table.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This loop's values, by id. Entries live as long as the thread: worker threads end with
    /// their server.
    static VALUES: RefCell<HashMap<u64, Box<dyn Any>, BuildHasherDefault<IdHasher>>> =
        RefCell::new(HashMap::default());
}

/// A value per loop (per worker thread), made by `init` on each loop at its first use there.
pub struct LoopLocal<T> {
    /// This value's key in every loop's table.
    id: u64,
    /// Makes a loop's value.
    init: Arc<dyn Fn() -> T + Send + Sync>,
}

impl<T> Clone for LoopLocal<T> {
    fn clone(&self) -> Self {
        LoopLocal {
            id: self.id,
            init: Arc::clone(&self.init),
        }
    }
}

impl<T> fmt::Debug for LoopLocal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopLocal").field("id", &self.id).finish()
    }
}

impl<T: Clone + 'static> LoopLocal<T> {
    /// A value made by `init` on each loop that asks for it.
    pub fn new(init: impl Fn() -> T + Send + Sync + 'static) -> Self {
        LoopLocal {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            init: Arc::new(init),
        }
    }

    /// This loop's value (a clone), made now if this is the first ask on this loop.
    ///
    /// `init` runs outside the table's lock, so it may itself read other `LoopLocal`s (a
    /// per-worker actor whose constructor looks up another).
    pub fn get(&self) -> T {
        let cached = VALUES.with(|values| {
            values
                .borrow()
                .get(&self.id)
                .and_then(|value| value.downcast_ref::<T>())
                .cloned()
        });
        if let Some(value) = cached {
            return value;
        }
        let value = (self.init)();
        VALUES.with(|values| {
            values
                .borrow_mut()
                .entry(self.id)
                .or_insert_with(|| Box::new(value.clone()));
        });
        value
    }
}

/// The ids are small sequential numbers: the identity is a perfect hash.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 << 8) | u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}
