//! Bindings generated from `wit/` for the `guest` world.

#![allow(missing_docs, reason = "bindgen-generated code")]

wasmtime::component::bindgen!({
    world: "guest",
    path: "../wit",
    // So the host's public types can hold the WIT records themselves.
    additional_derives: [PartialEq, Eq, serde::Serialize],
});

pub use codex::auth::types;
pub use codex::auth::{clock, http, loopback, notify, process, storage};
pub use exports::codex::auth::{authorize, session, vault};
