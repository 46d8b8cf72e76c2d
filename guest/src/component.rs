//! The thin layer between the WIT world and the plain-Rust modules: the
//! exports convert their arguments and call the logic; [`Imports`] is the
//! [`Platform`] made of the host's imports. Nothing here decides anything.

wit_bindgen::generate!({
    world: "guest",
    path: "../wit",
});

use crate::platform::{self, Platform};
use crate::{
    auth_file, authorize, defaults, error, jwt, login, oauth_error, pkce, policy, pool, responses, session,
    usage, vault,
};
use codex::auth::{clock, http, loopback, notify, process, storage, types as t};
use exports::codex::auth as x;

struct Component;
export!(Component);

/// The [`Platform`] backed by the host's imports (and `wasi:random` and
/// `wasi:cli/environment` through std and getrandom).
struct Imports;

impl Platform for Imports {
    fn now_ms(&self) -> i64 {
        clock::now()
    }
    fn sleep_ms(&self, ms: u64) {
        clock::sleep(ms);
    }
    fn env_var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn fill_random(&self, buf: &mut [u8]) {
        // wasi:random cannot fail short of a broken host; a trap is right then.
        getrandom::fill(buf).expect("wasi:random failed");
    }
    fn accounts(&self) -> Result<Vec<String>, platform::StorageError> {
        storage::accounts().map_err(from_storage_error)
    }
    fn store_location(&self, account: &str) -> String {
        storage::location(account)
    }
    fn linked_to(&self, account: &str) -> Option<String> {
        storage::linked_to(account)
    }
    fn home_signs(
        &self,
        account: &str,
        codex_home: Option<&str>,
        names: &[&str],
    ) -> crate::codex_home::HomeSigns {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let signs = storage::home_signs(account, codex_home, &names);
        crate::codex_home::HomeSigns { is_codex_home: signs.is_codex_home, present: signs.present }
    }
    fn codex_config(&self, account: &str) -> Result<Option<(String, String)>, platform::StorageError> {
        storage::codex_config(account, crate::codex_config::FILE_NAME).map_err(from_storage_error)
    }
    fn use_store(&self, account: &str, store: crate::stores::AccountStore) {
        storage::use_store(account, to_account_store(store));
    }
    fn load(&self, account: &str) -> Result<Option<Vec<u8>>, platform::StorageError> {
        storage::load(account).map_err(from_storage_error)
    }
    fn save(&self, account: &str, contents: &[u8]) -> Result<(), platform::StorageError> {
        storage::save(account, contents).map_err(from_storage_error)
    }
    fn remove(&self, account: &str) -> Result<bool, platform::StorageError> {
        storage::remove(account).map_err(from_storage_error)
    }
    fn lock(&self, account: &str, timeout_ms: u32) -> Result<(), platform::StorageError> {
        storage::lock(account, timeout_ms).map_err(from_storage_error)
    }
    fn unlock(&self, account: &str) {
        storage::unlock(account);
    }
    fn link(&self, account: &str, directory: &str) -> Result<(), platform::StorageError> {
        storage::link(account, directory).map_err(from_storage_error)
    }
    fn forget(&self, account: &str) -> Result<(), platform::StorageError> {
        storage::forget(account).map_err(from_storage_error)
    }
    fn load_settings(&self) -> Result<Option<Vec<u8>>, platform::StorageError> {
        storage::load_settings().map_err(from_storage_error)
    }
    fn save_settings(&self, contents: &[u8]) -> Result<(), platform::StorageError> {
        storage::save_settings(contents).map_err(from_storage_error)
    }
    fn load_pool(&self, account: &str) -> Result<Option<Vec<u8>>, platform::StorageError> {
        storage::load_pool(account).map_err(from_storage_error)
    }
    fn save_pool(&self, account: &str, contents: &[u8]) -> Result<(), platform::StorageError> {
        storage::save_pool(account, contents).map_err(from_storage_error)
    }
    fn lock_pool(&self, account: &str, timeout_ms: u32) -> Result<(), platform::StorageError> {
        storage::lock_pool(account, timeout_ms).map_err(from_storage_error)
    }
    fn unlock_pool(&self, account: &str) {
        storage::unlock_pool(account);
    }
    fn send(&self, r: &platform::HttpRequest) -> Result<platform::HttpResponse, platform::TransportError> {
        let request = http::Request {
            method: match r.method {
                platform::Method::Get => http::Method::Get,
                platform::Method::Post => http::Method::Post,
            },
            url: r.url.clone(),
            headers: r.headers.clone(),
            body: r.body.clone(),
            timeout_ms: r.timeout_ms,
        };
        match http::send(&request) {
            Ok(response) => Ok(platform::HttpResponse {
                status: response.status,
                headers: response.headers,
                body: response.body,
            }),
            Err(http::TransportError::Timeout) => Err(platform::TransportError::Timeout),
            Err(http::TransportError::Connect(why)) => Err(platform::TransportError::Connect(why)),
            Err(http::TransportError::Other(why)) => Err(platform::TransportError::Other(why)),
        }
    }
    fn run(
        &self,
        program: &str,
        args: &[String],
        timeout_ms: u32,
    ) -> Result<crate::command::ProcessOutput, String> {
        process::run(program, args, timeout_ms).map(|o| crate::command::ProcessOutput {
            status: o.status,
            stdout: o.stdout,
            stderr: o.stderr,
        })
    }
    fn bind(&self, port: u16) -> Result<(), platform::BindError> {
        loopback::bind(port).map_err(|e| match e {
            loopback::BindError::InUse => platform::BindError::InUse,
            loopback::BindError::Other(why) => platform::BindError::Other(why),
        })
    }
    fn accept(&self, timeout_ms: u32) -> Result<Option<platform::Incoming>, String> {
        Ok(loopback::accept(timeout_ms)?.map(|i| platform::Incoming {
            id: i.id,
            method: i.method,
            target: i.target,
        }))
    }
    fn respond(&self, id: u64, status: u16, content_type: &str, body: &[u8]) {
        loopback::respond(id, status, content_type, body);
    }
    fn close_listener(&self) {
        loopback::close();
    }
    fn notify(&self, notice: platform::Notice) {
        use platform::Notice as N;
        let event = match notice {
            N::OpenUrl(url) => notify::Event::OpenUrl(url),
            N::DeviceCode { user_code, verification_url, expires_in } => {
                notify::Event::DeviceCode(notify::DevicePrompt { user_code, verification_url, expires_in })
            }
            N::MethodChosen(why) => notify::Event::MethodChosen(why),
            N::Waiting(left) => notify::Event::Waiting(left),
            N::Rejected(why) => notify::Event::Rejected(why),
            N::Info(line) => notify::Event::Info(line),
            N::AccountDisabled { account, reason } => {
                notify::Event::AccountDisabled(notify::AccountDisabled { account, reason })
            }
            N::AccountBlocked { account, until } => {
                notify::Event::AccountBlocked(notify::AccountBlocked { account, until })
            }
            N::PeerRefreshed { account } => notify::Event::PeerRefreshed(account),
        };
        notify::emit(&event);
    }
    fn open_browser(&self, url: &str) -> Result<(), String> {
        notify::open_browser(url)
    }
    fn ask(&self, prompt: &str) -> Result<String, String> {
        notify::ask(prompt)
    }
}

