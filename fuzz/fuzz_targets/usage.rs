#![no_main]
//! See `codex_auth_guest::properties::usage` for the property checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| codex_auth_guest::properties::usage(data));
