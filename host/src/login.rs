//! What a sign-in and a logout take and give.

use std::time::Duration;

/// How to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    /// Browser on the loopback; device code when no browser can be used
    /// (SSH, no display) or no port can be bound.
    Auto,
    /// Browser with the loopback listener.
    Browser,
    /// Device code.
    Device,
    /// Browser elsewhere; the person pastes the redirect URL.
    Paste,
}

/// How a sign-in runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOptions {
    /// Which flow to use.
    pub method: LoginMethod,
    /// Open the browser (the URL is shown either way).
    pub open_browser: bool,
    /// Loopback ports to try in order; the issuer accepts 1455 and 1457.
    pub ports: Vec<u16>,
    /// Give up after this long.
    pub timeout: Duration,
}

impl Default for LoginOptions {
    fn default() -> Self {
        Self {
            method: LoginMethod::Auto,
            open_browser: true,
            ports: vec![1455, 1457],
            timeout: Duration::from_secs(600),
        }
    }
}

/// What logout did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutReport {
    /// A stored credential was removed.
    pub removed: bool,
    /// What became of the refresh token.
    pub revocation: Revocation,
}

/// What revoking the refresh token came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// No refresh token was stored.
    NotNeeded,
    /// The issuer accepted it.
    Revoked,
    /// It failed (why); the credential was removed anyway.
    Failed(String),
}
