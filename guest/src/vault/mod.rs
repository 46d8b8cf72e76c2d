//! The vault: several accounts in one home, each its own Codex home.
//!
//! The home's own `auth.json` is the account [`DEFAULT_ACCOUNT`] (what the
//! first release wrote, used with no migration); every other account is a
//! directory of its own in the Codex CLI's layout (`auth.json` and
//! `auth.lock`), or a link to a Codex home that stays where it is. The vault
//! decides names, which account a call uses, and what an account's state
//! is; the host lists, links and reads what it is told to.

mod choosing;
pub mod default_values;
pub mod learning;
pub mod pool;
pub mod replay;
pub(crate) mod take_over;
pub mod usage;

pub use choosing::Choice;
pub use take_over::check_move_source;

#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod vault_tests;

use crate::defaults::DEFAULT_ACCOUNT;
use crate::defaults::Strategy;
use crate::error::AuthError;
use crate::oauth::jwt;
use crate::platform::Platform;
use crate::session::{Config, Kind, LogoutReport, Revocation, Session, Status};
use crate::store::auth_file::{self, Credential};
use crate::store::names::check_name;
use crate::vault::pool::{Candidate, Pick, PoolState};
use crate::vault::usage::Usage;
use std::cell::RefCell;
use std::collections::HashMap;

wit_enum! {
    /// An account's state, as `accounts` shows it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum AccountState {
        /// A usable credential is stored.
        Ok,
        /// A usage limit was reached; it is skipped until `blocked_until`.
        Blocked,
        /// A definitive refresh failure disabled it (login required): it is
        /// kept, skipped, and enabled again by signing it in again.
        Disabled,
        /// The account's store holds no credential.
        LoggedOut,
        /// The store cannot be read; only this account is affected.
        Unreadable,
    }
}

/// The settings in effect that a host shows or acts on (the WIT `in-effect`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InEffect {
    pub issuer: String,
    pub chatgpt_base_url: String,
    pub strategy: crate::defaults::Strategy,
    pub shared_refresh_seconds: u32,
}

/// One account, as listed. Never holds a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountInfo {
    pub name: String,
    /// The path of its `auth.json`.
    pub location: String,
    /// The Codex home it links to, for an account imported in place.
    pub linked: Option<String>,
    pub pinned: bool,
    pub kind: Kind,
    pub email: Option<String>,
    pub account_id: Option<String>,
    pub plan: Option<String>,
    pub expires_at: Option<i64>,
    pub state: AccountState,
    /// Why it is unreadable, disabled or blocked.
    pub problem: Option<String>,
    /// Until when a usage limit blocks it as a whole.
    pub blocked_until: Option<i64>,
    /// The limits of single meters in force: it is skipped for their models.
    pub blocks: Vec<pool::MeterBlock>,
    /// Its usage as last seen.
    pub usage: Option<Usage>,
    /// Its name for people, from the config file.
    pub label: Option<String>,
}

impl AccountInfo {
    fn usable(&self) -> bool {
        self.state == AccountState::Ok
    }

    /// As the chooser sees it for a request of `model`.
    fn candidate(&self, last_chosen_ms: Option<i64>, model: Option<&str>, now: i64) -> Candidate {
        Candidate {
            name: self.name.clone(),
            usable: matches!(self.state, AccountState::Ok | AccountState::Blocked),
            blocked_until: pool::blocked_for(self.blocked_until, &self.blocks, model, now),
            binding_percent: self.usage.as_ref().and_then(Usage::binding_percent),
            last_chosen_ms,
        }
    }
}

/// The vault's own settings (`vault.json` beside the accounts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub pinned: Option<String>,
}

impl Settings {
    /// Unreadable settings only lose the pin: every account stays usable.
    pub fn read(bytes: Option<&[u8]>) -> Self {
        let value: serde_json::Value = bytes.and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_default();
        let pinned = value["pinned"].as_str().filter(|n| check_name(n).is_ok()).map(str::to_owned);
        Self { pinned }
    }

    pub fn write(&self) -> Vec<u8> {
        let mut text = serde_json::json!({ "pinned": self.pinned }).to_string();
        text.push('\n');
        text.into_bytes()
    }
}

