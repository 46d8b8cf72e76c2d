//! A mock of auth.openai.com on 127.0.0.1 that behaves like the real one
//! where codex-auth depends on it: exact redirect-URI matching, PKCE checked
//! at exchange, single-use codes, rotating refresh tokens with reuse
//! detection (a reused token revokes its whole family), and device polling
//! with 403-pending and a string interval ("0": poll at once, so no test
//! waits; `slow_down` is the guest's unit tests').

use crate::support::{jwt, now};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

pub const CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
pub const ACCOUNT: &str = "acct-mock";

/// What the mock does with a refresh request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshMode {
    /// Rotate, detect reuse.
    Normal,
    /// Answer with this status and body, touching nothing.
    Fail(u16, Vec<u8>),
    /// Hold the request until `release_stall` (which says how to answer).
    Stall,
    /// Hold only the next request that way; later ones are answered normally.
    StallFirst,
}

/// How a stalled refresh ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StallEnd {
    Pending,
    /// Answer as if it had not been held.
    Proceed,
    /// Answer 500 without rotating (the request never took effect).
    Abandon,
}

pub struct State {
    pub ports: Vec<u16>,
    pub access_ttl: i64,
    codes: HashMap<String, Grant>,
    families: HashMap<String, RefreshToken>,
    revoked_families: HashSet<u64>,
    next: u64,
    pub refresh_requests: u32,
    /// Each refresh request's `User-Agent` and refresh token, in order.
    pub refresh_log: Vec<(String, String)>,
    pub reuse_errors: u32,
    pub exchanges: u32,
    pub refresh_mode: RefreshMode,
    pub stalled: u32,
    pub stall_end: StallEnd,
    pub deny: Option<(String, String)>,
    pub device_enabled: bool,
    pub device_pending_polls: u32,
    pub device_polls: Vec<Instant>,
    pub revoked: Vec<String>,
    pub revoke_status: u16,
}

struct Grant {
    challenge: String,
    redirect_uri: String,
    used: bool,
}

struct RefreshToken {
    family: u64,
    used: bool,
}

pub struct MockIssuer {
    pub url: String,
    state: Arc<(Mutex<State>, Condvar)>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl MockIssuer {
    /// A mock that accepts redirect URIs on `ports`.
    pub fn start(ports: &[u16]) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind the mock"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let state = Arc::new((
            Mutex::new(State {
                ports: ports.to_vec(),
                access_ttl: 3600,
                codes: HashMap::new(),
                families: HashMap::new(),
                revoked_families: HashSet::new(),
                next: 0,
                refresh_requests: 0,
                refresh_log: Vec::new(),
                reuse_errors: 0,
                exchanges: 0,
                refresh_mode: RefreshMode::Normal,
                stalled: 0,
                stall_end: StallEnd::Pending,
                deny: None,
                device_enabled: true,
                device_pending_polls: 0,
                device_polls: Vec::new(),
                revoked: Vec::new(),
                revoke_status: 200,
            }),
            Condvar::new(),
        ));
        let url = format!("http://127.0.0.1:{port}");
        let thread = {
            let (server, state, url) = (server.clone(), state.clone(), url.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let (state, url) = (state.clone(), url.clone());
                    // One thread a request: a stalled refresh must not block the rest.
                    std::thread::spawn(move || handle(&state, &url, request));
                }
            })
        };
        Self { url, state, server, thread: Some(thread) }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.0.lock().unwrap()
    }

    /// A valid refresh token of a new family, as a sign-in would leave.
    pub fn issue_refresh_token(&self) -> String {
        new_refresh_token(&mut self.state(), None)
    }

    /// Tokens of a new sign-in expiring at `exp`, as an auth.json.
    pub fn codex_file(&self, exp: i64) -> Value {
        let rt = self.issue_refresh_token();
        json!({
            "OPENAI_API_KEY": null,
            "tokens": {
                "id_token": id_token(exp),
                "access_token": access_token(exp, 0),
                "refresh_token": rt,
                "account_id": ACCOUNT
            },
            "last_refresh": "2026-11-22T21:00:00Z"
        })
    }

    /// Blocks until `n` refresh requests are stalled.
    pub fn wait_for_stalled(&self, n: u32) {
        let (lock, cvar) = &*self.state;
        let _guard = cvar.wait_while(lock.lock().unwrap(), |s| s.stalled < n).unwrap();
    }

    /// Like [`Self::wait_for_stalled`], giving up after `limit`: whether
    /// they are (for a peer that may not refresh at all).
    pub fn wait_for_stalled_within(&self, n: u32, limit: std::time::Duration) -> bool {
        let (lock, cvar) = &*self.state;
        let (state, _) = cvar.wait_timeout_while(lock.lock().unwrap(), limit, |s| s.stalled < n).unwrap();
        state.stalled >= n
    }

    /// Blocks until `n` refresh tokens were presented a second time.
    pub fn wait_for_reuse(&self, n: u32) {
        let (lock, cvar) = &*self.state;
        let _guard = cvar.wait_while(lock.lock().unwrap(), |s| s.reuse_errors < n).unwrap();
    }

    /// Holds the next refresh request until [`Self::release_stall`].
    pub fn stall_next(&self) {
        let mut state = self.state();
        state.refresh_mode = RefreshMode::StallFirst;
        state.stall_end = StallEnd::Pending;
        state.stalled = 0;
    }

    /// Ends every stalled refresh the given way.
    pub fn release_stall(&self, end: StallEnd) {
        let (lock, cvar) = &*self.state;
        let mut state = lock.lock().unwrap();
        state.stall_end = end;
        state.refresh_mode = RefreshMode::Normal;
        cvar.notify_all();
    }
}

