//! The pure exports: PKCE, the authorize URL and callback, claims, the
//! issuer's answers, policy and the auth.json format.

use super::*;

impl x::pkce::Guest for Component {
    fn from_entropy(entropy: Vec<u8>) -> Result<pkce::PkcePair, pkce::PkceError> {
        pkce::from_entropy(&entropy)
    }
    fn challenge(verifier: String) -> Result<String, pkce::PkceError> {
        pkce::challenge(&verifier)
    }
    fn state_from_entropy(entropy: Vec<u8>) -> Result<String, u32> {
        pkce::state_from_entropy(&entropy)
    }
}

impl x::authorize::Guest for Component {
    fn authorize_url(request: authorize::AuthorizeRequest) -> Result<String, String> {
        authorize::authorize_url(&request)
    }
    fn redirect_uri(port: u16) -> String {
        authorize::redirect_uri(port)
    }
    fn parse_callback(target: String, expected_state: String) -> authorize::CallbackOutcome {
        authorize::parse_callback(&target, &expected_state)
    }
    fn parse_pasted(input: String, expected_state: String) -> authorize::CallbackOutcome {
        authorize::parse_pasted(&input, &expected_state)
    }
    fn callback_reply(outcome: authorize::CallbackOutcome) -> authorize::Reply {
        authorize::callback_reply(&outcome)
    }
}

impl x::claims::Guest for Component {
    fn parse(token: String) -> Result<jwt::Claims, jwt::JwtError> {
        jwt::parse(&token)
    }
}

impl x::responses::Guest for Component {
    fn parse_token_response(
        status: u16,
        body: Vec<u8>,
    ) -> Result<responses::TokenGrant, oauth_error::IssuerError> {
        responses::parse_token_response(status, &body)
    }
    fn parse_device_code(
        status: u16,
        body: Vec<u8>,
    ) -> Result<responses::DeviceCode, responses::DeviceStartError> {
        responses::parse_device_code(status, &body)
    }
    fn parse_device_poll(status: u16, body: Vec<u8>) -> responses::PollOutcome {
        responses::parse_device_poll(status, &body)
    }
    fn classify_refresh_error(status: u16, body: Vec<u8>) -> responses::RefreshFailure {
        responses::classify_refresh_error(status, &body)
    }
}

impl x::policy::Guest for Component {
    fn decide_refresh(
        expires_at: Option<i64>,
        last_refresh: Option<i64>,
        now: i64,
        skew_seconds: u32,
    ) -> policy::RefreshDecision {
        policy::decide_refresh(expires_at, last_refresh, now, skew_seconds)
    }
    fn choose_tier(
        runtime: bool,
        config: bool,
        stored: policy::StoredKind,
        environment: bool,
    ) -> policy::Tier {
        policy::choose_tier(runtime, config, stored, environment)
    }
    fn request_headers(bearer: String, account_id: Option<String>) -> Vec<(String, String)> {
        policy::request_headers(&bearer, account_id.as_deref())
    }
}

impl x::auth_file::Guest for Component {
    fn read(contents: Vec<u8>) -> Result<auth_file::StoredAuth, String> {
        auth_file::read(&contents)
    }
    fn write(previous: Option<Vec<u8>>, auth: auth_file::StoredAuth) -> Result<Vec<u8>, String> {
        auth_file::write(previous.as_deref(), &auth)
    }
}
