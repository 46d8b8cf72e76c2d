//! What a sign-in shows the person at the keyboard. The guest decides what
//! to say; a [`Notifier`] decides how to show it.

/// Something a sign-in wants the person to see or do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginEvent {
    /// Open this URL in a browser to sign in.
    OpenUrl(String),
    /// Go to `verification_url` and enter `user_code`.
    DeviceCode {
        /// The code to type.
        user_code: String,
        /// The page to type it on.
        verification_url: String,
        /// Seconds before the code expires.
        expires_in: u32,
    },
    /// Which method was chosen, and why.
    MethodChosen(String),
    /// Still waiting; this many seconds are left.
    Waiting(u32),
    /// A request reached the listener and was turned away; why.
    Rejected(String),
    /// Any other progress line.
    Info(String),
    /// A definitive refresh failure disabled an account: it is kept and
    /// skipped until it is signed in again.
    AccountDisabled {
        /// The account.
        account: String,
        /// The issuer's error.
        reason: String,
    },
    /// A usage limit blocks an account until `until` (Unix seconds); the
    /// pool uses its siblings meanwhile.
    AccountBlocked {
        /// The account.
        account: String,
        /// When it frees up.
        until: i64,
    },
    /// A refresh of the account was refused (its refresh token was used
    /// already), and another program, such as the Codex CLI, had meanwhile
    /// stored a newer login: that one is used, and the account stays enabled.
    PeerRefreshed {
        /// The account.
        account: String,
    },
    /// A refresh request was answered (whatever followed): for counting,
    /// not for showing.
    Refreshed {
        /// The account.
        account: String,
        /// How the issuer answered.
        outcome: RefreshOutcome,
    },
}

pub use crate::bindings::notify::RefreshOutcome;

/// Shows sign-in progress and opens browsers.
pub trait Notifier: Send + Sync {
    /// Shows an event.
    fn notify(&self, event: LoginEvent);

    /// Opens `url` in the person's browser.
    fn open_browser(&self, url: &str) -> Result<(), String> {
        let _ = url;
        Err("this program does not open browsers".into())
    }

    /// Reads one line from the person (a pasted redirect URL).
    fn ask(&self, prompt: &str) -> Result<String, String> {
        let _ = prompt;
        Err("this program cannot ask questions".into())
    }
}

/// Shows nothing and opens no browser: for embedding without a terminal.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Notifier for Silent {
    fn notify(&self, _event: LoginEvent) {}
}