fn to_account_store(s: crate::stores::AccountStore) -> t::AccountStore {
    use crate::stores::AccountStore as S;
    match s {
        S::File => t::AccountStore::File,
        S::Keyring => t::AccountStore::Keyring,
        S::Auto => t::AccountStore::Auto,
        S::Ephemeral => t::AccountStore::Ephemeral,
    }
}

fn from_storage_error(e: storage::StorageError) -> platform::StorageError {
    match e {
        storage::StorageError::Io(why) => platform::StorageError::Io(why),
        storage::StorageError::LockTimeout(ms) => platform::StorageError::LockTimeout(ms),
    }
}

// ---- pure exports ---------------------------------------------------------

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

fn to_pkce_error(e: pkce::PkceError) -> x::pkce::PkceError {
    match e {
        pkce::PkceError::EntropyLength(n) => x::pkce::PkceError::EntropyLength(saturate(n)),
        pkce::PkceError::VerifierLength(n) => x::pkce::PkceError::VerifierLength(saturate(n)),
        pkce::PkceError::VerifierCharacter(i) => x::pkce::PkceError::VerifierCharacter(saturate(i)),
    }
}

fn saturate(n: usize) -> u32 {
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

fn to_outcome(o: authorize::CallbackOutcome) -> x::authorize::CallbackOutcome {
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

fn to_claims(c: jwt::Claims) -> t::Claims {
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

// ---- the session ----------------------------------------------------------

/// The exported `session` resource.
/// Borrows the one platform, as a vault's sessions do: one `Session<&Imports>`
/// in the code instead of two copies of every session method.
struct SessionResource(session::Session<&'static Imports>);

static IMPORTS: Imports = Imports;

impl x::session::Guest for Component {
    type Session = SessionResource;
}

/// A session's configuration: the host's settings over the guest's defaults.
fn resolve(account: String, c: x::session::Config) -> session::Config {
    let d = session::Config::default();
    // The host checked it with `check-config`; one that fails now is left out.
    let file = c.file.as_ref().and_then(|f| crate::config_file::parse(&f.json, &f.path).ok());
    session::Config {
        account,
        // The host passes only what a flag or the environment set: those
        // beat the config file, which beats the default.
        issuer: c.issuer.or(file.as_ref().and_then(|f| f.issuer.clone())).unwrap_or(d.issuer),
        client_id: c.client_id.unwrap_or(d.client_id),
        originator: c.originator.unwrap_or(d.originator),
        refresh_skew_seconds: c.refresh_skew_seconds.unwrap_or(d.refresh_skew_seconds),
        shared_refresh_seconds: c
            .shared_refresh_seconds
            .or(file.as_ref().and_then(|f| f.shared_refresh_seconds))
            .unwrap_or(d.shared_refresh_seconds),
        lock_timeout_ms: c.lock_timeout_ms.unwrap_or(d.lock_timeout_ms),
        http_timeout_ms: c.http_timeout_ms.unwrap_or(d.http_timeout_ms),
        chatgpt_base_url: c
            .chatgpt_base_url
            .or(file.as_ref().and_then(|f| f.chatgpt_base_url.clone()))
            .unwrap_or(d.chatgpt_base_url),
        strategy: c
            .strategy
            .map(from_strategy)
            .or(file.as_ref().and_then(|f| f.strategy))
            .unwrap_or(d.strategy),
        runtime_key: c.runtime_key,
        file,
        file_path: c.file.map(|f| f.path).unwrap_or_default(),
    }
}

fn from_strategy(s: x::session::Strategy) -> pool::Strategy {
    match s {
        x::session::Strategy::RoundRobin => pool::Strategy::RoundRobin,
        x::session::Strategy::LeastUsed => pool::Strategy::LeastUsed,
        x::session::Strategy::DrainFirst => pool::Strategy::DrainFirst,
    }
}

fn to_strategy(s: pool::Strategy) -> x::session::Strategy {
    match s {
        pool::Strategy::RoundRobin => x::session::Strategy::RoundRobin,
        pool::Strategy::LeastUsed => x::session::Strategy::LeastUsed,
        pool::Strategy::DrainFirst => x::session::Strategy::DrainFirst,
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

fn to_kind(kind: session::Kind) -> t::CredentialKind {
    match kind {
        session::Kind::Subscription => t::CredentialKind::Subscription,
        session::Kind::ApiKey => t::CredentialKind::ApiKey,
        session::Kind::Command => t::CredentialKind::Command,
        session::Kind::None => t::CredentialKind::None,
    }
}

fn to_tier(tier: session::Tier) -> t::CredentialTier {
    match tier {
        session::Tier::Runtime => t::CredentialTier::Runtime,
        session::Tier::Config => t::CredentialTier::Config,
        session::Tier::Store => t::CredentialTier::Store,
        session::Tier::Command => t::CredentialTier::Command,
        session::Tier::Environment => t::CredentialTier::Environment,
        session::Tier::None => t::CredentialTier::None,
    }
}

fn to_status(s: session::Status) -> t::Status {
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

fn to_credential(c: auth_file::Credential) -> t::Credential {
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

fn from_credential(c: t::Credential) -> auth_file::Credential {
    match c {
        t::Credential::Chatgpt(tk) => auth_file::Credential::ChatGpt(auth_file::ChatGptTokens {
            id_token: tk.id_token,
            access_token: tk.access_token,
            refresh_token: tk.refresh_token,
            account_id: tk.account_id,
        }),
        t::Credential::ApiKey(key) => auth_file::Credential::ApiKey(key),
        t::Credential::Command(c) => auth_file::Credential::Command(crate::command::CommandSpec {
            program: c.program,
            args: c.args,
            timeout_ms: c.timeout_ms,
            refresh_interval_ms: c.refresh_interval_ms,
        }),
    }
}

fn to_oauth_error(e: oauth_error::OAuthError) -> t::OauthError {
    t::OauthError { code: e.code, description: e.description }
}

fn from_oauth_error(e: t::OauthError) -> oauth_error::OAuthError {
    oauth_error::OAuthError { code: e.code, description: e.description }
}

fn to_issuer_error(e: oauth_error::IssuerError) -> t::IssuerError {
    t::IssuerError { status: e.status, error: e.error.map(to_oauth_error) }
}

fn to_auth_error(e: error::AuthError) -> t::AuthError {
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

fn to_revocation(r: session::Revocation) -> x::session::Revocation {
    match r {
        session::Revocation::NotNeeded => x::session::Revocation::NotNeeded,
        session::Revocation::Revoked => x::session::Revocation::Revoked,
        session::Revocation::Failed(why) => x::session::Revocation::Failed(why),
    }
}

// ---- the vault ------------------------------------------------------------

/// The exported `vault` resource.
struct VaultResource(vault::Vault<Imports>);

impl x::vault::Guest for Component {
    type Vault = VaultResource;

    fn defaults() -> x::vault::DefaultValues {
        let d = defaults::defaults();
        x::vault::DefaultValues {
            issuer: d.issuer.into(),
            client_id: d.client_id.into(),
            originator: d.originator.into(),
            refresh_skew_seconds: d.refresh_skew_seconds,
            shared_refresh_seconds: d.shared_refresh_seconds,
            lock_timeout_ms: d.lock_timeout_ms,
            http_timeout_ms: d.http_timeout_ms,
            login_ports: d.login_ports.to_vec(),
            login_timeout_seconds: d.login_timeout_seconds,
            default_account: d.default_account.into(),
            config_file: crate::config_file::FILE_NAME.into(),
            codex_config_file: crate::codex_config::FILE_NAME.into(),
            api_key_var: d.api_key_var.into(),
            account_var: d.account_var.into(),
            home_var: d.home_var.into(),
            issuer_var: d.issuer_var.into(),
            chatgpt_base_url: d.chatgpt_base_url.into(),
            chatgpt_base_url_var: d.chatgpt_base_url_var.into(),
            strategy: to_strategy(pool::Strategy::default()),
            strategy_var: d.strategy_var.into(),
            store_var: d.store_var.into(),
            database_url_var: d.database_url_var.into(),
            guest_vars: d.guest_vars.into_iter().map(Into::into).collect(),
        }
    }

    fn check_name(name: String) -> Result<(), String> {
        vault::check_name(&name)
    }

    fn check_config(file: x::session::ConfigFile) -> Result<(), String> {
        crate::config_file::parse(&file.json, &file.path).map(drop)
    }

    fn codex_home_store(codex_config: Option<x::session::ConfigFile>) -> Result<t::AccountStore, String> {
        let mode = match codex_config {
            Some(f) => crate::codex_config::parse(&f.json, &f.path)?.store,
            None => None,
        };
        Ok(to_account_store(mode.map_or(crate::stores::AccountStore::File, Into::into)))
    }

    fn plan_stores(
        given: Vec<x::vault::GivenSetting>,
        file: Option<x::session::ConfigFile>,
    ) -> Result<x::vault::StorePlan, String> {
        let (given, file) = given_and_file(given, file)?;
        let to = to_account_store;
        let mut plan = crate::stores::plan(&given, file.as_ref(), &[])?;
        if plan.database.is_none() {
            // A Codex home that cannot be read keeps the vault's store; its
            // error is shown where it matters (`config show`, a sign-in).
            let homes: Vec<_> = crate::stores::read_homes(&Imports)
                .into_iter()
                .filter_map(|(name, read)| Some((name, read.ok()?)))
                .collect();
            plan = crate::stores::plan(&given, file.as_ref(), &homes)?;
        }
        Ok(x::vault::StorePlan {
            database: plan.database,
            default_store: to(plan.default_store),
            accounts: plan.accounts.into_iter().map(|(name, store)| (name, to(store))).collect(),
        })
    }

    fn settings(
        given: Vec<x::vault::GivenSetting>,
        file: Option<x::session::ConfigFile>,
    ) -> Result<Vec<x::vault::Setting>, String> {
        use crate::config_file::Origin as O;
        let (given, file) = given_and_file(given, file)?;
        let mut settings: Vec<x::vault::Setting> = crate::config_file::effective(&given, file.as_ref())
            .into_iter()
            .map(|s| x::vault::Setting {
                name: s.name.into(),
                value: s.value,
                origin: match s.origin {
                    O::Flag => x::vault::Origin::Flag,
                    O::Environment => x::vault::Origin::Environment,
                    O::File => x::vault::Origin::File,
                    O::Default => x::vault::Origin::Default,
                    O::Unset => x::vault::Origin::Unset,
                },
            })
            .collect();
        let homes = crate::stores::read_homes(&Imports);
        settings.extend(crate::codex_config::settings_of(&homes).into_iter().map(|(name, value)| {
            x::vault::Setting { name, value: Some(value), origin: x::vault::Origin::Codex }
        }));
        Ok(settings)
    }
}

impl x::vault::GuestVault for VaultResource {
    fn new(c: x::session::Config) -> Self {
        Self(vault::Vault::new(Imports, resolve(defaults::DEFAULT_ACCOUNT.into(), c)))
    }
    fn accounts(&self) -> Result<Vec<x::vault::AccountInfo>, t::AuthError> {
        Ok(self.0.accounts().map_err(to_auth_error)?.into_iter().map(to_account_info).collect())
    }
    fn select(&self, explicit: Option<String>) -> Result<String, t::AuthError> {
        self.0.select(explicit.as_deref()).map_err(to_auth_error)
    }
    fn target(&self, explicit: Option<String>) -> Result<String, t::AuthError> {
        self.0.target(explicit.as_deref()).map_err(to_auth_error)
    }
    fn status(&self, account: String) -> Result<t::Status, t::AuthError> {
        self.0.status(&account).map(to_status).map_err(to_auth_error)
    }
    fn pin(&self, account: String) -> Result<x::vault::AccountInfo, t::AuthError> {
        self.0.pin(&account).map(to_account_info).map_err(to_auth_error)
    }
    fn remove(&self, account: String) -> Result<x::vault::Removal, t::AuthError> {
        let r = self.0.remove(&account).map_err(to_auth_error)?;
        Ok(x::vault::Removal {
            revocation: to_revocation(r.revocation),
            unlinked: r.unlinked,
            was_pinned: r.was_pinned,
            now_using: r.now_using,
        })
    }
    fn choose(&self, explicit: Option<String>, session: Option<String>) -> Result<String, t::AuthError> {
        self.0.choose(explicit.as_deref(), session.as_deref()).map_err(to_auth_error)
    }
    fn report(
        &self,
        account: String,
        upstream: x::vault::Upstream,
    ) -> Result<x::vault::Learned, t::AuthError> {
        let learned = match &upstream {
            x::vault::Upstream::Answer(a) => self.0.report(
                &account,
                vault::Upstream::Answer { status: a.status, headers: &a.headers, body: &a.body },
            ),
            x::vault::Upstream::StreamEvent(event) => self.0.report(&account, vault::Upstream::Event(event)),
        }
        .map_err(to_auth_error)?;
        Ok(x::vault::Learned {
            blocked_until: learned.blocked_until,
            unauthorized: learned.unauthorized,
            usage_updated: learned.usage_updated,
        })
    }
    fn usage(&self, account: String) -> Result<x::vault::UsageReport, t::AuthError> {
        let r = self.0.usage(&account).map_err(to_auth_error)?;
        Ok(x::vault::UsageReport {
            account: r.account,
            usage: r.usage.map(to_usage),
            fetched_at: r.fetched_at,
            error: r.error,
            blocked_until: r.blocked_until,
        })
    }
    fn check(&self, account: String) -> Result<x::vault::CheckOutcome, t::AuthError> {
        Ok(match self.0.check(&account).map_err(to_auth_error)? {
            vault::CheckOutcome::Ok(u) => x::vault::CheckOutcome::Ok(u.map(to_usage)),
            vault::CheckOutcome::Failed(why) => x::vault::CheckOutcome::Failed(why),
            vault::CheckOutcome::Unverifiable(why) => x::vault::CheckOutcome::Unverifiable(why),
            vault::CheckOutcome::Skipped(why) => x::vault::CheckOutcome::Skipped(why),
        })
    }
    fn link(&self, name: String, directory: String) -> Result<x::vault::AccountInfo, t::AuthError> {
        self.0.link(&name, &directory).map(to_account_info).map_err(to_auth_error)
    }
    fn check_move_target(&self, name: String) -> Result<(), t::AuthError> {
        self.0.check_move_target(&name).map_err(to_auth_error)
    }
}

fn to_account_info(a: vault::AccountInfo) -> x::vault::AccountInfo {
    x::vault::AccountInfo {
        name: a.name,
        location: a.location,
        linked: a.linked,
        pinned: a.pinned,
        kind: to_kind(a.kind),
        email: a.email,
        account_id: a.account_id,
        plan: a.plan,
        expires_at: a.expires_at,
        state: match a.state {
            vault::AccountState::Ok => x::vault::AccountState::Ok,
            vault::AccountState::Disabled => x::vault::AccountState::Disabled,
            vault::AccountState::Blocked => x::vault::AccountState::Blocked,
            vault::AccountState::LoggedOut => x::vault::AccountState::LoggedOut,
            vault::AccountState::Unreadable => x::vault::AccountState::Unreadable,
        },
        problem: a.problem,
        blocked_until: a.blocked_until,
        usage: a.usage.map(to_usage),
        label: a.label,
    }
}

fn to_usage(u: usage::Usage) -> x::vault::Usage {
    x::vault::Usage {
        plan: u.plan,
        windows: u
            .windows
            .into_iter()
            .map(|w| x::vault::Window {
                name: w.name,
                used_percent: w.used_percent,
                window_seconds: w.window_seconds,
                resets_at: w.resets_at,
            })
            .collect(),
        limit_reached: u.limit_reached,
    }
}

/// What a flag or the environment gave, and the parsed config file.
#[allow(clippy::type_complexity)]
fn given_and_file(
    given: Vec<x::vault::GivenSetting>,
    file: Option<x::session::ConfigFile>,
) -> Result<(Vec<(String, String, crate::config_file::Origin)>, Option<crate::config_file::ConfigFile>), String>
{
    use crate::config_file::Origin as O;
    let file = file.map(|f| crate::config_file::parse(&f.json, &f.path)).transpose()?;
    let to = |o: x::vault::Origin| match o {
        x::vault::Origin::Flag => O::Flag,
        x::vault::Origin::Environment => O::Environment,
        x::vault::Origin::File => O::File,
        x::vault::Origin::Default => O::Default,
        x::vault::Origin::Unset | x::vault::Origin::Codex => O::Unset,
    };
    Ok((given.into_iter().map(|g| (g.name, g.value, to(g.origin))).collect(), file))
}
