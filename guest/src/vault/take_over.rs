//! Taking a Codex home's login over into the vault (`import --move`), so
//! that at every instant, crashes included, one store holds its refresh
//! token: two holders of one rotating refresh token kill each other at the
//! first refresh (PROTOCOL.md, "Replacing a login").
//!
//! - Into an `auth.json` on the same file system: one rename under the
//!   home's `auth.lock` and the new account's lock. Before it the home holds
//!   the login, after it the vault does.
//! - Otherwise (another file system, the keyring, a database): a journal
//!   entry naming the home (never a secret) is written first, then the
//!   vault's store, then the home's copy is deleted, then the entry. A crash
//!   in between leaves the entry, and the next command settles it
//!   ([`Vault::finish_moves`]): the vault's store holds the login, so the
//!   home's copy goes; or it holds none, so the move never happened.
//!
//! The host does the I/O (`storage`'s places); the order is decided here.

use super::{AccountState, Vault};
use crate::error::AuthError;
use crate::platform::{HomePlace, Place, Platform};
use crate::session::Status;
use crate::store::auth_file;
use crate::store::codex_config;
use crate::store::kinds::AccountStore;
use crate::store::names::check_name;

impl<P: Platform> Vault<P> {
    /// Whether a login may be moved in as account `name`: a safe name no
    /// account holds yet. An account of the vault's own that holds nothing
    /// (a move a crash interrupted leaves one) may be taken; a linked Codex
    /// home never.
    pub fn check_move_target(&self, name: &str) -> Result<(), AuthError> {
        check_name(name).map_err(AuthError::InvalidInput)?;
        let taken = self.platform.accounts()?.iter().any(|n| n == name) && {
            let info = self.describe_store(name.to_owned(), None);
            info.linked.is_some() || info.state != AccountState::LoggedOut
        };
        if taken {
            return Err(AuthError::InvalidInput(format!(
                "an account named `{name}` exists already; choose another name"
            )));
        }
        Ok(())
    }

    /// Moves the login of the Codex home `directory` in as the new account
    /// `name`, and returns its status (the WIT `take-over`).
    pub fn take_over(&self, name: &str, directory: &str) -> Result<Status, AuthError> {
        self.check_move_target(name)?;
        let config = self.platform.home_config(directory)?;
        let kept_in =
            codex_config::home_store(config.as_ref().map(|(path, json)| (path.as_str(), json.as_str())))
                .map_err(AuthError::InvalidInput)?;
        let home = Place::CodexHome(HomePlace { directory: directory.to_owned(), kept_in });
        let home_lock = PlaceLock::take(&self.platform, &home, self.config.lock_timeout_ms)?;
        // Read under the home's lock: the Codex CLI cannot refresh it meanwhile.
        let contents = self.platform.load_place(&home)?;
        check_move_source(directory, &auth_file_of(directory), kept_in, contents.as_deref())?;
        // The account is new: its lock is free unless another move races
        // this one, and nothing waits while the home's lock is held.
        let account_lock = AccountLock::take(&self.platform, name)?;
        if !(kept_in == AccountStore::File && self.platform.rename_into(directory, name)?) {
            // The login moves as it is: the Codex CLI's format, every field kept.
            let entry = Place::Journal(name.to_owned());
            self.platform.save_place(&entry, &journal_entry(directory, kept_in, name))?;
            self.platform.save(name, &contents.unwrap_or_default())?;
            self.platform.remove_place(&home)?;
            self.platform.remove_place(&entry)?;
        }
        // The move is done: nothing waits behind the locks while the status is read.
        drop(account_lock);
        drop(home_lock);
        self.status(name)
    }

    /// Settles every move a crash left half done (the WIT `finish-moves`):
    /// one line per entry settled, or that could not be. A lock someone
    /// holds (a move still running, another command settling this one)
    /// leaves the entry to the next command: nothing waits here.
    pub fn finish_moves(&self) -> Vec<String> {
        let Ok(mut names) = self.platform.journals() else { return Vec::new() };
        names.sort();
        names.dedup();
        names
            .iter()
            .filter_map(|name| match self.finish_move(name) {
                Ok(said) => said,
                Err(AuthError::LockTimeout(_)) => None,
                Err(e) => Some(format!("a move into account `{name}` is still unfinished: {e}")),
            })
            .collect()
    }

