//! The host's error: the guest's `auth-error`, plus what only the host sees
//! (the engine, traps). Messages never carry a secret.

use crate::bindings::types as wit;
use std::path::PathBuf;

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No credential is stored and `OPENAI_API_KEY` is not set.
    #[error("not logged in: run `codex-auth login`, or set OPENAI_API_KEY")]
    NotLoggedIn,
    /// No account of this name is stored.
    #[error("no account named `{0}`: `codex-auth accounts` lists them")]
    UnknownAccount(String),
    /// Every usable account has reached its usage limit.
    #[error("every account has reached its usage limit; the first frees up at {} (Unix {first_free})", rfc3339(*first_free))]
    AllBlocked {
        /// When the first account frees up (Unix seconds).
        first_free: i64,
    },
    /// The store file (or a file to import) cannot be used; it is left untouched.
    #[error("{} cannot be read: {reason} (the file was left untouched)", path.display())]
    CorruptStore {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The store could not be read or written.
    #[error("{0}")]
    Storage(String),
    /// Another process held the store lock past the bound.
    #[error("another process held the credential store lock for over {0} ms")]
    LockTimeout(u32),
    /// The refresh token was rejected for good: sign in again.
    #[error("the sign-in is no longer valid ({code}): run `codex-auth login` again")]
    LoginRequired {
        /// The issuer's error code, e.g. `refresh_token_reused`.
        code: String,
        /// Its description, if any.
        description: Option<String>,
    },
    /// The issuer could not be reached; the credential is kept.
    #[error("the issuer could not be reached: {0}")]
    Transport(String),
    /// The issuer answered with an error.
    #[error("the issuer answered HTTP {status}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Issuer {
        /// The HTTP status.
        status: u16,
        /// The OAuth error code, when the body had one.
        code: Option<String>,
        /// Its description, if any.
        description: Option<String>,
    },
    /// The caller passed something unusable.
    #[error("{0}")]
    InvalidInput(String),
    /// A sign-in did not complete.
    #[error("sign-in failed: {0}")]
    LoginFailed(String),
    /// The guest trapped; the next call runs on a fresh instance.
    #[error("the credential component failed ({0}); it has been restarted")]
    GuestTrap(String),
    /// The engine could not be set up.
    #[error("cannot start the credential component: {0}")]
    Engine(String),
    /// A bug. Do not depend on the text.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Whether signing in (again) is what fixes this error.
    pub fn needs_login(&self) -> bool {
        matches!(self, Self::NotLoggedIn | Self::LoginRequired { .. })
    }
}

impl From<wit::AuthError> for Error {
    fn from(e: wit::AuthError) -> Self {
        use wit::AuthError as E;
        match e {
            E::NotLoggedIn => Self::NotLoggedIn,
            E::UnknownAccount(name) => Self::UnknownAccount(name),
            E::AllBlocked(first_free) => Self::AllBlocked { first_free },
            E::CorruptStore(c) => Self::CorruptStore { path: c.path.into(), reason: c.reason },
            E::Storage(why) => Self::Storage(why),
            E::LockTimeout(ms) => Self::LockTimeout(ms),
            E::LoginRequired(o) => Self::LoginRequired { code: o.code, description: o.description },
            E::Transport(why) => Self::Transport(why),
            E::Issuer(i) => Self::Issuer {
                status: i.status,
                code: i.error.as_ref().map(|o| o.code.clone()),
                description: i.error.and_then(|o| o.description),
            },
            E::InvalidInput(why) => Self::InvalidInput(why),
            E::LoginFailed(why) => Self::LoginFailed(why),
            E::Internal(why) => Self::Internal(why.unwrap_or_default()),
        }
    }
}

/// `2026-11-23T09:00:00Z`.
fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// An error with every cause after it (`connecting: TLS handshake: invalid
/// peer certificate...`): the innermost cause is usually what says why.
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut why = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        why = format!("{why}: {cause}");
        source = cause.source();
    }
    why
}