/// Which account a call uses: the explicit one (which must exist, unless it
/// is the home's own), else the pinned one, else the first usable one in
/// listing order, else the first one; with no account at all, the home's own
/// (where `OPENAI_API_KEY` from the environment is the fallback).
pub fn select(
    explicit: Option<&str>,
    pinned: Option<&str>,
    accounts: &[AccountInfo],
) -> Result<String, AuthError> {
    let exists = |name: &str| accounts.iter().any(|a| a.name == name);
    if let Some(name) = explicit {
        check_name(name).map_err(AuthError::InvalidInput)?;
        if name != DEFAULT_ACCOUNT && !exists(name) {
            return Err(AuthError::UnknownAccount(name.to_owned()));
        }
        return Ok(name.to_owned());
    }
    if let Some(name) = pinned.filter(|p| exists(p)) {
        return Ok(name.to_owned());
    }
    let chosen = accounts.iter().find(|a| a.usable()).or(accounts.first());
    Ok(chosen.map_or(DEFAULT_ACCOUNT, |a| &a.name).to_owned())
}

/// The account a sign-in or a stored key goes to: the explicit one, else the
/// pinned one, else the home's own. It need not exist yet.
pub fn target(explicit: Option<&str>, pinned: Option<&str>) -> Result<String, AuthError> {
    let name = explicit.or(pinned).unwrap_or(DEFAULT_ACCOUNT);
    check_name(name).map_err(AuthError::InvalidInput)?;
    Ok(name.to_owned())
}

/// Listing order: the home's own account first, then by name.
fn order(names: &mut Vec<String>) {
    names.retain(|n| check_name(n).is_ok());
    names.sort_by(|a, b| (a != DEFAULT_ACCOUNT, a).cmp(&(b != DEFAULT_ACCOUNT, b)));
    names.dedup();
}

/// What removing an account did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removal {
    /// Revoking its refresh token (never done for a linked Codex home,
    /// which keeps its login).
    pub revocation: Revocation,
    /// The Codex home it linked to, left as it was.
    pub unlinked: Option<String>,
    /// It was the pinned account; nothing is pinned now.
    pub was_pinned: bool,
    /// The account calls use now, if any is left.
    pub now_using: Option<String>,
}

/// The accounts of one home.
pub struct Vault<P> {
    platform: P,
    config: Config,
    /// Session key -> the account it was given, while that stays usable.
    sticky: RefCell<HashMap<String, String>>,
    /// The account the last choice gave: what a call uses while the store
    /// cannot be listed.
    last_choice: RefCell<Option<String>>,
}

impl<P: Platform> Vault<P> {
    pub fn new(platform: P, config: Config) -> Self {
        Self { platform, config, sticky: RefCell::default(), last_choice: RefCell::default() }
    }

    /// The resolved settings a host shows or acts on.
    pub fn in_effect(&self) -> InEffect {
        let c = &self.config;
        InEffect {
            issuer: c.issuer.clone(),
            chatgpt_base_url: c.chatgpt_base_url.clone(),
            strategy: c.strategy,
            shared_refresh_seconds: c.shared_refresh_seconds,
        }
    }

    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// A session of one account, sharing this vault's platform.
    fn session(&self, account: &str) -> Session<&P> {
        Session::new(&self.platform, Config { account: account.to_owned(), ..self.config.clone() })
    }

    fn settings(&self) -> Result<Settings, AuthError> {
        Ok(Settings::read(self.platform.load_settings()?.as_deref()))
    }

    /// Every account, in listing order. Reads without taking any lock, so a
    /// refresh in progress never delays it; one unreadable store only marks
    /// that account.
    pub fn accounts(&self) -> Result<Vec<AccountInfo>, AuthError> {
        Ok(self.listed()?.into_iter().map(|(info, _)| info).collect())
    }

    /// Every account with when the pool last chose it, each pool state read once.
    fn listed(&self) -> Result<Vec<(AccountInfo, Option<i64>)>, AuthError> {
        let mut names = self.names()?;
        order(&mut names);
        let pinned = self.settings()?.pinned;
        Ok(names.into_iter().map(|name| self.describe_with_pool(name, pinned.as_deref())).collect())
    }