    fn finish_move(&self, name: &str) -> Result<Option<String>, AuthError> {
        let entry = Place::Journal(name.to_owned());
        let _entry = PlaceLock::take(&self.platform, &entry, 0)?;
        let Some(bytes) = self.platform.load_place(&entry)? else { return Ok(None) };
        let Some(home) = read_journal_entry(&bytes) else {
            self.platform.remove_place(&entry)?;
            return Ok(Some(format!("dropped an unreadable journal of a move into account `{name}`")));
        };
        let directory = home.directory.clone();
        let home = Place::CodexHome(home);
        let _home = PlaceLock::take(&self.platform, &home, 0)?;
        let _account = AccountLock::take(&self.platform, name)?;
        let said = if self.platform.load(name)?.is_some() {
            self.platform.remove_place(&home)?;
            format!("finished moving the login of {directory} into account `{name}` (a move was interrupted)")
        } else {
            format!("rolled back an interrupted move into account `{name}`: {directory} keeps its login")
        };
        self.platform.remove_place(&entry)?;
        Ok(Some(said))
    }
}

/// Whether what a Codex home holds (`contents`, read under its lock from
/// `location`, where its `cli_auth_credentials_store` mode `kept_in` keeps
/// it) can be moved into the vault: a login, readable. Nothing is an error
/// naming where the login would be; an unreadable file is a corrupt store,
/// left as it is.
pub fn check_move_source(
    directory: &str,
    location: &str,
    kept_in: AccountStore,
    contents: Option<&[u8]>,
) -> Result<(), AuthError> {
    let nothing = || {
        AuthError::InvalidInput(format!(
            "{directory} holds no credential to import (its login is kept in: {})",
            kept_in.name()
        ))
    };
    let stored = auth_file::read(contents.ok_or_else(nothing)?)
        .map_err(|reason| AuthError::corrupt(location, reason))?;
    stored.credential.map(drop).ok_or_else(nothing)
}

/// The `auth.json` of the Codex home `directory`, for messages.
fn auth_file_of(directory: &str) -> String {
    format!("{}/{}", directory.trim_end_matches('/'), auth_file::FILE_NAME)
}

/// A journal entry: the home a move into `account` comes from. No secret.
pub(crate) fn journal_entry(directory: &str, kept_in: AccountStore, account: &str) -> Vec<u8> {
    serde_json::json!({ "source": directory, "kept_in": kept_in.name(), "account": account })
        .to_string()
        .into_bytes()
}

/// The home a journal entry names; `None` when it cannot be read. An entry
/// without `kept_in` (the first release of moves) came from a file.
pub(crate) fn read_journal_entry(bytes: &[u8]) -> Option<HomePlace> {
    let entry: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let kept_in = match entry["kept_in"].as_str() {
        None => AccountStore::File,
        Some(name) => AccountStore::ALL.iter().copied().find(|m| m.name() == name)?,
    };
    Some(HomePlace { directory: entry["source"].as_str()?.to_owned(), kept_in })
}

/// Holds a place's lock until dropped, on every path out.
struct PlaceLock<'a, P: Platform> {
    platform: &'a P,
    place: &'a Place,
}

impl<'a, P: Platform> PlaceLock<'a, P> {
    fn take(platform: &'a P, place: &'a Place, timeout_ms: u32) -> Result<Self, AuthError> {
        platform.lock_place(place, timeout_ms)?;
        Ok(Self { platform, place })
    }
}

impl<P: Platform> Drop for PlaceLock<'_, P> {
    fn drop(&mut self) {
        self.platform.unlock_place(self.place);
    }
}

/// Holds a new account's lock, tried once, until dropped.
struct AccountLock<'a, P: Platform> {
    platform: &'a P,
    account: &'a str,
}

impl<'a, P: Platform> AccountLock<'a, P> {
    fn take(platform: &'a P, account: &'a str) -> Result<Self, AuthError> {
        platform.lock(account, 0)?;
        Ok(Self { platform, account })
    }
}

impl<P: Platform> Drop for AccountLock<'_, P> {
    fn drop(&mut self) {
        self.platform.unlock(self.account);
    }
}

#[cfg(test)]
#[path = "take_over_tests.rs"]
mod tests;
