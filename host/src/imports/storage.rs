use crate::bindings::storage::{Host, StorageError};
use crate::file_store::StoreError;
use crate::state::HostState;
use std::time::Duration;

impl Host for HostState {
    fn location(&mut self) -> String {
        self.store.file().display().to_string()
    }

    fn load(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        self.store.load().map_err(into_wit)
    }

    fn save(&mut self, contents: Vec<u8>) -> Result<(), StorageError> {
        self.store.save(&contents).map_err(into_wit)
    }

    fn remove(&mut self) -> Result<bool, StorageError> {
        self.store.remove().map_err(into_wit)
    }

    fn lock(&mut self, timeout_ms: u32) -> Result<(), StorageError> {
        self.store.lock(Duration::from_millis(u64::from(timeout_ms))).map_err(into_wit)
    }

    fn unlock(&mut self) {
        self.store.unlock();
    }
}

fn into_wit(e: StoreError) -> StorageError {
    match e {
        StoreError::Io(why) => StorageError::Io(why),
        StoreError::LockTimeout(ms) => StorageError::LockTimeout(ms),
    }
}
