//! How an [`Auth`](crate::Auth) is set up: every path, URL and capability
//! is injectable, and [`Options::from_env`] reads the usual variables.

use crate::clock::{Clock, SystemClock};
use crate::notifier::{Notifier, Silent};
use crate::runtime::default_cache_dir;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The environment variable holding an API key, used when nothing is stored.
pub const API_KEY_VAR: &str = "OPENAI_API_KEY";
/// Variables that tell whether a browser can be used for signing in.
pub const LOGIN_ENV_VARS: [&str; 4] = ["DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY"];
/// The environment variable naming the store directory.
pub const HOME_VAR: &str = "CODEX_AUTH_HOME";
/// The environment variable overriding the issuer.
pub const ISSUER_VAR: &str = "CODEX_AUTH_ISSUER";
/// OpenAI's issuer.
pub const DEFAULT_ISSUER: &str = "https://auth.openai.com";
/// The Codex CLI's public OAuth client.
pub const DEFAULT_CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
/// The `originator` the Codex CLI sends.
pub const DEFAULT_ORIGINATOR: &str = "codex_cli_rs";

/// How an [`Auth`] is set up. Every path and URL is injectable.
#[derive(Clone)]
pub struct Options {
    /// The store directory (holds `auth.json` and `auth.lock`).
    pub home: PathBuf,
    /// Base URL of the issuer.
    pub issuer: String,
    /// The OAuth client id (the Codex CLI's public client by default).
    pub client_id: String,
    /// The `originator` sent when signing in.
    pub originator: String,
    /// Refresh when the access token expires within this.
    pub refresh_skew: Duration,
    /// Bound on waiting for the store lock.
    pub lock_timeout: Duration,
    /// Bound on each HTTP request.
    pub http_timeout: Duration,
    /// The API key to fall back on (never written to disk).
    pub api_key: Option<String>,
    /// Variables the guest reads to judge whether a browser can be used
    /// ([`LOGIN_ENV_VARS`]).
    pub environment: Vec<(String, String)>,
    /// Where compiled code is cached; `None` compiles every start.
    pub cache_dir: Option<PathBuf>,
    /// The most linear memory the guest may use.
    pub max_guest_memory: usize,
    /// The guest's clock.
    pub clock: Arc<dyn Clock>,
    /// Where sign-in progress goes.
    pub notifier: Arc<dyn Notifier>,
}

impl Options {
    /// Options for a store directory, with defaults for everything else and
    /// nothing read from the environment.
    pub fn new(home: impl Into<PathBuf>) -> Self {
        Self {
            home: home.into(),
            issuer: DEFAULT_ISSUER.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            originator: DEFAULT_ORIGINATOR.into(),
            refresh_skew: Duration::from_secs(5 * 60),
            lock_timeout: Duration::from_secs(30),
            http_timeout: Duration::from_secs(30),
            api_key: None,
            environment: Vec::new(),
            cache_dir: None,
            max_guest_memory: 64 << 20,
            clock: Arc::new(SystemClock),
            notifier: Arc::new(Silent),
        }
    }

    /// Options from the environment: `CODEX_AUTH_HOME` (default
    /// `~/.codex-auth`), `CODEX_AUTH_ISSUER`, `OPENAI_API_KEY`, and the
    /// compiled-code cache of [`default_cache_dir`].
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let home = var(HOME_VAR).map(PathBuf::from).unwrap_or_else(default_home);
        let mut options = Self::new(home);
        if let Some(issuer) = var(ISSUER_VAR) {
            options.issuer = issuer;
        }
        options.api_key = var(API_KEY_VAR);
        options.environment =
            LOGIN_ENV_VARS.iter().filter_map(|&name| Some((name.to_owned(), var(name)?))).collect();
        options.cache_dir = default_cache_dir();
        options
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("home", &self.home)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("cache_dir", &self.cache_dir)
            .finish_non_exhaustive()
    }
}

/// `~/.codex-auth`, or `.codex-auth` when there is no home directory.
pub fn default_home() -> PathBuf {
    std::env::home_dir().unwrap_or_default().join(".codex-auth")
}
