//! The guest's logic compiled natively, over an in-memory store: the
//! baseline the component is measured against.

use codex_auth_guest::platform::*;
use codex_auth_guest::session::{Config, Session};
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Memory {
    file: Vec<u8>,
}

impl Platform for Memory {
    fn now_ms(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
    }
    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    fn env_var(&self, _name: &str) -> Option<String> {
        None
    }
    fn fill_random(&self, buf: &mut [u8]) {
        buf.fill(7);
    }
    fn accounts(&self) -> Result<Vec<String>, StorageError> {
        Ok(vec!["default".into()])
    }
    fn store_location(&self, _account: &str) -> String {
        "memory".into()
    }
    fn linked_to(&self, _account: &str) -> Option<String> {
        None
    }
    fn home_signs(
        &self,
        _account: &str,
        _codex_home: Option<&str>,
        _names: &[&str],
    ) -> codex_auth_guest::platform::HomeSigns {
        codex_auth_guest::platform::HomeSigns::default()
    }
    fn codex_config(&self, _account: &str) -> Result<Option<(String, String)>, StorageError> {
        Ok(None)
    }
    fn use_store(&self, _account: &str, _store: codex_auth_guest::store::kinds::AccountStore) {}
    fn load(&self, _account: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(Some(self.file.clone()))
    }
    fn save(&self, _account: &str, _contents: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::Io("read-only".into()))
    }
    fn remove(&self, _account: &str) -> Result<bool, StorageError> {
        Ok(false)
    }
    fn lock(&self, _account: &str, _timeout_ms: u32) -> Result<(), StorageError> {
        Ok(())
    }
    fn unlock(&self, _account: &str) {}
    fn link(&self, _account: &str, _directory: &str) -> Result<(), StorageError> {
        Err(StorageError::Io("read-only".into()))
    }
    fn forget(&self, _account: &str) -> Result<(), StorageError> {
        Err(StorageError::Io("read-only".into()))
    }
    fn load_settings(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(None)
    }
    fn save_settings(&self, _contents: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::Io("read-only".into()))
    }
    fn load_pool(&self, _account: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(None)
    }
    fn save_pool(&self, _account: &str, _contents: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::Io("read-only".into()))
    }
    fn lock_pool(&self, _account: &str, _timeout_ms: u32) -> Result<(), StorageError> {
        Ok(())
    }
    fn unlock_pool(&self, _account: &str) {}
    fn journals(&self) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }
    fn home_config(&self, _directory: &str) -> Result<Option<(String, String)>, StorageError> {
        Ok(None)
    }
    fn load_place(&self, _place: &Place) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(None)
    }
    fn save_place(&self, _place: &Place, _contents: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::Io("read-only".into()))
    }
    fn remove_place(&self, _place: &Place) -> Result<bool, StorageError> {
        Err(StorageError::Io("read-only".into()))
    }
    fn lock_place(&self, _place: &Place, _timeout_ms: u32) -> Result<(), StorageError> {
        Ok(())
    }
    fn unlock_place(&self, _place: &Place) {}
    fn rename_into(&self, _directory: &str, _account: &str) -> Result<bool, StorageError> {
        Ok(false)
    }
    fn send(&self, _request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        Err(TransportError::Other("offline".into()))
    }
    fn run(
        &self,
        _program: &str,
        _args: &[String],
        _timeout_ms: u32,
    ) -> Result<codex_auth_guest::platform::ProcessOutput, String> {
        Err("offline".into())
    }
    fn bind(&self, _port: u16) -> Result<(), BindError> {
        Err(BindError::Other("offline".into()))
    }
    fn accept(&self, _timeout_ms: u32) -> Result<Option<Incoming>, String> {
        Ok(None)
    }
    fn respond(&self, _id: u64, _status: u16, _content_type: &str, _body: &[u8]) {}
    fn close_listener(&self) {}
    fn notify(&self, _notice: Notice) {}
    fn open_browser(&self, _url: &str) -> Result<(), String> {
        Err("no browser".into())
    }
    fn ask(&self, _prompt: &str) -> Result<String, String> {
        Err("no terminal".into())
    }
}

pub fn session(file: &[u8]) -> Session<Memory> {
    Session::new(Memory { file: file.to_vec() }, Config::default())
}
