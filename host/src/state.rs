//! The host state of one guest instance: the WASI context (environment only),
//! the store it may touch, and the capabilities shared across instances.

use crate::clock::Clock;
use crate::file_store::FileStore;
use crate::imports::loopback::Listener;
use crate::notifier::Notifier;
use std::sync::{Arc, OnceLock};
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Capabilities every instance of one [`crate::Auth`] shares.
pub(crate) struct Shared {
    pub clock: Arc<dyn Clock>,
    pub notifier: Arc<dyn Notifier>,
    /// Built on first use: most CLI runs never send a request.
    pub http: OnceLock<Result<reqwest::blocking::Client, String>>,
    pub api_key: Option<String>,
    pub environment: Vec<(String, String)>,
}

/// One instance's state.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub store: FileStore,
    pub shared: Arc<Shared>,
    pub listener: Option<Listener>,
    pub limits: StoreLimits,
}

impl HostState {
    pub fn new(store: FileStore, shared: Arc<Shared>, max_memory: usize) -> Self {
        // The guest gets randomness, OPENAI_API_KEY and the few variables that
        // tell whether a browser can be used: no arguments, no files, no sockets.
        let mut wasi = WasiCtx::builder();
        if let Some(key) = &shared.api_key {
            wasi.env(crate::API_KEY_VAR, key);
        }
        for (name, value) in &shared.environment {
            wasi.env(name, value);
        }
        // A hostile input makes the guest trap on allocation, not the host swap.
        let limits = StoreLimitsBuilder::new().memory_size(max_memory).instances(4).build();
        Self { wasi: wasi.build(), table: ResourceTable::new(), store, shared, listener: None, limits }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
