//! Signing in: the browser flow on the loopback, the device-code flow, the
//! paste flow, and the choice between them. Every step is decided here; the
//! host only binds, waits, sends and shows.

use crate::error::AuthError;
use crate::oauth::authorize::{self, AuthorizeRequest, CallbackOutcome};
use crate::oauth::pkce::{self, PkcePair};
use crate::oauth::query;
use crate::oauth::responses::{self, DeviceStartError, PollOutcome};
use crate::platform::{BindError, DevicePrompt, HttpRequest, Method, Notice, Platform};
use crate::session::endpoints::Endpoints;
use crate::session::{Session, Status};
use crate::store::auth_file::{ChatGptTokens, Credential};

wit_enum! {
    /// How to sign in.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum LoginMethod {
        Auto,
        Browser,
        Device,
        Paste,
    }
}

/// How a sign-in runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginOptions {
    pub method: LoginMethod,
    pub open_browser: bool,
    pub ports: Vec<u16>,
    pub timeout_seconds: u32,
    pub os: String,
}

/// A device code is valid this long; polling stops then.
pub const DEVICE_CODE_LIFETIME_SECONDS: u32 = 15 * 60;
/// RFC 8628 3.5: `slow_down` adds this to the interval, for good.
pub const SLOW_DOWN_STEP_SECONDS: u32 = 5;
/// How often a waiting sign-in reports that it still waits.
const TICK_MS: u32 = 1000;
/// Retries of a busy primary port after asking its holder to stop.
const BIND_RETRIES: u32 = 10;
const BIND_RETRY_PAUSE_MS: u64 = 200;
/// `/cancel` goes to a stale login server of ours, which answers at once.
const CANCEL_TIMEOUT_MS: u32 = 500;
/// Attempts at pasting a redirect URL before giving up.
const PASTE_ATTEMPTS: u32 = 3;

/// Why no browser can be used here, if none can.
pub fn no_browser_reason(os: &str, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    if set("SSH_CONNECTION") || set("SSH_TTY") {
        return Some("this is an SSH session".into());
    }
    let has_display =
        matches!(os, "macos" | "windows" | "ios" | "android") || set("DISPLAY") || set("WAYLAND_DISPLAY");
    (!has_display).then(|| format!("no graphical display ({os} without DISPLAY or WAYLAND_DISPLAY)"))
}

impl<P: Platform> Session<P> {
    /// Signs in, stores the credential and returns the new status.
    pub fn login(&self, options: &LoginOptions) -> Result<Status, AuthError> {
        let endpoints = Endpoints::new(&self.config.issuer)?;
        // A store that cannot be rewritten would waste the whole sign-in:
        // say so before the person opens a browser.
        self.read_store().map_err(|e| match e {
            AuthError::CorruptStore(c) => AuthError::corrupt(
                c.path,
                format!("{}; repair it, or remove it with `codex-auth logout`, then sign in", c.reason),
            ),
            e => e,
        })?;
        let tokens = match options.method {
            LoginMethod::Browser => {
                let port = self.bind_first(&options.ports).map_err(AuthError::LoginFailed)?;
                self.browser_flow(&endpoints, options, port)
            }
            LoginMethod::Device => self.device_flow(&endpoints, options),
            LoginMethod::Paste => self.paste_flow(&endpoints, options),
            LoginMethod::Auto => {
                let no_browser = no_browser_reason(&options.os, |n| self.platform.env_var(n))
                    .filter(|_| options.open_browser);
                match no_browser {
                    Some(reason) => self.device_because(&endpoints, options, &reason),
                    None => match self.bind_first(&options.ports) {
                        Ok(port) => {
                            self.platform.notify(Notice::MethodChosen(format!(
                                "browser sign-in, listening on 127.0.0.1:{port}"
                            )));
                            self.browser_flow(&endpoints, options, port)
                        }
                        Err(reason) => self.device_because(&endpoints, options, &reason),
                    },
                }
            }
        }?;
        self.set_credential(Credential::Chatgpt(tokens))?;
        self.status()
    }

