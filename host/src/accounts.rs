//! The vault's accounts, in the host's terms. Never holds a token.

use crate::bindings::vault;
use crate::{Kind, Revocation};
use serde::Serialize;
use std::path::PathBuf;

/// An account's state (the WIT enum, used as it is; its JSON name is
/// snake_case): `Ok`, a usable credential is stored; `Blocked`, a usage
/// limit was reached, skipped until [`Account::blocked_until`]; `Disabled`,
/// the issuer rejected its refresh token for good (kept and skipped until
/// signed in again); `LoggedOut`, its store holds no credential;
/// `Unreadable`, its store cannot be read ([`Account::problem`] says why).
pub use vault::AccountState;

/// One account of the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Its name (`default` for the home's own `auth.json`).
    pub name: String,
    /// Its `auth.json`: `CODEX_HOME` set to that directory makes the Codex
    /// CLI use the same login.
    pub location: PathBuf,
    /// The Codex home it links to, when it was imported in place.
    pub linked: Option<PathBuf>,
    /// Calls use it when none is asked for.
    pub pinned: bool,
    /// What kind of credential it holds.
    #[serde(serialize_with = "crate::status::snake_case")]
    pub kind: Kind,
    /// The ChatGPT account's email address.
    pub email: Option<String>,
    /// The ChatGPT account (workspace) id.
    pub account_id: Option<String>,
    /// The ChatGPT plan.
    pub plan: Option<String>,
    /// When its access token expires (Unix seconds).
    pub expires_at: Option<i64>,
    /// Its state.
    #[serde(serialize_with = "crate::status::snake_case")]
    pub state: AccountState,
    /// Why it is unreadable, disabled or blocked.
    pub problem: Option<String>,
    /// Until when a usage limit blocks it as a whole (Unix seconds).
    pub blocked_until: Option<i64>,
    /// The limits of single meters in force: it is skipped for their models.
    pub blocks: Vec<crate::MeterBlock>,
    /// Its usage as last seen.
    pub usage: Option<crate::Usage>,
    /// Its name for people, from the config file.
    pub label: Option<String>,
}

impl From<vault::AccountInfo> for Account {
    fn from(a: vault::AccountInfo) -> Self {
        Self {
            name: a.name,
            location: a.location.into(),
            linked: a.linked.map(PathBuf::from),
            pinned: a.pinned,
            kind: a.kind,
            email: a.email,
            account_id: a.account_id,
            plan: a.plan,
            expires_at: a.expires_at,
            state: a.state,
            problem: a.problem,
            blocked_until: a.blocked_until,
            blocks: a.blocks,
            usage: a.usage,
            label: a.label,
        }
    }
}

/// What removing an account did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// What became of its refresh token (never revoked for a linked Codex
    /// home, which keeps its login).
    pub revocation: Revocation,
    /// The Codex home it linked to, left as it was.
    pub unlinked: Option<PathBuf>,
    /// It was pinned; nothing is pinned now.
    pub was_pinned: bool,
    /// The account calls use now, if any is left.
    pub now_using: Option<String>,
}

impl From<vault::Removal> for Removal {
    fn from(r: vault::Removal) -> Self {
        Self {
            revocation: r.revocation,
            unlinked: r.unlinked.map(PathBuf::from),
            was_pinned: r.was_pinned,
            now_using: r.now_using,
        }
    }
}
