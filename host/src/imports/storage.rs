use crate::backend::{Backend, Store};
use crate::bindings::storage::{CodexSigns, Host, Place, StorageError};
use crate::file_store::StoreError;
use crate::places;
use crate::state::HostState;
use std::path::Path;
use std::time::Duration;

impl HostState {
    /// Runs `f` on the account's store (`pool` false) or pool state: the
    /// one whose lock this instance holds (a database row is written in its
    /// lock's transaction), else a fresh one.
    fn on<R>(
        &mut self,
        pool: bool,
        account: &str,
        f: impl FnOnce(&mut Store) -> Result<R, StoreError>,
    ) -> Result<R, StorageError> {
        let held = if pool { &mut self.held_pool } else { &mut self.held };
        match held.get_mut(account) {
            Some(store) => f(store),
            None if pool => self.backend.pool(account).and_then(|mut s| f(&mut s)),
            None => self.backend.store(account).and_then(|mut s| f(&mut s)),
        }
        .map_err(into_wit)
    }

    /// Runs `f` on the place's store: the one whose lock this instance
    /// holds, else a fresh one.
    fn on_place<R>(
        &mut self,
        place: &Place,
        f: impl FnOnce(&mut Store) -> Result<R, StoreError>,
    ) -> Result<R, StorageError> {
        match self.held_places.get_mut(&places::key(place)) {
            Some(store) => f(store),
            None => f(&mut places::store(&self.backend, place)),
        }
        .map_err(into_wit)
    }
}

impl Host for HostState {
    fn accounts(&mut self) -> Result<Vec<String>, StorageError> {
        self.backend.accounts().map_err(into_wit)
    }

    fn location(&mut self, account: String) -> String {
        self.backend.location(&account)
    }

    fn linked_to(&mut self, account: String) -> Option<String> {
        self.backend.linked_to(&account).map(|p| p.display().to_string())
    }

    fn home_signs(&mut self, account: String, codex_home: Option<String>, names: Vec<String>) -> CodexSigns {
        let (is_codex_home, present) = self.backend.home_signs(&account, codex_home.as_deref(), &names);
        CodexSigns { is_codex_home, present }
    }

    fn codex_config(
        &mut self,
        account: String,
        file: String,
    ) -> Result<Option<(String, String)>, StorageError> {
        self.backend.codex_config(&account, &file).map_err(into_wit)
    }

    fn use_store(&mut self, account: String, store: crate::bindings::types::AccountStore) {
        self.backend.use_store(&account, store);
    }

    fn load(&mut self, account: String) -> Result<Option<Vec<u8>>, StorageError> {
        self.on(false, &account, |s| s.load())
    }

    fn save(&mut self, account: String, contents: Vec<u8>) -> Result<(), StorageError> {
        self.on(false, &account, |s| s.save(&contents))
    }

    fn remove(&mut self, account: String) -> Result<bool, StorageError> {
        self.on(false, &account, |s| s.remove())
    }

    fn lock(&mut self, account: String, timeout_ms: u32) -> Result<(), StorageError> {
        if self.held.contains_key(&account) {
            return Err(StorageError::Io(format!("the lock of account `{account}` is already held here")));
        }
        let mut store = self.backend.store(&account).map_err(into_wit)?;
        store.lock(Duration::from_millis(u64::from(timeout_ms))).map_err(into_wit)?;
        self.held.insert(account, store);
        Ok(())
    }

    fn unlock(&mut self, account: String) {
        // Dropping the store releases the lock (closes the lock file, or
        // ends the row's transaction).
        self.held.remove(&account);
    }

    fn link(&mut self, account: String, directory: String) -> Result<(), StorageError> {
        self.backend.link(&account, Path::new(&directory)).map_err(into_wit)
    }

    fn forget(&mut self, account: String) -> Result<(), StorageError> {
        self.backend.forget(&account).map_err(into_wit)
    }

    fn load_pool(&mut self, account: String) -> Result<Option<Vec<u8>>, StorageError> {
        self.on(true, &account, |s| s.load())
    }

    fn save_pool(&mut self, account: String, contents: Vec<u8>) -> Result<(), StorageError> {
        self.on(true, &account, |s| s.save(&contents))
    }

    fn lock_pool(&mut self, account: String, timeout_ms: u32) -> Result<(), StorageError> {
        if self.held_pool.contains_key(&account) {
            return Err(StorageError::Io(format!("the pool lock of `{account}` is already held here")));
        }
        let mut store = self.backend.pool(&account).map_err(into_wit)?;
        store.lock(Duration::from_millis(u64::from(timeout_ms))).map_err(into_wit)?;
        self.held_pool.insert(account, store);
        Ok(())
    }

    fn unlock_pool(&mut self, account: String) {
        self.held_pool.remove(&account);
    }

    fn journals(&mut self) -> Result<Vec<String>, StorageError> {
        places::journals(&self.backend).map_err(into_wit)
    }

    fn home_config(
        &mut self,
        directory: String,
        file: String,
    ) -> Result<Option<(String, String)>, StorageError> {
        Backend::home_config(Path::new(&directory), &file).map_err(into_wit)
    }

    fn load_place(&mut self, place: Place) -> Result<Option<Vec<u8>>, StorageError> {
        self.on_place(&place, |s| s.load())
    }

    fn save_place(&mut self, place: Place, contents: Vec<u8>) -> Result<(), StorageError> {
        self.on_place(&place, |s| s.save(&contents))
    }

    fn remove_place(&mut self, place: Place) -> Result<bool, StorageError> {
        self.on_place(&place, |s| s.remove())
    }

    fn lock_place(&mut self, place: Place, timeout_ms: u32) -> Result<(), StorageError> {
        let key = places::key(&place);
        if self.held_places.contains_key(&key) {
            return Err(StorageError::Io(format!("the lock of {key} is already held here")));
        }
        let mut store = places::store(&self.backend, &place);
        store.lock(Duration::from_millis(u64::from(timeout_ms))).map_err(into_wit)?;
        self.held_places.insert(key, store);
        Ok(())
    }

    fn unlock_place(&mut self, place: Place) {
        self.held_places.remove(&places::key(&place));
    }

    fn rename_into(&mut self, directory: String, account: String) -> Result<bool, StorageError> {
        self.on(false, &account, |target| places::rename_into(Path::new(&directory), target))
    }

    fn load_settings(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        self.backend.settings().load().map_err(into_wit)
    }

    fn save_settings(&mut self, contents: Vec<u8>) -> Result<(), StorageError> {
        // Settings are rewritten whole and read leniently: no lock needed.
        self.backend.settings().save(&contents).map_err(into_wit)
    }
}

fn into_wit(e: StoreError) -> StorageError {
    match e {
        StoreError::Io(why) => StorageError::Io(why),
        StoreError::LockTimeout(ms) => StorageError::LockTimeout(ms),
    }
}
