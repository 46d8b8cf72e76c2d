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
        storage::accounts().map_err(from_storage_error)
    }
    fn store_location(&self, account: &str) -> String {
        storage::location(account)
    }
    fn linked_to(&self, account: &str) -> Option<String> {
        storage::linked_to(account)
    }
    fn home_signs(
        &self,
        account: &str,
        codex_home: Option<&str>,
        names: &[&str],
    ) -> crate::platform::HomeSigns {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let signs = storage::home_signs(account, codex_home, &names);
        crate::platform::HomeSigns { is_codex_home: signs.is_codex_home, present: signs.present }
    }
    fn codex_config(&self, account: &str) -> Result<Option<(String, String)>, platform::StorageError> {
        storage::codex_config(account, crate::store::codex_config::FILE_NAME).map_err(from_storage_error)
    }
    fn use_store(&self, account: &str, store: crate::store::kinds::AccountStore) {
        storage::use_store(account, to_account_store(store));
    }
    fn load(&self, account: &str) -> Result<Option<Vec<u8>>, platform::StorageError> {
        storage::load(account).map_err(from_storage_error)
    }
    fn save(&self, account: &str, contents: &[u8]) -> Result<(), platform::StorageError> {
        storage::save(account, contents).map_err(from_storage_error)
    }
    fn remove(&self, account: &str) -> Result<bool, platform::StorageError> {
        storage::remove(account).map_err(from_storage_error)
    }
    fn lock(&self, account: &str, timeout_ms: u32) -> Result<(), platform::StorageError> {
        storage::lock(account, timeout_ms).map_err(from_storage_error)
    }
    fn unlock(&self, account: &str) {
        storage::unlock(account);
    }
    fn link(&self, account: &str, directory: &str) -> Result<(), platform::StorageError> {
        storage::link(account, directory).map_err(from_storage_error)
    }
    fn forget(&self, account: &str) -> Result<(), platform::StorageError> {
        storage::forget(account).map_err(from_storage_error)
    }
    fn load_settings(&self) -> Result<Option<Vec<u8>>, platform::StorageError> {
        storage::load_settings().map_err(from_storage_error)
    }
    fn save_settings(&self, contents: &[u8]) -> Result<(), platform::StorageError> {
        storage::save_settings(contents).map_err(from_storage_error)
    }
    fn load_pool(&self, account: &str) -> Result<Option<Vec<u8>>, platform::StorageError> {
        storage::load_pool(account).map_err(from_storage_error)
    }
    fn save_pool(&self, account: &str, contents: &[u8]) -> Result<(), platform::StorageError> {
        storage::save_pool(account, contents).map_err(from_storage_error)
    }
    fn lock_pool(&self, account: &str, timeout_ms: u32) -> Result<(), platform::StorageError> {
        storage::lock_pool(account, timeout_ms).map_err(from_storage_error)
    }
    fn unlock_pool(&self, account: &str) {
        storage::unlock_pool(account);
    }
    fn send(&self, r: &platform::HttpRequest) -> Result<platform::HttpResponse, platform::TransportError> {
        let request = http::Request {
            method: match r.method {
                platform::Method::Get => http::Method::Get,
                platform::Method::Post => http::Method::Post,
            },
            url: r.url.clone(),
            headers: r.headers.clone(),
            body: r.body.clone(),
            timeout_ms: r.timeout_ms,
        };
        match http::send(&request) {
            Ok(response) => Ok(platform::HttpResponse {
                status: response.status,
                headers: response.headers,
                body: response.body,
            }),
            Err(http::TransportError::Timeout) => Err(platform::TransportError::Timeout),
            Err(http::TransportError::Connect(why)) => Err(platform::TransportError::Connect(why)),
            Err(http::TransportError::Other(why)) => Err(platform::TransportError::Other(why)),
        }
    }
    fn run(
        &self,
        program: &str,
        args: &[String],
        timeout_ms: u32,
    ) -> Result<crate::platform::ProcessOutput, String> {
        process::run(program, args, timeout_ms).map(|o| crate::platform::ProcessOutput {
            status: o.status,
            stdout: o.stdout,
            stderr: o.stderr,
        })
    }
    fn bind(&self, port: u16) -> Result<(), platform::BindError> {
        loopback::bind(port).map_err(|e| match e {
            loopback::BindError::InUse => platform::BindError::InUse,
            loopback::BindError::Other(why) => platform::BindError::Other(why),
        })
    }
    fn accept(&self, timeout_ms: u32) -> Result<Option<platform::Incoming>, String> {
        Ok(loopback::accept(timeout_ms)?.map(|i| platform::Incoming {
            id: i.id,
            method: i.method,
            target: i.target,
        }))
    }
    fn respond(&self, id: u64, status: u16, content_type: &str, body: &[u8]) {
        loopback::respond(id, status, content_type, body);
    }
    fn close_listener(&self) {
        loopback::close();
    }
    fn notify(&self, notice: platform::Notice) {
        use platform::Notice as N;
        let event = match notice {
            N::OpenUrl(url) => notify::Event::OpenUrl(url),
            N::DeviceCode { user_code, verification_url, expires_in } => {
                notify::Event::DeviceCode(notify::DevicePrompt { user_code, verification_url, expires_in })
            }
            N::MethodChosen(why) => notify::Event::MethodChosen(why),
            N::Waiting(left) => notify::Event::Waiting(left),
            N::Rejected(why) => notify::Event::Rejected(why),
            N::Info(line) => notify::Event::Info(line),
            N::AccountDisabled { account, reason } => {
                notify::Event::AccountDisabled(notify::AccountDisabled { account, reason })
            }
            N::AccountBlocked { account, until } => {
                notify::Event::AccountBlocked(notify::AccountBlocked { account, until })
            }
            N::PeerRefreshed { account } => notify::Event::PeerRefreshed(account),
        };
        notify::emit(&event);
    }
    fn open_browser(&self, url: &str) -> Result<(), String> {
        notify::open_browser(url)
    }
    fn ask(&self, prompt: &str) -> Result<String, String> {
        notify::ask(prompt)
    }
}

pub(super) fn to_account_store(s: crate::store::kinds::AccountStore) -> t::AccountStore {
    use crate::store::kinds::AccountStore as S;
    match s {
        S::File => t::AccountStore::File,
        S::Keyring => t::AccountStore::Keyring,
        S::Auto => t::AccountStore::Auto,
        S::Ephemeral => t::AccountStore::Ephemeral,
    }
}

pub(super) fn from_account_store(s: t::AccountStore) -> crate::store::kinds::AccountStore {
    use crate::store::kinds::AccountStore as S;
    match s {
        t::AccountStore::File => S::File,
        t::AccountStore::Keyring => S::Keyring,
        t::AccountStore::Auto => S::Auto,
        t::AccountStore::Ephemeral => S::Ephemeral,
    }
}

pub(super) fn from_storage_error(e: storage::StorageError) -> platform::StorageError {
    match e {
        storage::StorageError::Io(why) => platform::StorageError::Io(why),
        storage::StorageError::LockTimeout(ms) => platform::StorageError::LockTimeout(ms),
    }
}
