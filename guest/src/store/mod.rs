//! What is kept and where: the Codex CLI's `auth.json`, a Codex home's
//! `config.toml` and its signs, codex-auth's own `codex-auth.toml`, command
//! accounts, and the plan of where each account's credential lives.

pub mod auth_file;
pub mod codex_config;
pub mod codex_home;
pub mod command;
pub mod config_file;
pub mod kinds;
pub mod names;
pub mod plan;
pub mod rfc3339;
