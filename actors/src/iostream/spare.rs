//! The loop's spare read buffer: a stream about to read borrows it, and gives it back once
//! every byte in it is consumed and the transport has nothing more. Thousands of idle
//! connections on a loop then hold no read buffer at all, and a busy one does not allocate a
//! buffer per message. Only streams on this loop's thread touch it, one at a time.

use std::cell::Cell;

use bytes::BytesMut;

/// A buffer that grew past this (a large message) is freed rather than kept as the spare.
const KEEP_SPARE_CAPACITY: usize = 64 * 1024;

thread_local! {
    /// This loop's spare; empty (no capacity) while a stream has it.
    static SPARE: Cell<BytesMut> = Cell::new(BytesMut::new());
}

/// The loop's spare buffer (without capacity when another stream has it, or during thread
/// teardown).
pub(crate) fn take() -> BytesMut {
    SPARE.try_with(Cell::take).unwrap_or_default()
}

/// Gives an emptied buffer back for the loop's next read, unless it grew large.
pub(crate) fn give_back(buffer: BytesMut) {
    if buffer.capacity() <= KEEP_SPARE_CAPACITY && buffer.is_empty() {
        let _ = SPARE.try_with(|spare| spare.set(buffer));
    }
}
