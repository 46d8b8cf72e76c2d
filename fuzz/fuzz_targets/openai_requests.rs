#![no_main]
//! See `codex_auth_guest::properties::openai_requests` for the property checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| codex_auth_guest::properties::openai_requests(data));
