//! How an [`Auth`](crate::Auth) is set up: every path, URL and capability
//! is injectable, and [`Options::from_env`] reads the variables the guest
//! names. Settings left `None` take the guest's defaults ([`Defaults`]).

use crate::bindings::vault::GivenSetting;
use crate::clock::{Clock, SystemClock};
use crate::notifier::{Notifier, Silent};
use crate::pool::Strategy;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The guest's defaults and the environment variables it consults, defined
/// once in the guest and asked for by [`crate::defaults`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Defaults {
    /// OpenAI's issuer.
    pub issuer: String,
    /// The Codex CLI's public OAuth client.
    pub client_id: String,
    /// The `originator` the Codex CLI sends.
    pub originator: String,
    /// Refresh when the access token expires within this.
    pub refresh_skew: Duration,
    /// On a Codex home the Codex CLI also uses, refresh only when the
    /// access token expires within this.
    pub shared_refresh: Duration,
    /// Bound on waiting for a store lock (a holder keeps it at most two thirds of this).
    pub lock_timeout: Duration,
    /// Bound on each HTTP request.
    pub http_timeout: Duration,
    /// The loopback ports a browser sign-in tries, in order.
    pub login_ports: Vec<u16>,
    /// How long a sign-in waits.
    pub login_timeout: Duration,
    /// The account of the home's own `auth.json`.
    pub default_account: String,
    /// The config file's name in the vault's home.
    pub config_file: String,
    /// The Codex CLI's settings file in a Codex home.
    pub codex_config_file: String,
    /// The API key used when no account is stored.
    pub api_key_var: String,
    /// The account to use, like `--account`.
    pub account_var: String,
    /// The vault's home directory.
    pub home_var: String,
    /// The issuer.
    pub issuer_var: String,
    /// The ChatGPT backend (usage; the Codex Responses API under `/codex`).
    pub chatgpt_base_url: String,
    /// The ChatGPT base URL.
    pub chatgpt_base_url_var: String,
    /// How the pool chooses.
    #[serde(serialize_with = "crate::pool::strategy_name")]
    pub strategy: Strategy,
    /// The pool's strategy, by name.
    pub strategy_var: String,
    /// Where credentials are kept (`file`, `keyring`, a `postgres://` URL).
    pub store_var: String,
    /// A PostgreSQL URL holding the vault (below [`Defaults::store_var`]).
    pub database_url_var: String,
    /// Every variable the guest reads from its environment.
    pub guest_vars: Vec<String>,
    /// The vault's home in the user's home directory, unless
    /// [`Defaults::home_var`] says otherwise.
    pub home_dir: String,
    /// The Codex CLI's home: this variable...
    pub codex_home_var: String,
    /// ...else this directory in the user's home directory.
    pub codex_home_dir: String,
    /// Every strategy, by its name.
    #[serde(serialize_with = "crate::pool::strategy_names")]
    pub strategies: Vec<(String, Strategy)>,
    /// The account's own usage meter, which every model draws on; a
    /// [`Window`](crate::Window) or [`MeterBlock`](crate::MeterBlock) of
    /// another meter names it.
    pub main_meter: String,
    /// A host that caches [`Route`](crate::Route)s reports answers that
    /// carry only rate-limit headers at most this often per account.
    pub usage_report_interval: Duration,
}

