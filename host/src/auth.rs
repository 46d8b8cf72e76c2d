//! [`Auth`]: the credential manager of one vault home, driving the guest.
//!
//! Every account has a guest instance of its own behind a lock of its own,
//! so a refresh of one account never delays a call for another; listing
//! and status go through a separate vault instance that reads without any
//! lock, so they never wait behind a refresh.

use crate::backend::{AccountStore, Backend, StorePlan};
use crate::bindings::{self, session::Config, types::AuthError};
use crate::file_store::StoreError;
use crate::state::{HostState, Shared};
use crate::{
    Account, Attempt, AuthorizeRequest, CheckOutcome, Claims, Credential, Defaults, Error, InEffect, Learned,
    LoginMethod, LoginOptions, LogoutReport, Options, Removal, RequestHeaders, Secret, ServeSettings, Status,
    Upstream, UsageReport, runtime,
};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

/// The credential manager of one vault home: its accounts, and the one
/// calls use ([`Options::account`], else the pinned one, else the first usable).
pub struct Auth {
    options: Options,
    shared: Arc<Shared>,
    runtime: &'static runtime::Runtime,
    config: Config,
    /// The vault resource: listing, choosing, status; never held across a refresh.
    vault: Slot,
    /// One session instance per account, made on first use.
    sessions: Mutex<HashMap<String, Arc<Slot>>>,
    /// The account calls use, as the guest chose it; chosen again after
    /// anything that may change the choice.
    selected: Mutex<Option<String>>,
    /// Where the accounts are, as the guest's store plan says.
    backend: Arc<Backend>,
}

/// One guest instance behind a lock, made on first use.
#[derive(Default)]
struct Slot(Mutex<Option<Instance>>);

/// A live guest instance and its resource (a session or the vault).
struct Instance {
    store: Store<HostState>,
    guest: bindings::Guest,
    resource: ResourceAny,
}

