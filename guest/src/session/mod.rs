//! The credential manager of one store: loads `auth.json` once, applies the
//! precedence rules, and hands out tokens, headers and status.
//!
//! It reaches the outside world only through [`Platform`], so the same code
//! runs in the component and natively against a fake in tests.

pub mod endpoints;
pub mod login;
pub mod logout;
pub mod policy;
pub mod refresh;
pub mod settings;
pub mod status;
mod verdict;

#[cfg(test)]
mod login_tests;
#[cfg(test)]
mod refresh_tests;
#[cfg(test)]
mod shared_home_tests;
#[cfg(test)]
pub(crate) mod tests;

use crate::defaults;
use crate::error::AuthError;
use crate::oauth::jwt::{self, Claims};
use crate::oauth::oauth_error::OAuthError;
use crate::platform::Platform;
use crate::session::policy::{RefreshDecision, StoredKind, Tier};
use crate::store::auth_file::{self, ChatGptTokens, Credential, StoredAuth};
use crate::store::codex_config::CodexConfig;
use crate::store::codex_home;
use crate::store::command::CommandSpec;
use crate::store::config_file::ConfigFile;
use std::cell::{Cell, Ref, RefCell};

/// After a failed proactive refresh, how long the still-valid token is
/// served before the issuer is tried again.
pub const PROACTIVE_RETRY_PAUSE_MS: i64 = 60_000;
/// A proactive refresh (the token still works) waits at most this long.
pub const PROACTIVE_TIMEOUT_MS: u32 = 10_000;

pub use crate::defaults::API_KEY_VAR;
pub use verdict::HeadersVerdict;

/// When a refresh request is needed, judged on the store read under the lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// Only when the stored access token is due or expired.
    IfDue,
    /// Always (`refresh --force`).
    Always,
    /// Unless the stored access token differs from this one, which the API
    /// just rejected (401 recovery).
    Replace(String),
}

/// How a session behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The account whose store this session uses.
    pub account: String,
    pub issuer: String,
    pub client_id: String,
    pub originator: String,
    pub refresh_skew_seconds: u32,
    /// On a store the Codex CLI also uses, refresh only this long before
    /// `exp` (see [`crate::store::codex_home`]).
    pub shared_refresh_seconds: u32,
    pub lock_timeout_ms: u32,
    pub http_timeout_ms: u32,
    /// The ChatGPT backend (usage, the Codex Responses API).
    pub chatgpt_base_url: String,
    /// How the pool chooses among usable accounts.
    pub strategy: crate::defaults::Strategy,
    /// A key that beats everything stored (the `runtime` tier:
    /// `--api-key-stdin`, or the library's option). Never written.
    pub runtime_key: Option<String>,
    /// The vault's `config.toml`, read (never written), and its path.
    pub file: Option<ConfigFile>,
    pub file_path: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            account: defaults::DEFAULT_ACCOUNT.into(),
            issuer: defaults::ISSUER.into(),
            client_id: defaults::CLIENT_ID.into(),
            originator: defaults::ORIGINATOR.into(),
            refresh_skew_seconds: defaults::REFRESH_SKEW_SECONDS,
            shared_refresh_seconds: defaults::SHARED_REFRESH_SECONDS,
            lock_timeout_ms: defaults::LOCK_TIMEOUT_MS,
            http_timeout_ms: defaults::HTTP_TIMEOUT_MS,
            chatgpt_base_url: defaults::CHATGPT_BASE_URL.into(),
            strategy: crate::defaults::Strategy::default(),
            runtime_key: None,
            file: None,
            file_path: String::new(),
        }
    }
}

wit_enum! {
    /// What kind of credential is in use.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Kind {
        Subscription,
        ApiKey,
        /// A program prints the token.
        Command,
        None,
    }
}

/// Where the credential in use came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Store(String),
    Environment(String),
    /// A runtime override.
    Runtime,
    /// The config file at this path.
    Config(String),
    /// A command account's program (as a command line).
    Command(String),
    None,
}

