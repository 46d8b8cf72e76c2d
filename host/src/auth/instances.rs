//! The guest instances of one [`Auth`](crate::Auth): one for the vault
//! (listing, choosing, status: never held across a refresh) and one per
//! account, each behind a lock of its own, so a refresh of one account
//! never delays a call for another. A trap discards the instance (it
//! cannot be entered again) and the store locks it held with it.

use crate::backend::Backend;
use crate::bindings::{self, session::Config, types::AuthError};
use crate::state::{HostState, Shared};
use crate::{Error, runtime};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

pub(crate) struct Instances {
    runtime: &'static runtime::Runtime,
    shared: Arc<Shared>,
    backend: Arc<Backend>,
    config: Config,
    max_guest_memory: usize,
    vault: Slot,
    /// One session instance per account, made on first use.
    sessions: Mutex<HashMap<String, Arc<Slot>>>,
}

/// One guest instance behind a lock, made on first use.
#[derive(Default)]
struct Slot(Mutex<Option<Instance>>);

/// A live guest instance and its resource (a session or the vault).
pub(crate) struct Instance {
    pub store: Store<HostState>,
    pub guest: bindings::Guest,
    pub resource: ResourceAny,
}

/// Which resource an instance carries.
#[derive(Clone, Copy)]
pub(crate) enum Resource<'a> {
    Vault,
    Session(&'a str),
}

impl Instances {
    pub fn new(
        runtime: &'static runtime::Runtime,
        shared: Arc<Shared>,
        backend: Arc<Backend>,
        config: Config,
        max_guest_memory: usize,
    ) -> Self {
        Self {
            runtime,
            shared,
            backend,
            config,
            max_guest_memory,
            vault: Slot::default(),
            sessions: Mutex::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// A call on the vault instance.
    pub fn vault<R>(&self, f: impl FnOnce(&mut Instance) -> wasmtime::Result<R>) -> Result<R, Error> {
        self.with(&self.vault, Resource::Vault, f)
    }

    /// A call on the vault instance whose answer may be the guest's error.
    pub fn vault_call<R>(
        &self,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<Result<R, AuthError>>,
    ) -> Result<R, Error> {
        self.vault(f)?.map_err(Error::from)
    }

    /// A call on `account`'s session instance.
    pub fn session<R>(
        &self,
        account: &str,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<R>,
    ) -> Result<R, Error> {
        self.with(&self.slot(account), Resource::Session(account), f)
    }

    /// A call on `account`'s session instance whose answer may be the
    /// guest's error.
    pub fn session_call<R>(
        &self,
        account: &str,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<Result<R, AuthError>>,
    ) -> Result<R, Error> {
        self.session(account, f)?.map_err(Error::from)
    }

    /// Drops `account`'s session instance (the account is gone).
    pub fn forget(&self, account: &str) {
        lock(&self.sessions).remove(account);
    }

    /// The slot of `account`'s session instance.
    fn slot(&self, account: &str) -> Arc<Slot> {
        lock(&self.sessions).entry(account.to_owned()).or_default().clone()
    }

    /// Runs `f` on the slot's instance, making one first.
    fn with<R>(
        &self,
        slot: &Slot,
        resource: Resource<'_>,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<R>,
    ) -> Result<R, Error> {
        let mut guard = lock(&slot.0);
        let instance = match guard.take() {
            Some(instance) => guard.insert(instance),
            None => guard.insert(self.fresh(resource)?),
        };
        match f(instance) {
            Ok(r) => Ok(r),
            Err(trap) => {
                *guard = None;
                Err(Error::GuestTrap(trap.root_cause().to_string()))
            }
        }
    }

    /// A new instance of its own, outside every slot (a sign-in runs on one,
    /// so the account's calls go on meanwhile).
    pub fn fresh(&self, resource: Resource<'_>) -> Result<Instance, Error> {
        let state = HostState::new(self.backend.clone(), self.shared.clone(), self.max_guest_memory);
        let (mut store, guest) =
            runtime::instantiate(self.runtime, state).map_err(|e| Error::Engine(e.to_string()))?;
        let made = match resource {
            Resource::Vault => guest.codex_auth_vault().vault().call_constructor(&mut store, &self.config),
            Resource::Session(account) => {
                guest.codex_auth_session().session().call_constructor(&mut store, account, &self.config)
            }
        };
        let resource = made.map_err(|e| Error::GuestTrap(e.root_cause().to_string()))?;
        Ok(Instance { store, guest, resource })
    }
}

/// The session resource's calls.
pub(crate) fn session(guest: &bindings::Guest) -> bindings::session::GuestSession<'_> {
    guest.codex_auth_session().session()
}

/// The vault resource's calls.
pub(crate) fn vault(guest: &bindings::Guest) -> bindings::vault::GuestVault<'_> {
    guest.codex_auth_vault().vault()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
