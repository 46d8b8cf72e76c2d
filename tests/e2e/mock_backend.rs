//! A mock of the ChatGPT backend on 127.0.0.1 where codex-auth depends on
//! it: `GET /backend-api/wham/usage` per account, and the Codex Responses
//! API (`POST /backend-api/codex/responses`) answering with `x-codex-*`
//! rate-limit headers, a 429 `usage_limit_reached`, or a stream whose
//! `response.failed` event carries it. Accounts are told apart by their
//! `chatgpt-account-id` header; a request without a bearer token gets 401.
//! Like the real backend it refuses a request without `"store": false` and
//! `"stream": true`, or with `max_output_tokens` (PROTOCOL.md); it streams
//! realistic Responses events (text deltas, or a tool call whose arguments
//! come split across deltas, and usage), and lists its models at
//! `GET /backend-api/codex/models?client_version=...`.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// How the Responses endpoint answers an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A short SSE stream, with rate-limit headers at this percent used.
    Stream { used_percent: u32 },
    /// 429 `usage_limit_reached`, resetting in this many seconds.
    Limit { resets_in: i64 },
    /// 200, then the events that open a stream (as long as the Codex CLI's
    /// make them: more than a client reads in its first piece), then a
    /// `response.failed` event with `usage_limit_reached`.
    FailedEvent { resets_at: i64 },
    /// 200, then half a megabyte of text deltas (more than a client reads
    /// in one piece), then `response.failed` with `usage_limit_reached`.
    FailedAfterOutput { resets_at: i64 },
    /// A stream that sends one event, waits for [`MockBackend::release`],
    /// then sends events until the reader hangs up ([`MockBackend::wait_dropped`]).
    Held,
}

#[derive(Default)]
pub struct State {
    /// Percent used of the primary window, per account id.
    pub usage: HashMap<String, u32>,
    /// Accounts whose token the backend refuses (401).
    pub refused: Vec<String>,
    pub answers: HashMap<String, Answer>,
    /// Per-model meters that are spent, per account: (account, model,
    /// meter). A request of that model gets a 429 naming the meter in
    /// `x-codex-active-limit`; every other model is served. Streams of that
    /// account carry the meter's own `x-codex-<family>-*` headers.
    pub spent_meters: Vec<(String, String, String)>,
    pub usage_requests: HashMap<String, u32>,
    pub responses_requests: HashMap<String, u32>,
    /// Requests for the model list, per account.
    pub models_requests: HashMap<String, u32>,
    /// Requests refused as the real backend refuses them: (status, detail).
    pub refusals: Vec<(u16, String)>,
    /// The bearer tokens seen, per account.
    pub bearers: HashMap<String, Vec<String>>,
    /// Bearer tokens refused with 401 (a revoked access token).
    pub refused_tokens: Vec<String>,
    /// Every request's header names and values (lower-case names), in order.
    pub seen_headers: Vec<Vec<(String, String)>>,
    /// Every request body the Responses endpoint got.
    pub bodies: Vec<Vec<u8>>,
    released: bool,
    /// How many held streams ended because their reader went away.
    pub dropped: u32,
}

