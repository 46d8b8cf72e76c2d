use crate::bindings::storage::{Host, StorageError};
use crate::file_store::{FileStore, StoreError};
use crate::state::HostState;
use std::path::Path;
use std::time::Duration;

impl Host for HostState {
    fn accounts(&mut self) -> Result<Vec<String>, StorageError> {
        self.layout.accounts().map_err(into_wit)
    }

    fn location(&mut self, account: String) -> String {
        // A linked account is named by where its file really is.
        if let Some(home) = self.layout.linked_to(&account) {
            return home.join(crate::AUTH_FILE).display().to_string();
        }
        match self.layout.store(&account) {
            Ok(store) => store.file().display().to_string(),
            Err(_) => format!("<no store for {}>", account.escape_debug()),
        }
    }

    fn linked_to(&mut self, account: String) -> Option<String> {
        self.layout.linked_to(&account).map(|p| p.display().to_string())
    }

    fn load(&mut self, account: String) -> Result<Option<Vec<u8>>, StorageError> {
        self.layout.store(&account).and_then(|s| s.load()).map_err(into_wit)
    }

    fn save(&mut self, account: String, contents: Vec<u8>) -> Result<(), StorageError> {
        self.layout.store(&account).and_then(|s| s.save(&contents)).map_err(into_wit)
    }

    fn remove(&mut self, account: String) -> Result<bool, StorageError> {
        self.layout.store(&account).and_then(|s| s.remove()).map_err(into_wit)
    }

    fn lock(&mut self, account: String, timeout_ms: u32) -> Result<(), StorageError> {
        if self.held.contains_key(&account) {
            return Err(StorageError::Io(format!("the lock of account `{account}` is already held here")));
        }
        let mut store: FileStore = self.layout.store(&account).map_err(into_wit)?;
        store.lock(Duration::from_millis(u64::from(timeout_ms))).map_err(into_wit)?;
        self.held.insert(account, store);
        Ok(())
    }

    fn unlock(&mut self, account: String) {
        // Dropping the store closes the lock file, which releases the flock.
        self.held.remove(&account);
    }

    fn link(&mut self, account: String, directory: String) -> Result<(), StorageError> {
        self.layout.link(&account, Path::new(&directory)).map_err(into_wit)
    }

    fn forget(&mut self, account: String) -> Result<(), StorageError> {
        self.layout.forget(&account).map_err(into_wit)
    }

    fn load_pool(&mut self, account: String) -> Result<Option<Vec<u8>>, StorageError> {
        self.layout.pool(&account).and_then(|s| s.load()).map_err(into_wit)
    }

    fn save_pool(&mut self, account: String, contents: Vec<u8>) -> Result<(), StorageError> {
        self.layout.pool(&account).and_then(|s| s.save(&contents)).map_err(into_wit)
    }

    fn lock_pool(&mut self, account: String, timeout_ms: u32) -> Result<(), StorageError> {
        if self.held_pool.contains_key(&account) {
            return Err(StorageError::Io(format!("the pool lock of `{account}` is already held here")));
        }
        let mut store = self.layout.pool(&account).map_err(into_wit)?;
        store.lock(Duration::from_millis(u64::from(timeout_ms))).map_err(into_wit)?;
        self.held_pool.insert(account, store);
        Ok(())
    }

    fn unlock_pool(&mut self, account: String) {
        self.held_pool.remove(&account);
    }

    fn load_settings(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        self.layout.settings().load().map_err(into_wit)
    }

    fn save_settings(&mut self, contents: Vec<u8>) -> Result<(), StorageError> {
        // Settings are rewritten whole and read leniently: no lock needed.
        self.layout.settings().save(&contents).map_err(into_wit)
    }
}

fn into_wit(e: StoreError) -> StorageError {
    match e {
        StoreError::Io(why) => StorageError::Io(why),
        StoreError::LockTimeout(ms) => StorageError::LockTimeout(ms),
    }
}
