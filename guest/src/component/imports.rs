//! The [`Platform`] made of the host's imports.

use super::*;

/// The [`Platform`] backed by the host's imports (and `wasi:random` and
/// `wasi:cli/environment` through std and getrandom).
pub(super) struct Imports;

impl Platform for Imports {
    fn now_ms(&self) -> i64 {
        clock::now()
    }
    fn sleep_ms(&self, ms: u64) {
        clock::sleep(ms);
    }
    fn env_var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn fill_random(&self, buf: &mut [u8]) {
        // wasi:random cannot fail short of a broken host; a trap is right then.
        getrandom::fill(buf).expect("wasi:random failed");
    }
    fn accounts(&self) -> Result<Vec<String>, platform::StorageError> {
        storage::accounts()
    }
    fn store_location(&self, account: &str) -> String {
        storage::location(account)
    }
    fn linked_to(&self, account: &str) -> Option<String> {
        storage::linked_to(account)
    }
    fn home_signs(&self, account: &str, codex_home: Option<&str>, names: &[&str]) -> platform::HomeSigns {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        storage::home_signs(account, codex_home, &names)
    }
    fn codex_config(&self, account: &str) -> Result<Option<(String, String)>, platform::StorageError> {
        storage::codex_config(account, crate::store::codex_config::FILE_NAME)
    }
    fn use_store(&self, account: &str, store: crate::store::kinds::AccountStore) {
        storage::use_store(account, store);
    }
    fn load(&self, account: &str) -> Result<Option<Vec<u8>>, platform::StorageError> {
        storage::load(account)
    }
    fn save(&self, account: &str, contents: &[u8]) -> Result<(), platform::StorageError> {
        storage::save(account, contents)
    }
    fn remove(&self, account: &str) -> Result<bool, platform::StorageError> {
        storage::remove(account)
    }
    fn lock(&self, account: &str, timeout_ms: u32) -> Result<(), platform::StorageError> {
        storage::lock(account, timeout_ms)
    }
    fn unlock(&self, account: &str) {
        storage::unlock(account);
    }
    fn link(&self, account: &str, directory: &str) -> Result<(), platform::StorageError> {
        storage::link(account, directory)
    }
    fn forget(&self, account: &str) -> Result<(), platform::StorageError> {
        storage::forget(account)
    }
    fn load_settings(&self) -> Result<Option<Vec<u8>>, platform::StorageError> {
        storage::load_settings()
    }
    fn save_settings(&self, contents: &[u8]) -> Result<(), platform::StorageError> {
        storage::save_settings(contents)
    }
    fn load_pool(&self, account: &str) -> Result<Option<Vec<u8>>, platform::StorageError> {
        storage::load_pool(account)
    }
    fn save_pool(&self, account: &str, contents: &[u8]) -> Result<(), platform::StorageError> {
        storage::save_pool(account, contents)
    }
    fn lock_pool(&self, account: &str, timeout_ms: u32) -> Result<(), platform::StorageError> {
        storage::lock_pool(account, timeout_ms)
    }
    fn unlock_pool(&self, account: &str) {
        storage::unlock_pool(account);
    }
    fn journals(&self) -> Result<Vec<String>, platform::StorageError> {
        storage::journals()
    }
    fn home_config(&self, directory: &str) -> Result<Option<(String, String)>, platform::StorageError> {
        storage::home_config(directory, crate::store::codex_config::FILE_NAME)
    }
    fn load_place(&self, place: &platform::Place) -> Result<Option<Vec<u8>>, platform::StorageError> {
        storage::load_place(place)
    }
    fn save_place(&self, place: &platform::Place, contents: &[u8]) -> Result<(), platform::StorageError> {
        storage::save_place(place, contents)
    }
    fn remove_place(&self, place: &platform::Place) -> Result<bool, platform::StorageError> {
        storage::remove_place(place)
    }
    fn lock_place(&self, place: &platform::Place, timeout_ms: u32) -> Result<(), platform::StorageError> {
        storage::lock_place(place, timeout_ms)
    }
    fn unlock_place(&self, place: &platform::Place) {
        storage::unlock_place(place);
    }
    fn rename_into(&self, directory: &str, account: &str) -> Result<bool, platform::StorageError> {
        storage::rename_into(directory, account)
    }
    fn send(
        &self,
        request: &platform::HttpRequest,
    ) -> Result<platform::HttpResponse, platform::TransportError> {
        http::send(request)
    }
    fn run(
        &self,
        program: &str,
        args: &[String],
        timeout_ms: u32,
    ) -> Result<platform::ProcessOutput, String> {
        process::run(program, args, timeout_ms)
    }
    fn bind(&self, port: u16) -> Result<(), platform::BindError> {
        loopback::bind(port)
    }
    fn accept(&self, timeout_ms: u32) -> Result<Option<platform::Incoming>, String> {
        loopback::accept(timeout_ms)
    }
    fn respond(&self, id: u64, status: u16, content_type: &str, body: &[u8]) {
        loopback::respond(id, status, content_type, body);
    }
    fn close_listener(&self) {
        loopback::close();
    }
    fn notify(&self, notice: platform::Notice) {
        notify::emit(&notice);
    }
    fn open_browser(&self, url: &str) -> Result<(), String> {
        notify::open_browser(url)
    }
    fn ask(&self, prompt: &str) -> Result<String, String> {
        notify::ask(prompt)
    }
}