impl Drop for MockIssuer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub fn id_token(exp: i64) -> String {
    jwt(&json!({
        "exp": exp,
        "email": "mock@example.com",
        "https://api.openai.com/auth": {
            "chatgpt_account_id": ACCOUNT,
            "chatgpt_plan_type": "pro",
            "chatgpt_user_id": "user-mock"
        }
    }))
}

pub fn access_token(exp: i64, serial: u64) -> String {
    jwt(
        &json!({"exp": exp, "serial": serial, "https://api.openai.com/auth": {"chatgpt_account_id": ACCOUNT}}),
    )
}

fn new_refresh_token(state: &mut State, family: Option<u64>) -> String {
    state.next += 1;
    let family = family.unwrap_or(state.next);
    let token = format!("rt-{family}-{}", state.next);
    state.families.insert(token.clone(), RefreshToken { family, used: false });
    token
}

fn tokens(state: &mut State, family: Option<u64>) -> Value {
    let exp = now() + state.access_ttl;
    let refresh = new_refresh_token(state, family);
    json!({
        "id_token": id_token(exp),
        "access_token": access_token(exp, state.next),
        "refresh_token": refresh,
        "expires_in": state.access_ttl,
        "token_type": "Bearer"
    })
}

type Reply = (u16, Vec<(String, String)>, Vec<u8>);

fn handle(shared: &Arc<(Mutex<State>, Condvar)>, issuer: &str, mut request: tiny_http::Request) {
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let content_type = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Content-Type"))
        .map(|h| h.value.as_str().to_owned())
        .unwrap_or_default();
    let reply: Reply = match (request.method().as_str(), path) {
        ("GET", "/oauth/authorize") => authorize(&mut shared.0.lock().unwrap(), query),
        ("POST", "/oauth/token") if content_type.starts_with("application/x-www-form-urlencoded") => {
            exchange(&mut shared.0.lock().unwrap(), issuer, &body)
        }
        ("POST", "/oauth/token") => {
            let agent = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("User-Agent"))
                .map(|h| h.value.as_str().to_owned())
                .unwrap_or_default();
            refresh(shared, &body, agent)
        }
        ("POST", "/api/accounts/deviceauth/usercode") => device_start(&mut shared.0.lock().unwrap(), &body),
        ("POST", "/api/accounts/deviceauth/token") => device_poll(&mut shared.0.lock().unwrap(), issuer),
        ("POST", "/oauth/revoke") => revoke(&mut shared.0.lock().unwrap(), &body),
        _ => (404, vec![], b"not found".to_vec()),
    };
    let (status, headers, text) = reply;
    let mut response = tiny_http::Response::from_data(text).with_status_code(status);
    for (name, value) in headers {
        response.add_header(tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap());
    }
    let _ = request.respond(response);
}

fn json_reply(status: u16, value: Value) -> Reply {
    (status, vec![("Content-Type".into(), "application/json".into())], value.to_string().into_bytes())
}

fn form(text: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes()).into_owned().collect()
}

fn registered(state: &State, redirect_uri: &str) -> bool {
    state.ports.iter().any(|p| redirect_uri == format!("http://localhost:{p}/auth/callback"))
}

