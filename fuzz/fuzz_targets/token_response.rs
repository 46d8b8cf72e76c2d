#![no_main]
//! See `codex_auth_guest::properties::token_response` for the property checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| codex_auth_guest::properties::token_response(data));
