//! Storing a credential and logging out (revoking first, best effort).

use crate::error::AuthError;
use crate::oauth::jwt;
use crate::oauth::oauth_error::IssuerError;
use crate::platform::Platform;
use crate::session::endpoints::Endpoints;
use crate::session::{LogoutReport, Revocation, Session};
use crate::store::auth_file::{self, Credential, StoredAuth};

impl<P: Platform> Session<P> {
    /// Stores `credential`, replacing the stored one atomically, under the
    /// store lock. A corrupt store is not overwritten.
    pub fn set_credential(&self, credential: Credential) -> Result<(), AuthError> {
        let credential = complete(credential)?;
        // The Codex home's own rules on what may sign in there.
        if let Some(codex) = self.codex_config()? {
            match &credential {
                Credential::Chatgpt(tokens) => codex.check_chatgpt_login(tokens.account_id.as_deref()),
                Credential::ApiKey(_) => codex.check_api_key(),
                Credential::Command(_) => Ok(()),
            }
            .map_err(AuthError::InvalidInput)?;
        }
        let now = self.now_seconds();
        let _lock = self.lock()?;
        let previous = self.platform.load(&self.config.account)?;
        let stored =
            StoredAuth { credential: Some(credential), last_refresh: Some(now), login_required: None };
        self.write(previous.as_deref(), stored)
    }

    /// Revokes the refresh token (best effort), then removes the stored
    /// credential, even a corrupt file. The lock is held from before the
    /// revocation to the removal: a peer's refresh cannot rotate the token
    /// in between and leave a live one unrevoked.
    pub fn logout(&self) -> Result<LogoutReport, AuthError> {
        self.loaded.replace(None);
        let account = &self.config.account;
        // Nothing to remove: do not create a store directory just to lock it.
        if self.platform.load(account)?.is_none() {
            return Ok(LogoutReport { removed: false, revocation: Revocation::NotNeeded });
        }
        let _lock = self.lock()?;
        let revocation = match self.platform.load(account)?.map(|bytes| auth_file::read(&bytes)) {
            Some(Ok(StoredAuth { credential: Some(Credential::Chatgpt(tokens)), .. })) => {
                self.revoke(&tokens.refresh_token)
            }
            _ => Revocation::NotNeeded,
        };
        let removed = self.platform.remove(account)?;
        self.loaded.replace(None);
        Ok(LogoutReport { removed, revocation })
    }

    fn revoke(&self, refresh_token: &str) -> Revocation {
        let url = match Endpoints::new(&self.config.issuer) {
            Ok(endpoints) => endpoints.revoke(),
            Err(e) => return Revocation::Failed(e.to_string()),
        };
        let body = serde_json::json!({
            "token": refresh_token,
            "token_type_hint": "refresh_token",
            "client_id": self.config.client_id,
        });
        match self.post_within(
            url,
            "application/json",
            body.to_string().into_bytes(),
            self.request_bound_ms(),
        ) {
            Ok(answer) if (200..300).contains(&answer.status) => Revocation::Revoked,
            Ok(answer) => Revocation::Failed(
                IssuerError { status: answer.status, error: crate::oauth::oauth_error::parse(&answer.body) }
                    .to_string(),
            ),
            Err(e) => Revocation::Failed(e.to_string()),
        }
    }
}

/// Checks a credential and fills in the account id from the id token.
fn complete(credential: Credential) -> Result<Credential, AuthError> {
    match credential {
        Credential::Command(spec) => {
            if spec.program.trim().is_empty() {
                return Err(AuthError::InvalidInput("a command account needs a program".into()));
            }
            Ok(Credential::Command(spec))
        }
        Credential::ApiKey(key) => {
            let key = key.trim().to_owned();
            if !crate::oauth::token_shaped(&key) {
                return Err(AuthError::InvalidInput("an API key is one word of printable ASCII".into()));
            }
            Ok(Credential::ApiKey(key))
        }
        Credential::Chatgpt(mut tokens) => {
            let identity = jwt::parse(&tokens.id_token)
                .map_err(|e| AuthError::InvalidInput(format!("the id token is unusable: {e}")))?;
            if tokens.access_token.is_empty() || tokens.refresh_token.is_empty() {
                return Err(AuthError::InvalidInput(
                    "the access and refresh tokens must not be empty".into(),
                ));
            }
            tokens.account_id = tokens.account_id.filter(|a| !a.is_empty()).or(identity.account_id);
            Ok(Credential::Chatgpt(tokens))
        }
    }
}
