//! [`Auth`]: the credential manager of one vault home, driving the guest.
//!
//! Every account has a guest instance of its own behind a lock of its own,
//! so a refresh of one account never delays a call for another; listing
//! and status go through a separate vault instance that reads without any
//! lock, so they never wait behind a refresh.

pub(crate) mod accounts;
mod calls;
mod instances;
mod pure;
mod selection;

use crate::backend::Backend;
use crate::bindings::{self, session::Config, types::AuthError};
use crate::file_store::StoreError;
use crate::state::Shared;
use crate::{Defaults, Error, InEffect, Options, ServeSettings, runtime};
use instances::{Instance, Instances, vault};
use selection::Selection;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The credential manager of one vault home: its accounts, and the one
/// calls use ([`Options::account`], else the pinned one, else the first usable).
pub struct Auth {
    options: Options,
    runtime: &'static runtime::Runtime,
    /// The guest instances: the vault's, and one per account.
    instances: Instances,
    /// The account calls use, as the guest chose it.
    selection: Selection,
    /// Whether an imported Codex home can stay where it is (the guest's
    /// store plan says; a database cannot hold one).
    links_in_place: bool,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth").field("options", &self.options).finish_non_exhaustive()
    }
}

/// The guest's defaults.
pub fn defaults() -> Result<Defaults, Error> {
    let runtime = runtime::get().map_err(Error::Engine)?;
    Ok(runtime.defaults.clone())
}

impl Auth {
    /// Sets up the engine (once per process) and the vault at `options.home`.
    /// Nothing is read from the stores until first use.
    ///
    /// ```no_run
    /// use codex_auth::{Auth, Options};
    /// // A home of its own, an issuer of its own (e.g. for tests):
    /// let mut options = Options::new("/tmp/my-app-auth");
    /// options.issuer = Some("http://127.0.0.1:8080".into());
    /// let auth = Auth::open(options)?;
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn open(options: Options) -> Result<Self, Error> {
        if let Some(why) = &options.unusable {
            return Err(Error::InvalidInput(why.clone()));
        }
        let runtime = runtime::get().map_err(Error::Engine)?;
        let mut environment = options.environment.clone();
        if let Some(key) = &options.api_key {
            environment.push((runtime.defaults.api_key_var.clone(), key.clone()));
        }
        let shared = Arc::new(Shared {
            clock: options.clock.clone(),
            notifier: options.notifier.clone(),
            listeners: Default::default(),
            http: OnceLock::new(),
            environment,
        });
        let file = read_config_file(&options.home.join(&runtime.defaults.config_file))?;
        if let Some(file) = &file {
            let checked = check_config(runtime, file)?;
            checked.map_err(Error::InvalidInput)?;
        }
        let backend =
            Arc::new(Backend::new(&options.home, &runtime.defaults.default_account, &runtime.layout));
        let ms = |d: Option<std::time::Duration>| d.map(|d| saturate(d.as_millis()));
        let config = Config {
            issuer: options.issuer.clone(),
            client_id: options.client_id.clone(),
            originator: options.originator.clone(),
            refresh_skew_seconds: options.refresh_skew.map(|d| saturate(d.as_secs())),
            shared_refresh_seconds: options.shared_refresh.map(|d| saturate(d.as_secs())),
            lock_timeout_ms: ms(options.lock_timeout),
            http_timeout_ms: ms(options.http_timeout),
            chatgpt_base_url: options.chatgpt_base_url.clone(),
            strategy: options.strategy,
            runtime_key: options.runtime_key.clone(),
            file,
        };
        let instances = Instances::new(runtime, shared, backend, config, options.max_guest_memory);
        let mut auth =
            Self { options, runtime, instances, selection: Selection::default(), links_in_place: false };
        // The vault instance reads no store until used: it answers the
        // store plan first, and the backend opens what it says.
        let given = auth.options.given();
        let file = auth.instances.config().file.clone();
        let plan = auth
            .instances
            .vault(|i| i.guest.codex_auth_vault().call_plan_stores(&mut i.store, &given, file.as_ref()))?;
        let plan = plan.map_err(Error::InvalidInput)?;
        auth.links_in_place = plan.links_in_place;
        let backend = auth.instances.backend();
        backend.plan(plan).map_err(from_store)?;
        // Settle the moves a crash left half done before anything reads a store.
        let settled =
            auth.instances.vault(|i| vault(&i.guest).call_finish_moves(&mut i.store, i.resource))?;
        for line in settled {
            auth.instances.shared().notifier.notify(crate::LoginEvent::Info(format!("codex-auth: {line}")));
        }
        Ok(auth)
    }

