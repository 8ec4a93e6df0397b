//! The shared HTTP/2 connections, one per pool key (scheme, host, port, proxy, TLS settings),
//! beside the HTTP/1.1 keep-alive pool: an HTTP/2 connection is never taken out and handed
//! back, every fetch to its origin opens a stream on it.
//!
//! So that concurrent fetches to a new origin make one connection rather than one each, the
//! first fetch marks the key as *connecting* and the others wait for it. What the connection
//! turns out to be settles the key: HTTP/2 (the others share it), or HTTP/1.1 because the
//! server did not pick `h2` by ALPN (the others go their own way, and later fetches no longer
//! wait). A failed connect clears the mark, and one of the waiting fetches tries next.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use tokio::sync::Notify;

use super::connection::{SharedConnection, StreamLease};
use crate::client::connection::PoolKey;

/// What is known about one key.
#[derive(Debug)]
enum Entry {
    /// A fetch is connecting; the others wait to be woken by its outcome.
    Connecting(Rc<Notify>),
    /// An HTTP/2 connection to share.
    Ready(Rc<SharedConnection>),
    /// The server answered ALPN with HTTP/1.1: fetches use the keep-alive pool, each new
    /// connection still offering `h2`.
    Http1,
}

/// What a fetch finds for its key.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A stream on the shared connection.
    Ready(StreamLease),
    /// Another fetch is connecting: wait on this and look again.
    Connecting(Rc<Notify>),
    /// The origin speaks HTTP/1.1.
    Http1,
    /// Nothing known: connect (and mark the key connecting meanwhile).
    Vacant,
}

/// The shared HTTP/2 connections of one client (on one loop, so `RefCell`, never a lock).
#[derive(Debug, Default)]
pub(crate) struct Http2Pool {
    /// What is known per key.
    entries: RefCell<HashMap<PoolKey, Entry>>,
    /// The next connection id.
    next_id: Cell<u64>,
}

impl Http2Pool {
    /// What `key` has now; a connection that takes no new streams any more is forgotten.
    pub(crate) fn lookup(&self, key: &PoolKey) -> Lookup {
        let mut entries = self.entries.borrow_mut();
        let lookup = match entries.get(key) {
            None => Lookup::Vacant,
            Some(Entry::Connecting(notify)) => Lookup::Connecting(Rc::clone(notify)),
            Some(Entry::Http1) => Lookup::Http1,
            Some(Entry::Ready(connection)) => match connection.lease(true) {
                Some(lease) => Lookup::Ready(lease),
                None => Lookup::Vacant,
            },
        };
        if matches!(lookup, Lookup::Vacant) {
            entries.remove(key);
        }
        lookup
    }

    /// Marks `key` as connecting until the returned guard is settled or dropped.
    pub(crate) fn connecting<'a>(&'a self, key: &PoolKey) -> Connecting<'a> {
        let notify = Rc::new(Notify::new());
        self.entries
            .borrow_mut()
            .insert(key.clone(), Entry::Connecting(Rc::clone(&notify)));
        Connecting {
            pool: self,
            key: key.clone(),
            notify,
            settled: false,
        }
    }

    /// A fresh id for a new connection.
    pub(crate) fn next_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    /// Shares `connection` for `key` unless an open one is shared already (or another fetch
    /// is connecting); returns whether it is now the shared one. One that is not is retired
    /// by the caller after its one stream.
    pub(crate) fn offer(&self, key: &PoolKey, connection: &Rc<SharedConnection>) -> bool {
        let mut entries = self.entries.borrow_mut();
        let taken = match entries.get(key) {
            Some(Entry::Ready(current)) => current.is_open(),
            Some(Entry::Connecting(_)) => true,
            Some(Entry::Http1) | None => false,
        };
        if !taken {
            entries.insert(key.clone(), Entry::Ready(Rc::clone(connection)));
        }
        !taken
    }

    /// Forgets the connection `id` of `key` (it ended); a newer entry stays.
    pub(crate) fn forget(&self, key: &PoolKey, id: u64) {
        let mut entries = self.entries.borrow_mut();
        if matches!(entries.get(key), Some(Entry::Ready(connection)) if connection.id == id) {
            entries.remove(key);
        }
    }

    /// Open shared connections.
    pub(crate) fn open_count(&self) -> usize {
        self.entries
            .borrow()
            .values()
            .filter(|entry| matches!(entry, Entry::Ready(connection) if connection.is_open()))
            .count()
    }

    /// The client's `close()`: forgets every connection and what was learned about origins;
    /// idle connections close now, busy ones once their streams are done.
    pub(crate) fn clear(&self) {
        let entries = std::mem::take(&mut *self.entries.borrow_mut());
        for entry in entries.into_values() {
            match entry {
                Entry::Ready(connection) => {
                    if connection.is_idle() {
                        connection.close_if_idle();
                    } else {
                        connection.retire();
                    }
                }
                // The connecting fetch settles into an empty map: its guard only inserts.
                Entry::Connecting(notify) => notify.notify_waiters(),
                Entry::Http1 => {}
            }
        }
    }
}

/// The mark of a fetch connecting for a key: settled with what the connection turned out to
/// be, or, if dropped unsettled (the connect failed or the fetch was cancelled), cleared so
/// that a waiting fetch tries next. Either way the waiting fetches are woken.
#[derive(Debug)]
pub(crate) struct Connecting<'a> {
    /// The pool holding the mark.
    pool: &'a Http2Pool,
    /// The key marked.
    key: PoolKey,
    /// Wakes the waiting fetches; also tells this mark from a newer one.
    notify: Rc<Notify>,
    /// Whether the key was settled (so dropping leaves it alone).
    settled: bool,
}

impl Connecting<'_> {
    /// The connection speaks HTTP/2: share it. Returns false when `close()` cleared the
    /// mark meanwhile: the connection is then not shared, and the caller retires it after its
    /// one stream.
    pub(crate) fn ready(mut self, connection: &Rc<SharedConnection>) -> bool {
        self.settle(Entry::Ready(Rc::clone(connection)))
    }

    /// The server picked HTTP/1.1: stop making fetches wait for connects to this key.
    pub(crate) fn http1(mut self) {
        self.settle(Entry::Http1);
    }

    /// Replaces the mark with `entry`, if the mark is still ours; returns whether it was.
    fn settle(&mut self, entry: Entry) -> bool {
        self.settled = true;
        let mut entries = self.pool.entries.borrow_mut();
        let ours = self.is_ours(&entries);
        if ours {
            entries.insert(self.key.clone(), entry);
        }
        ours
    }

    /// Whether the key still carries this mark (`close()` may have cleared it).
    fn is_ours(&self, entries: &HashMap<PoolKey, Entry>) -> bool {
        matches!(entries.get(&self.key), Some(Entry::Connecting(notify)) if Rc::ptr_eq(notify, &self.notify))
    }
}

impl Drop for Connecting<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut entries = self.pool.entries.borrow_mut();
            if self.is_ours(&entries) {
                entries.remove(&self.key);
            }
        }
        self.notify.notify_waiters();
    }
}
