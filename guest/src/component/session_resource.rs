//! The exported `session` resource.

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
        strategy: c.strategy,
        runtime_key: c.runtime_key,
        file: c.file.map(|f| (f.path, f.json)),
    };
    session::settings::resolve(account, given)
}

impl x::session::GuestSession for SessionResource {
    fn new(account: String, c: x::session::Config) -> Self {
        Self(session::Session::new(&IMPORTS, resolve(account, c)))
    }
    fn status(&self) -> Result<session::Status, AuthError> {
        self.0.status()
    }
    fn authenticated(&self) -> bool {
        self.0.authenticated()
    }
    fn access_token(&self) -> Result<String, AuthError> {
        self.0.access_token()
    }
    fn request_headers(&self) -> Result<Vec<(String, String)>, AuthError> {
        self.0.request_headers()
    }
    fn set_credential(&self, credential: auth_file::Credential) -> Result<(), AuthError> {
        self.0.set_credential(credential)
    }
    fn logout(&self) -> Result<session::LogoutReport, AuthError> {
        self.0.logout()
    }
    fn login(&self, o: x::session::LoginOptions) -> Result<session::Status, AuthError> {
        let [port, fallback] = defaults::LOGIN_PORTS;
        let options = login::LoginOptions {
            method: o.method,
            open_browser: o.open_browser,
            ports: vec![o.port.unwrap_or(port), o.fallback_port.unwrap_or(fallback)],
            timeout_seconds: o.timeout_seconds.unwrap_or(defaults::LOGIN_TIMEOUT_SECONDS),
            os: o.os,
        };
        self.0.login(&options)
    }
    fn refresh(&self, force: bool) -> Result<session::Status, AuthError> {
        self.0.refresh(force)
    }
    fn unauthorized(&self, previous_token: String) -> Result<String, AuthError> {
        self.0.unauthorized(&previous_token)
    }
    fn reload(&self) -> Result<(), AuthError> {
        self.0.reload()
    }
}
