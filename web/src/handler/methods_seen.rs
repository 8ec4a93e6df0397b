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

/// The seven methods a handler answers, as bits.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::DELETE,
    Method::PATCH,
    Method::PUT,
    Method::OPTIONS,
];

/// The methods of one route's handler seen working; shared by every request to the route.
#[derive(Debug, Default)]
pub(crate) struct MethodsSeen(Arc<AtomicU8>);

/// What one request holds of its route's [`MethodsSeen`].
#[derive(Debug)]
pub(crate) enum SeenRecord {
    /// Its method has not been seen working yet: the request may add it.
    Learning(MethodsSeen),
    /// Its method is known to work: the methods seen when the request arrived, which is all a
    /// 405's `Allow` needs; holding no reference spares two atomic counts a request.
    Known(u8),
}

impl MethodsSeen {
    /// The record for a request with `method`.
    pub(crate) fn record_for(&self, method: &Method) -> SeenRecord {
        let bits = self.0.load(Ordering::Relaxed);
        match bit_of(method) {
            Some(bit) if bits & bit != 0 => SeenRecord::Known(bits),
            _ => SeenRecord::Learning(MethodsSeen(Arc::clone(&self.0))),
        }
    }
}

impl SeenRecord {
    /// `method` answered without the default 405.
    pub(crate) fn note(&self, method: &Method) {
        if let SeenRecord::Learning(seen) = self
            && let Some(bit) = bit_of(method)
        {
            seen.0.fetch_or(bit, Ordering::Relaxed);
        }
    }

    /// Whether `method` has been seen working.
    pub(crate) fn contains(&self, method: &Method) -> bool {
        let bits = match self {
            SeenRecord::Learning(seen) => seen.0.load(Ordering::Relaxed),
            SeenRecord::Known(bits) => *bits,
        };
        bit_of(method).is_some_and(|bit| bits & bit != 0)
    }
}

/// The bit of one of the seven methods.
fn bit_of(method: &Method) -> Option<u8> {
    METHODS
        .iter()
        .position(|known| known == method)
        .map(|index| 1 << index)
}