    fn device_because(
        &self,
        endpoints: &Endpoints,
        options: &LoginOptions,
        reason: &str,
    ) -> Result<ChatGptTokens, AuthError> {
        self.platform.notify(Notice::MethodChosen(format!("device code sign-in: {reason}")));
        self.device_flow(endpoints, options)
    }

    /// Binds the first port that can be bound. A busy first port may be a
    /// stale sign-in of ours: ask it to stop, and retry briefly.
    fn bind_first(&self, ports: &[u16]) -> Result<u16, String> {
        if ports.is_empty() {
            return Err("no loopback port to listen on".into());
        }
        let mut why = Vec::new();
        for (i, &port) in ports.iter().enumerate() {
            let retries = if i == 0 { BIND_RETRIES } else { 0 };
            for attempt in 0..=retries {
                match self.platform.bind(port) {
                    Ok(()) => return Ok(port),
                    Err(BindError::InUse) if attempt < retries => {
                        if attempt == 0 {
                            self.cancel_stale_login(port);
                        }
                        self.platform.sleep_ms(BIND_RETRY_PAUSE_MS);
                    }
                    Err(BindError::InUse) => {
                        why.push(format!("port {port} is in use"));
                        break;
                    }
                    Err(BindError::Other(e)) => {
                        why.push(e);
                        break;
                    }
                }
            }
        }
        Err(why.join("; "))
    }

    fn cancel_stale_login(&self, port: u16) {
        let request = HttpRequest {
            method: Method::Get,
            url: format!("http://127.0.0.1:{port}/cancel"),
            headers: Vec::new(),
            body: Vec::new(),
            timeout_ms: CANCEL_TIMEOUT_MS,
        };
        // Whatever holds the port may not be ours; its answer does not matter.
        let _ = self.platform.send(&request);
    }

    fn browser_flow(
        &self,
        endpoints: &Endpoints,
        options: &LoginOptions,
        port: u16,
    ) -> Result<ChatGptTokens, AuthError> {
        let result = self.browser_wait(endpoints, options, port);
        self.platform.close_listener();
        result
    }

    fn browser_wait(
        &self,
        endpoints: &Endpoints,
        options: &LoginOptions,
        port: u16,
    ) -> Result<ChatGptTokens, AuthError> {
        let (pkce, state) = self.secrets();
        let redirect_uri = authorize::redirect_uri(port);
        self.show_authorize_url(options, &pkce, &state, &redirect_uri)?;
        let deadline = self.platform.now_ms().saturating_add(i64::from(options.timeout_seconds) * 1000);
        loop {
            let left_ms = deadline.saturating_sub(self.platform.now_ms());
            if left_ms <= 0 {
                return Err(AuthError::LoginFailed(format!(
                    "no answer from the browser within {} s",
                    options.timeout_seconds
                )));
            }
            self.platform.notify(Notice::Waiting(seconds(left_ms)));
            let wait = u32::try_from(left_ms).unwrap_or(u32::MAX).min(TICK_MS);
            let Some(request) = self.platform.accept(wait).map_err(AuthError::LoginFailed)? else {
                continue;
            };
            let outcome = authorize::parse_callback(&request.target, &state);
            let answer = |outcome: &CallbackOutcome| {
                let reply = authorize::callback_reply(outcome);
                self.platform.respond(request.id, reply.status, &reply.content_type, reply.body.as_bytes());
            };
            match &outcome {
                CallbackOutcome::Code(code) => {
                    let exchanged = self.exchange(endpoints, code, &pkce.verifier, &redirect_uri);
                    match &exchanged {
                        Ok(_) => answer(&outcome),
                        Err(e) => answer(&CallbackOutcome::Denied(crate::oauth::oauth_error::OAuthError {
                            code: "token_exchange_failed".into(),
                            description: Some(e.to_string()),
                        })),
                    }
                    return exchanged;
                }
                CallbackOutcome::Denied(error) => {
                    answer(&outcome);
                    return Err(AuthError::LoginFailed(authorize::describe_denial(error)));
                }
                CallbackOutcome::Cancel => {
                    answer(&outcome);
                    return Err(AuthError::LoginFailed(
                        "cancelled: another sign-in took over the port".into(),
                    ));
                }
                CallbackOutcome::StateMismatch => {
                    answer(&outcome);
                    self.platform.notify(Notice::Rejected("a callback with a wrong or missing state".into()));
                }
                CallbackOutcome::MissingCode => {
                    answer(&outcome);
                    self.platform.notify(Notice::Rejected("a callback without a code".into()));
                }
                CallbackOutcome::NotFound => answer(&outcome),
            }
        }
    }

