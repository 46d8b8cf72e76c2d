//! The capabilities the host lends the guest. Only the session and sign-in
//! code calls them, through this trait, so every decision module stays pure
//! and the session itself runs natively against a fake in tests.

use std::fmt;

wit_enum! {
    /// HTTP request methods the guest uses.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Method {
        Get,
        Post,
    }
}

/// An outgoing request. Its body may hold secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout_ms: u32,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// A complete answer.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpResponse({}, {} bytes)", self.status, self.body.len())
    }
}

/// Why no answer arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    Timeout,
    Connect(String),
    Other(String),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("the request timed out"),
            Self::Connect(why) => write!(f, "could not connect: {why}"),
            Self::Other(why) => f.write_str(why),
        }
    }
}

/// Why the store could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageError {
    Io(String),
    LockTimeout(u32),
}

/// A request that reached the loopback listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub id: u64,
    pub method: String,
    pub target: String,
}

/// Why a loopback port could not be bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindError {
    InUse,
    Other(String),
}

/// What a sign-in shows the person at the keyboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    OpenUrl(String),
    DeviceCode(DevicePrompt),
    MethodChosen(String),
    Waiting(u32),
    Rejected(String),
    Info(String),
    /// A definitive refresh failure disabled an account (never deleted).
    AccountDisabled(AccountDisabled),
    /// A usage limit blocks an account until this instant (Unix seconds).
    AccountBlocked(AccountBlocked),
    /// The issuer said the refresh token sent was used already, and the
    /// store meanwhile holds a newer login another program wrote: that one
    /// is used, and the account stays enabled.
    /// The account's name.
    PeerRefreshed(String),
    /// A refresh request was answered (whatever followed): for counting.
    Refreshed(RefreshReport),
}

wit_enum! {
    /// How the issuer answered one refresh request.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum RefreshOutcome {
        /// New tokens.
        Rotated,
        /// The refresh token was used already.
        Reused,
        /// Refused for good otherwise.
        Refused,
        /// Not answered, or a passing error.
        Transient,
    }
}

/// One refresh request of an account and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshReport {
    pub account: String,
    pub outcome: RefreshOutcome,
}

/// A device code to show the person signing in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePrompt {
    pub user_code: String,
    pub verification_url: String,
    /// Seconds the code stays valid.
    pub expires_in: u32,
}

/// An account a definitive refresh failure disabled, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountDisabled {
    pub account: String,
    pub reason: String,
}

/// An account a usage limit blocks until `until` (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountBlocked {
    pub account: String,
    pub until: i64,
}

/// What a finished (or killed) command left.
#[derive(Clone, PartialEq, Eq)]
pub struct ProcessOutput {
    /// The exit code; `None` when a signal ended it.
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl std::fmt::Debug for ProcessOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ProcessOutput({:?}, {} bytes out, {} bytes err)",
            self.status,
            self.stdout.len(),
            self.stderr.len()
        )
    }
}

/// What the host saw of an account's directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HomeSigns {
    /// The directory is the Codex CLI's own home (see [`crate::store::codex_home::default_home`]).
    pub is_codex_home: bool,
    /// Those of [`crate::store::codex_home::SIGNS`] found in it.
    pub present: Vec<String>,
}

/// A store that is not one of the vault's accounts: what a take-over
/// (`import --move`) moves from, and its journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The login of a Codex home, kept where its `config.toml` says.
    CodexHome(HomePlace),
    /// The journal entry of a move into the named account.
    Journal(String),
}

/// A Codex home, and where it keeps its login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HomePlace {
    pub directory: String,
    pub kept_in: crate::store::kinds::AccountStore,
}

/// Everything the guest may ask of its host.
///
/// The store is keyed by account: each account is one Codex home (an
/// `auth.json` with its `auth.lock`), and each has a lock of its own.
pub trait Platform {
    /// Wall-clock time, Unix milliseconds.
    fn now_ms(&self) -> i64;
    fn sleep_ms(&self, ms: u64);
    /// An environment variable; `None` when unset or not UTF-8.
    fn env_var(&self, name: &str) -> Option<String>;
    /// Fills `buf` from a cryptographically secure source.
    fn fill_random(&self, buf: &mut [u8]);