/// What `status` reports; never a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The account whose store is in use; `None` when the credential came
    /// from the environment or there is none.
    pub account: Option<String>,
    pub kind: Kind,
    pub source: Source,
    pub tier: Tier,
    pub account_id: Option<String>,
    pub plan: Option<String>,
    pub email: Option<String>,
    pub user_id: Option<String>,
    pub expires_at: Option<i64>,
    pub last_refresh: Option<i64>,
    pub login_required: bool,
    pub api_key_hint: Option<String>,
    /// The Codex CLI uses this store too, so codex-auth refreshes it only in
    /// the final window (see [`crate::store::codex_home`]).
    pub shared_with_codex: bool,
}

/// What logout did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutReport {
    pub removed: bool,
    pub revocation: Revocation,
}

/// What revoking the refresh token came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revocation {
    NotNeeded,
    Revoked,
    Failed(String),
}

/// The credential in use, with what was derived from it at load time so the
/// hot path (headers, tokens) parses nothing.
enum Active {
    Subscription {
        tokens: ChatGptTokens,
        identity: Claims,
        access_expires_at: Option<i64>,
    },
    StoredKey(String),
    RuntimeKey(String),
    ConfigKey(String),
    /// A command account, and the token its last run printed (when, ms):
    /// kept in memory only.
    Command {
        spec: CommandSpec,
        last: RefCell<Option<(String, i64)>>,
    },
    EnvironmentKey(String),
    None,
}

/// The store as last read.
pub(crate) struct Loaded {
    stored: StoredAuth,
    active: Active,
}

/// The credential manager of one store.
pub struct Session<P> {
    pub(crate) platform: P,
    pub(crate) config: Config,
    loaded: RefCell<Option<Loaded>>,
    /// After a proactive refresh failed, the still-valid token is served
    /// without asking the issuer again until this instant (Unix ms).
    proactive_pause_until_ms: Cell<i64>,
    /// Whether the Codex CLI uses the store too; judged on first need and
    /// again after a reload.
    shared: Cell<Option<bool>>,
}

impl<P: Platform> Session<P> {
    pub fn new(platform: P, config: Config) -> Self {
        Self {
            platform,
            config,
            loaded: RefCell::new(None),
            proactive_pause_until_ms: Cell::new(i64::MIN),
            shared: Cell::new(None),
        }
    }

    /// Whether the Codex CLI uses this store too (see [`codex_home`]).
    pub fn shared(&self) -> bool {
        if let Some(shared) = self.shared.get() {
            return shared;
        }
        let account = &self.config.account;
        let var = |name: &str| self.platform.env_var(name);
        let codex_home = codex_home::default_home(
            var(defaults::CODEX_HOME_VAR).as_deref(),
            var(defaults::USER_HOME_VAR).as_deref(),
        );
        let signs = self.platform.home_signs(account, codex_home.as_deref(), &codex_home::SIGNS);
        let shared = codex_home::shared(self.platform.linked_to(account).is_some(), &signs);
        self.shared.set(Some(shared));
        shared
    }

    /// The sign-in keys of the account's Codex home's `config.toml`.
    pub fn codex_config(&self) -> Result<Option<CodexConfig>, AuthError> {
        match self.platform.codex_config(&self.config.account)? {
            None => Ok(None),
            Some((path, json)) => {
                crate::store::codex_config::parse(&json, &path).map(Some).map_err(AuthError::InvalidInput)
            }
        }
    }

    /// How long before `exp` a refresh is due for this store.
    pub(crate) fn skew_seconds(&self) -> u32 {
        codex_home::refresh_skew(
            self.shared(),
            self.config.refresh_skew_seconds,
            self.config.shared_refresh_seconds,
        )
    }

    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// Whether any credential is available.
    pub fn authenticated(&self) -> bool {
        self.loaded_ref().is_ok_and(|l| !matches!(l.active, Active::None))
    }

    /// The bearer token to send.
    pub fn access_token(&self) -> Result<String, AuthError> {
        self.with_bearer(|token, _| token.to_owned())
    }

