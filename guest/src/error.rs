//! The session's error, mirroring the WIT `auth-error` variant.

use crate::oauth::oauth_error::{IssuerError, OAuthError};
use crate::platform::StorageError;
use std::fmt;

/// Why an operation of the session failed. Never carries a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    NotLoggedIn,
    /// No account of this name is stored.
    UnknownAccount(String),
    /// Every usable account is blocked by a usage limit; the first frees up
    /// then (Unix seconds).
    AllBlocked(i64),
    CorruptStore(CorruptStore),
    Storage(String),
    LockTimeout(u32),
    LoginRequired(OAuthError),
    Transport(String),
    Issuer(IssuerError),
    InvalidInput(String),
    LoginFailed(String),
    Internal(Option<String>),
}

/// A store that cannot be read: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorruptStore {
    pub path: String,
    pub reason: String,
}

impl AuthError {
    /// The store at `path` cannot be read.
    pub fn corrupt(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::CorruptStore(CorruptStore { path: path.into(), reason: reason.into() })
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLoggedIn => f.write_str("not logged in: run `codex-auth login`, or set OPENAI_API_KEY"),
            Self::UnknownAccount(name) => {
                write!(f, "no account named `{name}`: `codex-auth accounts` lists them")
            }
            Self::AllBlocked(first_free) => write!(
                f,
                "every account has reached its usage limit; the first frees up at {}",
                crate::store::rfc3339::format(*first_free)
            ),
            Self::CorruptStore(CorruptStore { path, reason }) => {
                write!(f, "{path} cannot be read: {reason} (the file was left untouched)")
            }
            Self::Storage(why) => f.write_str(why),
            Self::LockTimeout(ms) => {
                write!(f, "another process held the credential store lock for over {ms} ms")
            }
            Self::LoginRequired(e) => {
                write!(f, "the sign-in is no longer valid ({e}): run `codex-auth login` again")
            }
            Self::Transport(why) => write!(f, "the issuer could not be reached: {why}"),
            Self::Issuer(e) => e.fmt(f),
            Self::InvalidInput(why) => f.write_str(why),
            Self::LoginFailed(why) => write!(f, "sign-in failed: {why}"),
            Self::Internal(Some(why)) => write!(f, "internal error: {why}"),
            Self::Internal(None) => f.write_str("internal error"),
        }
    }
}

impl From<StorageError> for AuthError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Io(why) => Self::Storage(why),
            StorageError::LockTimeout(ms) => Self::LockTimeout(ms),
        }
    }
}