    /// The names of the accounts that have a store, in no particular order.
    fn accounts(&self) -> Result<Vec<String>, StorageError>;
    /// The path of an account's store file, for messages.
    fn store_location(&self, account: &str) -> String;
    /// The Codex home an account links to, when it is a link.
    fn linked_to(&self, account: &str) -> Option<String>;
    /// What the account's directory shows of the Codex CLI: whether it is
    /// the directory `codex_home`, and which of `names` it holds. Nothing
    /// for a store without a directory (a database row).
    fn home_signs(&self, account: &str, codex_home: Option<&str>, names: &[&str]) -> HomeSigns;
    /// The Codex CLI's `config.toml` of the account's Codex home, as
    /// (path, JSON); `None` when there is none.
    fn codex_config(&self, account: &str) -> Result<Option<(String, String)>, StorageError>;
    /// From now on keep `account`'s credential in `store` (an account added
    /// after the plan was made).
    fn use_store(&self, account: &str, store: crate::store::kinds::AccountStore);
    fn load(&self, account: &str) -> Result<Option<Vec<u8>>, StorageError>;
    fn save(&self, account: &str, contents: &[u8]) -> Result<(), StorageError>;
    fn remove(&self, account: &str) -> Result<bool, StorageError>;
    fn lock(&self, account: &str, timeout_ms: u32) -> Result<(), StorageError>;
    fn unlock(&self, account: &str);
    /// Makes `account` a link to the Codex home `directory`.
    fn link(&self, account: &str, directory: &str) -> Result<(), StorageError>;
    /// Drops an account's entry: a link (its target untouched), or an empty
    /// store directory of the vault's own.
    fn forget(&self, account: &str) -> Result<(), StorageError>;
    /// The vault's settings file.
    fn load_settings(&self) -> Result<Option<Vec<u8>>, StorageError>;
    fn save_settings(&self, contents: &[u8]) -> Result<(), StorageError>;
    /// An account's pool state (usage, blocks), never a token.
    fn load_pool(&self, account: &str) -> Result<Option<Vec<u8>>, StorageError>;
    fn save_pool(&self, account: &str, contents: &[u8]) -> Result<(), StorageError>;
    /// The pool state's own lock, apart from the store's; a zero timeout
    /// tries once.
    fn lock_pool(&self, account: &str, timeout_ms: u32) -> Result<(), StorageError>;
    fn unlock_pool(&self, account: &str);

    /// The accounts with a journal entry of a move, half-written ones included.
    fn journals(&self) -> Result<Vec<String>, StorageError>;
    /// The Codex CLI's `config.toml` of the Codex home `directory`, as
    /// [`Platform::codex_config`] gives an account's.
    fn home_config(&self, directory: &str) -> Result<Option<(String, String)>, StorageError>;
    fn load_place(&self, place: &Place) -> Result<Option<Vec<u8>>, StorageError>;
    fn save_place(&self, place: &Place, contents: &[u8]) -> Result<(), StorageError>;
    fn remove_place(&self, place: &Place) -> Result<bool, StorageError>;
    fn lock_place(&self, place: &Place, timeout_ms: u32) -> Result<(), StorageError>;
    fn unlock_place(&self, place: &Place);
    /// Renames the Codex home's `auth.json` over `account`'s store file
    /// when both are files on one file system; `false`, nothing moved, else.
    fn rename_into(&self, directory: &str, account: &str) -> Result<bool, StorageError>;

    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Runs `program` with `args` (no shell, no stdin), killing it after
    /// `timeout_ms`; the error says why it could not start.
    fn run(&self, program: &str, args: &[String], timeout_ms: u32) -> Result<ProcessOutput, String>;

    fn bind(&self, port: u16) -> Result<(), BindError>;
    fn accept(&self, timeout_ms: u32) -> Result<Option<Incoming>, String>;
    fn respond(&self, id: u64, status: u16, content_type: &str, body: &[u8]);
    fn close_listener(&self);

    fn notify(&self, notice: Notice);
    fn open_browser(&self, url: &str) -> Result<(), String>;
    /// One line typed by the person.
    fn ask(&self, prompt: &str) -> Result<String, String>;
}

