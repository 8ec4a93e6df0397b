//! [`History`]: the last N messages of a room (Tornado's chat `MessageBuffer`), and the
//! messages after a cursor.

use std::collections::VecDeque;

use super::cursor::Cursor;
use super::message::RoomMessage;

/// The last `capacity` messages of a room, oldest first.
#[derive(Debug, Clone)]
pub struct History {
    /// The messages kept, in cursor order.
    messages: VecDeque<RoomMessage>,
    /// How many are kept; the oldest goes when a new one would pass it.
    capacity: usize,
}

impl History {
    /// An empty history keeping up to `capacity` messages (at least 1).
    pub fn new(capacity: usize) -> History {
        History {
            messages: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Adds `message`; one already there or older than the newest is ignored (a broker that
    /// resumes may deliver again what it delivered before a fault: none twice).
    pub fn push(&mut self, message: RoomMessage) -> bool {
        if self.last().is_some_and(|last| message.id <= last) {
            return false;
        }
        if self.messages.len() == self.capacity {
            self.messages.pop_front();
        }
        self.messages.push_back(message);
        true
    }

    /// The messages after `cursor`, oldest first; all of them without one (Tornado's
    /// `get_messages_since`). A cursor older than the oldest kept gets every message kept:
    /// what fell off the end is gone.
    pub fn since(&self, cursor: Option<Cursor>) -> Vec<RoomMessage> {
        let start = match cursor {
            None => 0,
            Some(cursor) => self
                .messages
                .partition_point(|message| message.id <= cursor),
        };
        self.messages.range(start..).cloned().collect()
    }

    /// The oldest kept message's cursor.
    pub fn first(&self) -> Option<Cursor> {
        self.messages.front().map(|message| message.id)
    }

    /// The newest message's cursor.
    pub fn last(&self) -> Option<Cursor> {
        self.messages.back().map(|message| message.id)
    }

    /// How many messages are kept now.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether nothing has been said yet (or kept).
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(sequence: u64) -> RoomMessage {
        RoomMessage::new(Cursor::local(sequence), format!("m{sequence}"))
    }

    #[test]
    fn keeps_the_last_n_and_answers_since_a_cursor() {
        let mut history = History::new(3);
        for sequence in 1..=5 {
            assert!(history.push(message(sequence)));
        }
        assert!(
            !history.push(message(4)),
            "an old message is not kept twice"
        );
        let ids = |messages: Vec<RoomMessage>| -> Vec<u64> {
            messages.iter().map(|m| m.id.sequence).collect()
        };
        assert_eq!(ids(history.since(None)), [3, 4, 5]);
        assert_eq!(ids(history.since(Some(Cursor::local(3)))), [4, 5]);
        assert_eq!(
            ids(history.since(Some(Cursor::local(5)))),
            Vec::<u64>::new()
        );
        assert_eq!(ids(history.since(Some(Cursor::local(1)))), [3, 4, 5]);
    }
}