    /// `Authorization` (and `chatgpt-account-id` for a subscription).
    pub fn request_headers(&self) -> Result<Vec<(String, String)>, AuthError> {
        self.with_bearer(policy::request_headers)
    }

    /// Calls `f` with the token to send and the account, refreshing first
    /// when the policy says so.
    fn with_bearer<R>(&self, f: impl FnOnce(&str, Option<&str>) -> R) -> Result<R, AuthError> {
        // The hot path borrows the state: no copy of a token, no JWT parsing.
        let (decision, access_token, account_id) = {
            let loaded = self.loaded_ref()?;
            let (tokens, expires_at) = match &loaded.active {
                Active::Subscription { tokens, access_expires_at, .. } => (tokens, *access_expires_at),
                Active::StoredKey(key)
                | Active::EnvironmentKey(key)
                | Active::RuntimeKey(key)
                | Active::ConfigKey(key) => return Ok(f(key, None)),
                Active::Command { spec, last, .. } => {
                    return self.command_token(spec, last).map(|t| f(&t, None));
                }
                Active::None => return Err(AuthError::NotLoggedIn),
            };
            if let Some(dead) = &loaded.stored.login_required {
                return Err(AuthError::LoginRequired(dead.clone()));
            }
            let decision = policy::decide_refresh(
                expires_at,
                loaded.stored.last_refresh,
                self.now_seconds(),
                self.skew_seconds(),
            );
            let paused = decision == RefreshDecision::Due
                && self.platform.now_ms() < self.proactive_pause_until_ms.get();
            if decision == RefreshDecision::Fresh || paused {
                return Ok(f(&tokens.access_token, tokens.account_id.as_deref()));
            }
            (decision, tokens.access_token.clone(), tokens.account_id.clone())
        };
        match self.refresh_under_lock(&Need::IfDue) {
            Ok(()) => {
                self.proactive_pause_until_ms.set(i64::MIN);
                let (token, account) = self.current_bearer()?;
                Ok(f(&token, account.as_deref()))
            }
            // A proactive refresh that could not reach the issuer, or the
            // store (a database that is down, a lock held too long): the old
            // token still works until it expires; do not make every call
            // wait meanwhile.
            Err(AuthError::Transport(_) | AuthError::Storage(_) | AuthError::LockTimeout(_))
                if decision == RefreshDecision::Due =>
            {
                self.proactive_pause_until_ms
                    .set(self.platform.now_ms().saturating_add(PROACTIVE_RETRY_PAUSE_MS));
                Ok(f(&access_token, account_id.as_deref()))
            }
            Err(e) => Err(e),
        }
    }

    /// The token in the session's state, without any refresh.
    fn current_bearer(&self) -> Result<(String, Option<String>), AuthError> {
        let loaded = self.loaded_ref()?;
        if let Some(dead) = &loaded.stored.login_required {
            return Err(AuthError::LoginRequired(dead.clone()));
        }
        match &loaded.active {
            Active::Subscription { tokens, .. } => {
                Ok((tokens.access_token.clone(), tokens.account_id.clone()))
            }
            Active::StoredKey(key)
            | Active::EnvironmentKey(key)
            | Active::RuntimeKey(key)
            | Active::ConfigKey(key) => Ok((key.clone(), None)),
            Active::Command { spec, last, .. } => Ok((self.command_token(spec, last)?, None)),
            Active::None => Err(AuthError::NotLoggedIn),
        }
    }

    /// Refreshes now if due (or always, with `force`) and returns the status.
    pub fn refresh(&self, force: bool) -> Result<Status, AuthError> {
        if !self.is_subscription()? {
            return Err(AuthError::InvalidInput("only a ChatGPT sign-in can be refreshed".into()));
        }
        self.refresh_under_lock(if force { &Need::Always } else { &Need::IfDue })?;
        self.status()
    }

