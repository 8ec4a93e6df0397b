//! Fuzz target `websocket_extensions`: see `cyclone_fuzz::websocket_extensions` for what it checks.

#![no_main]

#[global_allocator]
static ALLOCATOR: cyclone_fuzz::alloc::Counting = cyclone_fuzz::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| cyclone_fuzz::websocket_extensions::check(data));
