//! What `status` reports, in the host's terms. Never holds a token.

use crate::bindings::types as wit;
use serde::Serialize;
use std::path::PathBuf;

/// What kind of credential is in use: `Subscription` (signed in with
/// ChatGPT), `ApiKey` (stored, or from the environment), `Command` (a
/// command account's token) or `None` (the WIT enum, used as it is; its
/// JSON name is snake_case, `api_key`).
pub use wit::CredentialKind as Kind;

/// A unit variant's name in snake_case (`LoggedOut` as `logged_out`), for
/// the JSON of the WIT enums the host uses as they are.
pub(crate) fn snake_case<T: std::fmt::Debug, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let debug = format!("{value:?}");
    let name = debug.rsplit("::").next().unwrap_or_default();
    let mut snake = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    serializer.serialize_str(&snake)
}

/// Where the credential in use came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "at", rename_all = "snake_case")]
pub enum Source {
    /// The store file at this path.
    Store(PathBuf),
    /// The environment variable of this name (never written to disk).
    Environment(String),
    /// A runtime override (`--api-key-stdin`, or [`crate::Options::runtime_key`]).
    Runtime,
    /// The config file at this path.
    Config(PathBuf),
    /// A command account's program, as a command line.
    Command(String),
    /// Nowhere.
    None,
}

/// Which tier the credential in use came from, highest first: `Runtime`
/// (an override), `Config` (`api_key` in the config file), `Store` (the
/// chosen account's store), `Command` (its command), `Environment`
/// (`OPENAI_API_KEY`) or `None` (the WIT enum, used as it is; its JSON name
/// is snake_case).
pub use wit::CredentialTier as Tier;

/// The signed-in state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The account whose store is in use; `None` for a key from the
    /// environment, or nothing.
    pub account: Option<String>,
    /// What kind of credential is in use.
    #[serde(serialize_with = "snake_case")]
    pub kind: Kind,
    /// Where it came from.
    pub source: Source,
    /// Which tier won: `runtime`, `config`, `store`, `command`, `environment` (or `none`).
    #[serde(serialize_with = "snake_case")]
    pub tier: Tier,
    /// The ChatGPT account (workspace) id.
    pub account_id: Option<String>,
    /// The ChatGPT plan.
    pub plan: Option<String>,
    /// The account's email address.
    pub email: Option<String>,
    /// The ChatGPT user id.
    pub user_id: Option<String>,
    /// When the access token expires (Unix seconds).
    pub expires_at: Option<i64>,
    /// When the tokens were last refreshed (Unix seconds).
    pub last_refresh: Option<i64>,
    /// The refresh token was rejected for good: sign in again.
    pub login_required: bool,
    /// The last characters of an API key, for display.
    pub api_key_hint: Option<String>,
    /// The Codex CLI uses this store too (a Codex home): codex-auth leaves
    /// its refresh window to it and refreshes only in the final one
    /// ([`crate::Options::shared_refresh`]), when expired, on a 401, or when forced.
    pub shared_with_codex: bool,
}

impl Status {
    /// Whether a usable credential is there (what `codex login status` calls "logged in").
    pub fn logged_in(&self) -> bool {
        self.kind != Kind::None && !self.login_required
    }
}

impl From<wit::Status> for Status {
    fn from(s: wit::Status) -> Self {
        Self {
            account: s.account,
            kind: s.kind,
            tier: s.tier,
            source: match s.source {
                wit::CredentialSource::Store(path) => Source::Store(path.into()),
                wit::CredentialSource::Environment(name) => Source::Environment(name),
                wit::CredentialSource::Runtime => Source::Runtime,
                wit::CredentialSource::Config(path) => Source::Config(path.into()),
                wit::CredentialSource::Command(line) => Source::Command(line),
                wit::CredentialSource::None => Source::None,
            },
            account_id: s.account_id,
            plan: s.plan,
            email: s.email,
            user_id: s.user_id,
            expires_at: s.expires_at,
            last_refresh: s.last_refresh,
            login_required: s.login_required,
            api_key_hint: s.api_key_hint,
            shared_with_codex: s.shared_with_codex,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wit_enums_the_host_uses_as_they_are_show_snake_case_names() {
        let json = |kind: Kind| {
            let mut out = Vec::new();
            snake_case(&kind, &mut serde_json::Serializer::new(&mut out)).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(json(Kind::ApiKey), "\"api_key\"");
        assert_eq!(json(Kind::Subscription), "\"subscription\"");
        let mut out = Vec::new();
        snake_case(&crate::AccountState::LoggedOut, &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(out, b"\"logged_out\"");
    }
}