/// Which resource an instance carries.
enum Resource<'a> {
    Vault,
    Session(&'a str),
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
        let auth = Self {
            options,
            shared,
            runtime,
            config,
            vault: Slot::default(),
            sessions: Mutex::default(),
            selected: Mutex::default(),
            backend,
        };
        // The vault instance reads no store until used: it answers the
        // store plan first, and the backend opens what it says.
        let given = auth.options.given();
        let plan = auth.with(&auth.vault, Resource::Vault, |i| {
            i.guest.codex_auth_vault().call_plan_stores(&mut i.store, &given, auth.config.file.as_ref())
        })?;
        auth.backend.plan(store_plan(plan.map_err(Error::InvalidInput)?)).map_err(from_store)?;
        for line in crate::take_over::finish_moves(&auth.backend) {
            auth.shared.notifier.notify(crate::LoginEvent::Info(format!("codex-auth: {line}")));
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
        let file = self.config.file.clone();
        let settings = self.with(&self.vault, Resource::Vault, |i| {
            i.guest.codex_auth_vault().call_settings(&mut i.store, &given, file.as_ref())
        })?;
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
        let file = self.config.file.clone();
        let serve = self.with(&self.vault, Resource::Vault, |i| {
            i.guest.codex_auth_vault().call_serve(&mut i.store, &given, file.as_ref())
        })?;
        serve.map_err(Error::InvalidInput)
    }

    /// The settings this home's sessions use, every value in effect.
    pub fn in_effect(&self) -> Result<InEffect, Error> {
        self.with(&self.vault, Resource::Vault, |i| vault(&i.guest).call_in_effect(&mut i.store, i.resource))
    }

    /// Whether every account is a row of a database (`--store postgres://...`)
    /// rather than a Codex home on disk.
    pub fn in_database(&self) -> bool {
        self.backend.in_database()
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
        if let Some(name) = lock(&self.selected).as_ref() {
            return Ok(name.clone());
        }
        let explicit = self.options.account.clone();
        self.vault_call(|i| vault(&i.guest).call_select(&mut i.store, i.resource, explicit.as_deref()))
    }

    /// The account this `Auth`'s calls use, chosen by the pool on first use
    /// and again after it is blocked or the vault changes.
    fn chosen_account(&self) -> Result<String, Error> {
        let mut selected = lock(&self.selected);
        if let Some(name) = selected.as_ref() {
            return Ok(name.clone());
        }
        let explicit = self.options.account.clone();
        let name = self.vault_call(|i| {
            vault(&i.guest).call_choose(&mut i.store, i.resource, explicit.as_deref(), None)
        })?;
        Ok(selected.insert(name).clone())
    }

    /// Ready headers for one conversation: the pool chooses the account
    /// (the session's while it is usable, else the pinned one, else by the
    /// strategy; [`Options::account`] overrides) and says which. Report what
    /// the upstream answered with [`Auth::report`].
    ///
    /// ```no_run
    /// use codex_auth::{Attempt, Auth, Options, Upstream, Verdict};
    /// let auth = Auth::open(Options::from_env())?;
    /// let (account, headers) = auth.headers_for(Some("conversation-42"))?;
    /// // ... send the request with `headers`; it answered 429:
    /// # let (status, answer_headers, body) = (429u16, Vec::<(String, String)>::new(), Vec::<u8>::new());
    /// let answer = Upstream::Answer { status, headers: &answer_headers, body: &body };
    /// let learned = auth.report(&account, answer, Attempt::FIRST)?;
    /// if learned.verdict == Verdict::RotateAndReplay {
    ///     let (sibling, headers) = auth.headers_for(Some("conversation-42"))?; // another account
    /// }
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn headers_for(&self, session_key: Option<&str>) -> Result<(String, RequestHeaders), Error> {
        let explicit = self.options.account.clone();
        let account = self.vault_call(|i| {
            vault(&i.guest).call_choose(&mut i.store, i.resource, explicit.as_deref(), session_key)
        })?;
        let headers = self.with(&self.slot(&account), Resource::Session(&account), |i| {
            Ok(session(&i.guest).call_request_headers(&mut i.store, i.resource)?.map(RequestHeaders::new))
        })??;
        Ok((account, headers))
    }

    /// Tells the pool what the upstream answered for `account`: rate-limit
    /// headers update its usage; a `usage_limit_reached` (a 429, or a
    /// `response.failed` event) blocks it until its reset, for every process;
    /// a 401 says to call [`Auth::unauthorized`].
    pub fn report(&self, account: &str, upstream: Upstream<'_>, attempt: Attempt) -> Result<Learned, Error> {
        let upstream = match upstream {
            Upstream::Answer { status, headers, body } => {
                bindings::vault::Upstream::Answer(bindings::vault::UpstreamAnswer {
                    status,
                    headers: headers.to_vec(),
                    body: body.to_vec(),
                })
            }
            Upstream::Event(event) => bindings::vault::Upstream::StreamEvent(event.to_vec()),
        };
        let learned = self.vault_call(|i| {
            Ok(vault(&i.guest)
                .call_report(&mut i.store, i.resource, account, &upstream, attempt)?
                .map(Learned::from))
        })?;
        if learned.blocked_until.is_some() {
            self.forget_selection();
        }
        Ok(learned)
    }

    /// Every account's usage: cached and shared by every process, fetched
    /// anew at most once per account per five minutes (give or take a quarter).
    pub fn usage(&self) -> Result<Vec<UsageReport>, Error> {
        self.accounts()?
            .iter()
            .map(|a| {
                self.vault_call(|i| {
                    Ok(vault(&i.guest).call_usage(&mut i.store, i.resource, &a.name)?.map(UsageReport::from))
                })
            })
            .collect()
    }

    /// Probes every account in turn (a refresh when due, then a usage
    /// request, each bounded in time): ok, failed with why, unverifiable, or
    /// skipped.
    pub fn check(&self) -> Result<Vec<(String, CheckOutcome)>, Error> {
        let mut outcomes = Vec::new();
        for account in self.accounts()? {
            let outcome = self.vault_call(|i| {
                Ok(vault(&i.guest)
                    .call_check(&mut i.store, i.resource, &account.name)?
                    .map(CheckOutcome::from))
            })?;
            outcomes.push((account.name, outcome));
        }
        Ok(outcomes)
    }

    /// What is signed in and from where. Read without any lock: it never
    /// waits behind a refresh.
    pub fn status(&self) -> Result<Status, Error> {
        let account = self.current_account()?;
        self.vault_call(|i| {
            Ok(vault(&i.guest).call_status(&mut i.store, i.resource, &account)?.map(Status::from))
        })
    }

    /// Whether a credential is available.
    pub fn authenticated(&self) -> Result<bool, Error> {
        let account = self.current_account()?;
        self.with(&self.slot(&account), Resource::Session(&account), |i| {
            session(&i.guest).call_authenticated(&mut i.store, i.resource)
        })
    }

    /// The bearer token to send (access token or API key).
    pub fn access_token(&self) -> Result<Secret, Error> {
        self.session_call(|i| {
            Ok(session(&i.guest).call_access_token(&mut i.store, i.resource)?.map(Secret::new))
        })
    }

    /// Ready request headers, refreshed first when the token is due.
    ///
    /// ```no_run
    /// # let auth = codex_auth::Auth::open(codex_auth::Options::from_env())?;
    /// let headers = auth.request_headers()?;
    /// let authorization = headers.get("Authorization").expect("always present");
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn request_headers(&self) -> Result<RequestHeaders, Error> {
        self.session_call(|i| {
            Ok(session(&i.guest).call_request_headers(&mut i.store, i.resource)?.map(RequestHeaders::new))
        })
    }

    /// Refreshes the tokens if they are due (always, with `force`).
    pub fn refresh(&self, force: bool) -> Result<Status, Error> {
        self.session_call(|i| {
            Ok(session(&i.guest).call_refresh(&mut i.store, i.resource, force)?.map(Status::from))
        })
    }

    /// 401 recovery: the API rejected `previous`. Returns the token to retry
    /// with: one another process stored meanwhile, else a refreshed one; else
    /// [`Error::LoginRequired`].
    ///
    /// ```no_run
    /// # let auth = codex_auth::Auth::open(codex_auth::Options::from_env())?;
    /// # let send = |_: &str| 401;
    /// let token = auth.access_token()?;
    /// if send(token.expose()) == 401 {
    ///     let retry = auth.unauthorized(&token)?; // Err(LoginRequired) when nothing helps
    ///     send(retry.expose());
    /// }
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn unauthorized(&self, previous: &Secret) -> Result<Secret, Error> {
        self.session_call(|i| {
            let r = session(&i.guest).call_unauthorized(&mut i.store, i.resource, previous.expose())?;
            Ok(r.map(Secret::new))
        })
    }

    /// Revokes the refresh token of the account in use (best effort), then
    /// forgets its credential. A failed revocation is reported, not an error.
    pub fn logout(&self) -> Result<LogoutReport, Error> {
        let report = self.session_call(|i| session(&i.guest).call_logout(&mut i.store, i.resource))?;
        self.forget_selection();
        Ok(LogoutReport { removed: report.removed, revocation: report.revocation.into() })
    }

    /// Reads the stores again (after another writer changed them), choosing
    /// the account anew.
    pub fn reload(&self) -> Result<(), Error> {
        self.forget_selection();
        self.session_call(|i| session(&i.guest).call_reload(&mut i.store, i.resource))
    }

    // ---- adding and signing in -------------------------------------------

    /// Stores a credential in [`Options::account`] (else the pinned account,
    /// else the home's own), replacing that account's atomically. No other
    /// account is touched.
    pub fn set_credential(&self, credential: Credential) -> Result<Status, Error> {
        self.store_credential(None, credential)
    }

    /// Stores a credential in account `name` (created when new), replacing
    /// only that account's. An API key can be an account too.
    ///
    /// ```no_run
    /// use codex_auth::{Auth, Credential, Options};
    /// let auth = Auth::open(Options::from_env())?;
    /// auth.store_credential(Some("ci-key"), Credential::ApiKey("sk-...".into()))?;
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn store_credential(&self, name: Option<&str>, credential: Credential) -> Result<Status, Error> {
        let account = self.target(name)?;
        let credential = credential.into_wit();
        self.with(&self.slot(&account), Resource::Session(&account), |i| {
            session(&i.guest).call_set_credential(&mut i.store, i.resource, &credential)
        })??;
        self.forget_selection();
        self.account_status(&account)
    }

    /// Signs in to [`LoginOptions::account`] (else [`Options::account`], else
    /// the pinned account, else the home's own) and stores the credential
    /// there, replacing only that account's; every other account is left
    /// as it is, and nothing is revoked.
    ///
    /// The sign-in runs on a guest instance of its own: other threads keep
    /// getting tokens and headers from this `Auth` while it waits.
    ///
    /// ```no_run
    /// use codex_auth::{Auth, LoginMethod, LoginOptions, Options};
    /// let auth = Auth::open(Options::from_env())?;
    /// let login = LoginOptions { account: Some("work".into()), method: LoginMethod::Device, ..LoginOptions::default() };
    /// let status = auth.login(&login)?;
    /// println!("signed in to {:?}", status.account);
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn login(&self, login: &LoginOptions) -> Result<Status, Error> {
        let account = self.target(login.account.as_deref())?;
        let options = bindings::session::LoginOptions {
            method: match login.method {
                LoginMethod::Auto => bindings::session::LoginMethod::Auto,
                LoginMethod::Browser => bindings::session::LoginMethod::Browser,
                LoginMethod::Device => bindings::session::LoginMethod::Device,
                LoginMethod::Paste => bindings::session::LoginMethod::Paste,
            },
            open_browser: login.open_browser,
            port: login.port,
            fallback_port: login.fallback_port,
            timeout_seconds: login.timeout.map(|t| saturate(t.as_secs())),
            os: std::env::consts::OS.to_owned(),
        };
        let mut instance = self.instantiate(Resource::Session(&account))?;
        let result = session(&instance.guest).call_login(&mut instance.store, instance.resource, &options);
        let status = result.map_err(|trap| Error::GuestTrap(trap.root_cause().to_string()))??;
        self.forget_selection();
        // The account's long-lived session must not serve what it read before.
        self.with(&self.slot(&account), Resource::Session(&account), |i| {
            session(&i.guest).call_reload(&mut i.store, i.resource)
        })?
        .map_err(Error::from)?;
        Ok(Status::from(status))
    }

    // ---- the vault ---------------------------------------------------------

    /// Every account: the home's own first, then by name. Reads without any
    /// lock, so it never waits behind a refresh; an unreadable store marks
    /// only its own account.
    ///
    /// ```no_run
    /// use codex_auth::{Auth, Options};
    /// let auth = Auth::open(Options::from_env())?;
    /// for account in auth.accounts()? {
    ///     println!("{} {:?} {:?}", account.name, account.email, account.state);
    /// }
    /// auth.use_account("work")?; // pin: calls use "work" from now on
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn accounts(&self) -> Result<Vec<Account>, Error> {
        self.vault_call(|i| {
            Ok(vault(&i.guest)
                .call_accounts(&mut i.store, i.resource)?
                .map(|v| v.into_iter().map(Account::from).collect()))
        })
    }

    /// Pins account `name`: calls use it when no account is asked for.
    pub fn use_account(&self, name: &str) -> Result<Account, Error> {
        let account = self.vault_call(|i| {
            Ok(vault(&i.guest).call_pin(&mut i.store, i.resource, name)?.map(Account::from))
        })?;
        self.forget_selection();
        Ok(account)
    }

    /// Forgets account `name`. A store of the vault's own is logged out
    /// under its lock (revoke, then delete); a linked Codex home is only
    /// unlinked and keeps its login.
    pub fn remove_account(&self, name: &str) -> Result<Removal, Error> {
        let removal = self.vault_call(|i| {
            Ok(vault(&i.guest).call_remove(&mut i.store, i.resource, name)?.map(Removal::from))
        })?;
        lock(&self.sessions).remove(name);
        self.forget_selection();
        Ok(removal)
    }

    /// Adds the Codex home `directory` as account `name`, in place: it is
    /// read and refreshed there, under its own `auth.lock`, so the Codex CLI
    /// and codex-auth share one login with one holder. Nothing is copied.
    pub fn link_codex_home(&self, name: &str, directory: &Path) -> Result<Account, Error> {
        let directory = directory.to_string_lossy();
        let account = self.vault_call(|i| {
            Ok(vault(&i.guest).call_link(&mut i.store, i.resource, name, &directory)?.map(Account::from))
        })?;
        self.forget_selection();
        Ok(account)
    }

    /// Takes the login of the Codex home `directory` over as a new account
    /// `name` of the vault's own: under that home's `auth.lock` its
    /// `auth.json` is written into the vault and then deleted there, so the
    /// source is logged out (not revoked) and one store holds the token.
    ///
    /// At every instant one store holds the login: on one file system the
    /// file is renamed; otherwise a journal lets the next command finish or
    /// roll back a move a crash interrupted. An account of that name that
    /// holds nothing (what an interrupted move leaves) is taken.
    pub fn move_codex_home(&self, name: &str, directory: &Path) -> Result<Status, Error> {
        self.vault_call(|i| vault(&i.guest).call_check_move_target(&mut i.store, i.resource, name))?;
        let wait = self.options.lock_timeout.unwrap_or(self.runtime.defaults.lock_timeout);
        // Where the Codex home keeps its login, as its config.toml says.
        let codex_config = read_config_file(&directory.join(&self.runtime.defaults.codex_config_file))?;
        let kind = self.vault_call(|i| {
            Ok(Ok(i.guest.codex_auth_vault().call_codex_home_store(&mut i.store, codex_config.as_ref())?))
        })?;
        let kind = AccountStore::from(kind.map_err(Error::InvalidInput)?);
        let mut source = Backend::home_store(directory, kind);
        source.lock(wait).map_err(from_store)?;
        let nothing = || {
            Error::InvalidInput(format!(
                "{} holds no credential to import (its login is kept in: {})",
                directory.display(),
                kind.name()
            ))
        };
        let bytes = source.load().map_err(from_store)?.ok_or_else(nothing)?;
        let parsed =
            self.vault_call(|i| Ok(Ok(i.guest.codex_auth_auth_file().call_read(&mut i.store, &bytes)?)))?;
        match parsed {
            Err(reason) => {
                return Err(Error::CorruptStore { path: directory.join(crate::AUTH_FILE), reason });
            }
            Ok(stored) if stored.credential.is_none() => return Err(nothing()),
            Ok(_) => {}
        }
        let mut target = self.backend.store(name).map_err(from_store)?;
        // The account is new: its lock is free unless another move races this
        // one, and nothing waits while the source's lock is held.
        target.lock(std::time::Duration::ZERO).map_err(from_store)?;
        // The login moves as it is: the Codex CLI's format, every field kept.
        let from = crate::take_over::Source { dir: directory, kind, store: &mut source };
        crate::take_over::move_login(&self.backend, name, from, &mut target, &bytes).map_err(from_store)?;
        drop((target, source));
        self.forget_selection();
        self.account_status(name)
    }

    /// Whether `name` can name an account (one safe path component: no
    /// `/`, `..`, white space or control characters); the error says why not.
    pub fn check_name(&self, name: &str) -> Result<(), Error> {
        let checked = self.with(&self.vault, Resource::Vault, |i| {
            i.guest.codex_auth_vault().call_check_name(&mut i.store, name)
        })?;
        checked.map_err(Error::InvalidInput)
    }

    /// Calls on account `name`, whatever the pool would choose (it must
    /// exist, unless it is the home's own). Each account keeps its own
    /// instance and lock, as with [`Options::account`].
    ///
    /// ```no_run
    /// # let auth = codex_auth::Auth::open(codex_auth::Options::from_env())?;
    /// let headers = auth.account("work")?.request_headers()?;
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn account(&self, name: &str) -> Result<AccountRef<'_>, Error> {
        let name = self.vault_call(|i| vault(&i.guest).call_select(&mut i.store, i.resource, Some(name)))?;
        Ok(AccountRef { auth: self, name })
    }

    /// The status of account `name`, read without its lock.
    pub fn account_status(&self, name: &str) -> Result<Status, Error> {
        self.vault_call(|i| {
            Ok(vault(&i.guest).call_status(&mut i.store, i.resource, name)?.map(Status::from))
        })
    }

    // ---- pure helpers --------------------------------------------------------

    /// The claims of a JWT (id or access token), read without verification.
    pub fn claims(&self, jwt: &str) -> Result<Claims, Error> {
        let parsed = self.with(&self.vault, Resource::Vault, |i| {
            i.guest.codex_auth_claims().call_parse(&mut i.store, jwt)
        })?;
        let c = parsed.map_err(|e| Error::InvalidInput(format!("not a readable JWT: {e:?}")))?;
        Ok(Claims {
            account_id: c.account_id,
            plan: c.plan,
            user_id: c.user_id,
            email: c.email,
            expires_at: c.expires_at,
        })
    }

    /// The authorize URL for a browser sign-in, exactly as `login` builds it.
    pub fn authorize_url(&self, request: &AuthorizeRequest) -> Result<String, Error> {
        let r = bindings::authorize::AuthorizeRequest {
            issuer: request.issuer.clone(),
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scope.clone(),
            code_challenge: request.code_challenge.clone(),
            state: request.state.clone(),
            originator: request.originator.clone(),
            allowed_workspace_id: request.allowed_workspace_id.clone(),
        };
        let url = self.with(&self.vault, Resource::Vault, |i| {
            i.guest.codex_auth_authorize().call_authorize_url(&mut i.store, &r)
        })?;
        url.map_err(Error::InvalidInput)
    }

    /// A PKCE pair (RFC 7636, S256) whose verifier is base64url of
    /// `entropy` (32 to 96 bytes). Returns (verifier, challenge).
    pub fn pkce(&self, entropy: &[u8]) -> Result<(Secret, String), Error> {
        let pair = self.with(&self.vault, Resource::Vault, |i| {
            i.guest.codex_auth_pkce().call_from_entropy(&mut i.store, entropy)
        })?;
        let pair = pair.map_err(|e| Error::InvalidInput(format!("no PKCE pair from this entropy: {e:?}")))?;
        Ok((Secret::new(pair.verifier), pair.challenge))
    }

    // ---- plumbing ----------------------------------------------------------

    fn target(&self, name: Option<&str>) -> Result<String, Error> {
        let explicit = name.map(str::to_owned).or_else(|| self.options.account.clone());
        self.vault_call(|i| vault(&i.guest).call_target(&mut i.store, i.resource, explicit.as_deref()))
    }

    fn forget_selection(&self) {
        lock(&self.selected).take();
    }

    /// The slot of `account`'s session instance.
    fn slot(&self, account: &str) -> Arc<Slot> {
        lock(&self.sessions).entry(account.to_owned()).or_default().clone()
    }

    /// A session call on the account in use.
    fn session_call<R>(
        &self,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<Result<R, AuthError>>,
    ) -> Result<R, Error> {
        let account = self.chosen_account()?;
        self.with(&self.slot(&account), Resource::Session(&account), f)?.map_err(Error::from)
    }

    /// A call on the vault instance.
    fn vault_call<R>(
        &self,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<Result<R, AuthError>>,
    ) -> Result<R, Error> {
        self.with(&self.vault, Resource::Vault, f)?.map_err(Error::from)
    }

    /// Runs `f` on the slot's instance, making one first. A trap discards
    /// the instance (it cannot be entered again) and its store locks with it.
    fn with<R>(
        &self,
        slot: &Slot,
        resource: Resource<'_>,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<R>,
    ) -> Result<R, Error> {
        let mut guard = lock(&slot.0);
        let instance = match guard.take() {
            Some(instance) => guard.insert(instance),
            None => guard.insert(self.instantiate(resource)?),
        };
        match f(instance) {
            Ok(r) => Ok(r),
            Err(trap) => {
                *guard = None;
                Err(Error::GuestTrap(trap.root_cause().to_string()))
            }
        }
    }

    fn instantiate(&self, resource: Resource<'_>) -> Result<Instance, Error> {
        let state = HostState::new(self.backend.clone(), self.shared.clone(), self.options.max_guest_memory);
        let (mut store, guest) =
            runtime::instantiate(self.runtime, state).map_err(|e| Error::Engine(e.to_string()))?;
        let made = match resource {
            Resource::Vault => guest.codex_auth_vault().vault().call_constructor(&mut store, &self.config),
            Resource::Session(account) => {
                guest.codex_auth_session().session().call_constructor(&mut store, account, &self.config)
            }
        };
        let resource = made.map_err(|e| Error::GuestTrap(e.root_cause().to_string()))?;
        Ok(Instance { store, guest, resource })
    }
}

