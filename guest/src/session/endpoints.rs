//! Every issuer URL, derived from the one configurable base.

use crate::error::AuthError;
use crate::oauth::authorize::issuer_base;

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

/// The usage endpoint of a ChatGPT base URL: `{base}/wham/usage` under
/// `/backend-api`, else the Codex API's `{base}/api/codex/usage`.
pub fn usage_url(chatgpt_base: &str) -> String {
    let base = chatgpt_base.trim_end_matches('/');
    if base.ends_with("/backend-api") {
        format!("{base}/wham/usage")
    } else {
        format!("{base}/api/codex/usage")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn usage_url_follows_the_base() {
        assert_eq!(
            super::usage_url("https://chatgpt.com/backend-api/"),
            "https://chatgpt.com/backend-api/wham/usage"
        );
        assert_eq!(super::usage_url("http://127.0.0.1:9/api"), "http://127.0.0.1:9/api/api/codex/usage");
    }
}