fn authorize(state: &mut State, query: &str) -> Reply {
    let q = form(query);
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let redirect_uri = get("redirect_uri");
    if get("client_id") != CLIENT_ID
        || get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").is_empty()
        || !get("scope").split(' ').any(|s| s == "offline_access")
        || !registered(state, &redirect_uri)
    {
        return (400, vec![], b"bad authorize request".to_vec());
    }
    let location = match &state.deny {
        Some((error, description)) => format!(
            "{redirect_uri}?error={error}&error_description={description}&state={}",
            urlencode(&get("state"))
        ),
        None => {
            state.next += 1;
            let code = format!("code-{}", state.next);
            state.codes.insert(
                code.clone(),
                Grant { challenge: get("code_challenge"), redirect_uri: redirect_uri.clone(), used: false },
            );
            format!("{redirect_uri}?code={code}&state={}", urlencode(&get("state")))
        }
    };
    (302, vec![("Location".into(), location)], Vec::new())
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn exchange(state: &mut State, issuer: &str, body: &str) -> Reply {
    let f = form(body);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if get("grant_type") != "authorization_code" || get("client_id") != CLIENT_ID {
        return json_reply(400, json!({"error": "invalid_request"}));
    }
    let redirect_uri = get("redirect_uri");
    let device_uri = format!("{issuer}/deviceauth/callback");
    if redirect_uri != device_uri && !registered(state, &redirect_uri) {
        return json_reply(403, json!({"error": "unknown_redirect_uri"}));
    }
    let Some(grant) = state.codes.get_mut(&get("code")) else {
        return json_reply(400, json!({"error": "invalid_grant", "error_description": "unknown code"}));
    };
    if grant.used {
        return json_reply(400, json!({"error": "invalid_grant", "error_description": "code already used"}));
    }
    grant.used = true;
    if grant.redirect_uri != redirect_uri {
        return json_reply(403, json!({"error": "unknown_redirect_uri"}));
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(get("code_verifier").as_bytes()));
    if challenge != grant.challenge {
        return json_reply(
            400,
            json!({"error": "invalid_grant", "error_description": "PKCE verification failed"}),
        );
    }
    state.exchanges += 1;
    json_reply(200, tokens(state, None))
}

fn refresh(shared: &Arc<(Mutex<State>, Condvar)>, body: &str, agent: String) -> Reply {
    let (lock, cvar) = &**shared;
    let mut state = lock.lock().unwrap();
    state.refresh_requests += 1;
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return json_reply(400, json!({"error": "invalid_request"}));
    };
    state.refresh_log.push((agent, v["refresh_token"].as_str().unwrap_or_default().to_owned()));
    if v["client_id"] != CLIENT_ID || v["grant_type"] != "refresh_token" {
        return json_reply(400, json!({"error": "invalid_request"}));
    }
    match state.refresh_mode.clone() {
        RefreshMode::Fail(status, body) => return (status, vec![], body),
        RefreshMode::Stall => {
            state.stalled += 1;
            cvar.notify_all();
            state = cvar.wait_while(state, |s| s.refresh_mode == RefreshMode::Stall).unwrap();
            if state.stall_end == StallEnd::Abandon {
                return json_reply(500, json!({"error": "server_error"}));
            }
        }
        RefreshMode::StallFirst => {
            state.refresh_mode = RefreshMode::Normal;
            state.stalled += 1;
            cvar.notify_all();
            state = cvar.wait_while(state, |s| s.stall_end == StallEnd::Pending).unwrap();
            if state.stall_end == StallEnd::Abandon {
                return json_reply(500, json!({"error": "server_error"}));
            }
        }
        RefreshMode::Normal => {}
    }
    let token = v["refresh_token"].as_str().unwrap_or_default().to_owned();
    let Some(rt) = state.families.get_mut(&token) else {
        return json_reply(
            401,
            json!({"error": {"code": "invalid_grant", "message": "unknown refresh token"}}),
        );
    };
    let family = rt.family;
    if rt.used {
        let family = rt.family;
        state.revoked_families.insert(family);
        state.reuse_errors += 1;
        cvar.notify_all();
        return json_reply(
            401,
            json!({"error": {"code": "refresh_token_reused", "message": "Your refresh token has already been used"}}),
        );
    }
    rt.used = true;
    if state.revoked_families.contains(&family) {
        return json_reply(
            401,
            json!({"error": {"code": "refresh_token_invalidated", "message": "revoked"}}),
        );
    }
    let answer = tokens(&mut state, Some(family));
    json_reply(200, answer)
}

fn device_start(state: &mut State, body: &str) -> Reply {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    if v["client_id"] != CLIENT_ID {
        return json_reply(400, json!({"error": "invalid_client"}));
    }
    if !state.device_enabled {
        return (404, vec![], b"Not Found".to_vec());
    }
    json_reply(200, json!({"device_auth_id": "dev-1", "user_code": "MOCK-CODE", "interval": "0"}))
}

fn device_poll(state: &mut State, issuer: &str) -> Reply {
    state.device_polls.push(Instant::now());
    if state.device_pending_polls > 0 {
        state.device_pending_polls -= 1;
        return json_reply(403, json!({"error": "deviceauth_authorization_pending"}));
    }
    let verifier = "device-verifier-0123456789-0123456789-0123456789".to_owned();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    state.next += 1;
    let code = format!("devcode-{}", state.next);
    state.codes.insert(
        code.clone(),
        Grant {
            challenge: challenge.clone(),
            redirect_uri: format!("{issuer}/deviceauth/callback"),
            used: false,
        },
    );
    json_reply(
        200,
        json!({"authorization_code": code, "code_challenge": challenge, "code_verifier": verifier}),
    )
}

fn revoke(state: &mut State, body: &str) -> Reply {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    if v["client_id"] != CLIENT_ID || v["token_type_hint"] != "refresh_token" {
        return json_reply(400, json!({"error": "invalid_request"}));
    }
    state.revoked.push(v["token"].as_str().unwrap_or_default().to_owned());
    json_reply(state.revoke_status, json!({}))
}