    /// The accounts with a store, and the command accounts of the config file.
    fn names(&self) -> Result<Vec<String>, AuthError> {
        let mut names = self.platform.accounts()?;
        if let Some(file) = &self.config.file {
            names.extend(file.accounts.iter().filter(|(_, a)| a.command.is_some()).map(|(n, _)| n.clone()));
        }
        Ok(names)
    }

    fn configured(&self, name: &str) -> Option<&crate::store::config_file::AccountSettings> {
        self.config.file.as_ref()?.accounts.get(name)
    }

    fn describe(&self, name: String, pinned: Option<&str>) -> AccountInfo {
        self.describe_with_pool(name, pinned).0
    }

    fn describe_with_pool(&self, name: String, pinned: Option<&str>) -> (AccountInfo, Option<i64>) {
        let pool = self.pool_state(&name);
        let mut info = self.describe_store(name, pinned);
        info.label = self.configured(&info.name).and_then(|c| c.label.clone());
        info.blocks = pool.meter_blocks(self.now());
        info.usage = pool.usage;
        if info.state == AccountState::Ok
            && let Some(until) = pool.blocked_until.filter(|&t| t > self.now())
        {
            info.state = AccountState::Blocked;
            info.blocked_until = Some(until);
            info.problem = pool.blocked_reason;
        }
        (info, pool.last_chosen_ms)
    }

    fn pool_state(&self, name: &str) -> PoolState {
        PoolState::read(self.platform.load_pool(name).ok().flatten().as_deref())
    }

    fn now(&self) -> i64 {
        self.platform.now_ms().div_euclid(1000)
    }

    fn describe_store(&self, name: String, pinned: Option<&str>) -> AccountInfo {
        let mut info = AccountInfo {
            location: self.platform.store_location(&name),
            linked: self.platform.linked_to(&name),
            pinned: pinned == Some(name.as_str()),
            name,
            kind: Kind::None,
            email: None,
            account_id: None,
            plan: None,
            expires_at: None,
            state: AccountState::LoggedOut,
            problem: None,
            blocked_until: None,
            blocks: Vec::new(),
            usage: None,
            label: None,
        };
        let command = self.configured(&info.name).and_then(|c| c.command.clone());
        let stored = match self.platform.load(&info.name) {
            Ok(None) if command.is_some() => {
                info.kind = Kind::Command;
                info.state = AccountState::Ok;
                info.location = self.config.file_path.clone();
                return info;
            }
            Ok(None) => return info,
            Ok(Some(bytes)) => auth_file::read(&bytes),
            Err(e) => Err(AuthError::from(e).to_string()),
        };
        let stored = match stored {
            Ok(stored) => stored,
            Err(problem) => {
                info.state = AccountState::Unreadable;
                info.problem = Some(problem);
                return info;
            }
        };
        match &stored.credential {
            Some(Credential::Chatgpt(tokens)) => {
                let identity = jwt::parse(&tokens.id_token).unwrap_or_default();
                let access = jwt::parse(&tokens.access_token).unwrap_or_default();
                info.kind = Kind::Subscription;
                info.email = identity.email;
                info.plan = identity.plan;
                info.account_id = tokens.account_id.clone().or(identity.account_id).or(access.account_id);
                info.expires_at = access.expires_at;
            }
            Some(Credential::ApiKey(_)) => info.kind = Kind::ApiKey,
            Some(Credential::Command(_)) => info.kind = Kind::Command,
            None if command.is_some() => {
                info.kind = Kind::Command;
                info.state = AccountState::Ok;
                return info;
            }
            None => return info,
        }
        match stored.login_required {
            Some(error) => {
                info.state = AccountState::Disabled;
                info.problem =
                    Some(format!("the issuer refused its refresh token ({error}); sign it in again"));
            }
            None => info.state = AccountState::Ok,
        }
        info
    }

