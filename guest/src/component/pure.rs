//! The pure exports: PKCE, the authorize URL and callback, claims, the
//! issuer's answers, policy and the auth.json format.

use super::*;

impl x::pkce::Guest for Component {
    fn from_entropy(entropy: Vec<u8>) -> Result<x::pkce::PkcePair, x::pkce::PkceError> {
        pkce::from_entropy(&entropy)
            .map(|p| x::pkce::PkcePair { verifier: p.verifier, challenge: p.challenge })
            .map_err(to_pkce_error)
    }
    fn challenge(verifier: String) -> Result<String, x::pkce::PkceError> {
        pkce::challenge(&verifier).map_err(to_pkce_error)
    }
    fn state_from_entropy(entropy: Vec<u8>) -> Result<String, u32> {
        pkce::state_from_entropy(&entropy).map_err(saturate)
    }
}

pub(super) fn to_pkce_error(e: pkce::PkceError) -> x::pkce::PkceError {
    match e {
        pkce::PkceError::EntropyLength(n) => x::pkce::PkceError::EntropyLength(saturate(n)),
        pkce::PkceError::VerifierLength(n) => x::pkce::PkceError::VerifierLength(saturate(n)),
        pkce::PkceError::VerifierCharacter(i) => x::pkce::PkceError::VerifierCharacter(saturate(i)),
    }
}

pub(super) fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl x::authorize::Guest for Component {
    fn authorize_url(r: x::authorize::AuthorizeRequest) -> Result<String, String> {
        authorize::authorize_url(&authorize::AuthorizeRequest {
            issuer: r.issuer,
            client_id: r.client_id,
            redirect_uri: r.redirect_uri,
            scope: r.scope,
            code_challenge: r.code_challenge,
            state: r.state,
            originator: r.originator,
            allowed_workspace_id: r.allowed_workspace_id,
        })
    }
    fn redirect_uri(port: u16) -> String {
        authorize::redirect_uri(port)
    }
    fn parse_callback(target: String, expected_state: String) -> x::authorize::CallbackOutcome {
        to_outcome(authorize::parse_callback(&target, &expected_state))
    }
    fn parse_pasted(input: String, expected_state: String) -> x::authorize::CallbackOutcome {
        to_outcome(authorize::parse_pasted(&input, &expected_state))
    }
    fn callback_reply(outcome: x::authorize::CallbackOutcome) -> x::authorize::Reply {
        use x::authorize::CallbackOutcome as O;
        let outcome = match outcome {
            O::Code(code) => authorize::CallbackOutcome::Code(code),
            O::StateMismatch => authorize::CallbackOutcome::StateMismatch,
            O::MissingCode => authorize::CallbackOutcome::MissingCode,
            O::Denied(e) => authorize::CallbackOutcome::Denied(from_oauth_error(e)),
            O::Cancel => authorize::CallbackOutcome::Cancel,
            O::NotFound => authorize::CallbackOutcome::NotFound,
        };
        let reply = authorize::callback_reply(&outcome);
        x::authorize::Reply {
            status: reply.status,
            content_type: reply.content_type.into(),
            body: reply.body,
        }
    }
}

pub(super) fn to_outcome(o: authorize::CallbackOutcome) -> x::authorize::CallbackOutcome {
    use authorize::CallbackOutcome as O;
    match o {
        O::Code(code) => x::authorize::CallbackOutcome::Code(code),
        O::StateMismatch => x::authorize::CallbackOutcome::StateMismatch,
        O::MissingCode => x::authorize::CallbackOutcome::MissingCode,
        O::Denied(e) => x::authorize::CallbackOutcome::Denied(to_oauth_error(e)),
        O::Cancel => x::authorize::CallbackOutcome::Cancel,
        O::NotFound => x::authorize::CallbackOutcome::NotFound,
    }
}

impl x::claims::Guest for Component {
    fn parse(token: String) -> Result<t::Claims, t::JwtError> {
        jwt::parse(&token).map(to_claims).map_err(|e| match e {
            jwt::JwtError::WrongPartCount(n) => t::JwtError::WrongPartCount(saturate(n)),
            jwt::JwtError::EmptyPart => t::JwtError::EmptyPart,
            jwt::JwtError::BadBase64 => t::JwtError::BadBase64,
            jwt::JwtError::BadJson(why) => t::JwtError::BadJson(why),
            jwt::JwtError::BadClaim(name) => t::JwtError::BadClaim(name),
        })
    }
}

