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

impl x::session::GuestSession for SessionResource {
    fn new(account: String, given: session::settings::Given) -> Self {
        Self(session::Session::new(&IMPORTS, session::settings::resolve(account, given)))
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
    fn request_headers_verdict(&self) -> Result<session::HeadersVerdict, AuthError> {
        self.0.headers_verdict()
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