/// How an [`Auth`](crate::Auth) is set up. Every path and URL is injectable;
/// `None` takes the guest's default.
#[derive(Clone)]
pub struct Options {
    /// The vault's home directory (its own account's `auth.json` and
    /// `auth.lock`, and `accounts/` for the others).
    pub home: PathBuf,
    /// The account calls use; `None`: the pinned one, else the first usable.
    pub account: Option<String>,
    /// Base URL of the issuer.
    pub issuer: Option<String>,
    /// The OAuth client id (the Codex CLI's public client by default).
    pub client_id: Option<String>,
    /// The `originator` sent when signing in.
    pub originator: Option<String>,
    /// Refresh when the access token expires within this.
    pub refresh_skew: Option<Duration>,
    /// On a store the Codex CLI also uses (a linked Codex home, a home that
    /// is one, its keyring entry), refresh only when the access token
    /// expires within this: the Codex CLI refreshes in its own 5-minute
    /// window without a lock, so that window is left to it.
    pub shared_refresh: Option<Duration>,
    /// Bound on waiting for a store lock.
    pub lock_timeout: Option<Duration>,
    /// Bound on each HTTP request.
    pub http_timeout: Option<Duration>,
    /// The ChatGPT backend (usage; the Codex Responses API under `/codex`).
    pub chatgpt_base_url: Option<String>,
    /// How the pool chooses among usable accounts.
    pub strategy: Option<Strategy>,
    /// The API key to fall back on (never written to disk): the
    /// `environment` tier, below every stored account.
    pub api_key: Option<String>,
    /// A key that beats everything (the `runtime` tier; never written).
    pub runtime_key: Option<String>,
    /// Variables the guest reads to judge whether a browser can be used
    /// (named in [`Defaults::guest_vars`]).
    pub environment: Vec<(String, String)>,
    /// Where credentials are kept: `file` (the default), `keyring` (the
    /// Codex CLI's keyring entry of each Codex home) or a `postgres://` URL
    /// (every account a row, shared by a fleet). Beats the environment and
    /// the config file.
    pub store: Option<String>,
    /// The settings the environment gave, by setting name (`issuer`,
    /// `store`, `database_url`...), for the guest to weigh against flags
    /// and the config file.
    pub(crate) environment_given: Vec<(String, String)>,
    /// The most linear memory the guest may use.
    pub max_guest_memory: usize,
    /// The guest's clock.
    pub clock: Arc<dyn Clock>,
    /// Where sign-in progress and the pool's events (an account disabled
    /// or blocked) go.
    pub notifier: Arc<dyn Notifier>,
    /// A setting from the environment that cannot be used; `Auth::open` says so.
    pub(crate) unusable: Option<String>,
}

impl Options {
    /// Options for a vault home, with the guest's defaults for everything
    /// else and nothing read from the environment.
    pub fn new(home: impl Into<PathBuf>) -> Self {
        Self {
            home: home.into(),
            account: None,
            issuer: None,
            client_id: None,
            originator: None,
            refresh_skew: None,
            shared_refresh: None,
            lock_timeout: None,
            http_timeout: None,
            chatgpt_base_url: None,
            strategy: None,
            api_key: None,
            runtime_key: None,
            environment: Vec::new(),
            store: None,
            environment_given: Vec::new(),
            max_guest_memory: 64 << 20,
            clock: Arc::new(SystemClock),
            notifier: Arc::new(Silent),
            unusable: None,
        }
    }

    /// Options from the environment, reading the variables the guest names
    /// ([`Defaults`]): the home (default `~/.codex-auth`), the account, the
    /// issuer, the API key, and those that tell whether a browser can be
    /// used.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut options = Self::new(default_home());
        // Without a runtime nothing can run; `Auth::open` reports why.
        let Ok(defaults) = crate::runtime::get().map(|r| &r.defaults) else {
            return options;
        };
        if let Some(home) = var(&defaults.home_var) {
            options.home = home.into();
        }
        options.account = var(&defaults.account_var);
        options.issuer = var(&defaults.issuer_var);
        options.chatgpt_base_url = var(&defaults.chatgpt_base_url_var);
        if let Some(name) = var(&defaults.strategy_var) {
            match Strategy::from_name(&name) {
                Some(strategy) => options.strategy = Some(strategy),
                None => {
                    options.unusable = Some(format!(
                        "{} is `{name}`: use one of {}",
                        defaults.strategy_var,
                        Strategy::names().join(", ")
                    ));
                }
            }
        }
        options.api_key = var(&defaults.api_key_var);
        options.environment_given = [
            ("issuer", &defaults.issuer_var),
            ("chatgpt_base_url", &defaults.chatgpt_base_url_var),
            ("account", &defaults.account_var),
            ("strategy", &defaults.strategy_var),
            ("store", &defaults.store_var),
            ("database_url", &defaults.database_url_var),
        ]
        .into_iter()
        .filter_map(|(name, v)| Some((name.to_owned(), var(v)?)))
        .collect();
        options.environment = defaults
            .guest_vars
            .iter()
            .filter(|&name| *name != defaults.api_key_var)
            .filter_map(|name| Some((name.clone(), var(name)?)))
            .collect();
        options
    }
}

