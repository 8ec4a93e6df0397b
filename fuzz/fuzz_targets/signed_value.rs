//! Fuzz target `signed_value`: see `cyclone_fuzz::signed_value` for what it checks.

#![no_main]

#[global_allocator]
static ALLOCATOR: cyclone_fuzz::alloc::Counting = cyclone_fuzz::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| cyclone_fuzz::signed_value::check(data));