/// One named account of an [`Auth`] ([`Auth::account`]).
#[derive(Debug)]
pub struct AccountRef<'a> {
    auth: &'a Auth,
    name: String,
}

impl AccountRef<'_> {
    /// The account's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn call<R>(
        &self,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<Result<R, AuthError>>,
    ) -> Result<R, Error> {
        self.auth.with(&self.auth.slot(&self.name), Resource::Session(&self.name), f)?.map_err(Error::from)
    }

    /// Its ready request headers, refreshed first when due.
    pub fn request_headers(&self) -> Result<RequestHeaders, Error> {
        self.call(|i| {
            Ok(session(&i.guest).call_request_headers(&mut i.store, i.resource)?.map(RequestHeaders::new))
        })
    }

    /// Its bearer token, refreshed first when due.
    pub fn access_token(&self) -> Result<Secret, Error> {
        self.call(|i| Ok(session(&i.guest).call_access_token(&mut i.store, i.resource)?.map(Secret::new)))
    }

    /// Refreshes it if due (always, with `force`).
    pub fn refresh(&self, force: bool) -> Result<Status, Error> {
        self.call(|i| Ok(session(&i.guest).call_refresh(&mut i.store, i.resource, force)?.map(Status::from)))
    }

    /// 401 recovery for it (see [`Auth::unauthorized`]).
    pub fn unauthorized(&self, previous: &Secret) -> Result<Secret, Error> {
        self.call(|i| {
            Ok(session(&i.guest)
                .call_unauthorized(&mut i.store, i.resource, previous.expose())?
                .map(Secret::new))
        })
    }
}