    /// Reads, changes and writes an account's pool state under its lock.
    fn update_pool<R>(
        &self,
        name: &str,
        wait_ms: u32,
        change: impl FnOnce(&mut PoolState) -> R,
    ) -> Result<R, AuthError> {
        self.platform.lock_pool(name, wait_ms)?;
        let result = (|| {
            let before = PoolState::read(self.platform.load_pool(name)?.as_deref());
            let mut state = before.clone();
            let r = change(&mut state);
            // Most answers repeat what is known: no write, no fsync then.
            if state != before {
                self.platform.save_pool(name, &state.write())?;
            }
            Ok(r)
        })();
        self.platform.unlock_pool(name);
        result
    }

    /// The account a sign-in or a stored key goes to (see [`target`]).
    pub fn target(&self, explicit: Option<&str>) -> Result<String, AuthError> {
        target(explicit, self.settings()?.pinned.as_deref())
    }

    /// The status of one account, read without its lock.
    pub fn status(&self, account: &str) -> Result<Status, AuthError> {
        self.session(account).status()
    }

    fn require(&self, name: &str) -> Result<AccountInfo, AuthError> {
        check_name(name).map_err(AuthError::InvalidInput)?;
        let settings = self.settings()?;
        let mut names = self.names()?;
        order(&mut names);
        names
            .into_iter()
            .find(|n| n == name)
            .map(|n| self.describe(n, settings.pinned.as_deref()))
            .ok_or_else(|| AuthError::UnknownAccount(name.to_owned()))
    }

    /// Makes `name` the account calls use when none is asked for.
    pub fn pin(&self, name: &str) -> Result<AccountInfo, AuthError> {
        let mut info = self.require(name)?;
        self.platform.save_settings(&Settings { pinned: Some(name.to_owned()) }.write())?;
        info.pinned = true;
        Ok(info)
    }

    /// Forgets an account. A store of the vault's own is logged out first
    /// (under its lock: revoke, then delete); a linked Codex home is only
    /// unlinked and keeps its login.
    pub fn remove(&self, name: &str) -> Result<Removal, AuthError> {
        let info = self.require(name)?;
        let revocation = match &info.linked {
            Some(_) => Revocation::NotNeeded,
            None => {
                let LogoutReport { revocation, .. } = self.session(name).logout()?;
                revocation
            }
        };
        self.platform.forget(name)?;
        if info.pinned {
            self.platform.save_settings(&Settings::default().write())?;
        }
        let left = self.accounts()?;
        Ok(Removal {
            revocation,
            unlinked: info.linked,
            was_pinned: info.pinned,
            now_using: (!left.is_empty()).then(|| select(None, None, &left)).transpose()?,
        })
    }

    /// Adds the Codex home `directory` as account `name`, in place: it is
    /// read and refreshed there, under its own `auth.lock`, so it keeps one
    /// holder. Nothing is copied.
    pub fn link(&self, name: &str, directory: &str) -> Result<AccountInfo, AuthError> {
        check_name(name).map_err(AuthError::InvalidInput)?;
        if self.platform.accounts()?.iter().any(|n| n == name) {
            return Err(AuthError::InvalidInput(format!(
                "an account named `{name}` exists already; choose another name"
            )));
        }
        self.platform.link(name, directory)?;
        // A Codex home keeps its login where its own config.toml says.
        match self.session(name).codex_config() {
            Ok(Some(crate::store::codex_config::CodexConfig { store: Some(mode), .. })) => {
                self.platform.use_store(name, mode)
            }
            Ok(_) => {}
            Err(e) => {
                self.platform.forget(name)?;
                return Err(e);
            }
        }
        let info = self.describe(name.to_owned(), None);
        let refusal = match info.state {
            AccountState::Ok | AccountState::Blocked | AccountState::Disabled => None,
            AccountState::LoggedOut => {
                Some(AuthError::InvalidInput(format!("{} holds no credential to import", info.location)))
            }
            AccountState::Unreadable => {
                Some(AuthError::corrupt(info.location.clone(), info.problem.clone().unwrap_or_default()))
            }
        };
        if let Some(error) = refusal {
            self.platform.forget(name)?;
            return Err(error);
        }
        Ok(info)
    }
}
