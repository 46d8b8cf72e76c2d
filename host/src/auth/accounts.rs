//! The vault's accounts: listing, pinning, removing, linking and moving in
//! a Codex home, and calls on one named account.

use super::Auth;
use super::instances::{Instance, session, vault};
use crate::bindings::types::AuthError;
use crate::{Account, Error, Removal, RequestHeaders, Secret, Status};
use std::path::Path;

impl Auth {
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
        self.instances.vault_call(|i| {
            Ok(vault(&i.guest)
                .call_accounts(&mut i.store, i.resource)?
                .map(|v| v.into_iter().map(Account::from).collect()))
        })
    }

    /// Pins account `name`: calls use it when no account is asked for.
    pub fn use_account(&self, name: &str) -> Result<Account, Error> {
        let account = self.instances.vault_call(|i| {
            Ok(vault(&i.guest).call_pin(&mut i.store, i.resource, name)?.map(Account::from))
        })?;
        self.forget_selection();
        Ok(account)
    }

    /// Forgets account `name`. A store of the vault's own is logged out
    /// under its lock (revoke, then delete); a linked Codex home is only
    /// unlinked and keeps its login.
    pub fn remove_account(&self, name: &str) -> Result<Removal, Error> {
        let removal = self.instances.vault_call(|i| {
            Ok(vault(&i.guest).call_remove(&mut i.store, i.resource, name)?.map(Removal::from))
        })?;
        self.instances.forget(name);
        self.forget_selection();
        Ok(removal)
    }

    /// Adds the Codex home `directory` as account `name`, in place: it is
    /// read and refreshed there, under its own `auth.lock`, so the Codex CLI
    /// and codex-auth share one login with one holder. Nothing is copied.
    pub fn link_codex_home(&self, name: &str, directory: &Path) -> Result<Account, Error> {
        let directory = directory.to_string_lossy();
        let account = self.instances.vault_call(|i| {
            Ok(vault(&i.guest).call_link(&mut i.store, i.resource, name, &directory)?.map(Account::from))
        })?;
        self.forget_selection();
        Ok(account)
    }

    /// Imports the Codex home `directory` as account `name`: linked in place
    /// ([`Auth::link_codex_home`]) unless `take_over` asks to move its login
    /// in ([`Auth::move_codex_home`]) or the vault cannot hold a home in
    /// place (a database: the guest's store plan says), when it moves.
    pub fn import_codex_home(
        &self,
        name: &str,
        directory: &Path,
        take_over: bool,
    ) -> Result<Imported, Error> {
        if take_over || !self.links_in_place {
            let status = self.move_codex_home(name, directory)?;
            return Ok(Imported::Moved { status, asked: take_over });
        }
        self.link_codex_home(name, directory)?;
        Ok(Imported::Linked(self.account_status(name)?))
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
        let directory = directory.to_string_lossy();
        let status = self.instances.vault_call(|i| {
            Ok(vault(&i.guest).call_take_over(&mut i.store, i.resource, name, &directory)?.map(Status::from))
        })?;
        self.forget_selection();
        Ok(status)
    }

    /// Whether `name` can name an account (one safe path component: no
    /// `/`, `..`, white space or control characters); the error says why not.
    pub fn check_name(&self, name: &str) -> Result<(), Error> {
        let checked =
            self.instances.vault(|i| i.guest.codex_auth_vault().call_check_name(&mut i.store, name))?;
        checked.map_err(Error::InvalidInput)
    }

    /// Calls on account `name`, whatever the pool would choose (it must
    /// exist, unless it is the home's own). Each account keeps its own
    /// instance and lock, as with [`Options::account`](crate::Options::account).
    ///
    /// ```no_run
    /// # let auth = codex_auth::Auth::open(codex_auth::Options::from_env())?;
    /// let headers = auth.account("work")?.request_headers()?;
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn account(&self, name: &str) -> Result<AccountRef<'_>, Error> {
        let name = self
            .instances
            .vault_call(|i| vault(&i.guest).call_select(&mut i.store, i.resource, Some(name)))?;
        Ok(AccountRef { auth: self, name })
    }

    /// The status of account `name`, read without its lock.
    pub fn account_status(&self, name: &str) -> Result<Status, Error> {
        self.instances.vault_call(|i| {
            Ok(vault(&i.guest).call_status(&mut i.store, i.resource, name)?.map(Status::from))
        })
    }
}

/// How [`Auth::import_codex_home`] took a Codex home.
#[derive(Debug, Clone)]
pub enum Imported {
    /// Linked in place: the Codex CLI and codex-auth share its login.
    Linked(Status),
    /// Its login moved into the vault; `asked` is false when the vault
    /// (a database) cannot hold a home in place.
    Moved {
        /// The account's status now.
        status: Status,
        /// `take_over` asked for the move.
        asked: bool,
    },
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
        self.auth.instances.session_call(&self.name, f)
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
