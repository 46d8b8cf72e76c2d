//! An in-memory [`Platform`] for native tests: a store, a clock that moves
//! only when told, a scripted issuer and a recorded trail of notices.

use crate::platform::*;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

#[derive(Default)]
pub struct Fake {
    pub now_ms: Cell<i64>,
    pub env: RefCell<HashMap<String, String>>,
    /// The home's own account's store.
    pub file: RefCell<Option<Vec<u8>>>,
    /// Every other account's store, by name (`None`: a directory with no file).
    pub named: RefCell<BTreeMap<String, Option<Vec<u8>>>>,
    /// Linked accounts and the directory each links to.
    pub links: RefCell<BTreeMap<String, String>>,
    /// What each account's directory shows of the Codex CLI, and the
    /// directories asked about (the Codex home the guest computed).
    pub signs: RefCell<BTreeMap<String, crate::platform::HomeSigns>>,
    pub signs_asked: RefCell<Vec<(String, Option<String>)>>,
    /// Each account's Codex `config.toml`, as JSON.
    pub codex_configs: RefCell<BTreeMap<String, String>>,
    /// The stores the guest chose for accounts added after the plan.
    pub stores_used: RefCell<Vec<(String, crate::store::kinds::AccountStore)>>,
    /// Written over the home's own store at the first pause: a peer that
    /// stores its refresh while this session waits, unlocked.
    pub peer_write_on_sleep: RefCell<Option<Vec<u8>>>,
    pub settings: RefCell<Option<Vec<u8>>>,
    pub pool: RefCell<BTreeMap<String, Vec<u8>>>,
    pub pool_locks: RefCell<BTreeSet<String>>,
    /// Pool locks another process holds.
    pub pool_busy: RefCell<BTreeSet<String>>,
    pub saves: Cell<u32>,
    /// Whether the home's own account's lock is held.
    pub locked: Cell<bool>,
    pub named_locks: RefCell<BTreeSet<String>>,
    pub lock_error: RefCell<Option<StorageError>>,
    pub requests: RefCell<Vec<HttpRequest>>,
    /// What each run of a command printed, in order; and the runs.
    pub outputs: RefCell<VecDeque<Result<crate::platform::ProcessOutput, String>>>,
    pub runs: RefCell<Vec<(String, Vec<String>, u32)>>,
    /// For each request sent: whether a store lock was held then.
    pub sent_under_lock: RefCell<Vec<bool>>,
    pub responses: RefCell<VecDeque<Result<HttpResponse, TransportError>>>,
    pub incoming: RefCell<VecDeque<Option<Incoming>>>,
    pub replies: RefCell<Vec<(u64, u16)>>,
    pub notices: RefCell<Vec<Notice>>,
    pub slept_ms: RefCell<Vec<u64>>,
    pub bind_errors: RefCell<VecDeque<BindError>>,
    pub answers: RefCell<VecDeque<String>>,
    /// Written over the store when the next request is sent: a peer that
    /// refreshes while this request is in flight.
    pub peer_write_on_send: RefCell<Option<Vec<u8>>>,
    /// Failures of the next saves, in order (a store that went away)...
    pub save_errors: RefCell<VecDeque<StorageError>>,
    /// ...and of the locks after a failed save (it stays away a while).
    pub lock_errors: RefCell<VecDeque<StorageError>>,
    pub lock_errors_after_failed_save: RefCell<VecDeque<StorageError>>,
    /// The listing of accounts fails with this (a store that is down).
    pub accounts_error: RefCell<Option<StorageError>>,
    /// Codex homes outside the vault: each directory's login, and its
    /// `config.toml` as JSON.
    pub homes: RefCell<BTreeMap<String, Vec<u8>>>,
    pub home_configs: RefCell<BTreeMap<String, String>>,
    /// Journal entries of moves, by account.
    pub journal: RefCell<BTreeMap<String, Vec<u8>>>,
    /// The place locks held here, and those another process holds.
    pub place_locks: RefCell<Vec<Place>>,
    pub places_busy: RefCell<Vec<Place>>,
    /// Whether a home's `auth.json` and the vault's are on one file system.
    pub one_file_system: Cell<bool>,
}

impl Fake {
    pub fn with_file(bytes: &[u8]) -> Self {
        let fake = Self::default();
        fake.file.replace(Some(bytes.to_vec()));
        fake
    }
}

