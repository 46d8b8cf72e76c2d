//! `GET /metrics`: what the server did, in the OpenMetrics text format
//! Prometheus scrapes (through `prometheus-client`). Labels are bounded:
//! account names, meters, windows, routes, outcomes; never a token, a
//! session id or a user's text.

use crate::lock;
use codex_auth::openai::TokenUsage;
use codex_auth::{LoginEvent, Notifier, RefreshOutcome};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// The content type of the answer.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    account: String,
    route: &'static str,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    api: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefreshLabels {
    account: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MeterLabels {
    account: String,
    meter: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WindowLabels {
    account: String,
    meter: String,
    window: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    account: String,
    kind: &'static str,
}

type Seconds = Family<ApiLabels, Histogram, fn() -> Histogram>;
type Ratio = Gauge<f64, AtomicU64>;

/// Every metric of one server (all workers share it), what each account
/// served since it was last written to its pool state, and the last hour
/// and the last errors for the dashboard.
pub struct Metrics {
    clock: std::sync::Arc<dyn codex_auth::Clock>,
    /// Per account, one shard lock per request (no lock all requests share).
    accounts: dashmap::DashMap<String, AccountCounts>,
    errors: std::sync::Mutex<std::collections::VecDeque<serde_json::Value>>,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    upstream: Seconds,
    first_byte: Seconds,
    refreshes: Family<RefreshLabels, Counter>,
    blocks: Family<MeterLabels, Counter>,
    used_percent: Family<WindowLabels, Ratio>,
    resets_in: Family<WindowLabels, Ratio>,
    tokens: Family<TokenLabels, Counter>,
    open_streams: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// 1 ms to about 65 s, doubling.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Minutes of [`Metrics::recent`].
const RECENT_MINUTES: i64 = 60;
/// Errors [`Metrics::recent`] keeps.
const RECENT_ERRORS: usize = 20;

/// One account's counts: what it served since the last write to its pool
/// state, and its last hour a minute at a time.
struct AccountCounts {
    served: codex_auth::DayServed,
    minutes: std::collections::VecDeque<Minute>,
}

impl Default for AccountCounts {
    fn default() -> Self {
        Self { served: nothing_served(), minutes: std::collections::VecDeque::new() }
    }
}

fn nothing_served() -> codex_auth::DayServed {
    codex_auth::DayServed {
        day: String::new(),
        requests: 0,
        input_tokens: 0,
        output_tokens: 0,
        cached_tokens: 0,
    }
}

/// What an account served in one minute.
#[derive(Clone, Copy, Default)]
struct Minute {
    minute: i64,
    requests: u64,
    tokens: u64,
}

impl Metrics {
    pub fn new(clock: std::sync::Arc<dyn codex_auth::Clock>) -> Self {
        let mut registry = Registry::with_prefix("codex_auth");
        let requests = Family::default();
        registry.register(
            "requests",
            "Requests answered, by account, route and status class",
            requests.clone(),
        );
        let upstream = Seconds::new_with_constructor(seconds);
        registry.register(
            "upstream_seconds",
            "Time from sending a request upstream to its answer's head, by API",
            upstream.clone(),
        );
        let first_byte = Seconds::new_with_constructor(seconds);
        registry.register(
            "stream_first_byte_seconds",
            "Time from a request being ready to send (read, and translated) to the first byte of its upstream answer's body, by API",
            first_byte.clone(),
        );
        let refreshes = Family::default();
        registry.register(
            "refreshes",
            "Refresh requests, by account and the issuer's answer",
            refreshes.clone(),
        );
        let blocks = Family::default();
        registry.register("usage_limit_blocks", "Usage limits met, by account and meter", blocks.clone());
        let used_percent = Family::default();
        registry.register(
            "usage_used_percent",
            "Percent used of each usage window, by account, meter and window, as last seen",
            used_percent.clone(),
        );
        let resets_in = Family::default();
        registry.register(
            "usage_reset_seconds",
            "Seconds until each usage window resets, by account, meter and window",
            resets_in.clone(),
        );
        let tokens = Family::default();
        registry.register(
            "tokens",
            "Tokens of completed answers, by account and kind (input, output, cached, reasoning)",
            tokens.clone(),
        );
        let open_streams = Gauge::default();
        registry.register("open_streams", "Answers being streamed to clients now", open_streams.clone());
        Self {
            clock,
            accounts: dashmap::DashMap::new(),
            errors: std::sync::Mutex::default(),
            registry,
            requests,
            upstream,
            first_byte,
            refreshes,
            blocks,
            used_percent,
            resets_in,
            tokens,
            open_streams,
        }
    }
}

impl Metrics {
    pub fn request(&self, account: Option<&str>, path: &str, status: u16) {
        let labels = RequestLabels {
            account: account_label(account),
            route: route(path),
            status_class: class(status),
        };
        self.requests.get_or_create(&labels).inc();
        let now = self.clock.now_ms() / 1000;
        if let Some(account) = account {
            self.count(account, now, |served, minute| {
                served.requests += 1;
                minute.requests += 1;
            });
        }
        if status >= 400 && !matches!(labels.route, "healthz" | "metrics" | "other") {
            let error =
                serde_json::json!({"at": now, "account": account, "route": labels.route, "status": status});
            let mut errors = lock(&self.errors);
            errors.push_front(error);
            errors.truncate(RECENT_ERRORS);
        }
    }

    /// Requests and tokens per account and minute over the last hour
    /// (oldest first), and the last errors (newest first).
    pub fn recent(&self, now: i64) -> (serde_json::Value, serde_json::Value) {
        let this = now.div_euclid(60);
        let mut hour = serde_json::Map::new();
        for entry in &self.accounts {
            let minutes = &entry.minutes;
            let series = |pick: fn(&Minute) -> u64| -> Vec<u64> {
                (this - RECENT_MINUTES + 1..=this)
                    .map(|m| minutes.iter().find(|x| x.minute == m).map_or(0, pick))
                    .collect()
            };
            hour.insert(
                entry.key().clone(),
                serde_json::json!({"requests": series(|m| m.requests), "tokens": series(|m| m.tokens)}),
            );
        }
        let errors = lock(&self.errors).iter().cloned().collect::<Vec<_>>();
        (hour.into(), errors.into())
    }

    /// Adds to an account's served counts and to this minute of its hour.
    fn count(&self, account: &str, now: i64, add: impl FnOnce(&mut codex_auth::DayServed, &mut Minute)) {
        let this = now.div_euclid(60);
        let mut counts = self.accounts.entry(account.to_owned()).or_default();
        let AccountCounts { served, minutes } = &mut *counts;
        if minutes.back().is_none_or(|m| m.minute != this) {
            minutes.push_back(Minute { minute: this, ..Minute::default() });
        }
        while minutes.front().is_some_and(|m| m.minute <= this - RECENT_MINUTES) {
            minutes.pop_front();
        }
        if let Some(last) = minutes.back_mut() {
            add(served, last);
        }
    }

    /// What each account served since the last call: for its pool state.
    pub fn take_served(&self) -> Vec<(String, codex_auth::DayServed)> {
        let mut taken = Vec::new();
        for mut entry in self.accounts.iter_mut() {
            let served = std::mem::replace(&mut entry.served, nothing_served());
            if served.requests + served.input_tokens + served.output_tokens > 0 {
                taken.push((entry.key().clone(), served));
            }
        }
        taken
    }

    /// Puts back counts a store could not take, for the next time.
    pub fn keep_served(&self, account: &str, counts: &codex_auth::DayServed) {
        let mut entry = self.accounts.entry(account.to_owned()).or_default();
        let served = &mut entry.served;
        served.requests += counts.requests;
        served.input_tokens += counts.input_tokens;
        served.output_tokens += counts.output_tokens;
        served.cached_tokens += counts.cached_tokens;
    }

    pub fn upstream(&self, api: &'static str, took: Duration) {
        self.upstream.get_or_create(&ApiLabels { api }).observe(took.as_secs_f64());
    }

    pub fn first_byte(&self, api: &'static str, took: Duration) {
        self.first_byte.get_or_create(&ApiLabels { api }).observe(took.as_secs_f64());
    }

    pub fn blocked(&self, account: &str, meter: &str) {
        self.blocks
            .get_or_create(&MeterLabels { account: account.to_owned(), meter: meter.to_owned() })
            .inc();
    }

    pub fn tokens(&self, account: &str, usage: &TokenUsage) {
        for (kind, count) in [
            ("input", usage.input),
            ("output", usage.output),
            ("cached", usage.cached),
            ("reasoning", usage.reasoning),
        ] {
            self.tokens.get_or_create(&TokenLabels { account: account.to_owned(), kind }).inc_by(count);
        }
        self.count(account, self.clock.now_ms() / 1000, |served, minute| {
            served.input_tokens += usage.input;
            served.output_tokens += usage.output;
            served.cached_tokens += usage.cached;
            minute.tokens += usage.input + usage.output;
        });
    }

    /// One more open stream, until the guard is dropped.
    pub fn stream_opened(self: &std::sync::Arc<Self>) -> StreamGuard {
        self.open_streams.inc();
        StreamGuard(self.clone())
    }

    /// The text a scrape gets, with each account's usage windows as `accounts` have them.
    pub fn encode(&self, accounts: &[codex_auth::Account], now: i64) -> String {
        self.used_percent.clear();
        self.resets_in.clear();
        for account in accounts {
            for window in account.usage.iter().flat_map(|u| &u.windows) {
                let labels = WindowLabels {
                    account: account.name.clone(),
                    meter: window.meter.clone(),
                    window: window.name.clone(),
                };
                self.used_percent.get_or_create(&labels).set(f64::from(window.used_percent));
                if let Some(at) = window.resets_at {
                    self.resets_in.get_or_create(&labels).set((at - now).max(0) as f64);
                }
            }
        }
        let mut text = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Counts what the guest tells of refreshes.
impl Notifier for Metrics {
    fn notify(&self, event: LoginEvent) {
        if let LoginEvent::Refreshed { account, outcome } = event {
            let outcome = match outcome {
                RefreshOutcome::Rotated => "rotated",
                RefreshOutcome::Reused => "reused",
                RefreshOutcome::Refused => "refused",
                RefreshOutcome::Transient => "transient",
            };
            self.refreshes.get_or_create(&RefreshLabels { account, outcome }).inc();
        }
    }
}

/// An open stream; closed when dropped.
pub struct StreamGuard(std::sync::Arc<Metrics>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.open_streams.dec();
    }
}

fn account_label(account: Option<&str>) -> String {
    account.unwrap_or("none").to_owned()
}

/// A path as a bounded route name.
fn route(path: &str) -> &'static str {
    match path {
        p if p.starts_with("/backend-api/codex/") => "codex",
        "/v1/chat/completions" => "chat_completions",
        "/v1/responses" => "responses",
        p if p == "/v1/models" || p.starts_with("/v1/models/") => "models",
        "/v1/headers" => "headers",
        "/v1/token" => "token",
        p if p == "/v1/accounts" || p.starts_with("/v1/accounts/") => "accounts",
        "/v1/unauthorized" => "unauthorized",
        "/healthz" => "healthz",
        "/metrics" => "metrics",
        _ => "other",
    }
}

fn class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_a_store_could_not_take_are_kept_for_the_next_time() {
        let metrics = Metrics::new(std::sync::Arc::new(codex_auth::SystemClock));
        metrics.request(Some("work"), "/v1/chat/completions", 200);
        metrics.tokens("work", &TokenUsage { input: 5, output: 3, cached: 1, reasoning: 0 });
        let taken = metrics.take_served();
        assert_eq!(taken.len(), 1);
        assert!(metrics.take_served().is_empty(), "taken once");
        metrics.keep_served("work", &taken[0].1);
        metrics.request(Some("work"), "/v1/chat/completions", 200);
        let again = metrics.take_served();
        assert_eq!((again[0].1.requests, again[0].1.input_tokens, again[0].1.cached_tokens), (2, 5, 1));
    }

    #[test]
    fn routes_and_classes_are_a_bounded_set() {
        assert_eq!(route("/backend-api/codex/responses"), "codex");
        assert_eq!(route("/v1/models/gpt-5"), "models");
        assert_eq!(route("/v1/accounts/work/refresh"), "accounts");
        assert_eq!(route("/anything/a-user-chose"), "other");
        assert_eq!((class(200), class(429), class(502)), ("2xx", "4xx", "5xx"));
    }
}
