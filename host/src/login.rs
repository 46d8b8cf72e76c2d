//! What a sign-in and a logout take and give.

use std::time::Duration;

/// How to sign in (the WIT enum, used as it is): `Auto` (browser on the
/// loopback, device code when no browser can be used), `Browser`, `Device`,
/// `Paste`.
pub use crate::bindings::session::LoginMethod;

/// How a sign-in runs. `None` takes the guest's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOptions {
    /// The account to sign in (added, or signed in again); `None`: the
    /// [`Options::account`](crate::Options::account), else the pinned
    /// account, else the home's own.
    pub account: Option<String>,
    /// Which flow to use.
    pub method: LoginMethod,
    /// Open the browser (the URL is shown either way).
    pub open_browser: bool,
    /// The loopback port to listen on; the issuer accepts 1455 and 1457.
    pub port: Option<u16>,
    /// The port to try when `port` is busy.
    pub fallback_port: Option<u16>,
    /// Give up after this long.
    pub timeout: Option<Duration>,
}

impl Default for LoginOptions {
    fn default() -> Self {
        Self {
            account: None,
            method: LoginMethod::Auto,
            open_browser: true,
            port: None,
            fallback_port: None,
            timeout: None,
        }
    }
}

/// What logout did, and what revoking the refresh token came to (the WIT
/// records, used as they are).
pub use crate::bindings::session::{LogoutReport, Revocation};