    /// 401 recovery: the API rejected `previous`. First the store (a peer
    /// may have refreshed), then a refresh, then login-required.
    pub fn unauthorized(&self, previous: &str) -> Result<String, AuthError> {
        // A command account: run it again, once for any number of callers
        // holding the same rejected token.
        if let Ok(loaded) = self.loaded_ref()
            && let Active::Command { spec, last, .. } = &loaded.active
        {
            let cached = last.borrow().as_ref().map(|(token, _)| token.clone());
            if cached.as_deref().is_some_and(|t| t != previous) {
                return Ok(cached.unwrap_or_default());
            }
            last.replace(None);
            let token = self.command_token(spec, last)?;
            if token == previous {
                return Err(AuthError::LoginRequired(OAuthError {
                    code: "unauthorized".into(),
                    description: Some(format!(
                        "the API rejected the token of `{}`, and it printed the same one again",
                        spec.display()
                    )),
                }));
            }
            return Ok(token);
        }
        self.loaded.replace(None);
        let (current, _) = self.current_bearer()?;
        if current != previous {
            return Ok(current);
        }
        if !self.is_subscription()? {
            return Err(AuthError::LoginRequired(OAuthError {
                code: "invalid_api_key".into(),
                description: Some("the API rejected the API key".into()),
            }));
        }
        self.refresh_under_lock(&Need::Replace(previous.to_owned()))?;
        let (token, _) = self.current_bearer()?;
        if token == previous {
            return Err(AuthError::LoginRequired(OAuthError {
                code: "unauthorized".into(),
                description: Some(
                    "the API rejected the access token and a refresh did not replace it".into(),
                ),
            }));
        }
        Ok(token)
    }

    /// Forgets what was read; the next call reads the store again.
    pub fn reload(&self) -> Result<(), AuthError> {
        self.loaded.replace(None);
        self.shared.set(None);
        self.loaded_ref().map(drop)
    }

    /// Writes `stored` over `previous` and makes it the session's state.
    pub(crate) fn write(&self, previous: Option<&[u8]>, stored: StoredAuth) -> Result<(), AuthError> {
        let bytes = auth_file::write(previous, &stored).map_err(|reason| self.corrupt(reason))?;
        self.platform.save(&self.config.account, &bytes)?;
        self.adopt(stored);
        Ok(())
    }

    fn is_subscription(&self) -> Result<bool, AuthError> {
        Ok(matches!(self.loaded_ref()?.active, Active::Subscription { .. }))
    }

