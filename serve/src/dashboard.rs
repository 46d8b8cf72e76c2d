//! The dashboard at `/`: every account, its usage and blocks, what it
//! served in the last hour and the last errors, kept up to date over
//! server-sent events. Its assets are in the binary (no CDN, no fonts
//! from elsewhere).
//!
//! The page holds no data of its own: it asks `/dashboard/state` and
//! `/dashboard/events`, which answer only with the dashboard's session
//! cookie (or the local key). `codex-auth dashboard` gets a single-use
//! code with the local key (`POST /dashboard/code`) and opens
//! `/dashboard/login?code=...`, which trades it for the cookie (HttpOnly,
//! SameSite=Strict) and sends the browser on to `/`: the key never sits in
//! a URL or in browser history, and the code in history is spent.

use crate::Shared;
use crate::lock;
use crate::respond::{self, Body};
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, LOCATION, SET_COOKIE};
use hyper::{HeaderMap, Response};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The page: HTML, CSS and script in one file, in the binary.
const PAGE: &str = include_str!("../assets/dashboard.html");
/// The session cookie's name.
const COOKIE: &str = "codex_auth_dashboard";
/// A code is good for one use within a minute.
const CODE_TTL_MS: i64 = 60_000;
/// A session lasts twelve hours.
const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
/// How often a live page gets the state again.
const EVENT_INTERVAL: Duration = Duration::from_secs(2);

/// Codes and sessions of one server, kept as SHA-256 digests (a lookup
/// compares digests, not the secrets themselves).
#[derive(Default)]
pub(crate) struct Dashboard {
    codes: Mutex<HashMap<[u8; 32], i64>>,
    sessions: Mutex<HashMap<[u8; 32], i64>>,
}

impl Dashboard {
    /// A new single-use code.
    pub fn code(&self, now_ms: i64) -> String {
        let code = crate::key::random_hex();
        let mut codes = lock(&self.codes);
        codes.retain(|_, until| *until > now_ms);
        codes.insert(digest(&code), now_ms + CODE_TTL_MS);
        code
    }

    /// Trades a code for a session, once.
    fn redeem(&self, code: &str, now_ms: i64) -> Option<String> {
        let until = lock(&self.codes).remove(&digest(code))?;
        if until <= now_ms {
            return None;
        }
        let session = crate::key::random_hex();
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, until| *until > now_ms);
        sessions.insert(digest(&session), now_ms + SESSION_TTL_MS);
        Some(session)
    }

    /// Whether the request carries a live session cookie.
    pub fn admits(&self, headers: &HeaderMap, now_ms: i64) -> bool {
        let Some(session) = cookie(headers, COOKIE) else { return false };
        lock(&self.sessions).get(&digest(&session)).is_some_and(|until| *until > now_ms)
    }
}

/// `GET /`: the page (no data in it).
pub fn page() -> Response<Body> {
    let mut response = Response::new(respond::full(PAGE));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // Nothing but this page's own script and style; no framing.
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// `GET /dashboard/login?code=...`: the cookie, and on to `/`.
pub fn login(shared: &Shared, query: Option<&str>) -> Response<Body> {
    let now = now_ms(shared);
    let code = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "code").map(|(_, v)| v.into_owned())
    });
    let Some(session) = code.and_then(|code| shared.dashboard.redeem(&code, now)) else {
        return respond::error(
            403,
            "code_not_valid",
            "this dashboard link was used already or has expired: run `codex-auth dashboard` for a new one",
        );
    };
    let mut response = Response::new(respond::full(""));
    *response.status_mut() = hyper::StatusCode::SEE_OTHER;
    let cookie =
        format!("{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", SESSION_TTL_MS / 1000);
    let headers = response.headers_mut();
    headers.insert(LOCATION, HeaderValue::from_static("/"));
    headers.insert(SET_COOKIE, HeaderValue::from_str(&cookie).expect("hex and ASCII"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /dashboard/code` (with the local key): a code and the URL to open.
pub fn code(shared: &Shared, host: Option<&HeaderValue>) -> Response<Body> {
    let code = shared.dashboard.code(now_ms(shared));
    let host = host.and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let url = format!("http://{host}/dashboard/login?code={code}");
    respond::json(200, &serde_json::json!({"code": code, "url": url, "valid_seconds": CODE_TTL_MS / 1000}))
}

/// `GET /dashboard/state`: what the page shows, now.
pub async fn state(shared: &Shared) -> Response<Body> {
    let mut response = respond::json(200, &snapshot(shared).await);
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /dashboard/events`: the state as an SSE `state` event now and
/// every two seconds, until the page goes away.
pub fn events(shared: std::sync::Arc<Shared>) -> Response<Body> {
    // A task of its own makes the events; it ends when the page goes away
    // (the body, and with it the receiver, is dropped).
    let (events, receiver) = tokio::sync::mpsc::channel::<Bytes>(1);
    tokio::spawn(async move {
        let mut stopping = shared.stopping.clone();
        while !*stopping.borrow() {
            let event = format!("event: state\ndata: {}\n\n", snapshot(&shared).await);
            if events.send(Bytes::from(event)).await.is_err() {
                break;
            }
            // A stopping server ends the page's stream (the browser
            // reconnects to whatever serves next).
            tokio::select! {
                () = tokio::time::sleep(EVENT_INTERVAL) => {}
                _ = stopping.changed() => break,
            }
        }
    });
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(Events(receiver))));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The events a task makes, as a body.
struct Events(tokio::sync::mpsc::Receiver<Bytes>);

impl futures_util::Stream for Events {
    type Item = Result<Frame<Bytes>, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|event| event.map(|bytes| Ok(Frame::data(bytes))))
    }
}

/// Accounts (no secrets), what each served in the last hour, the last errors.
async fn snapshot(shared: &Shared) -> serde_json::Value {
    crate::answers::count_tokens(shared);
    let accounts = shared.auth.run(|auth| auth.accounts()).await;
    let now = now_ms(shared);
    let (accounts, problem) = match accounts {
        Ok(list) => (serde_json::to_value(list).unwrap_or_default(), None),
        Err(e) => (serde_json::json!([]), Some(e.to_string())),
    };
    let (recent, errors) = shared.metrics.recent(now / 1000);
    serde_json::json!({"now": now / 1000, "accounts": accounts, "store_problem": problem,
                       "last_hour": recent, "errors": errors})
}

fn now_ms(shared: &Shared) -> i64 {
    shared.auth.blocking().options().clock.now_ms()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(hyper::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        line.split(';').map(str::trim).find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    })
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_good_once_and_only_in_time_and_a_session_needs_its_cookie() {
        let dashboard = Dashboard::default();
        let code = dashboard.code(1_000);
        assert!(dashboard.redeem("not-it", 1_001).is_none());
        let session = dashboard.redeem(&code, 1_001).expect("a fresh code");
        assert!(dashboard.redeem(&code, 1_002).is_none(), "spent");
        let late = dashboard.code(1_000);
        assert!(dashboard.redeem(&late, 1_000 + CODE_TTL_MS).is_none(), "expired");

        let mut headers = HeaderMap::new();
        assert!(!dashboard.admits(&headers, 2_000));
        headers.insert(
            hyper::header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE}={session}")).unwrap(),
        );
        assert!(dashboard.admits(&headers, 2_000));
        assert!(!dashboard.admits(&headers, 1_001 + SESSION_TTL_MS), "a session ends");
        headers.insert(hyper::header::COOKIE, HeaderValue::from_static("codex_auth_dashboard=forged"));
        assert!(!dashboard.admits(&headers, 2_000));
    }
}
