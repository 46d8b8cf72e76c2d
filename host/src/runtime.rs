/*!
The wasmtime engine and the embedded guest, loaded once per process.

The guest is compiled ahead of time by `build.rs` (Cranelift runs at build
time only) and embedded as machine code: a start deserializes it, with no
compiler in the binary and no cache directory. The plain component is
embedded too ([`GUEST_WASM`]), for other hosts.
*/

use crate::Defaults;
use crate::bindings::GuestPre;
use crate::bindings::vault::VaultLayout;
use crate::state::{HostState, Shared};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

/// The guest component, built by `build.rs`: a WASI 0.2 component any host can run.
pub const GUEST_WASM: &[u8] = include_bytes!(env!("CODEX_AUTH_GUEST_WASM"));

/// The same component compiled for this machine by `build.rs`.
const GUEST_CWASM: &[u8] = include_bytes!(env!("CODEX_AUTH_GUEST_CWASM"));

/// The engine, the pre-linked guest, and the guest's defaults.
pub(crate) struct Runtime {
    pub engine: Engine,
    pub pre: GuestPre<HostState>,
    /// How long loading the compiled guest took.
    pub load_time: Duration,
    pub defaults: Defaults,
    /// The names inside a vault's home, the guest's.
    pub layout: VaultLayout,
}

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The process's runtime, made on first use.
pub(crate) fn get() -> Result<&'static Runtime, String> {
    RUNTIME.get_or_init(build).as_ref().map_err(Clone::clone)
}

fn build() -> Result<Runtime, String> {
    let started = Instant::now();
    let engine = Engine::new(&wasmtime::Config::new()).map_err(|e| format!("cannot start wasmtime: {e}"))?;
    // SAFETY: wasmtime requires the bytes to be an artifact it produced for
    // this engine's version and configuration. build.rs produced them with
    // the same wasmtime and `Config::new()`, and they are part of this
    // binary; wasmtime still checks the version, settings and CPU features
    // and refuses a mismatch.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(&engine, GUEST_CWASM) }
        .map_err(|e| format!("cannot load the compiled guest: {e}"))?;
    let load_time = started.elapsed();
    let mut linker = Linker::<HostState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("cannot link WASI: {e}"))?;
    crate::bindings::Guest::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)
        .map_err(|e| format!("cannot link the host imports: {e}"))?;
    let pre = linker
        .instantiate_pre(&component)
        .and_then(GuestPre::new)
        .map_err(|e| format!("cannot prepare the guest: {e}"))?;
    let (defaults, layout) =
        ask_defaults(&engine, &pre).map_err(|e| format!("cannot ask the guest for its defaults: {e}"))?;
    Ok(Runtime { engine, pre, load_time, defaults, layout })
}

/// The names a host needs: the public defaults and a vault home's layout.
type Names = (Defaults, VaultLayout);

/// The guest's defaults, from an instance that can touch nothing.
fn ask_defaults(engine: &Engine, pre: &GuestPre<HostState>) -> wasmtime::Result<Names> {
    let mut store = bare_store(engine, 16 << 20);
    let d = pre.instantiate(&mut store)?.codex_auth_vault().call_defaults(&mut store)?;
    let ms = |ms: u32| Duration::from_millis(u64::from(ms));
    let defaults = Defaults {
        issuer: d.issuer,
        client_id: d.client_id,
        originator: d.originator,
        refresh_skew: Duration::from_secs(u64::from(d.refresh_skew_seconds)),
        shared_refresh: Duration::from_secs(u64::from(d.shared_refresh_seconds)),
        lock_timeout: ms(d.lock_timeout_ms),
        http_timeout: ms(d.http_timeout_ms),
        login_ports: d.login_ports,
        login_timeout: Duration::from_secs(u64::from(d.login_timeout_seconds)),
        default_account: d.default_account,
        config_file: d.config_file,
        codex_config_file: d.codex_config_file,
        api_key_var: d.api_key_var,
        account_var: d.account_var,
        home_var: d.home_var,
        issuer_var: d.issuer_var,
        chatgpt_base_url: d.chatgpt_base_url,
        chatgpt_base_url_var: d.chatgpt_base_url_var,
        strategy: d.strategy,
        strategy_var: d.strategy_var,
        store_var: d.store_var,
        database_url_var: d.database_url_var,
        guest_vars: d.guest_vars,
        home_dir: d.home_dir,
        codex_home_var: d.codex_home_var,
        codex_home_dir: d.codex_home_dir,
        strategies: d.strategies,
        main_meter: d.main_meter,
        usage_report_interval: Duration::from_millis(u64::from(d.usage_report_interval_ms)),
    };
    Ok((defaults, d.layout))
}

/// A store for calls that need no host state (defaults, checks): no home,
/// no environment, a small memory limit.
fn bare_store(engine: &Engine, max_memory: usize) -> Store<HostState> {
    let shared = Arc::new(Shared {
        clock: Arc::new(crate::SystemClock),
        notifier: Arc::new(crate::Silent),
        listeners: Default::default(),
        http: OnceLock::new(),
        environment: Vec::new(),
    });
    let mut store =
        Store::new(engine, HostState::new(Arc::new(crate::backend::Backend::none()), shared, max_memory));
    store.limiter(|s| &mut s.limits);
    store
}

/// A fresh instance on a [`bare_store`], for the guest's pure exports.
pub(crate) fn bare_instance(
    runtime: &Runtime,
    max_memory: usize,
) -> wasmtime::Result<(Store<HostState>, crate::bindings::Guest)> {
    let mut store = bare_store(&runtime.engine, max_memory);
    let guest = runtime.pre.instantiate(&mut store)?;
    Ok((store, guest))
}

/// A new store and instance for `state`.
pub(crate) fn instantiate(
    runtime: &Runtime,
    state: HostState,
) -> wasmtime::Result<(Store<HostState>, crate::bindings::Guest)> {
    let mut store = Store::new(&runtime.engine, state);
    store.limiter(|s| &mut s.limits);
    let guest = runtime.pre.instantiate(&mut store)?;
    Ok((store, guest))
}
