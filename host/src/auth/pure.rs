//! The guest's pure decisions, for callers that build their own flows.

use super::Auth;
use crate::{AuthorizeRequest, Claims, Error, Secret};

impl Auth {
    /// The claims of a JWT (id or access token), read without verification.
    pub fn claims(&self, jwt: &str) -> Result<Claims, Error> {
        let parsed = self.instances.vault(|i| i.guest.codex_auth_claims().call_parse(&mut i.store, jwt))?;
        parsed.map_err(|e| Error::InvalidInput(format!("not a readable JWT: {e:?}")))
    }

    /// The authorize URL for a browser sign-in, exactly as `login` builds it.
    pub fn authorize_url(&self, request: &AuthorizeRequest) -> Result<String, Error> {
        let url = self
            .instances
            .vault(|i| i.guest.codex_auth_authorize().call_authorize_url(&mut i.store, request))?;
        url.map_err(Error::InvalidInput)
    }

    /// A PKCE pair (RFC 7636, S256) whose verifier is base64url of
    /// `entropy` (32 to 96 bytes). Returns (verifier, challenge).
    pub fn pkce(&self, entropy: &[u8]) -> Result<(Secret, String), Error> {
        let pair =
            self.instances.vault(|i| i.guest.codex_auth_pkce().call_from_entropy(&mut i.store, entropy))?;
        let pair = pair.map_err(|e| Error::InvalidInput(format!("no PKCE pair from this entropy: {e:?}")))?;
        Ok((Secret::new(pair.verifier), pair.challenge))
    }
}