pub(super) fn to_claims(c: jwt::Claims) -> t::Claims {
    t::Claims {
        account_id: c.account_id,
        plan: c.plan,
        user_id: c.user_id,
        email: c.email,
        expires_at: c.expires_at,
    }
}

impl x::responses::Guest for Component {
    fn parse_token_response(status: u16, body: Vec<u8>) -> Result<x::responses::TokenGrant, t::IssuerError> {
        responses::parse_token_response(status, &body)
            .map(|g| x::responses::TokenGrant {
                id_token: g.id_token,
                access_token: g.access_token,
                refresh_token: g.refresh_token,
                expires_in: g.expires_in,
            })
            .map_err(to_issuer_error)
    }
    fn parse_device_code(
        status: u16,
        body: Vec<u8>,
    ) -> Result<x::responses::DeviceCode, x::responses::DeviceStartError> {
        responses::parse_device_code(status, &body)
            .map(|d| x::responses::DeviceCode {
                device_auth_id: d.device_auth_id,
                user_code: d.user_code,
                interval_seconds: d.interval_seconds,
            })
            .map_err(|e| match e {
                responses::DeviceStartError::NotEnabled => x::responses::DeviceStartError::NotEnabled,
                responses::DeviceStartError::Issuer(e) => {
                    x::responses::DeviceStartError::Issuer(to_issuer_error(e))
                }
            })
    }
    fn parse_device_poll(status: u16, body: Vec<u8>) -> x::responses::PollOutcome {
        use responses::PollOutcome as P;
        use x::responses::PollOutcome as W;
        match responses::parse_device_poll(status, &body) {
            P::Pending => W::Pending,
            P::SlowDown => W::SlowDown,
            P::Approved(a) => W::Approved(x::responses::DeviceApproval {
                authorization_code: a.authorization_code,
                code_verifier: a.code_verifier,
            }),
            P::Denied => W::Denied,
            P::Expired => W::Expired,
            P::Failed(e) => W::Failed(to_issuer_error(e)),
        }
    }
    fn classify_refresh_error(status: u16, body: Vec<u8>) -> x::responses::RefreshFailure {
        match responses::classify_refresh_error(status, &body) {
            responses::RefreshFailure::Permanent(e) => {
                x::responses::RefreshFailure::Permanent(to_oauth_error(e))
            }
            responses::RefreshFailure::Transient(why) => x::responses::RefreshFailure::Transient(why),
        }
    }
}

impl x::policy::Guest for Component {
    fn decide_refresh(
        expires_at: Option<i64>,
        last_refresh: Option<i64>,
        now: i64,
        skew_seconds: u32,
    ) -> x::policy::RefreshDecision {
        match policy::decide_refresh(expires_at, last_refresh, now, skew_seconds) {
            policy::RefreshDecision::Fresh => x::policy::RefreshDecision::Fresh,
            policy::RefreshDecision::Due => x::policy::RefreshDecision::Due,
            policy::RefreshDecision::Expired => x::policy::RefreshDecision::Expired,
        }
    }
    fn choose_tier(
        runtime: bool,
        config: bool,
        stored: x::policy::StoredKind,
        environment: bool,
    ) -> t::CredentialTier {
        let stored = match stored {
            x::policy::StoredKind::None => policy::StoredKind::None,
            x::policy::StoredKind::Subscription => policy::StoredKind::Subscription,
            x::policy::StoredKind::ApiKey => policy::StoredKind::ApiKey,
            x::policy::StoredKind::Command => policy::StoredKind::Command,
        };
        to_tier(policy::choose_tier(runtime, config, stored, environment))
    }
    fn request_headers(bearer: String, account_id: Option<String>) -> Vec<(String, String)> {
        policy::request_headers(&bearer, account_id.as_deref())
    }
}

impl x::auth_file::Guest for Component {
    fn read(contents: Vec<u8>) -> Result<x::auth_file::StoredAuth, String> {
        auth_file::read(&contents).map(|a| x::auth_file::StoredAuth {
            credential: a.credential.map(to_credential),
            last_refresh: a.last_refresh,
            login_required: a.login_required.map(to_oauth_error),
        })
    }
    fn write(previous: Option<Vec<u8>>, auth: x::auth_file::StoredAuth) -> Result<Vec<u8>, String> {
        let auth = auth_file::StoredAuth {
            credential: auth.credential.map(from_credential),
            last_refresh: auth.last_refresh,
            login_required: auth.login_required.map(from_oauth_error),
        };
        auth_file::write(previous.as_deref(), &auth)
    }
}