    fn paste_flow(&self, endpoints: &Endpoints, options: &LoginOptions) -> Result<ChatGptTokens, AuthError> {
        let port = options
            .ports
            .first()
            .copied()
            .ok_or_else(|| AuthError::InvalidInput("no redirect port".into()))?;
        let (pkce, state) = self.secrets();
        let redirect_uri = authorize::redirect_uri(port);
        self.show_authorize_url(options, &pkce, &state, &redirect_uri)?;
        for _ in 0..PASTE_ATTEMPTS {
            let pasted = self
                .platform
                .ask("After signing in, the browser fails to load a localhost page. Paste that page's full URL here:")
                .map_err(AuthError::LoginFailed)?;
            match authorize::parse_pasted(&pasted, &state) {
                CallbackOutcome::Code(code) => {
                    return self.exchange(endpoints, &code, &pkce.verifier, &redirect_uri);
                }
                CallbackOutcome::Denied(error) => {
                    return Err(AuthError::LoginFailed(authorize::describe_denial(&error)));
                }
                CallbackOutcome::StateMismatch => self.platform.notify(Notice::Rejected(
                    "that URL does not belong to this sign-in (its state differs); paste the newest one"
                        .into(),
                )),
                _ => self.platform.notify(Notice::Rejected("that holds no authorization code".into())),
            }
        }
        Err(AuthError::LoginFailed("no usable redirect URL was pasted".into()))
    }

    fn device_flow(&self, endpoints: &Endpoints, options: &LoginOptions) -> Result<ChatGptTokens, AuthError> {
        let body = serde_json::json!({ "client_id": self.config.client_id });
        let answer = self.post(endpoints.device_code(), "application/json", body.to_string().into_bytes())?;
        let device = responses::parse_device_code(answer.status, &answer.body).map_err(|e| match e {
            DeviceStartError::NotEnabled => AuthError::LoginFailed(
                "device code sign-in is not enabled for this account: turn it on in ChatGPT's security \
                 settings, or sign in with the browser"
                    .into(),
            ),
            DeviceStartError::Issuer(e) => AuthError::Issuer(e),
        })?;
        let limit = options.timeout_seconds.min(DEVICE_CODE_LIFETIME_SECONDS);
        self.platform.notify(Notice::DeviceCode(DevicePrompt {
            user_code: device.user_code.clone(),
            verification_url: endpoints.device_verification(),
            expires_in: limit,
        }));
        let deadline = self.platform.now_ms().saturating_add(i64::from(limit) * 1000);
        let mut interval = device.interval_seconds;
        let poll =
            serde_json::json!({ "device_auth_id": device.device_auth_id, "user_code": device.user_code });
        loop {
            self.platform.sleep_ms(u64::from(interval) * 1000);
            let left_ms = deadline.saturating_sub(self.platform.now_ms());
            if left_ms <= 0 {
                return Err(AuthError::LoginFailed(format!(
                    "the device code was not approved within {limit} s"
                )));
            }
            let outcome = match self.post(
                endpoints.device_token(),
                "application/json",
                poll.to_string().into_bytes(),
            ) {
                Ok(answer) => responses::parse_device_poll(answer.status, &answer.body),
                // A network blip is no reason to lose the code: poll again.
                Err(AuthError::Transport(_)) => PollOutcome::Pending,
                Err(e) => return Err(e),
            };
            match outcome {
                PollOutcome::Pending => self.platform.notify(Notice::Waiting(seconds(left_ms))),
                PollOutcome::SlowDown => interval += SLOW_DOWN_STEP_SECONDS,
                PollOutcome::Approved(approval) => {
                    return self.exchange(
                        endpoints,
                        &approval.authorization_code,
                        &approval.code_verifier,
                        &endpoints.device_redirect_uri(),
                    );
                }
                PollOutcome::Denied => {
                    return Err(AuthError::LoginFailed("the device code was denied".into()));
                }
                PollOutcome::Expired => return Err(AuthError::LoginFailed("the device code expired".into())),
                PollOutcome::Failed(e) if e.status >= 500 => {
                    self.platform.notify(Notice::Waiting(seconds(left_ms)))
                }
                PollOutcome::Failed(e) => return Err(AuthError::Issuer(e)),
            }
        }
    }

