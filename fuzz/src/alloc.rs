//! A global allocator that counts the bytes each thread holds, so that a check can say how
//! much memory a parser took at its peak: the permessage-deflate target asserts that a bomb
//! stays within the budget.
//!
//! Install it in the binary (`#[global_allocator] static ALLOCATOR: Counting = Counting;`);
//! the fuzz targets and the replay test do. Counts are per thread (libFuzzer runs one input at
//! a time on one thread; the replay test runs each target on a thread of its own), so other
//! threads' allocations do not blur a measurement.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Bytes this thread allocated and has not freed (frees of another thread's allocations
    /// can take it below zero: only differences mean anything).
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    /// The highest `CURRENT` since the last [`measure`] began.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// The counting allocator: the system's, with per-thread counts.
#[derive(Debug)]
pub struct Counting;

fn grow(bytes: usize) {
    let _ = CURRENT.try_with(|current| {
        let now = current.get().saturating_add(bytes as isize);
        current.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn shrink(bytes: usize) {
    let _ = CURRENT.try_with(|current| current.set(current.get().saturating_sub(bytes as isize)));
}

// SAFETY: every call goes straight to `System` with the caller's arguments; the counters
// only observe sizes (they are const-initialised thread locals without destructors, so
// touching them never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grow(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            grow(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(pointer, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            shrink(layout.size());
            grow(new_size);
        }
        moved
    }
}

/// Runs `work` and returns its result with the most bytes this thread held at once during
/// it, above what it held before. `None` when the counting allocator is not installed.
pub fn measure<T>(work: impl FnOnce() -> T) -> (T, Option<usize>) {
    let start = CURRENT.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let probe = std::hint::black_box(vec![0u8; 64]);
    let installed = CURRENT.with(Cell::get) != start;
    drop(probe);
    PEAK.with(|peak| peak.set(CURRENT.with(Cell::get)));
    let output = work();
    let peak = PEAK.with(Cell::get);
    (output, installed.then(|| (peak - start).max(0) as usize))
}
