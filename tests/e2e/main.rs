//! End-to-end tests: the real `codex-auth` binary and the real component.

mod accounts;
mod cli_store;
mod codex_homes;
mod codex_peer;
mod dashboard;
mod hostile;
mod jco;
mod library;
mod login;
mod metrics;
mod mock_backend;
mod mock_issuer;
mod node_host;
mod openai_api;
mod pool;
mod refresh;
mod serve;
mod shared_home;
mod sources;
mod stores;
mod support;
mod take_over;
mod tls;
