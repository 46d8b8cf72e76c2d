//! A mock of the ChatGPT backend on 127.0.0.1 where codex-auth depends on
//! it: `GET /backend-api/wham/usage` per account, and the Codex Responses
//! API (`POST /backend-api/codex/responses`) answering with `x-codex-*`
//! rate-limit headers, a 429 `usage_limit_reached`, or a stream whose
//! `response.failed` event carries it. Accounts are told apart by their
//! `chatgpt-account-id` header; a request without a bearer token gets 401.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// How the Responses endpoint answers an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A short SSE stream, with rate-limit headers at this percent used.
    Stream { used_percent: u32 },
    /// 429 `usage_limit_reached`, resetting in this many seconds.
    Limit { resets_in: i64 },
    /// 200, then a `response.failed` event with `usage_limit_reached`.
    FailedEvent { resets_at: i64 },
}

#[derive(Default)]
pub struct State {
    /// Percent used of the primary window, per account id.
    pub usage: HashMap<String, u32>,
    /// Accounts whose token the backend refuses (401).
    pub refused: Vec<String>,
    pub answers: HashMap<String, Answer>,
    pub usage_requests: HashMap<String, u32>,
    pub responses_requests: HashMap<String, u32>,
    /// The bearer tokens seen, per account.
    pub bearers: HashMap<String, Vec<String>>,
}

pub struct MockBackend {
    /// The ChatGPT base URL (`.../backend-api`).
    pub base: String,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl MockBackend {
    pub fn start() -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind the mock backend"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let state = Arc::new(Mutex::new(State::default()));
        let thread = {
            let (server, state) = (server.clone(), state.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let state = state.clone();
                    std::thread::spawn(move || handle(&state, request));
                }
            })
        };
        Self { base: format!("http://127.0.0.1:{port}/backend-api"), state, server, thread: Some(thread) }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    pub fn usage_requests(&self, account: &str) -> u32 {
        self.state().usage_requests.get(account).copied().unwrap_or(0)
    }
}

impl Drop for MockBackend {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn header(request: &tiny_http::Request, name: &'static str) -> Option<String> {
    request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str().to_owned())
}

fn handle(state: &Mutex<State>, mut request: tiny_http::Request) {
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let account = header(&request, "chatgpt-account-id").unwrap_or_default();
    let bearer = header(&request, "Authorization").and_then(|a| a.strip_prefix("Bearer ").map(str::to_owned));
    let path = request.url().split('?').next().unwrap_or_default().to_owned();
    let mut s = state.lock().unwrap();
    if let Some(token) = &bearer {
        s.bearers.entry(account.clone()).or_default().push(token.clone());
    }
    let refused = bearer.is_none() || s.refused.contains(&account);
    let (status, headers, text): (u16, Vec<(String, String)>, String) = match (
        request.method().as_str(),
        path.as_str(),
    ) {
        ("GET", "/backend-api/wham/usage") => {
            *s.usage_requests.entry(account.clone()).or_default() += 1;
            if refused {
                (401, vec![], json!({"detail": "Unauthorized"}).to_string())
            } else {
                let used = s.usage.get(&account).copied().unwrap_or(0);
                (200, json_type(), usage(used).to_string())
            }
        }
        ("POST", "/backend-api/codex/responses") => {
            *s.responses_requests.entry(account.clone()).or_default() += 1;
            if refused {
                (401, vec![], json!({"error": {"message": "Unauthorized"}}).to_string())
            } else {
                match s.answers.get(&account).cloned().unwrap_or(Answer::Stream { used_percent: 10 }) {
                    Answer::Stream { used_percent } => {
                        let mut headers = sse_type();
                        headers.push(("x-codex-primary-used-percent".into(), used_percent.to_string()));
                        headers.push(("x-codex-primary-window-minutes".into(), "300".into()));
                        let done = json!({"type": "response.completed", "response": {"id": "resp_1"}});
                        (200, headers, format!("event: response.completed\ndata: {done}\n\n"))
                    }
                    Answer::Limit { resets_in } => (
                        429,
                        json_type(),
                        json!({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached",
                                         "plan_type": "pro", "resets_in_seconds": resets_in}})
                        .to_string(),
                    ),
                    Answer::FailedEvent { resets_at } => {
                        let failed = json!({"type": "response.failed", "response": {"id": "resp_2",
                            "error": {"code": "usage_limit_reached", "message": "limit", "resets_at": resets_at}}});
                        (200, sse_type(), format!("event: response.failed\ndata: {failed}\n\n"))
                    }
                }
            }
        }
        _ => (404, vec![], "not found".into()),
    };
    drop(s);
    let mut response = tiny_http::Response::from_string(text).with_status_code(status);
    for (name, value) in headers {
        response.add_header(tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap());
    }
    let _ = request.respond(response);
}

fn json_type() -> Vec<(String, String)> {
    vec![("Content-Type".into(), "application/json".into())]
}

fn sse_type() -> Vec<(String, String)> {
    vec![("Content-Type".into(), "text/event-stream".into())]
}

fn usage(primary: u32) -> Value {
    let now = crate::support::now();
    json!({
        "plan_type": "pro",
        "rate_limit": {
            "allowed": primary < 100,
            "limit_reached": primary >= 100,
            "primary_window": {"used_percent": primary, "limit_window_seconds": 18000, "reset_after_seconds": 3600, "reset_at": now + 3600},
            "secondary_window": {"used_percent": primary / 2, "limit_window_seconds": 604800, "reset_after_seconds": 86400, "reset_at": now + 86400}
        },
        "credits": {"has_credits": false, "unlimited": false, "balance": "0"}
    })
}
