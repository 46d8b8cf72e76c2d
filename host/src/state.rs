//! The host state of one guest instance: the WASI context (environment only),
//! the store it may touch, and the capabilities shared across instances.

use crate::backend::{Backend, Store};
use crate::clock::Clock;
use crate::notifier::{LoginEvent, Notifier};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Capabilities every instance of one [`crate::Auth`] shares.
pub(crate) struct Shared {
    pub clock: Arc<dyn Clock>,
    pub notifier: Arc<dyn Notifier>,
    /// Who else hears every event ([`crate::Auth::listen`]).
    pub listeners: RwLock<Vec<Arc<dyn Notifier>>>,
    /// Built on first use: most CLI runs never send a request.
    pub http: OnceLock<Result<reqwest::blocking::Client, String>>,
    /// Exactly the variables the guest reads (it names them), with the
    /// API key among them when there is one.
    pub environment: Vec<(String, String)>,
}

impl Shared {
    /// Tells the notifier and every listener.
    pub fn notify(&self, event: LoginEvent) {
        for listener in self.listeners.read().unwrap_or_else(PoisonError::into_inner).iter() {
            listener.notify(event.clone());
        }
        self.notifier.notify(event);
    }
}

/// One instance's state.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Where the vault's accounts are, shared by every instance of an `Auth`.
    pub backend: Arc<Backend>,
    /// The account stores whose lock this instance holds.
    pub held: HashMap<String, Store>,
    /// The pool states whose lock this instance holds.
    pub held_pool: HashMap<String, Store>,
    /// The places (a take-over's Codex home, a journal entry) whose lock
    /// this instance holds, by `places::key`.
    pub held_places: HashMap<String, Store>,
    pub shared: Arc<Shared>,
    pub listener: Option<Listener>,
    pub limits: StoreLimits,
}

impl HostState {
    pub fn new(backend: Arc<Backend>, shared: Arc<Shared>, max_memory: usize) -> Self {
        // The guest gets randomness and the variables it names (the API key,
        // and those that tell whether a browser can be used): no arguments,
        // no files, no sockets.
        let mut wasi = WasiCtx::builder();
        for (name, value) in &shared.environment {
            wasi.env(name, value);
        }
        // A hostile input makes the guest trap on allocation, not the host swap.
        let limits = StoreLimitsBuilder::new().memory_size(max_memory).instances(4).build();
        Self {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            backend,
            held: HashMap::new(),
            held_pool: HashMap::new(),
            held_places: HashMap::new(),
            shared,
            listener: None,
            limits,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// A bound loopback listener and the requests waiting for an answer.
pub(crate) struct Listener {
    pub server: tiny_http::Server,
    pub pending: HashMap<u64, tiny_http::Request>,
    pub next_id: u64,
}

impl Drop for Listener {
    fn drop(&mut self) {
        for (_, request) in self.pending.drain() {
            let _ = request.respond(tiny_http::Response::empty(500));
        }
    }
}
