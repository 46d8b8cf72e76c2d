//! The capabilities the host lends the guest. Only the session and sign-in
//! code calls them, through this trait, so every decision module stays pure
//! and the session itself runs natively against a fake in tests.

use std::fmt;

/// HTTP request methods the guest uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
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
    DeviceCode { user_code: String, verification_url: String, expires_in: u32 },
    MethodChosen(String),
    Waiting(u32),
    Rejected(String),
    Info(String),
}

/// Everything the guest may ask of its host.
pub trait Platform {
    /// Wall-clock time, Unix milliseconds.
    fn now_ms(&self) -> i64;
    fn sleep_ms(&self, ms: u64);
    /// An environment variable; `None` when unset or not UTF-8.
    fn env_var(&self, name: &str) -> Option<String>;
    /// Fills `buf` from a cryptographically secure source.
    fn fill_random(&self, buf: &mut [u8]);

    fn store_location(&self) -> String;
    fn load(&self) -> Result<Option<Vec<u8>>, StorageError>;
    fn save(&self, contents: &[u8]) -> Result<(), StorageError>;
    fn remove(&self) -> Result<bool, StorageError>;
    fn lock(&self, timeout_ms: u32) -> Result<(), StorageError>;
    fn unlock(&self);

    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;

    fn bind(&self, port: u16) -> Result<(), BindError>;
    fn accept(&self, timeout_ms: u32) -> Result<Option<Incoming>, String>;
    fn respond(&self, id: u64, status: u16, content_type: &str, body: &[u8]);
    fn close_listener(&self);

    fn notify(&self, notice: Notice);
    fn open_browser(&self, url: &str) -> Result<(), String>;
    /// One line typed by the person.
    fn ask(&self, prompt: &str) -> Result<String, String>;
}