    /// How long loading the guest (compiled ahead of time) took in this process.
    pub fn component_load_time(&self) -> std::time::Duration {
        self.runtime.load_time
    }

    /// The options this was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The vault's config file (read, never written): `codex-auth.toml` in the home.
    pub fn config_path(&self) -> std::path::PathBuf {
        self.options.home.join(&self.runtime.defaults.config_file)
    }

    /// Every setting's effective value and where it came from: a flag or
    /// the library's [`Options`] > the environment > the config file > the
    /// default; then what each account's Codex home sets of sign-in. Keys
    /// are shown by their last four characters.
    pub fn settings(&self) -> Result<Vec<crate::Setting>, Error> {
        let given = self.options.given();
        let file = self.instances.config().file.clone();
        let settings = self
            .instances
            .vault(|i| i.guest.codex_auth_vault().call_settings(&mut i.store, &given, file.as_ref()))?;
        Ok(settings.map_err(Error::InvalidInput)?.into_iter().map(crate::Setting::from).collect())
    }

    /// How `serve` runs: `flags` (`serve.port`, `serve.socket`,
    /// `serve.upstream`, `serve.drain_seconds`, `serve.replay_limit`) > the
    /// config file's `[serve]` > the defaults. The error names a value that
    /// is not a number.
    pub fn serve_settings(&self, flags: &[(&str, String)]) -> Result<ServeSettings, Error> {
        // The upstream's default derives from the ChatGPT base URL given.
        let mut given = self.options.given();
        given.extend(flags.iter().map(|(name, value)| bindings::vault::GivenSetting {
            name: (*name).to_owned(),
            value: value.clone(),
            origin: bindings::vault::Origin::Flag,
        }));
        let file = self.instances.config().file.clone();
        let serve = self
            .instances
            .vault(|i| i.guest.codex_auth_vault().call_serve(&mut i.store, &given, file.as_ref()))?;
        serve.map_err(Error::InvalidInput)
    }

    /// The settings this home's sessions use, every value in effect.
    pub fn in_effect(&self) -> Result<InEffect, Error> {
        self.instances.vault(|i| vault(&i.guest).call_in_effect(&mut i.store, i.resource))
    }

    /// Whether every account is a row of a database (`--store postgres://...`)
    /// rather than a Codex home on disk.
    pub fn in_database(&self) -> bool {
        self.instances.backend().in_database()
    }

    /// Also tells `listener` every event this `Auth`'s guest instances emit
    /// (refreshes, blocks, disabled accounts), after the notifier the
    /// options named: for a host that counts them (serve's metrics).
    pub fn listen(&self, listener: std::sync::Arc<dyn crate::Notifier>) {
        let shared = self.instances.shared();
        shared.listeners.write().unwrap_or_else(std::sync::PoisonError::into_inner).push(listener);
    }

    /// Calls `changed` whenever any process (this one included) writes an
    /// account's pool state (a usage limit learned, usage updated), with the
    /// account's name, or with `None` when changes may have been missed (the
    /// connection was made again): for a host that caches
    /// [`Route`](crate::Route)s across a fleet. Only a database store can
    /// tell (PostgreSQL `LISTEN`/`NOTIFY`); elsewhere this returns `false`
    /// and never calls. Calls come from a thread of their own until this
    /// `Auth` is dropped.
    pub fn on_pool_change(&self, changed: impl Fn(Option<&str>) + Send + 'static) -> bool {
        let backend = std::sync::Arc::downgrade(self.instances.backend());
        self.instances.backend().listen_pool(
            move || backend.strong_count() > 0,
            move |change| match change {
                crate::database::PoolChange::Account(name) => changed(Some(&name)),
                crate::database::PoolChange::Any => changed(None),
            },
        )
    }

