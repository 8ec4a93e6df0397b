//! Fuzz target `routing`: see `cyclone_fuzz::routing` for what it checks.

#![no_main]

#[global_allocator]
static ALLOCATOR: cyclone_fuzz::alloc::Counting = cyclone_fuzz::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| cyclone_fuzz::routing::check(data));
