//! Actors from a handler's point of view: asking one with a timeout and `?`
//! ([`RequestContext::ask`]), and [`StateActor`], state kept in an actor without declaring a
//! message type per operation.

mod ask;
mod state;

pub use ask::{Ask, DEFAULT_ASK_TIMEOUT};
pub use state::{StateActor, StateAddr};