    /// A fresh PKCE pair (64 bytes, as the Codex CLI) and state (32 bytes).
    fn secrets(&self) -> (PkcePair, String) {
        let mut entropy = [0u8; 96];
        self.platform.fill_random(&mut entropy);
        let pkce = pkce::from_entropy(&entropy[..64]).expect("64 bytes are in range");
        let state = pkce::state_from_entropy(&entropy[64..]).expect("32 bytes are enough");
        (pkce, state)
    }

    fn show_authorize_url(
        &self,
        options: &LoginOptions,
        pkce: &PkcePair,
        state: &str,
        redirect_uri: &str,
    ) -> Result<(), AuthError> {
        let url = authorize::authorize_url(&AuthorizeRequest {
            issuer: self.config.issuer.clone(),
            client_id: self.config.client_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            scope: None,
            code_challenge: pkce.challenge.clone(),
            state: state.to_owned(),
            originator: self.config.originator.clone(),
            // As the Codex CLI does for a home with a forced workspace.
            allowed_workspace_id: self.codex_config()?.and_then(|c| c.forced_workspace_id),
        })
        .map_err(AuthError::InvalidInput)?;
        self.platform.notify(Notice::OpenUrl(url.clone()));
        if options.open_browser
            && let Err(why) = self.platform.open_browser(&url)
        {
            self.platform.notify(Notice::Info(format!(
                "could not open a browser ({why}): open the URL above by hand"
            )));
        }
        Ok(())
    }

    /// Exchanges an authorization code for the three tokens.
    fn exchange(
        &self,
        endpoints: &Endpoints,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<ChatGptTokens, AuthError> {
        let form = query::build([
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", self.config.client_id.as_str()),
            ("code_verifier", verifier),
        ]);
        let answer = self.post(endpoints.token(), "application/x-www-form-urlencoded", form.into_bytes())?;
        let grant =
            responses::parse_token_response(answer.status, &answer.body).map_err(AuthError::Issuer)?;
        match (grant.id_token, grant.access_token, grant.refresh_token) {
            (Some(id_token), Some(access_token), Some(refresh_token)) => {
                Ok(ChatGptTokens { id_token, access_token, refresh_token, account_id: None })
            }
            _ => Err(AuthError::LoginFailed(
                "the issuer's answer lacks the id, access or refresh token".into(),
            )),
        }
    }

    /// POSTs `body`; any answer is returned, only a transport failure is an error.
    pub(crate) fn post(
        &self,
        url: String,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<crate::platform::HttpResponse, AuthError> {
        self.post_within(url, content_type, body, self.config.http_timeout_ms)
    }

    /// [`Self::post`] with its own bound on the wait.
    pub(crate) fn post_within(
        &self,
        url: String,
        content_type: &str,
        body: Vec<u8>,
        timeout_ms: u32,
    ) -> Result<crate::platform::HttpResponse, AuthError> {
        let request = HttpRequest {
            method: Method::Post,
            url,
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("Accept".into(), "application/json".into()),
            ],
            body,
            timeout_ms,
        };
        self.platform.send(&request).map_err(|e| AuthError::Transport(e.to_string()))
    }
}

fn seconds(ms: i64) -> u32 {
    u32::try_from(ms.saturating_add(999) / 1000).unwrap_or(u32::MAX)
}
