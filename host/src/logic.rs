//! What the guest's pure exports take and give, in the host's terms.

/// The claims codex-auth reads from a JWT.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claims {
    /// The ChatGPT account (workspace) id.
    pub account_id: Option<String>,
    /// The ChatGPT plan: free, plus, pro, team, business, enterprise, edu...
    pub plan: Option<String>,
    /// The ChatGPT user id.
    pub user_id: Option<String>,
    /// The account's email address.
    pub email: Option<String>,
    /// `exp`, Unix seconds.
    pub expires_at: Option<i64>,
}

/// Everything the authorize URL carries (the WIT record, used as it is).
pub use crate::bindings::authorize::AuthorizeRequest;
