//! Every default and every environment variable name, defined once. Hosts
//! ask for them (`vault.defaults` in the WIT world) instead of keeping a
//! copy, and pass `none` where they have no setting of their own.

/// OpenAI's issuer.
pub const ISSUER: &str = "https://auth.openai.com";
/// The Codex CLI's public OAuth client.
pub const CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
/// The `originator` the Codex CLI sends.
pub const ORIGINATOR: &str = "codex_cli_rs";
/// Refresh this long before `exp`.
pub const REFRESH_SKEW_SECONDS: u32 = 5 * 60;
/// On a Codex home the Codex CLI also uses, refresh only this long before
/// `exp`: the Codex CLI refreshes in its own 5-minute window without a lock
/// (PROTOCOL.md, Refresh), so the window before this one is left to it.
pub const SHARED_REFRESH_SECONDS: u32 = 60;
/// How long a caller waits for a store lock.
pub const LOCK_TIMEOUT_MS: u32 = 45_000;
/// Bound on each HTTP request.
pub const HTTP_TIMEOUT_MS: u32 = 30_000;
/// The loopback ports the issuer accepts redirect URIs on, in order.
pub const LOGIN_PORTS: [u16; 2] = [1455, 1457];
/// How long a sign-in waits for the person.
pub const LOGIN_TIMEOUT_SECONDS: u32 = 600;
/// The ChatGPT backend: usage, and the Codex Responses API under `/codex`.
pub const CHATGPT_BASE_URL: &str = "https://chatgpt.com/backend-api";
/// `serve`: its loopback port, stable so configurations can name it
/// (`serve --print-config`); 0 asks for a free one, chosen at start.
pub const SERVE_PORT: u16 = 8765;
/// `serve`: how long open streams may finish after SIGTERM.
pub const SERVE_DRAIN_SECONDS: u64 = 10;
/// `serve`: request bodies up to this size can be replayed.
pub const SERVE_REPLAY_LIMIT: u64 = 8 << 20;
/// The account of the home's own `auth.json` (what the first release wrote).
pub const DEFAULT_ACCOUNT: &str = "default";

/// The API key used when no account is stored (never written to disk).
pub const API_KEY_VAR: &str = "OPENAI_API_KEY";
/// The account to use, as `--account` does.
pub const ACCOUNT_VAR: &str = "CODEX_AUTH_ACCOUNT";
/// The store directory (the vault's home).
pub const HOME_VAR: &str = "CODEX_AUTH_HOME";
/// The issuer, overriding [`ISSUER`].
pub const ISSUER_VAR: &str = "CODEX_AUTH_ISSUER";
/// The ChatGPT backend, overriding [`CHATGPT_BASE_URL`].
pub const CHATGPT_BASE_URL_VAR: &str = "CODEX_AUTH_CHATGPT_BASE_URL";
/// The pool's strategy (`round-robin`, `least-used`, `drain-first`).
pub const STRATEGY_VAR: &str = "CODEX_AUTH_STRATEGY";
/// Where credentials are kept: `file`, `keyring` or a `postgres://` URL.
pub const STORE_VAR: &str = "CODEX_AUTH_STORE";
/// A PostgreSQL URL that holds the vault (below `CODEX_AUTH_STORE`).
pub const DATABASE_URL_VAR: &str = "CODEX_AUTH_DATABASE_URL";
/// Variables that tell whether a browser can be used for signing in.
pub const LOGIN_VARS: [&str; 4] = ["DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY"];
/// The Codex CLI's home, as the Codex CLI reads it...
pub const CODEX_HOME_VAR: &str = "CODEX_HOME";
/// ...else this directory in the user's home directory.
pub const CODEX_HOME_DIR: &str = ".codex";
/// The user's home directory.
pub const USER_HOME_VAR: &str = "HOME";
/// The vault's home in the user's home directory, unless [`HOME_VAR`] says.
pub const HOME_DIR: &str = ".codex-auth";

/// Inside a vault's home: the directory of its own accounts (each a Codex
/// home, or a link to one)...
pub const ACCOUNTS_DIR: &str = "accounts";
/// ...its settings (the pinned account) and their lock...
pub const SETTINGS_FILE: &str = "vault.json";
pub const SETTINGS_LOCK: &str = "vault.lock";
/// ...each account's pool state (`<name>.json`, `<name>.lock`)...
pub const POOL_DIR: &str = "pool";
/// ...and the journal of `import --move`s in progress (`<name>.json`).
pub const MOVES_DIR: &str = "moves";

/// A lock holder never keeps a lock longer than this share of
/// [`LOCK_TIMEOUT_MS`] (the bound on its one request under the lock), so a
/// waiter never times out behind a healthy holder.
pub const fn held_at_most_ms(lock_timeout_ms: u32) -> u32 {
    lock_timeout_ms / 3 * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_lets_go_well_before_a_waiter_gives_up() {
        for timeout in [0, 1, 3, 1000, LOCK_TIMEOUT_MS, u32::MAX] {
            assert!(held_at_most_ms(timeout) < timeout.max(1), "{timeout}");
        }
        assert!(held_at_most_ms(LOCK_TIMEOUT_MS) >= HTTP_TIMEOUT_MS, "the default request bound fits");
    }
}

wit_enum! {
    /// How an account is chosen among the usable ones when none is pinned.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub enum Strategy {
        /// The one chosen longest ago.
        RoundRobin,
        /// The one with the lowest use of its binding window.
        LeastUsed,
        /// The most used one that still works, in listing order on ties: one
        /// account at a time, the next when it is blocked.
        #[default]
        DrainFirst,
    }
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Self::RoundRobin => "round-robin",
            Self::LeastUsed => "least-used",
            Self::DrainFirst => "drain-first",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL.iter().copied().find(|s| s.name() == text).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|s| s.name()).collect();
            format!("unknown strategy `{text}`: one of {}", names.join(", "))
        })
    }
}
