//! Tornado's built-in handlers: [`RedirectHandler`], [`ErrorHandler`] and the
//! [`fallback`] mount (Tornado's `FallbackHandler`).

mod error;
mod fallback;
mod redirect;

pub use error::ErrorHandler;
pub use fallback::fallback;
pub use redirect::{RedirectHandler, redirect};