/// A borrowed platform is a platform: the vault lends its own to the
/// per-account sessions it runs.
impl<P: Platform + ?Sized> Platform for &P {
    fn now_ms(&self) -> i64 {
        (**self).now_ms()
    }
    fn sleep_ms(&self, ms: u64) {
        (**self).sleep_ms(ms)
    }
    fn env_var(&self, name: &str) -> Option<String> {
        (**self).env_var(name)
    }
    fn fill_random(&self, buf: &mut [u8]) {
        (**self).fill_random(buf)
    }
    fn accounts(&self) -> Result<Vec<String>, StorageError> {
        (**self).accounts()
    }
    fn store_location(&self, account: &str) -> String {
        (**self).store_location(account)
    }
    fn linked_to(&self, account: &str) -> Option<String> {
        (**self).linked_to(account)
    }
    fn home_signs(&self, account: &str, codex_home: Option<&str>, names: &[&str]) -> HomeSigns {
        (**self).home_signs(account, codex_home, names)
    }
    fn codex_config(&self, account: &str) -> Result<Option<(String, String)>, StorageError> {
        (**self).codex_config(account)
    }
    fn use_store(&self, account: &str, store: crate::store::kinds::AccountStore) {
        (**self).use_store(account, store)
    }
    fn load(&self, account: &str) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).load(account)
    }
    fn save(&self, account: &str, contents: &[u8]) -> Result<(), StorageError> {
        (**self).save(account, contents)
    }
    fn remove(&self, account: &str) -> Result<bool, StorageError> {
        (**self).remove(account)
    }
    fn lock(&self, account: &str, timeout_ms: u32) -> Result<(), StorageError> {
        (**self).lock(account, timeout_ms)
    }
    fn unlock(&self, account: &str) {
        (**self).unlock(account)
    }
    fn link(&self, account: &str, directory: &str) -> Result<(), StorageError> {
        (**self).link(account, directory)
    }
    fn forget(&self, account: &str) -> Result<(), StorageError> {
        (**self).forget(account)
    }
    fn load_settings(&self) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).load_settings()
    }
    fn save_settings(&self, contents: &[u8]) -> Result<(), StorageError> {
        (**self).save_settings(contents)
    }
    fn load_pool(&self, account: &str) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).load_pool(account)
    }
    fn save_pool(&self, account: &str, contents: &[u8]) -> Result<(), StorageError> {
        (**self).save_pool(account, contents)
    }
    fn lock_pool(&self, account: &str, timeout_ms: u32) -> Result<(), StorageError> {
        (**self).lock_pool(account, timeout_ms)
    }
    fn unlock_pool(&self, account: &str) {
        (**self).unlock_pool(account)
    }
    fn journals(&self) -> Result<Vec<String>, StorageError> {
        (**self).journals()
    }
    fn home_config(&self, directory: &str) -> Result<Option<(String, String)>, StorageError> {
        (**self).home_config(directory)
    }
    fn load_place(&self, place: &Place) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).load_place(place)
    }
    fn save_place(&self, place: &Place, contents: &[u8]) -> Result<(), StorageError> {
        (**self).save_place(place, contents)
    }
    fn remove_place(&self, place: &Place) -> Result<bool, StorageError> {
        (**self).remove_place(place)
    }
    fn lock_place(&self, place: &Place, timeout_ms: u32) -> Result<(), StorageError> {
        (**self).lock_place(place, timeout_ms)
    }
    fn unlock_place(&self, place: &Place) {
        (**self).unlock_place(place)
    }
    fn rename_into(&self, directory: &str, account: &str) -> Result<bool, StorageError> {
        (**self).rename_into(directory, account)
    }
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request)
    }
    fn run(&self, program: &str, args: &[String], timeout_ms: u32) -> Result<ProcessOutput, String> {
        (**self).run(program, args, timeout_ms)
    }
    fn bind(&self, port: u16) -> Result<(), BindError> {
        (**self).bind(port)
    }
    fn accept(&self, timeout_ms: u32) -> Result<Option<Incoming>, String> {
        (**self).accept(timeout_ms)
    }
    fn respond(&self, id: u64, status: u16, content_type: &str, body: &[u8]) {
        (**self).respond(id, status, content_type, body)
    }
    fn close_listener(&self) {
        (**self).close_listener()
    }
    fn notify(&self, notice: Notice) {
        (**self).notify(notice)
    }
    fn open_browser(&self, url: &str) -> Result<(), String> {
        (**self).open_browser(url)
    }
    fn ask(&self, prompt: &str) -> Result<String, String> {
        (**self).ask(prompt)
    }
}
