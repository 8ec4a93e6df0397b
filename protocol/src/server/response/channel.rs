//! The state a [`ResponseWriter`](super::ResponseWriter) and its
//! [`ResponseStream`](super::ResponseStream) share: a short queue of response events and the
//! two wakers.
//!
//! The writer is `Send` (an actor on any thread may hold it), so the state sits behind a
//! mutex. On the main path both ends run on the connection's thread, one after the other, so
//! the lock is never contended: locking it is one atomic instruction each way.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::task::AtomicWaker;
use http::header::{Entry, HeaderName, OccupiedEntry};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::{EntityTag, HttpResponse, ResponseEvent};

/// Events a writer may queue before [`flush`](super::ResponseWriter::flush) waits for the
/// connection to take some. Default is 16.
pub const RESPONSE_QUEUE_CHUNKS: usize = 16;

/// Told the status the client got once the answer is done (the access log of answers a layer
/// did not write itself).
pub(crate) type SentCallback = Box<dyn FnOnce(StatusCode) + Send>;

/// The shared half of one exchange's answer.
#[derive(Debug, Default)]
pub(crate) struct Channel {
    /// Events and flags, behind a lock that is uncontended on the main path.
    state: Mutex<State>,
    /// The receiving end's task, woken when an event is queued or the writer goes away (only
    /// when it said it waits: [`State::receiver_waits`]).
    pub(crate) receiver: AtomicWaker,
    /// A writer's task waiting for room in the queue, woken when the receiver takes events or
    /// goes away (only when it said it waits: [`State::writer_waits`]).
    pub(crate) writer: AtomicWaker,
}

/// What the lock guards.
#[derive(Default)]
pub(crate) struct State {
    /// A whole answer, the common case: kept apart from the queue so that answering and
    /// taking it is a move, not a ring buffer's bookkeeping.
    pub(crate) whole: Option<HttpResponse>,
    /// A streamed answer's events not yet taken by the receiver, oldest first; at most
    /// [`RESPONSE_QUEUE_CHUNKS`] (an answer's last events may go over, once).
    pub(crate) events: VecDeque<ResponseEvent>,
    /// The receiver registered its waker and waits for an event: wake it.
    pub(crate) receiver_waits: bool,
    /// A writer registered its waker and waits for room: wake it.
    pub(crate) writer_waits: bool,
    /// The writer is gone: finished (its last event is queued) or abandoned.
    pub(crate) writer_gone: bool,
    /// The receiver is gone: the client left or the connection closed; nothing more is read.
    pub(crate) receiver_gone: bool,
    /// Called with the status sent, once the answer is done (see
    /// [`ResponseWriter::on_sent`](super::ResponseWriter::on_sent)).
    pub(crate) on_sent: Option<SentCallback>,
    /// Header fields the answer carries unless it sets them (see
    /// [`ResponseWriter::set_default_headers`](super::ResponseWriter::set_default_headers)).
    pub(crate) default_headers: Option<Arc<HeaderMap>>,
    /// The whole answer's `ETag` beside its map (see
    /// [`ResponseWriter::respond_with_etag`](super::ResponseWriter::respond_with_etag)).
    pub(crate) etag: Option<EntityTag>,
    /// A streamed head's custom reason phrase (see
    /// [`ResponseWriter::set_reason`](super::ResponseWriter::set_reason)), put here with the
    /// head so that the head event stays two words.
    pub(crate) reason: Option<Box<str>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("whole", &self.whole.is_some())
            .field("events", &self.events.len())
            .field("writer_gone", &self.writer_gone)
            .field("receiver_gone", &self.receiver_gone)
            .field("on_sent", &self.on_sent.is_some())
            .finish()
    }
}

impl State {
    /// Whether a writer may queue another event without waiting.
    pub(crate) fn has_room(&self) -> bool {
        self.events.len() < RESPONSE_QUEUE_CHUNKS
    }

    /// Back to a fresh exchange's state, keeping the queue's allocation.
    pub(crate) fn reset(&mut self) {
        self.whole = None;
        if !self.events.is_empty() {
            self.events.clear();
        }
        self.receiver_waits = false;
        self.writer_waits = false;
        self.writer_gone = false;
        self.receiver_gone = false;
        self.on_sent = None;
        self.default_headers = None;
        if self.etag.is_some() {
            self.etag = None;
        }
        self.reason = None;
    }
}

/// Adds to `headers` each field of `defaults` it does not set itself.
///
/// One walk over `defaults` (which yields a name's values together) and one lookup in
/// `headers` per default name: this runs for every answer of an `Application` (its `Server`
/// field), where a `contains_key`, a `get_all` and an `append` hashed the name three times.
pub(crate) fn add_defaults(headers: &mut HeaderMap, defaults: &HeaderMap) {
    let mut last: Option<&HeaderName> = None;
    // The entry this default name's values go into; `None` when the answer sets the name.
    let mut adding: Option<OccupiedEntry<'_, HeaderValue>> = None;
    for (name, value) in defaults {
        if last == Some(name) {
            if let Some(entry) = &mut adding {
                entry.append(value.clone());
            }
            continue;
        }
        last = Some(name);
        adding = match headers.entry(name) {
            Entry::Vacant(vacant) => Some(vacant.insert_entry(value.clone())),
            Entry::Occupied(_) => None,
        };
    }
}

impl Channel {
    /// The state; a panic while it was held cannot leave a queue or two flags inconsistent, so
    /// poison is ignored rather than spread.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state without locking, for the one owner of the channel.
    pub(crate) fn get_mut(&mut self) -> &mut State {
        self.state.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Channel {
    /// Wakes the receiver if it waits; called with the lock released.
    pub(crate) fn wake_receiver(&self, waits: bool) {
        if waits {
            self.receiver.wake();
        }
    }

    /// Wakes a writer if it waits; called with the lock released.
    pub(crate) fn wake_writer(&self, waits: bool) {
        if waits {
            self.writer.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use http::header::{SERVER, SET_COOKIE, VARY};
    use http::{HeaderMap, HeaderValue};

    use super::add_defaults;

    #[test]
    fn defaults_fill_only_the_names_the_answer_leaves_out_with_every_value() {
        let mut defaults = HeaderMap::new();
        defaults.insert(SERVER, HeaderValue::from_static("cyclone"));
        defaults.append(SET_COOKIE, HeaderValue::from_static("a=1"));
        defaults.append(SET_COOKIE, HeaderValue::from_static("b=2"));
        defaults.append(VARY, HeaderValue::from_static("Cookie"));
        defaults.append(VARY, HeaderValue::from_static("Origin"));
        let mut headers = HeaderMap::new();
        headers.insert(SERVER, HeaderValue::from_static("mine"));
        headers.insert(VARY, HeaderValue::from_static("Accept"));

        add_defaults(&mut headers, &defaults);

        let values = |name| {
            headers
                .get_all(name)
                .iter()
                .map(|value| value.to_str().unwrap_or("?"))
                .collect::<Vec<_>>()
        };
        assert_eq!(values(SERVER), ["mine"]);
        assert_eq!(values(VARY), ["Accept"]);
        assert_eq!(values(SET_COOKIE), ["a=1", "b=2"]);
        assert_eq!(headers.len(), 4);
    }
}
