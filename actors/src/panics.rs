//! The text of a caught panic, for logs and error answers: every layer that catches a panic
//! (loop callbacks, the blocking pool, HTTP and WebSocket handlers) reports it the same way.

use std::any::Any;

/// The message a caught panic carried (`panic!` with a literal or a format string), or a
/// placeholder for any other payload.
///
/// ```
/// use cyclone_actors::panics::panic_message;
///
/// let caught = std::panic::catch_unwind(|| panic!("disk {} is full", 2)).unwrap_err();
/// assert_eq!(panic_message(&*caught), "disk 2 is full");
/// let caught = std::panic::catch_unwind(|| std::panic::panic_any(7)).unwrap_err();
/// assert_eq!(panic_message(&*caught), "a panic without a message");
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}
