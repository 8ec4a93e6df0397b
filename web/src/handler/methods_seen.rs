//! [`MethodsSeen`]: which of a route's handler methods have answered without the trait's
//! default 405, so a 405's `Allow` lists only methods that work.
//!
//! Rust cannot tell whether a trait method was overridden, so the route learns it: a method is
//! added the first time it runs without the default "not implemented" error. Until a method
//! has been seen to work, `Allow` leaves it out: it may under-advertise, never list a method
//! that would be refused. Declaring `SUPPORTED_METHODS` makes `Allow` exact from the start.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use http::Method;

use super::verb::Verb;

/// The methods of one route's handler seen working; shared by every request to the route.
#[derive(Debug, Default)]
pub(crate) struct MethodsSeen(Arc<AtomicU8>);

/// What one request holds of its route's [`MethodsSeen`].
#[derive(Debug)]
pub(crate) enum SeenRecord {
    /// Its method has not been seen working yet: the request may add it (its bit; 0 for a
    /// method outside the seven).
    Learning(MethodsSeen, u8),
    /// Its method is known to work: the methods seen when the request arrived, which is all a
    /// 405's `Allow` needs; holding no reference spares two atomic counts a request.
    Known(u8),
}

impl MethodsSeen {
    /// The record for a request whose method is `verb`.
    pub(crate) fn record_for(&self, verb: Verb) -> SeenRecord {
        let bits = self.0.load(Ordering::Relaxed);
        let bit = verb.bit();
        if bits & bit != 0 {
            SeenRecord::Known(bits)
        } else {
            SeenRecord::Learning(MethodsSeen(Arc::clone(&self.0)), bit)
        }
    }
}

impl SeenRecord {
    /// The request's method answered without the default 405.
    pub(crate) fn note(&self) {
        if let SeenRecord::Learning(seen, bit) = self
            && *bit != 0
        {
            seen.0.fetch_or(*bit, Ordering::Relaxed);
        }
    }

    /// Whether `method` has been seen working.
    pub(crate) fn contains(&self, method: &Method) -> bool {
        let bits = match self {
            SeenRecord::Learning(seen, _) => seen.0.load(Ordering::Relaxed),
            SeenRecord::Known(bits) => *bits,
        };
        bits & Verb::of(method).bit() != 0
    }
}
