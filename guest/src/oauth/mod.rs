//! Signing in with OAuth: PKCE, the authorize URL and its callback, the
//! issuer's answers, and the claims of its tokens. Pure functions of their
//! inputs.

pub mod authorize;
pub mod jwt;
pub mod oauth_error;
pub mod pkce;
pub mod query;
pub mod responses;

/// Tokens and keys are printable ASCII without spaces; anything else would
/// end up inside an HTTP header.
pub fn token_shaped(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic())
}
