//! Bindings generated from `wit/` for the `guest` world.

#![allow(missing_docs, reason = "bindgen-generated code")]

wasmtime::component::bindgen!({
    world: "guest",
    path: "../wit",
});

pub use codex::auth::types;
pub use codex::auth::{clock, http, loopback, notify, process, storage};
pub use exports::codex::auth::{authorize, session, vault};
