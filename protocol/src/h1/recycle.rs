//! Recycled header maps. Every request that reads its headers and every response carries a
//! `HeaderMap`, and a fresh one costs two allocations when its first field goes in and two frees
//! when it is dropped: more than parsing a small head. Each thread keeps a few emptied maps and
//! hands them out again, as actix-web pools its request and response heads.
//!
//! The maps are boxed, and the box is kept with the map: requests and responses hold their map
//! boxed so that they stay small while they move between the decoder, the handler and the
//! encoder.

use std::cell::RefCell;

use http::HeaderMap;

/// Emptied maps kept per thread. Default 64: more than the requests one connection
/// pipelines, a few KiB per thread.
const POOL_SIZE: usize = 64;

/// Maps that grew beyond this many fields are freed rather than kept, so that one huge head
/// does not pin its memory in the pool.
const MAX_KEPT_CAPACITY: usize = 32;

thread_local! {
    /// This thread's emptied maps, each in the box it is handed out in: keeping the box is the
    /// point (a map handed out unboxed would cost an allocation to box again).
    #[allow(clippy::vec_box)]
    static POOL: RefCell<Vec<Box<HeaderMap>>> = const { RefCell::new(Vec::new()) };
}

/// An empty boxed map, recycled (box and all) when this thread has one.
pub(crate) fn boxed_header_map() -> Box<HeaderMap> {
    POOL.try_with(|pool| pool.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Gives `map` back for reuse: it is emptied (its values dropped) and kept if the pool has
/// room and the map is not oversized; otherwise freed.
pub(crate) fn recycle_boxed(mut map: Box<HeaderMap>) {
    // A map that never held a field is kept too: its box is an allocation saved (an answer
    // whose fields all travel beside the map, defaults and an `EntityTag`, leaves it empty).
    if map.capacity() > MAX_KEPT_CAPACITY {
        return;
    }
    map.clear();
    // During thread teardown the pool may be gone: then the map is simply dropped.
    let _ = POOL.try_with(|pool| {
        if let Ok(mut pool) = pool.try_borrow_mut()
            && pool.len() < POOL_SIZE
        {
            pool.push(map);
        }
    });
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use http::header::HOST;

    use super::*;

    #[test]
    fn a_recycled_map_comes_back_empty_with_its_capacity() {
        let mut map = boxed_header_map();
        map.insert(HOST, HeaderValue::from_static("example.com"));
        let capacity = map.capacity();
        recycle_boxed(map);
        let again = boxed_header_map();
        assert!(again.is_empty());
        assert_eq!(again.capacity(), capacity);
    }

    #[test]
    fn oversized_maps_are_not_kept() {
        while POOL.with(|pool| pool.borrow_mut().pop()).is_some() {}
        let mut map = Box::new(HeaderMap::with_capacity(MAX_KEPT_CAPACITY * 4));
        map.insert(HOST, HeaderValue::from_static("example.com"));
        recycle_boxed(map);
        assert_eq!(boxed_header_map().capacity(), 0);
    }
}
