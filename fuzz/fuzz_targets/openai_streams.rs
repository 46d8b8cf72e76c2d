#![no_main]
//! See `codex_auth_guest::properties::openai_streams` for the property checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| codex_auth_guest::properties::openai_streams(data));