fn session(guest: &bindings::Guest) -> bindings::session::GuestSession<'_> {
    guest.codex_auth_session().session()
}

fn vault(guest: &bindings::Guest) -> bindings::vault::GuestVault<'_> {
    guest.codex_auth_vault().vault()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn from_store(e: StoreError) -> Error {
    match e {
        StoreError::Io(why) => Error::Storage(why),
        StoreError::LockTimeout(ms) => Error::LockTimeout(ms),
    }
}

fn saturate(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

/// The config file as JSON for the guest, or `None` when there is none. A
/// TOML syntax error names the line and column (and never quotes the line:
/// it may hold a key).
fn read_config_file(path: &Path) -> Result<Option<bindings::session::ConfigFile>, Error> {
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
    let (mut store, guest) = runtime::bare_instance(runtime).map_err(|e| Error::Engine(e.to_string()))?;
    guest
        .codex_auth_vault()
        .call_check_config(&mut store, file)
        .map_err(|e| Error::GuestTrap(e.root_cause().to_string()))
}

fn store_plan(plan: bindings::vault::StorePlan) -> StorePlan {
    let to = AccountStore::from;
    StorePlan {
        database: plan.database,
        default_store: to(plan.default_store),
        accounts: plan.accounts.into_iter().map(|(name, s)| (name, to(s))).collect(),
    }
}
