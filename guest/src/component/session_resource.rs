//! The exported `session` resource, and the conversions of what it returns.

use super::*;

/// The exported `session` resource.
/// Borrows the one platform, as a vault's sessions do: one `Session<&Imports>`
/// in the code instead of two copies of every session method.
pub(super) struct SessionResource(session::Session<&'static Imports>);

static IMPORTS: Imports = Imports;

impl x::session::Guest for Component {
    type Session = SessionResource;
}

/// A session's configuration: what the host gave, resolved by the guest.
pub(super) fn resolve(account: String, c: x::session::Config) -> session::Config {
    let given = session::settings::Given {
        issuer: c.issuer,
        client_id: c.client_id,
        originator: c.originator,
        refresh_skew_seconds: c.refresh_skew_seconds,
        shared_refresh_seconds: c.shared_refresh_seconds,
        lock_timeout_ms: c.lock_timeout_ms,
        http_timeout_ms: c.http_timeout_ms,
        chatgpt_base_url: c.chatgpt_base_url,
        strategy: c.strategy.map(from_strategy),
        runtime_key: c.runtime_key,
        file: c.file.map(|f| (f.path, f.json)),
    };
    session::settings::resolve(account, given)
}

pub(super) fn from_strategy(s: x::session::Strategy) -> defaults::Strategy {
    match s {
        x::session::Strategy::RoundRobin => defaults::Strategy::RoundRobin,
        x::session::Strategy::LeastUsed => defaults::Strategy::LeastUsed,
        x::session::Strategy::DrainFirst => defaults::Strategy::DrainFirst,
    }
}

pub(super) fn to_strategy(s: defaults::Strategy) -> x::session::Strategy {
    match s {
        defaults::Strategy::RoundRobin => x::session::Strategy::RoundRobin,
        defaults::Strategy::LeastUsed => x::session::Strategy::LeastUsed,
        defaults::Strategy::DrainFirst => x::session::Strategy::DrainFirst,
    }
}

impl x::session::GuestSession for SessionResource {
    fn new(account: String, c: x::session::Config) -> Self {
        Self(session::Session::new(&IMPORTS, resolve(account, c)))
    }
    fn status(&self) -> Result<t::Status, t::AuthError> {
        self.0.status().map(to_status).map_err(to_auth_error)
    }
    fn authenticated(&self) -> bool {
        self.0.authenticated()
    }
    fn access_token(&self) -> Result<String, t::AuthError> {
        self.0.access_token().map_err(to_auth_error)
    }
    fn request_headers(&self) -> Result<Vec<(String, String)>, t::AuthError> {
        self.0.request_headers().map_err(to_auth_error)
    }
    fn set_credential(&self, credential: t::Credential) -> Result<(), t::AuthError> {
        self.0.set_credential(from_credential(credential)).map_err(to_auth_error)
    }
    fn logout(&self) -> Result<x::session::LogoutReport, t::AuthError> {
        let report = self.0.logout().map_err(to_auth_error)?;
        Ok(x::session::LogoutReport { removed: report.removed, revocation: to_revocation(report.revocation) })
    }
    fn login(&self, o: x::session::LoginOptions) -> Result<t::Status, t::AuthError> {
        let [port, fallback] = defaults::LOGIN_PORTS;
        let options = login::LoginOptions {
            method: match o.method {
                x::session::LoginMethod::Auto => login::LoginMethod::Auto,
                x::session::LoginMethod::Browser => login::LoginMethod::Browser,
                x::session::LoginMethod::Device => login::LoginMethod::Device,
                x::session::LoginMethod::Paste => login::LoginMethod::Paste,
            },
            open_browser: o.open_browser,
            ports: vec![o.port.unwrap_or(port), o.fallback_port.unwrap_or(fallback)],
            timeout_seconds: o.timeout_seconds.unwrap_or(defaults::LOGIN_TIMEOUT_SECONDS),
            os: o.os,
        };
        self.0.login(&options).map(to_status).map_err(to_auth_error)
    }
    fn refresh(&self, force: bool) -> Result<t::Status, t::AuthError> {
        self.0.refresh(force).map(to_status).map_err(to_auth_error)
    }
    fn unauthorized(&self, previous_token: String) -> Result<String, t::AuthError> {
        self.0.unauthorized(&previous_token).map_err(to_auth_error)
    }
    fn reload(&self) -> Result<(), t::AuthError> {
        self.0.reload().map_err(to_auth_error)
    }
}

pub(super) fn to_kind(kind: session::Kind) -> t::CredentialKind {
    match kind {
        session::Kind::Subscription => t::CredentialKind::Subscription,
        session::Kind::ApiKey => t::CredentialKind::ApiKey,
        session::Kind::Command => t::CredentialKind::Command,
        session::Kind::None => t::CredentialKind::None,
    }
}

pub(super) fn to_tier(tier: policy::Tier) -> t::CredentialTier {
    match tier {
        policy::Tier::Runtime => t::CredentialTier::Runtime,
        policy::Tier::Config => t::CredentialTier::Config,
        policy::Tier::Store => t::CredentialTier::Store,
        policy::Tier::Command => t::CredentialTier::Command,
        policy::Tier::Environment => t::CredentialTier::Environment,
        policy::Tier::None => t::CredentialTier::None,
    }
}

pub(super) fn to_status(s: session::Status) -> t::Status {
    t::Status {
        account: s.account,
        kind: to_kind(s.kind),
        source: match s.source {
            session::Source::Store(path) => t::CredentialSource::Store(path),
            session::Source::Environment(name) => t::CredentialSource::Environment(name),
            session::Source::Runtime => t::CredentialSource::Runtime,
            session::Source::Config(path) => t::CredentialSource::Config(path),
            session::Source::Command(line) => t::CredentialSource::Command(line),
            session::Source::None => t::CredentialSource::None,
        },
        tier: to_tier(s.tier),
        account_id: s.account_id,
        plan: s.plan,
        email: s.email,
        user_id: s.user_id,
        expires_at: s.expires_at,
        last_refresh: s.last_refresh,
        login_required: s.login_required,
        api_key_hint: s.api_key_hint,
        shared_with_codex: s.shared_with_codex,
    }
}

pub(super) fn to_credential(c: auth_file::Credential) -> t::Credential {
    match c {
        auth_file::Credential::ChatGpt(tk) => t::Credential::Chatgpt(t::ChatgptTokens {
            id_token: tk.id_token,
            access_token: tk.access_token,
            refresh_token: tk.refresh_token,
            account_id: tk.account_id,
        }),
        auth_file::Credential::ApiKey(key) => t::Credential::ApiKey(key),
        auth_file::Credential::Command(c) => t::Credential::Command(t::CommandSpec {
            program: c.program,
            args: c.args,
            timeout_ms: c.timeout_ms,
            refresh_interval_ms: c.refresh_interval_ms,
        }),
    }
}

pub(super) fn from_credential(c: t::Credential) -> auth_file::Credential {
    match c {
        t::Credential::Chatgpt(tk) => auth_file::Credential::ChatGpt(auth_file::ChatGptTokens {
            id_token: tk.id_token,
            access_token: tk.access_token,
            refresh_token: tk.refresh_token,
            account_id: tk.account_id,
        }),
        t::Credential::ApiKey(key) => auth_file::Credential::ApiKey(key),
        t::Credential::Command(c) => auth_file::Credential::Command(crate::store::command::CommandSpec {
            program: c.program,
            args: c.args,
            timeout_ms: c.timeout_ms,
            refresh_interval_ms: c.refresh_interval_ms,
        }),
    }
}

pub(super) fn to_oauth_error(e: oauth_error::OAuthError) -> t::OauthError {
    t::OauthError { code: e.code, description: e.description }
}

pub(super) fn from_oauth_error(e: t::OauthError) -> oauth_error::OAuthError {
    oauth_error::OAuthError { code: e.code, description: e.description }
}

pub(super) fn to_issuer_error(e: oauth_error::IssuerError) -> t::IssuerError {
    t::IssuerError { status: e.status, error: e.error.map(to_oauth_error) }
}

pub(super) fn to_auth_error(e: error::AuthError) -> t::AuthError {
    use error::AuthError as E;
    match e {
        E::NotLoggedIn => t::AuthError::NotLoggedIn,
        E::UnknownAccount(name) => t::AuthError::UnknownAccount(name),
        E::AllBlocked { first_free } => t::AuthError::AllBlocked(first_free),
        E::CorruptStore { path, reason } => t::AuthError::CorruptStore(t::CorruptStore { path, reason }),
        E::Storage(why) => t::AuthError::Storage(why),
        E::LockTimeout(ms) => t::AuthError::LockTimeout(ms),
        E::LoginRequired(e) => t::AuthError::LoginRequired(to_oauth_error(e)),
        E::Transport(why) => t::AuthError::Transport(why),
        E::Issuer(e) => t::AuthError::Issuer(to_issuer_error(e)),
        E::InvalidInput(why) => t::AuthError::InvalidInput(why),
        E::LoginFailed(why) => t::AuthError::LoginFailed(why),
        E::Internal(why) => t::AuthError::Internal(why),
    }
}

pub(super) fn to_revocation(r: session::Revocation) -> x::session::Revocation {
    match r {
        session::Revocation::NotNeeded => x::session::Revocation::NotNeeded,
        session::Revocation::Revoked => x::session::Revocation::Revoked,
        session::Revocation::Failed(why) => x::session::Revocation::Failed(why),
    }
}