impl Platform for Fake {
    fn now_ms(&self) -> i64 {
        self.now_ms.get()
    }
    fn sleep_ms(&self, ms: u64) {
        // Nobody may wait on a lock this session holds while it pauses.
        assert!(
            !self.locked.get() && self.named_locks.borrow().is_empty() && self.pool_locks.borrow().is_empty(),
            "slept holding a lock"
        );
        self.slept_ms.borrow_mut().push(ms);
        if let Some(bytes) = self.peer_write_on_sleep.borrow_mut().take() {
            self.file.replace(Some(bytes));
        }
        self.now_ms.set(self.now_ms.get() + ms as i64);
    }
    fn env_var(&self, name: &str) -> Option<String> {
        self.env.borrow().get(name).cloned()
    }
    fn fill_random(&self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8;
        }
    }
    fn accounts(&self) -> Result<Vec<String>, StorageError> {
        if let Some(e) = self.accounts_error.borrow().clone() {
            return Err(e);
        }
        let mut names: Vec<String> = self.named.borrow().keys().cloned().collect();
        if self.file.borrow().is_some() {
            names.push("default".into());
        }
        Ok(names)
    }
    fn store_location(&self, account: &str) -> String {
        match account {
            "default" => "/fake/auth.json".into(),
            name => format!("/fake/accounts/{name}/auth.json"),
        }
    }
    fn linked_to(&self, account: &str) -> Option<String> {
        self.links.borrow().get(account).cloned()
    }
    fn home_signs(
        &self,
        account: &str,
        codex_home: Option<&str>,
        names: &[&str],
    ) -> crate::platform::HomeSigns {
        self.signs_asked.borrow_mut().push((account.to_owned(), codex_home.map(str::to_owned)));
        let mut signs = self.signs.borrow().get(account).cloned().unwrap_or_default();
        signs.present.retain(|n| names.contains(&n.as_str()));
        signs
    }
    fn use_store(&self, account: &str, store: crate::store::kinds::AccountStore) {
        self.stores_used.borrow_mut().push((account.to_owned(), store));
    }
    fn codex_config(&self, account: &str) -> Result<Option<(String, String)>, StorageError> {
        let configs = self.codex_configs.borrow();
        Ok(configs.get(account).map(|json| (format!("/fake/{account}/config.toml"), json.clone())))
    }
    fn load(&self, account: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match account {
            "default" => Ok(self.file.borrow().clone()),
            name => Ok(self.named.borrow().get(name).cloned().flatten()),
        }
    }
    fn save(&self, account: &str, contents: &[u8]) -> Result<(), StorageError> {
        if let Some(e) = self.save_errors.borrow_mut().pop_front() {
            self.lock_errors.borrow_mut().extend(self.lock_errors_after_failed_save.borrow_mut().drain(..));
            return Err(e);
        }
        self.saves.set(self.saves.get() + 1);
        match account {
            "default" => {
                assert!(self.locked.get(), "saved without the store lock");
                self.file.replace(Some(contents.to_vec()));
            }
            name => {
                assert!(self.named_locks.borrow().contains(name), "saved without the store lock");
                self.named.borrow_mut().insert(name.to_owned(), Some(contents.to_vec()));
            }
        }
        Ok(())
    }
    fn remove(&self, account: &str) -> Result<bool, StorageError> {
        match account {
            "default" => Ok(self.file.replace(None).is_some()),
            name => Ok(self.named.borrow_mut().get_mut(name).and_then(Option::take).is_some()),
        }
    }
    fn lock(&self, account: &str, _timeout_ms: u32) -> Result<(), StorageError> {
        // Waiting for a store lock while holding a pool lock would make the
        // pool's waiters wait behind a refresh.
        assert!(self.pool_locks.borrow().is_empty(), "took a store lock holding a pool lock");
        if let Some(e) =
            self.lock_error.borrow().clone().or_else(|| self.lock_errors.borrow_mut().pop_front())
        {
            return Err(e);
        }
        let fresh = match account {
            "default" => !self.locked.replace(true),
            name => self.named_locks.borrow_mut().insert(name.to_owned()),
        };
        assert!(fresh, "lock taken twice");
        Ok(())
    }
    fn unlock(&self, account: &str) {
        match account {
            "default" => self.locked.set(false),
            name => {
                self.named_locks.borrow_mut().remove(name);
            }
        }
    }
    fn link(&self, account: &str, directory: &str) -> Result<(), StorageError> {
        self.links.borrow_mut().insert(account.to_owned(), directory.to_owned());
        self.named.borrow_mut().entry(account.to_owned()).or_default();
        Ok(())
    }
    fn forget(&self, account: &str) -> Result<(), StorageError> {
        self.links.borrow_mut().remove(account);
        self.named.borrow_mut().remove(account);
        Ok(())
    }
    fn load_settings(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.settings.borrow().clone())
    }
    fn save_settings(&self, contents: &[u8]) -> Result<(), StorageError> {
        self.settings.replace(Some(contents.to_vec()));
        Ok(())
    }
    fn load_pool(&self, account: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.pool.borrow().get(account).cloned())
    }
    fn save_pool(&self, account: &str, contents: &[u8]) -> Result<(), StorageError> {
        assert!(self.pool_locks.borrow().contains(account), "pool state saved without its lock");
        self.pool.borrow_mut().insert(account.to_owned(), contents.to_vec());
        Ok(())
    }
    fn lock_pool(&self, account: &str, timeout_ms: u32) -> Result<(), StorageError> {
        if self.pool_busy.borrow().contains(account) {
            return Err(StorageError::LockTimeout(timeout_ms));
        }
        assert!(self.pool_locks.borrow_mut().insert(account.to_owned()), "pool lock taken twice");
        Ok(())
    }
    fn unlock_pool(&self, account: &str) {
        self.pool_locks.borrow_mut().remove(account);
    }
    fn journals(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.journal.borrow().keys().cloned().collect())
    }
    fn home_config(&self, directory: &str) -> Result<Option<(String, String)>, StorageError> {
        Ok(self
            .home_configs
            .borrow()
            .get(directory)
            .map(|json| (format!("{directory}/config.toml"), json.clone())))
    }
    fn load_place(&self, place: &Place) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(match place {
            Place::CodexHome(home) => self.homes.borrow().get(&home.directory).cloned(),
            Place::Journal(name) => self.journal.borrow().get(name).cloned(),
        })
    }
    fn save_place(&self, place: &Place, contents: &[u8]) -> Result<(), StorageError> {
        match place {
            Place::CodexHome(home) => {
                self.homes.borrow_mut().insert(home.directory.clone(), contents.to_vec())
            }
            Place::Journal(name) => self.journal.borrow_mut().insert(name.clone(), contents.to_vec()),
        };
        Ok(())
    }
    fn remove_place(&self, place: &Place) -> Result<bool, StorageError> {
        Ok(match place {
            Place::CodexHome(home) => self.homes.borrow_mut().remove(&home.directory).is_some(),
            Place::Journal(name) => self.journal.borrow_mut().remove(name).is_some(),
        })
    }
    fn lock_place(&self, place: &Place, timeout_ms: u32) -> Result<(), StorageError> {
        if self.places_busy.borrow().contains(place) {
            return Err(StorageError::LockTimeout(timeout_ms));
        }
        assert!(!self.place_locks.borrow().contains(place), "place lock taken twice");
        self.place_locks.borrow_mut().push(place.clone());
        Ok(())
    }
    fn unlock_place(&self, place: &Place) {
        self.place_locks.borrow_mut().retain(|p| p != place);
    }
    fn rename_into(&self, directory: &str, account: &str) -> Result<bool, StorageError> {
        assert!(self.named_locks.borrow().contains(account), "renamed without the account's lock");
        if !self.one_file_system.get() {
            return Ok(false);
        }
        let moved = self.homes.borrow_mut().remove(directory);
        self.named.borrow_mut().insert(account.to_owned(), moved);
        Ok(true)
    }
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.borrow_mut().push(request.clone());
        self.sent_under_lock.borrow_mut().push(self.locked.get() || !self.named_locks.borrow().is_empty());
        if let Some(bytes) = self.peer_write_on_send.borrow_mut().take() {
            self.file.replace(Some(bytes));
        }
        self.responses.borrow_mut().pop_front().expect("an unscripted HTTP request")
    }
    fn run(
        &self,
        program: &str,
        args: &[String],
        timeout_ms: u32,
    ) -> Result<crate::platform::ProcessOutput, String> {
        self.runs.borrow_mut().push((program.to_owned(), args.to_vec(), timeout_ms));
        self.outputs.borrow_mut().pop_front().expect("an unscripted command run")
    }
    fn bind(&self, _port: u16) -> Result<(), BindError> {
        self.bind_errors.borrow_mut().pop_front().map_or(Ok(()), Err)
    }
    fn accept(&self, timeout_ms: u32) -> Result<Option<Incoming>, String> {
        match self.incoming.borrow_mut().pop_front() {
            Some(request) => Ok(request),
            None => {
                self.now_ms.set(self.now_ms.get() + i64::from(timeout_ms));
                Ok(None)
            }
        }
    }
    fn respond(&self, id: u64, status: u16, _content_type: &str, _body: &[u8]) {
        self.replies.borrow_mut().push((id, status));
    }
    fn close_listener(&self) {}
    fn notify(&self, notice: Notice) {
        self.notices.borrow_mut().push(notice);
    }
    fn open_browser(&self, _url: &str) -> Result<(), String> {
        Ok(())
    }
    fn ask(&self, _prompt: &str) -> Result<String, String> {
        self.answers.borrow_mut().pop_front().ok_or_else(|| "end of input".to_owned())
    }
}
