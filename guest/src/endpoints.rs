//! Every issuer URL, derived from the one configurable base.

use crate::authorize::issuer_base;
use crate::error::AuthError;

/// The issuer's endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub base: String,
}

impl Endpoints {
    pub fn new(issuer: &str) -> Result<Self, AuthError> {
        Ok(Self { base: issuer_base(issuer).map_err(AuthError::InvalidInput)?.to_owned() })
    }

    pub fn token(&self) -> String {
        format!("{}/oauth/token", self.base)
    }

    pub fn revoke(&self) -> String {
        format!("{}/oauth/revoke", self.base)
    }

    pub fn device_code(&self) -> String {
        format!("{}/api/accounts/deviceauth/usercode", self.base)
    }

    pub fn device_token(&self) -> String {
        format!("{}/api/accounts/deviceauth/token", self.base)
    }

    /// The page where a person enters the device code.
    pub fn device_verification(&self) -> String {
        format!("{}/codex/device", self.base)
    }

    /// The redirect URI the device flow's code is exchanged with.
    pub fn device_redirect_uri(&self) -> String {
        format!("{}/deviceauth/callback", self.base)
    }
}
