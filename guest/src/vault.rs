//! The vault: several accounts in one home, each its own Codex home.
//!
//! The home's own `auth.json` is the account [`DEFAULT_ACCOUNT`] (what the
//! first release wrote, used with no migration); every other account is a
//! directory of its own in the Codex CLI's layout (`auth.json` and
//! `auth.lock`), or a link to a Codex home that stays where it is. The vault
//! decides names, which account a call uses, and what an account's state
//! is; the host lists, links and reads what it is told to.

use crate::auth_file::{self, Credential};
use crate::defaults::DEFAULT_ACCOUNT;
use crate::error::AuthError;
use crate::jwt;
use crate::platform::Platform;
use crate::session::{Config, Kind, LogoutReport, Revocation, Session, Status};

/// Longest account name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// Whether `name` can name an account: one path component that is safe in
/// a file name and on a command line. The error says what is wrong.
pub fn check_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{}` cannot name an account: {why}", name.escape_debug()));
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.chars().count() > MAX_NAME_LEN {
        return bad(&format!("it is longer than {MAX_NAME_LEN} characters"));
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return bad(&format!(
            "it holds {}",
            if c.is_whitespace() { "white space" } else { "a control character" }
        ));
    }
    if name.contains(['/', '\\']) {
        return bad("it holds a path separator");
    }
    if name.contains("..") {
        return bad("it holds `..`");
    }
    if name.starts_with(['.', '-']) {
        return bad("it starts with `.` or `-`");
    }
    Ok(())
}

/// An account's state, as `accounts` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountState {
    /// A usable credential is stored.
    Ok,
    /// The issuer rejected the refresh token for good.
    LoginRequired,
    /// The account's store holds no credential.
    LoggedOut,
    /// The store cannot be read; only this account is affected.
    Unreadable,
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
    /// Why the store is unreadable.
    pub problem: Option<String>,
}

impl AccountInfo {
    fn usable(&self) -> bool {
        self.state == AccountState::Ok
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
}

impl<P: Platform> Vault<P> {
    pub fn new(platform: P, config: Config) -> Self {
        Self { platform, config }
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
        let mut names = self.platform.accounts()?;
        order(&mut names);
        let pinned = self.settings()?.pinned;
        Ok(names.into_iter().map(|name| self.describe(name, pinned.as_deref())).collect())
    }

    fn describe(&self, name: String, pinned: Option<&str>) -> AccountInfo {
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
        };
        let stored = match self.platform.load(&info.name) {
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
            Some(Credential::ChatGpt(tokens)) => {
                let identity = jwt::parse(&tokens.id_token).unwrap_or_default();
                let access = jwt::parse(&tokens.access_token).unwrap_or_default();
                info.kind = Kind::Subscription;
                info.email = identity.email;
                info.plan = identity.plan;
                info.account_id = tokens.account_id.clone().or(identity.account_id).or(access.account_id);
                info.expires_at = access.expires_at;
            }
            Some(Credential::ApiKey(_)) => info.kind = Kind::ApiKey,
            None => return info,
        }
        info.state =
            if stored.login_required.is_some() { AccountState::LoginRequired } else { AccountState::Ok };
        info
    }

    /// The account a call uses (see [`select`]).
    pub fn select(&self, explicit: Option<&str>) -> Result<String, AuthError> {
        if let Some(name) = explicit {
            // Only existence matters: no other store is read.
            check_name(name).map_err(AuthError::InvalidInput)?;
            let mut names = self.platform.accounts()?;
            order(&mut names);
            let listed: Vec<AccountInfo> =
                names.into_iter().filter(|n| n == name).map(|n| self.describe(n, None)).collect();
            return select(Some(name), None, &listed);
        }
        let accounts = self.accounts()?;
        let pinned = accounts.iter().find(|a| a.pinned).map(|a| a.name.clone());
        select(None, pinned.as_deref(), &accounts)
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
        let mut names = self.platform.accounts()?;
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
        let info = self.describe(name.to_owned(), None);
        let refusal = match info.state {
            AccountState::Ok | AccountState::LoginRequired => None,
            AccountState::LoggedOut => {
                Some(AuthError::InvalidInput(format!("{} holds no credential to import", info.location)))
            }
            AccountState::Unreadable => Some(AuthError::CorruptStore {
                path: info.location.clone(),
                reason: info.problem.clone().unwrap_or_default(),
            }),
        };
        if let Some(error) = refusal {
            self.platform.forget(name)?;
            return Err(error);
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, state: AccountState) -> AccountInfo {
        AccountInfo {
            name: name.into(),
            location: format!("/v/{name}/auth.json"),
            linked: None,
            pinned: false,
            kind: Kind::Subscription,
            email: None,
            account_id: None,
            plan: None,
            expires_at: None,
            state,
            problem: None,
        }
    }

    #[test]
    fn names_are_one_safe_path_component() {
        for good in ["work", "default", "ada@example.com", "team_2", "a.b", "Ünïcode"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "a/b",
            "..",
            "a..b",
            "../x",
            "with space",
            "tab\there",
            "nl\n",
            "bell\u{7}",
            ".hidden",
            "-flag",
            "a\\b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"x".repeat(MAX_NAME_LEN)).is_ok());
        assert!(check_name(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(check_name("a b").unwrap_err().contains("white space"));
    }

    #[test]
    fn selection_is_explicit_then_pinned_then_first_usable() {
        let accounts = [
            info("default", AccountState::LoginRequired),
            info("alpha", AccountState::Unreadable),
            info("beta", AccountState::Ok),
            info("gamma", AccountState::Ok),
        ];
        assert_eq!(select(Some("gamma"), Some("beta"), &accounts), Ok("gamma".into()));
        assert_eq!(select(Some("alpha"), None, &accounts), Ok("alpha".into()), "explicit even if unusable");
        assert_eq!(select(None, Some("gamma"), &accounts), Ok("gamma".into()));
        assert_eq!(select(None, Some("gone"), &accounts), Ok("beta".into()), "a stale pin is ignored");
        assert_eq!(select(None, None, &accounts), Ok("beta".into()));
        assert_eq!(select(Some("nope"), None, &accounts), Err(AuthError::UnknownAccount("nope".into())));
        assert!(matches!(select(Some("../x"), None, &accounts), Err(AuthError::InvalidInput(_))));
        let dead = [info("a", AccountState::LoginRequired), info("b", AccountState::LoggedOut)];
        assert_eq!(select(None, None, &dead), Ok("a".into()), "none usable: the first, to report on");
        assert_eq!(select(None, None, &[]), Ok(DEFAULT_ACCOUNT.into()));
        assert_eq!(select(Some(DEFAULT_ACCOUNT), None, &[]), Ok(DEFAULT_ACCOUNT.into()));
    }

    #[test]
    fn sign_ins_go_to_the_named_then_pinned_then_home_account() {
        assert_eq!(target(Some("a"), Some("b")), Ok("a".into()));
        assert_eq!(target(None, Some("b")), Ok("b".into()));
        assert_eq!(target(None, None), Ok(DEFAULT_ACCOUNT.into()));
        assert!(target(Some("a/b"), None).is_err());
    }

    #[test]
    fn listing_order_puts_the_home_account_first_and_drops_bad_names() {
        let mut names = vec!["zeta".into(), "default".into(), "alpha".into(), ".tmp".into(), "alpha".into()];
        order(&mut names);
        assert_eq!(names, ["default", "alpha", "zeta"]);
    }

    #[test]
    fn settings_round_trip_and_survive_garbage() {
        let s = Settings { pinned: Some("work".into()) };
        assert_eq!(Settings::read(Some(&s.write())), s);
        assert_eq!(Settings::read(Some(b"{not json")), Settings::default());
        assert_eq!(Settings::read(Some(br#"{"pinned":"../etc"}"#)), Settings::default());
        assert_eq!(Settings::read(None), Settings::default());
    }
}