    /// Whether the accounts' store can be read now: `Err` says why not (a
    /// database down, a directory unreadable). Meanwhile a long-lived
    /// `Auth` still serves each account's token it holds while that is
    /// valid; nothing else is kept.
    pub fn store_health(&self) -> Result<(), Error> {
        self.instances.backend().accounts().map(drop).map_err(from_store)
    }

    /// The guest's defaults: what every `None` in [`Options`] stands for.
    pub fn defaults(&self) -> &Defaults {
        &self.runtime.defaults
    }

    // ---- the account in use ----------------------------------------------

    /// The account calls use: [`Options::account`] (which must exist, unless
    /// it is the home's own), else the one this `Auth` chose, else the one
    /// the pool would choose (the pinned one while usable, else by the
    /// strategy). Looking does not choose: round-robin does not advance.
    pub fn current_account(&self) -> Result<String, Error> {
        if let Some(name) = self.selection.peek() {
            return Ok(name);
        }
        let explicit = self.options.account.clone();
        self.instances
            .vault_call(|i| vault(&i.guest).call_select(&mut i.store, i.resource, explicit.as_deref()))
    }

    /// The account this `Auth`'s calls use, chosen by the pool on first use
    /// and again after it is blocked or the vault changes.
    pub(crate) fn chosen_account(&self) -> Result<String, Error> {
        let explicit = self.options.account.clone();
        self.selection.get_or_choose(|| {
            self.instances.vault_call(|i| {
                vault(&i.guest)
                    .call_choose(&mut i.store, i.resource, explicit.as_deref(), None, None)
                    .map(|c| c.map(|c| c.account))
            })
        })
    }

    // ---- plumbing ----------------------------------------------------------

    pub(crate) fn target(&self, name: Option<&str>) -> Result<String, Error> {
        let explicit = name.map(str::to_owned).or_else(|| self.options.account.clone());
        self.instances
            .vault_call(|i| vault(&i.guest).call_target(&mut i.store, i.resource, explicit.as_deref()))
    }

    pub(crate) fn forget_selection(&self) {
        self.selection.forget();
    }

    /// A session call on the account in use.
    pub(crate) fn session_call<R>(
        &self,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<Result<R, AuthError>>,
    ) -> Result<R, Error> {
        let account = self.chosen_account()?;
        self.instances.session_call(&account, f)
    }
}

pub(crate) fn from_store(e: StoreError) -> Error {
    match e {
        StoreError::Io(why) => Error::Storage(why),
        StoreError::LockTimeout(ms) => Error::LockTimeout(ms),
    }
}

pub(crate) fn saturate(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

/// The config file as JSON for the guest, or `None` when there is none. A
/// TOML syntax error names the line and column (and never quotes the line:
/// it may hold a key).
pub(crate) fn read_config_file(path: &Path) -> Result<Option<bindings::session::ConfigFile>, Error> {
    use crate::toml_file::TomlError;
    let json = crate::toml_file::read_as_json(path).map_err(|e| match e {
        TomlError::Read(why) => Error::Storage(why),
        TomlError::Syntax(why) => Error::InvalidInput(why),
    })?;
    Ok(json.map(|json| bindings::session::ConfigFile { path: path.display().to_string(), json }))
}

/// The guest's verdict on a config file.
fn check_config(
    runtime: &runtime::Runtime,
    file: &bindings::session::ConfigFile,
) -> Result<Result<(), String>, Error> {
    let (mut store, guest) =
        runtime::bare_instance(runtime, 16 << 20).map_err(|e| Error::Engine(e.to_string()))?;
    guest
        .codex_auth_vault()
        .call_check_config(&mut store, file)
        .map_err(|e| Error::GuestTrap(e.root_cause().to_string()))
}
