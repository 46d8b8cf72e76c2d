//! codex-auth's guest: every decision about "Sign in with ChatGPT (Codex)"
//! credentials, and no I/O of its own.
//!
//! By concern, lowest first; no module imports one that imports it back:
//! - [`platform`]: the I/O the host performs for the guest, as a trait;
//!   [`defaults`] and [`error`]: the vocabulary everything shares.
//! - [`oauth`]: signing in: PKCE, the authorize URL and callback, the
//!   issuer's answers, JWT claims. Pure functions of their inputs.
//! - [`store`]: what is kept and where: `auth.json`, a Codex home's
//!   `config.toml` and signs, `codex-auth.toml`, command accounts, names,
//!   and the plan of each account's store.
//! - [`session`]: one account's credential manager: refresh, sign-in,
//!   logout, tiers and headers.
//! - [`vault`]: the accounts of one home and the pool that chooses among
//!   them, with what it learns of their usage.
//! - `component` (wasm only): the wit-bindgen glue, exports and imports.
//!
//! In the component the platform is backed by the WIT imports; natively,
//! tests and fuzzers supply their own.

#![deny(unsafe_code)]

#[macro_use]
mod wit_enum;

pub mod defaults;
pub mod error;
pub mod oauth;
pub mod openai;
pub mod platform;
pub mod properties;
pub mod session;
pub mod store;
pub mod vault;

#[cfg(test)]
mod fake;

#[cfg(target_family = "wasm")]
#[allow(unsafe_code, reason = "wit-bindgen's generated glue; the code in the module itself is safe")]
mod component;