pub struct MockBackend {
    /// The ChatGPT base URL (`.../backend-api`).
    pub base: String,
    state: Arc<(Mutex<State>, Condvar)>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl MockBackend {
    pub fn start() -> Self {
        // A backlog deeper than std's 128: hundreds of streams opened at once
        // (the serve benchmark) are queued, not made to retry their SYNs.
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into()).expect("bind the mock backend");
        socket.listen(1024).unwrap();
        // tiny_http writes through a 1 KiB buffer, so a longer answer goes
        // out in pieces; with Nagle's algorithm each piece after the first
        // waits for the reader's delayed ACK (40 ms). Accepted sockets
        // inherit the listener's TCP_NODELAY on Linux.
        socket.set_tcp_nodelay(true).unwrap();
        let listener: std::net::TcpListener = socket.into();
        let server =
            Arc::new(tiny_http::Server::from_listener(listener, None).expect("serve the mock backend"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
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
        self.state.0.lock().unwrap()
    }

    /// Lets held streams go on past their first event.
    pub fn release(&self) {
        self.state().released = true;
        self.state.1.notify_all();
    }

    /// Holds new streams again after a [`Self::release`].
    #[allow(dead_code, reason = "the serve benchmark holds streams twice")]
    pub fn hold_again(&self) {
        self.state().released = false;
    }

    /// Waits (at most a minute) until `n` held streams lost their reader.
    pub fn wait_dropped(&self, n: u32) -> bool {
        let (lock, cvar) = &*self.state;
        let guard = lock.lock().unwrap();
        let (guard, _) =
            cvar.wait_timeout_while(guard, std::time::Duration::from_secs(60), |s| s.dropped < n).unwrap();
        guard.dropped >= n
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

fn handle(shared: &Arc<(Mutex<State>, Condvar)>, mut request: tiny_http::Request) {
    let state = &shared.0;
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let account = header(&request, "chatgpt-account-id").unwrap_or_default();
    let bearer = header(&request, "Authorization").and_then(|a| a.strip_prefix("Bearer ").map(str::to_owned));
    let path = request.url().split('?').next().unwrap_or_default().to_owned();
    let mut s = state.lock().unwrap();
    if let Some(token) = &bearer {
        s.bearers.entry(account.clone()).or_default().push(token.clone());
    }
    let seen = request
        .headers()
        .iter()
        .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_owned()))
        .collect();
    s.seen_headers.push(seen);
    let refused = bearer.is_none()
        || s.refused.contains(&account)
        || bearer.as_ref().is_some_and(|b| s.refused_tokens.contains(b));
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
                let mut answer = usage(used);
                // A spent meter of the account is listed apart, as the backend does.
                let spent: Vec<Value> = s
                    .spent_meters
                    .iter()
                    .filter(|(a, ..)| *a == account)
                    .map(|(_, _, meter)| {
                        json!({"limit_name": meter, "metered_feature": meter,
                        "rate_limit": {"primary_window": {"used_percent": 100, "reset_after_seconds": 600}}})
                    })
                    .collect();
                if !spent.is_empty() {
                    answer["additional_rate_limits"] = spent.into();
                }
                (200, json_type(), answer.to_string())
            }
        }
        ("GET", "/backend-api/codex/models") => {
            *s.models_requests.entry(account.clone()).or_default() += 1;
            if refused {
                (401, vec![], json!({"detail": "Unauthorized"}).to_string())
            } else if !request.url().contains("client_version=") {
                (400, json_type(), json!({"detail": "client_version is required"}).to_string())
            } else {
                (200, json_type(), models().to_string())
            }
        }
        ("POST", "/backend-api/codex/responses") if !refused && refusal(&body).is_some() => {
            s.bodies.push(body.clone().into_bytes());
            let detail = refusal(&body).unwrap_or_default();
            s.refusals.push((400, detail.clone()));
            (400, json_type(), json!({"detail": detail}).to_string())
        }
        ("POST", "/backend-api/codex/responses") => {
            *s.responses_requests.entry(account.clone()).or_default() += 1;
            s.bodies.push(body.clone().into_bytes());
            let model = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|b| b["model"].as_str().map(str::to_owned));
            let spent = s.spent_meters.iter().find(|(a, m, _)| *a == account && Some(m) == model.as_ref());
            let meter =
                s.spent_meters.iter().find(|(a, ..)| *a == account).map(|(_, _, meter)| meter.clone());
            if refused {
                (401, vec![], json!({"error": {"message": "Unauthorized"}}).to_string())
            } else if let Some((_, _, meter)) = spent {
                let mut headers = json_type();
                headers.push(("x-codex-active-limit".into(), meter.clone()));
                let error = json!({"error": {"type": "usage_limit_reached", "message": format!("the {meter} limit has been reached"),
                                             "resets_in_seconds": 600}});
                (429, headers, error.to_string())
            } else {
                match s.answers.get(&account).cloned().unwrap_or(Answer::Stream { used_percent: 10 }) {
                    Answer::Stream { used_percent } => {
                        let mut headers = sse_type();
                        headers.push(("x-codex-primary-used-percent".into(), used_percent.to_string()));
                        headers.push(("x-codex-primary-window-minutes".into(), "300".into()));
                        if let Some(meter) = &meter {
                            let family = meter.replace('_', "-");
                            headers.push((format!("x-{family}-primary-used-percent"), "100".into()));
                            headers.push((format!("x-{family}-limit-name"), meter.clone()));
                        }
                        (200, headers, stream(&account, &body))
                    }
                    Answer::Limit { resets_in } => (
                        429,
                        // The account's own meter is spent, and the backend says so.
                        [json_type(), vec![("x-codex-active-limit".into(), "codex".into())]].concat(),
                        json!({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached",
                                         "plan_type": "pro", "resets_in_seconds": resets_in}})
                        .to_string(),
                    ),
                    Answer::Held => {
                        drop(s);
                        let reader = Held { shared: shared.clone(), sent: 0 };
                        let headers = vec![tiny_http::Header::from_bytes("Content-Type", "text/event-stream").unwrap()];
                        // A declared length keeps tiny_http from chunking, whose
                        // encoder holds data back until a whole chunk is full.
                        let response = tiny_http::Response::new(200.into(), headers, reader, Some(1 << 30), None)
                            .with_chunked_threshold(usize::MAX);
                        let _ = request.respond(response);
                        return;
                    }
                    Answer::FailedEvent { resets_at } => (200, sse_type(), opened() + &failed(resets_at)),
                    Answer::FailedAfterOutput { resets_at } => {
                        let mut text = stream(&account, &body);
                        text.truncate(text.find("event: response.output_text.done").unwrap());
                        let delta = json!({"type": "response.output_text.delta", "item_id": "msg_mock1",
                                           "output_index": 0, "content_index": 0, "delta": "x".repeat(64)});
                        for _ in 0..(512 << 10) / 64 {
                            text.push_str(&format!("event: response.output_text.delta\ndata: {delta}\n\n"));
                        }
                        text.push_str(&failed(resets_at));
                        (200, sse_type(), text)
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

/// What the real backend refuses in a Responses request, as it says it.
fn refusal(body: &str) -> Option<String> {
    let Ok(request) = serde_json::from_str::<Value>(body) else {
        return Some("Invalid JSON body".into());
    };
    if request["store"] != json!(false) {
        return Some("Store must be set to false".into());
    }
    if request["stream"] != json!(true) {
        return Some("Stream must be set to true".into());
    }
    if request.get("max_output_tokens").is_some() {
        return Some("Unsupported parameter: max_output_tokens".into());
    }
    None
}

/// The answer to a request, as the backend streams it: a call of the first
/// tool when the request offers tools and its input does not end with a
/// tool's output, else text naming the account; then usage.
fn stream(account: &str, body: &str) -> String {
    let request: Value = serde_json::from_str(body).unwrap_or_default();
    let model = request["model"].as_str().unwrap_or("gpt-5").to_owned();
    let created = crate::support::now();
    let response = |status: &str, output: Value| json!({"id": "resp_mock1", "object": "response", "created_at": created, "status": status, "model": model, "output": output});
    let mut events =
        vec![json!({"type": "response.created", "response": response("in_progress", json!([]))})];
    let answered = request["input"]
        .as_array()
        .and_then(|i| i.last())
        .is_some_and(|i| i["type"] == "function_call_output");
    let tool = request["tools"].as_array().and_then(|t| t.first()).filter(|_| !answered);
    let item = if let Some(tool) = tool {
        let name = tool["name"].as_str().unwrap_or("tool");
        let arguments = r#"{"city": "Paris", "unit": "celsius"}"#;
        let call = |status: &str, arguments: &str| json!({"id": "fc_mock1", "type": "function_call", "status": status, "call_id": "call_mock1", "name": name, "arguments": arguments});
        events.push(
            json!({"type": "response.output_item.added", "output_index": 0, "item": call("in_progress", "")}),
        );
        for piece in [&arguments[..9], &arguments[9..20], &arguments[20..]] {
            events.push(json!({"type": "response.function_call_arguments.delta", "item_id": "fc_mock1", "output_index": 0, "delta": piece}));
        }
        events.push(json!({"type": "response.function_call_arguments.done", "item_id": "fc_mock1", "output_index": 0, "arguments": arguments}));
        call("completed", arguments)
    } else {
        let text = format!("Hello from {account}.");
        let message = |status: &str, text: &str| {
            json!({"id": "msg_mock1", "type": "message", "status": status, "role": "assistant",
                   "content": [{"type": "output_text", "text": text, "annotations": []}]})
        };
        events.push(json!({"type": "response.output_item.added", "output_index": 0, "item": message("in_progress", "")}));
        let (head, tail) = text.split_at(5);
        for piece in [head, tail] {
            events.push(json!({"type": "response.output_text.delta", "item_id": "msg_mock1", "output_index": 0, "content_index": 0, "delta": piece}));
        }
        events.push(json!({"type": "response.output_text.done", "item_id": "msg_mock1", "output_index": 0, "content_index": 0, "text": text}));
        message("completed", &text)
    };
    events.push(json!({"type": "response.output_item.done", "output_index": 0, "item": item}));
    let mut done = response("completed", json!([]));
    done["usage"] = json!({"input_tokens": 12, "input_tokens_details": {"cached_tokens": 4},
                           "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 19});
    events.push(json!({"type": "response.completed", "response": done}));
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or_default()))
        .collect()
}

/// The events a stream opens with. The backend echoes the request's
/// instructions and tools in each, tens of KiB for the Codex CLI's.
fn opened() -> String {
    let response = json!({"id": "resp_2", "object": "response", "status": "in_progress", "output": [],
                          "instructions": "You are Codex, a coding agent. ".repeat(512)});
    ["response.created", "response.in_progress"]
        .map(|kind| format!("event: {kind}\ndata: {}\n\n", json!({"type": kind, "response": response})))
        .concat()
}

/// The event that ends a stream at a usage limit.
fn failed(resets_at: i64) -> String {
    let failed = json!({"type": "response.failed", "response": {"id": "resp_2",
        "error": {"code": "usage_limit_reached", "message": "limit", "resets_at": resets_at}}});
    format!("event: response.failed\ndata: {failed}\n\n")
}

/// The backend's model list, one of them hidden.
fn models() -> Value {
    json!({"models": [
        {"slug": "gpt-5.2-codex", "display_name": "gpt-5.2-codex", "visibility": "list", "supported_in_api": true},
        {"slug": "gpt-5.1-codex-mini", "display_name": "gpt-5.1-codex-mini", "visibility": "list", "supported_in_api": true},
        {"slug": "codex-auto-review", "display_name": "review", "visibility": "hide", "supported_in_api": false}
    ]})
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

/// A stream body: one event, then (once released) an event per read until
/// the reader (tiny_http writing to a client that hung up) drops it.
struct Held {
    shared: Arc<(Mutex<State>, Condvar)>,
    sent: u32,
}

impl Read for Held {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.sent > 0 {
            let (lock, cvar) = &*self.shared;
            let _released = cvar.wait_while(lock.lock().unwrap(), |s| !s.released).unwrap();
        }
        self.sent += 1;
        let event = format!(
            "event: response.output_text.delta\ndata: {{\"n\": {}, \"pad\": \"{}\"}}\n\n",
            self.sent,
            "x".repeat(2000)
        );
        let n = event.len().min(buf.len());
        buf[..n].copy_from_slice(&event.as_bytes()[..n]);
        Ok(n)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.shared;
        lock.lock().unwrap().dropped += 1;
        cvar.notify_all();
    }
}
