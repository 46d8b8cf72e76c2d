/*!
The wasmtime engine and the embedded guest, compiled once per process.

A warm start must not run Cranelift, so the compiled component is kept in a
cache directory, keyed by the guest's bytes and the engine's compatibility
hash (wasmtime version and configuration). A cache that cannot be read or
written only costs a compile.
*/

use crate::Defaults;
use crate::bindings::GuestPre;
use crate::layout::Layout;
use crate::state::{HostState, Shared};
use sha2::{Digest as _, Sha256};
use std::hash::{Hash as _, Hasher as _};
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

/// The guest component, built by `build.rs`.
pub const GUEST_WASM: &[u8] = include_bytes!(env!("CODEX_AUTH_GUEST_WASM"));

/// The engine, the pre-linked guest, and the guest's defaults.
pub(crate) struct Runtime {
    pub engine: Engine,
    pub pre: GuestPre<HostState>,
    pub origin: ComponentOrigin,
    pub defaults: Defaults,
}

/// How this process got its compiled guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentOrigin {
    /// Loaded from the cache file: Cranelift did not run.
    Cache(PathBuf),
    /// Compiled at start; saved to the cache file when there is one.
    Compiled {
        /// The cache file written, if any.
        cached_at: Option<PathBuf>,
    },
}

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The process's runtime, made on first use with `cache_dir` for compiled code.
pub(crate) fn get(cache_dir: Option<&Path>) -> Result<&'static Runtime, String> {
    RUNTIME.get_or_init(|| build(cache_dir)).as_ref().map_err(Clone::clone)
}

fn build(cache_dir: Option<&Path>) -> Result<Runtime, String> {
    let engine = Engine::new(&wasmtime::Config::new()).map_err(|e| format!("cannot start wasmtime: {e}"))?;
    let (component, origin) = load_component(&engine, cache_dir)?;
    let mut linker = Linker::<HostState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("cannot link WASI: {e}"))?;
    crate::bindings::Guest::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)
        .map_err(|e| format!("cannot link the host imports: {e}"))?;
    let pre = linker
        .instantiate_pre(&component)
        .and_then(GuestPre::new)
        .map_err(|e| format!("cannot prepare the guest: {e}"))?;
    let defaults =
        ask_defaults(&engine, &pre).map_err(|e| format!("cannot ask the guest for its defaults: {e}"))?;
    Ok(Runtime { engine, pre, origin, defaults })
}

/// The guest's defaults, from an instance that can touch nothing.
fn ask_defaults(engine: &Engine, pre: &GuestPre<HostState>) -> wasmtime::Result<Defaults> {
    let shared = Arc::new(Shared {
        clock: Arc::new(crate::SystemClock),
        notifier: Arc::new(crate::Silent),
        http: OnceLock::new(),
        environment: Vec::new(),
    });
    let mut store = Store::new(engine, HostState::new(Layout::new(PathBuf::new(), ""), shared, 16 << 20));
    let d = pre.instantiate(&mut store)?.codex_auth_vault().call_defaults(&mut store)?;
    let ms = |ms: u32| Duration::from_millis(u64::from(ms));
    Ok(Defaults {
        issuer: d.issuer,
        client_id: d.client_id,
        originator: d.originator,
        refresh_skew: Duration::from_secs(u64::from(d.refresh_skew_seconds)),
        lock_timeout: ms(d.lock_timeout_ms),
        http_timeout: ms(d.http_timeout_ms),
        login_ports: d.login_ports,
        login_timeout: Duration::from_secs(u64::from(d.login_timeout_seconds)),
        default_account: d.default_account,
        config_file: d.config_file,
        api_key_var: d.api_key_var,
        account_var: d.account_var,
        home_var: d.home_var,
        issuer_var: d.issuer_var,
        chatgpt_base_url: d.chatgpt_base_url,
        chatgpt_base_url_var: d.chatgpt_base_url_var,
        strategy: d.strategy.into(),
        strategy_var: d.strategy_var,
        guest_vars: d.guest_vars,
    })
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

fn load_component(engine: &Engine, cache_dir: Option<&Path>) -> Result<(Component, ComponentOrigin), String> {
    let cached = cache_dir.map(|dir| dir.join(format!("guest-{}.cwasm", cache_key(engine))));
    if let Some(path) = &cached
        && path.is_file()
    {
        // SAFETY: wasmtime requires the file to be an artifact it produced and
        // that nobody changes while mapped. Only this function writes it, by
        // atomic rename, in a 0700 directory of the user's; wasmtime still
        // checks its version and configuration and refuses a mismatch.
        #[allow(unsafe_code)]
        if let Ok(component) = unsafe { Component::deserialize_file(engine, path) } {
            return Ok((component, ComponentOrigin::Cache(path.clone())));
        }
    }
    let component =
        Component::new(engine, GUEST_WASM).map_err(|e| format!("cannot compile the guest: {e}"))?;
    // Best effort: a read-only or full disk only costs the next start a compile.
    let cached_at =
        cached.filter(|path| component.serialize().is_ok_and(|bytes| write_cache(path, &bytes).is_ok()));
    Ok((component, ComponentOrigin::Compiled { cached_at }))
}

fn cache_key(engine: &Engine) -> String {
    let mut compat = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let mut hasher = Sha256::new();
    hasher.update(GUEST_WASM);
    hasher.update(compat.finish().to_le_bytes());
    hasher.update(env!("CARGO_PKG_VERSION"));
    hasher.finalize()[..12].iter().map(|b| format!("{b:02x}")).collect()
}

fn write_cache(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let temp = tempfile::Builder::new()
        .prefix(".guest-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    std::fs::write(temp.path(), bytes)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Where compiled code is cached by default: `$CODEX_AUTH_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/codex-auth`, else `~/.cache/codex-auth`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let from_env = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    from_env("CODEX_AUTH_CACHE_DIR")
        .or_else(|| from_env("XDG_CACHE_HOME").map(|d| d.join("codex-auth")))
        .or_else(|| std::env::home_dir().map(|h| h.join(".cache/codex-auth")))
}
