//! codex-auth's guest: every decision about "Sign in with ChatGPT (Codex)"
//! credentials, and no I/O of its own.
//!
//! The decision modules ([`pkce`], [`authorize`], [`jwt`], [`responses`],
//! [`policy`], [`auth_file`]) are pure functions of their inputs: no clock,
//! no randomness, no files. The [`session`] holds the current credential and
//! reaches the outside world only through the [`platform::Platform`] trait.
//! In the component that trait is backed by the WIT imports (`component`,
//! compiled for wasm only); natively, tests and fuzzers supply their own.

#![deny(unsafe_code)]

pub mod auth_file;
pub mod authorize;
pub mod codex_config;
pub mod codex_home;
pub mod command;
pub mod config_file;
pub mod defaults;
pub mod endpoints;
pub mod error;
pub mod jwt;
pub mod login;
pub mod oauth_error;
pub mod pkce;
pub mod platform;
pub mod policy;
pub mod pool;
pub mod properties;
pub mod query;
pub mod refresh;
pub mod responses;
pub mod rfc3339;
pub mod session;
pub mod stores;
pub mod usage;
pub mod vault;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod login_tests;
#[cfg(test)]
mod refresh_tests;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod shared_home_tests;
#[cfg(test)]
mod vault_tests;

#[cfg(target_family = "wasm")]
#[allow(unsafe_code, reason = "wit-bindgen's generated glue; the code in the module itself is safe")]
mod component;
