//! The keep-alive pool: idle connections per (scheme, host, port, proxy, TLS settings), each
//! closed after an idle timeout, with limits per origin and in total.
//!
//! The pool belongs to one client on one loop, so it is a `RefCell`, never a lock. Expired
//! connections are dropped whenever the pool is touched, and by a sweep task on the loop so
//! that an unused client does not keep sockets open past the timeout.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use super::connection::{Connection, PoolKey};

/// Default idle timeout: 60 s (servers commonly close idle connections after 60-75 s; closing
/// first avoids sending a request into a connection the server is closing).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default number of idle connections kept per origin: 10, the default `max_clients`, so a
/// full burst to one origin can be reused.
pub const DEFAULT_MAX_IDLE_PER_HOST: usize = 10;
/// Default number of idle connections kept in total: 100.
pub const DEFAULT_MAX_IDLE_TOTAL: usize = 100;

/// The pool's limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolLimits {
    /// How long a connection may sit idle.
    pub(crate) idle_timeout: Duration,
    /// Idle connections kept per key.
    pub(crate) max_idle_per_host: usize,
    /// Idle connections kept in total.
    pub(crate) max_idle_total: usize,
}

/// Idle connections by key, most recently used last.
#[derive(Debug)]
pub(crate) struct Pool {
    /// The idle lists.
    idle: RefCell<HashMap<PoolKey, VecDeque<Connection>>>,
    /// The limits.
    limits: PoolLimits,
    /// Whether a sweep task is running, so at most one is.
    sweeping: RefCell<bool>,
}

impl Pool {
    /// An empty pool.
    pub(crate) fn new(limits: PoolLimits) -> Rc<Self> {
        Rc::new(Pool {
            idle: RefCell::new(HashMap::new()),
            limits,
            sweeping: RefCell::new(false),
        })
    }

    /// The most recently used idle connection for `key` that is still usable.
    pub(crate) fn take(&self, key: &PoolKey) -> Option<Connection> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(key)?;
        let now = Instant::now();
        let mut found = None;
        while let Some(mut connection) = list.pop_back() {
            if now.duration_since(connection.idle_since) < self.limits.idle_timeout
                && connection.is_usable()
            {
                found = Some(connection);
                break;
            }
        }
        if list.is_empty() {
            idle.remove(key);
        }
        found
    }

    /// Keeps a connection whose last response ended cleanly, dropping the oldest idle one when
    /// a limit is reached.
    pub(crate) fn put(self: &Rc<Self>, mut connection: Connection) {
        if self.limits.max_idle_per_host == 0 || self.limits.max_idle_total == 0 {
            return;
        }
        connection.idle_since = Instant::now();
        {
            let mut idle = self.idle.borrow_mut();
            let total: usize = idle.values().map(VecDeque::len).sum();
            if total >= self.limits.max_idle_total {
                let oldest = idle
                    .iter()
                    .filter_map(|(key, list)| list.front().map(|c| (key.clone(), c.idle_since)))
                    .min_by_key(|(_, since)| *since)
                    .map(|(key, _)| key);
                if let Some(key) = oldest {
                    let emptied = idle.get_mut(&key).is_some_and(|list| {
                        list.pop_front();
                        list.is_empty()
                    });
                    if emptied {
                        idle.remove(&key);
                    }
                }
            }
            let list = idle.entry(connection.key.clone()).or_default();
            if list.len() >= self.limits.max_idle_per_host {
                list.pop_front();
            }
            list.push_back(connection);
        }
        self.start_sweep();
    }

    /// How many idle connections are kept.
    pub(crate) fn idle_count(&self) -> usize {
        self.idle.borrow().values().map(VecDeque::len).sum()
    }

    /// Closes every idle connection.
    pub(crate) fn clear(&self) {
        self.idle.borrow_mut().clear();
    }

    /// Drops connections idle for longer than the timeout; returns how many remain.
    fn evict_expired(&self) -> usize {
        let now = Instant::now();
        let mut idle = self.idle.borrow_mut();
        idle.retain(|_, list| {
            list.retain(|c| now.duration_since(c.idle_since) < self.limits.idle_timeout);
            !list.is_empty()
        });
        idle.values().map(VecDeque::len).sum()
    }

    /// Starts the loop task that closes expired connections; it holds only a weak reference,
    /// and ends when the pool is empty or gone.
    fn start_sweep(self: &Rc<Self>) {
        if self.sweeping.replace(true) {
            return;
        }
        let pool: Weak<Pool> = Rc::downgrade(self);
        let period = (self.limits.idle_timeout / 2).max(Duration::from_millis(10));
        actix_rt::spawn(async move {
            loop {
                actix_rt::time::sleep(period).await;
                let Some(pool) = pool.upgrade() else { return };
                if pool.evict_expired() == 0 {
                    pool.sweeping.replace(false);
                    return;
                }
            }
        });
    }
}
