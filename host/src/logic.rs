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

/// What an authorize URL carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// Base URL of the issuer.
    pub issuer: String,
    /// The OAuth client id.
    pub client_id: String,
    /// `http://localhost:<port>/auth/callback`.
    pub redirect_uri: String,
    /// Space-separated scopes; `None` for the Codex CLI's default.
    pub scope: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The OAuth `state` the callback must carry back.
    pub state: String,
    /// The `originator` parameter, e.g. `codex_cli_rs`.
    pub originator: String,
    /// Restrict the sign-in to this workspace.
    pub allowed_workspace_id: Option<String>,
}