    /// A borrow of the store as last read (read on first use); drop it
    /// before changing the state.
    fn loaded_ref(&self) -> Result<Ref<'_, Loaded>, AuthError> {
        if self.loaded.borrow().is_none() {
            let loaded = self.activate(self.read_store()?)?;
            self.loaded.replace(Some(loaded));
        }
        Ok(Ref::map(self.loaded.borrow(), |l| l.as_ref().expect("loaded just above")))
    }

    /// Reads and parses the store file, bypassing the cache.
    pub(crate) fn read_store(&self) -> Result<StoredAuth, AuthError> {
        match self.platform.load(&self.config.account)? {
            None => Ok(StoredAuth::default()),
            Some(bytes) => auth_file::read(&bytes).map_err(|reason| self.corrupt(reason)),
        }
    }

    /// Makes `stored` (read under the lock) the session's state.
    pub(crate) fn adopt(&self, stored: StoredAuth) {
        // An unusable environment key only matters when it is chosen; the
        // next read reports it.
        self.loaded.replace(self.activate(stored).ok());
    }

    fn activate(&self, stored: StoredAuth) -> Result<Loaded, AuthError> {
        let configured = self.config.file.as_ref().and_then(|f| f.accounts.get(&self.config.account));
        let kind = match (&stored.credential, configured.and_then(|c| c.command.as_ref())) {
            (Some(Credential::Chatgpt(_)), _) => StoredKind::Subscription,
            (Some(Credential::ApiKey(_)), _) => StoredKind::ApiKey,
            (Some(Credential::Command(_)), _) | (None, Some(_)) => StoredKind::Command,
            (None, None) => StoredKind::None,
        };
        let env_key = self.platform.env_var(API_KEY_VAR).filter(|k| !k.trim().is_empty());
        let runtime_key = self.config.runtime_key.as_deref().filter(|k| !k.trim().is_empty());
        let config_key =
            self.config.file.as_ref().and_then(|f| f.api_key.as_deref()).filter(|k| !k.trim().is_empty());
        let shaped = |key: &str, what: &str| {
            let key = key.trim().to_owned();
            if crate::oauth::token_shaped(&key) {
                Ok(key)
            } else {
                Err(AuthError::InvalidInput(format!(
                    "{what} holds characters an API key never has (spaces, line breaks, non-ASCII)"
                )))
            }
        };
        let tier = policy::choose_tier(runtime_key.is_some(), config_key.is_some(), kind, env_key.is_some());
        let active = match (tier, &stored.credential) {
            (Tier::Runtime, _) => {
                Active::RuntimeKey(shaped(runtime_key.unwrap_or_default(), "the runtime API key")?)
            }
            (Tier::Config, _) => {
                Active::ConfigKey(shaped(config_key.unwrap_or_default(), "`api_key` in the config file")?)
            }
            (Tier::Store, Some(Credential::Chatgpt(tokens))) => {
                let identity = jwt::parse(&tokens.id_token).unwrap_or_default();
                let access = jwt::parse(&tokens.access_token).unwrap_or_default();
                let mut tokens = tokens.clone();
                tokens.account_id =
                    tokens.account_id.or_else(|| identity.account_id.clone()).or(access.account_id);
                Active::Subscription { tokens, identity, access_expires_at: access.expires_at }
            }
            (Tier::Store, Some(Credential::ApiKey(key))) => Active::StoredKey(key.clone()),
            (Tier::Command, stored) => {
                let spec = match (stored, configured.and_then(|c| c.command.clone())) {
                    (Some(Credential::Command(spec)), _) => spec.clone(),
                    (_, Some(spec)) => spec,
                    _ => return Err(AuthError::Internal(Some("a command account without a command".into()))),
                };
                Active::Command { spec, last: RefCell::new(None) }
            }
            (Tier::Environment, _) => {
                Active::EnvironmentKey(shaped(&env_key.unwrap_or_default(), API_KEY_VAR)?)
            }
            _ => Active::None,
        };
        Ok(Loaded { stored, active })
    }

    /// A command account's token: the last one while its interval lasts,
    /// else a new run. Every caller of this session shares one run (calls
    /// are serialized), and the token is never written anywhere.
    fn command_token(
        &self,
        spec: &CommandSpec,
        last: &RefCell<Option<(String, i64)>>,
    ) -> Result<String, AuthError> {
        let now = self.platform.now_ms();
        if let Some((token, at)) = last.borrow().as_ref()
            && spec.still_valid(*at, now)
        {
            return Ok(token.clone());
        }
        let token = spec.token(self.platform.run(&spec.program, &spec.args, spec.timeout_ms()))?;
        last.replace(Some((token.clone(), now)));
        Ok(token)
    }

    pub(crate) fn corrupt(&self, reason: String) -> AuthError {
        AuthError::corrupt(self.platform.store_location(&self.config.account), reason)
    }

    pub(crate) fn now_seconds(&self) -> i64 {
        self.platform.now_ms().div_euclid(1000)
    }

    /// Takes the store lock until the guard drops.
    pub(crate) fn lock(&self) -> Result<LockGuard<'_, P>, AuthError> {
        self.platform.lock(&self.config.account, self.config.lock_timeout_ms)?;
        Ok(LockGuard { platform: &self.platform, account: &self.config.account })
    }

    /// The bound on a request sent under the store lock: well inside what a
    /// waiter waits for the lock.
    pub(crate) fn request_bound_ms(&self) -> u32 {
        self.config.http_timeout_ms.min(defaults::held_at_most_ms(self.config.lock_timeout_ms))
    }
}

/// Releases the store lock when dropped, on every path out.
pub(crate) struct LockGuard<'a, P: Platform> {
    platform: &'a P,
    account: &'a str,
}

impl<P: Platform> Drop for LockGuard<'_, P> {
    fn drop(&mut self) {
        self.platform.unlock(self.account);
    }
}