impl Options {
    /// Every setting given here, with where it came from: what
    /// [`Options::from_env`] read is `environment`; a field set otherwise
    /// (a flag, the library's caller) is `flag`. The one list the guest
    /// weighs against the config file and its defaults.
    pub(crate) fn given(&self) -> Vec<GivenSetting> {
        let mut given: Vec<GivenSetting> = self
            .environment_given
            .iter()
            .map(|(name, value)| GivenSetting {
                name: name.clone(),
                value: value.clone(),
                origin: crate::bindings::vault::Origin::Environment,
            })
            .collect();
        let strategy = self.strategy.map(|s| s.name().to_owned());
        for (name, value) in [
            ("issuer", &self.issuer),
            ("chatgpt_base_url", &self.chatgpt_base_url),
            ("account", &self.account),
            ("strategy", &strategy),
            ("store", &self.store),
            ("api_key", &self.runtime_key),
        ] {
            let Some(value) = value else { continue };
            if !self.environment_given.iter().any(|(n, v)| n == name && v == value) {
                given.push(GivenSetting {
                    name: name.to_owned(),
                    value: value.clone(),
                    origin: crate::bindings::vault::Origin::Flag,
                });
            }
        }
        given
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("home", &self.home)
            .field("account", &self.account)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("runtime_key", &self.runtime_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// The vault's home when `CODEX_AUTH_HOME` does not say: `~/.codex-auth`
/// (the guest names the directory), relative when there is no home
/// directory.
pub fn default_home() -> PathBuf {
    let dir = crate::runtime::get().map(|r| r.defaults.home_dir.as_str()).unwrap_or_default();
    std::env::home_dir().unwrap_or_default().join(dir)
}

/// The Codex CLI's own home, as it finds it: `$CODEX_HOME`, else `~/.codex`
/// (the guest names both).
pub fn default_codex_home() -> PathBuf {
    let Ok(runtime) = crate::runtime::get() else { return PathBuf::new() };
    let d = &runtime.defaults;
    std::env::var_os(&d.codex_home_var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::home_dir().unwrap_or_default().join(&d.codex_home_dir))
}

/// The settings a home's sessions use, every value in effect
/// ([`crate::Auth::in_effect`]; the WIT record, used as it is).
pub use crate::bindings::vault::InEffect;
/// How `serve` runs ([`crate::Auth::serve_settings`]; the WIT record, used
/// as it is).
pub use crate::bindings::vault::ServeSettings;

/// Where a setting's value came from: `Flag`, `Environment`, `File` (the
/// config file), `Default`, `Unset` (no default), or `Codex` (a Codex
/// home's own `config.toml`, its sign-in keys only). The WIT enum, used as
/// it is; its JSON name is snake_case.
pub use crate::bindings::vault::Origin;

/// A setting's effective value ([`crate::Auth::settings`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Setting {
    /// Its name, as in the config file (`serve.port`...).
    pub name: String,
    /// Its value (a key only by its last four characters).
    pub value: Option<String>,
    /// Where the value came from.
    #[serde(serialize_with = "crate::status::snake_case")]
    pub origin: Origin,
}

impl From<crate::bindings::vault::Setting> for Setting {
    fn from(s: crate::bindings::vault::Setting) -> Self {
        Self { name: s.name, value: s.value, origin: s.origin }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::vault::Origin as O;

    #[test]
    fn given_marks_what_the_environment_read_and_what_was_set_over_it() {
        let mut options = Options::new("/vault");
        options.environment_given = vec![
            ("issuer".into(), "http://env".into()),
            ("account".into(), "work".into()),
            ("database_url".into(), "postgres://h/db".into()),
        ];
        // from_env put these in the fields too; a flag then replaced the issuer.
        options.account = Some("work".into());
        options.issuer = Some("http://flag".into());
        options.strategy = Some(Strategy::LeastUsed);
        options.runtime_key = Some("sk-runtime".into());
        let given: Vec<(String, String, O)> =
            options.given().into_iter().map(|g| (g.name, g.value, g.origin)).collect();
        let has = |name: &str, value: &str, origin: O| {
            given.iter().any(|(n, v, o)| n == name && v == value && *o == origin)
        };
        assert!(has("issuer", "http://env", O::Environment));
        assert!(has("issuer", "http://flag", O::Flag));
        assert!(has("account", "work", O::Environment));
        assert!(!has("account", "work", O::Flag), "read from the environment, not set again");
        assert!(has("database_url", "postgres://h/db", O::Environment));
        assert!(has("strategy", "least-used", O::Flag));
        assert!(has("api_key", "sk-runtime", O::Flag));
        assert_eq!(given.len(), 6);
    }
}
