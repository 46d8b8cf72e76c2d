//! The pool's answers in the host's terms: usage, checks, and what an
//! upstream answer taught it. Never a token.

use crate::bindings::{session, vault};
use serde::Serialize;

/// How the pool chooses among usable accounts that are neither pinned nor
/// held by a session (the WIT enum, used as it is).
pub use session::Strategy;

impl Strategy {
    /// Every strategy's name (the guest's), in its order.
    pub fn names() -> Vec<&'static str> {
        table().iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The strategy of this name.
    pub fn from_name(name: &str) -> Option<Self> {
        table().iter().find(|(n, _)| n == name).map(|&(_, s)| s)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        table().iter().find(|(_, s)| *s == self).map_or("", |(n, _)| n.as_str())
    }
}

/// The guest's names of the strategies; none without a runtime.
fn table() -> &'static [(String, Strategy)] {
    crate::runtime::get().map(|r| r.defaults.strategies.as_slice()).unwrap_or_default()
}

impl Serialize for Strategy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// One rate-limit window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    /// The meter: `codex` (the account's own; every model draws on it) or
    /// another's limit name, such as one model's own meter.
    pub meter: String,
    /// `primary` or `secondary`.
    pub name: String,
    /// Percent used, 0 to 100.
    pub used_percent: u32,
    /// The window's length in seconds.
    pub window_seconds: Option<i64>,
    /// When it resets (Unix seconds).
    pub resets_at: Option<i64>,
}

/// An account's usage as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// The plan the backend reports.
    pub plan: Option<String>,
    /// Its windows.
    pub windows: Vec<Window>,
    /// The backend says a limit is reached.
    pub limit_reached: bool,
}

impl From<vault::Usage> for Usage {
    fn from(u: vault::Usage) -> Self {
        Self {
            plan: u.plan,
            windows: u
                .windows
                .into_iter()
                .map(|w| Window {
                    meter: w.meter,
                    name: w.name,
                    used_percent: w.used_percent,
                    window_seconds: w.window_seconds,
                    resets_at: w.resets_at,
                })
                .collect(),
            limit_reached: u.limit_reached,
        }
    }
}

/// An account's usage, cached and shared by every process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageReport {
    /// The account.
    pub account: String,
    /// The last good value.
    pub usage: Option<Usage>,
    /// When it was fetched (Unix seconds).
    pub fetched_at: Option<i64>,
    /// Why there is no (fresh) value.
    pub error: Option<String>,
    /// A usage limit blocks it as a whole until then.
    pub blocked_until: Option<i64>,
    /// The limits of single meters in force: it is skipped for their models.
    pub blocks: Vec<MeterBlock>,
    /// What it served per day (UTC), newest last: every process's requests
    /// through a gateway (`serve`) add up here.
    pub served: Vec<DayServed>,
}

/// What an account served on one day (UTC): requests, and the tokens of the
/// answers that said how many.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayServed {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Requests answered with it.
    pub requests: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Of the input tokens, read from the prompt cache.
    pub cached_tokens: u64,
}

impl From<vault::DayServed> for DayServed {
    fn from(d: vault::DayServed) -> Self {
        Self {
            day: d.day,
            requests: d.requests,
            input_tokens: d.input_tokens,
            output_tokens: d.output_tokens,
            cached_tokens: d.cached_tokens,
        }
    }
}

/// A usage limit on one meter of an account, not the whole account: the
/// meter the answer named, else the model of the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeterBlock {
    /// The meter (or, when the answer named none, the model).
    pub meter: String,
    /// The models whose requests met it: the account is skipped for these.
    pub models: Vec<String>,
    /// When it frees up (Unix seconds).
    pub until: i64,
    /// What the backend said.
    pub reason: Option<String>,
}

impl From<vault::MeterBlock> for MeterBlock {
    fn from(b: vault::MeterBlock) -> Self {
        Self { meter: b.meter, models: b.models, until: b.until, reason: b.reason }
    }
}

impl From<vault::UsageReport> for UsageReport {
    fn from(r: vault::UsageReport) -> Self {
        Self {
            account: r.account,
            usage: r.usage.map(Usage::from),
            fetched_at: r.fetched_at,
            error: r.error,
            blocked_until: r.blocked_until,
            blocks: r.blocks.into_iter().map(MeterBlock::from).collect(),
            served: r.served.into_iter().map(DayServed::from).collect(),
        }
    }
}

/// What checking an account found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", content = "detail", rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Its token works; its usage as the probe read it.
    Ok(Option<Usage>),
    /// It does not work; why.
    Failed(String),
    /// It could not be told (an API key, the backend unreachable); why.
    Unverifiable(String),
    /// Nothing to check (logged out).
    Skipped(String),
}

impl From<vault::CheckOutcome> for CheckOutcome {
    fn from(c: vault::CheckOutcome) -> Self {
        match c {
            vault::CheckOutcome::Ok(u) => Self::Ok(u.map(Usage::from)),
            vault::CheckOutcome::Failed(why) => Self::Failed(why),
            vault::CheckOutcome::Unverifiable(why) => Self::Unverifiable(why),
            vault::CheckOutcome::Skipped(why) => Self::Skipped(why),
        }
    }
}

/// An upstream answer for the pool to learn from ([`crate::Auth::report`]).
#[derive(Debug, Clone, Copy)]
pub enum Upstream<'a> {
    /// A whole answer: its status, headers and (for an error) body.
    Answer {
        /// HTTP status.
        status: u16,
        /// Header names and values.
        headers: &'a [(String, String)],
        /// The body of an error answer (a 429's JSON); empty otherwise.
        body: &'a [u8],
    },
    /// One stream event (its JSON data, or the whole SSE block), e.g. a
    /// `response.failed` carrying `usage_limit_reached`.
    Event(&'a [u8]),
}

/// What the pool learned from an upstream answer, and the guest's verdict
/// on it (the WIT record, used as it is).
pub use vault::Learned;

/// Where a request goes: the account the pool chose, its ready headers,
/// and until when a host may reuse both for the same session key and model
/// without asking again (Unix ms, by the [`crate::Options::clock`]).
#[derive(Debug, Clone)]
pub struct Route {
    /// The account chosen.
    pub account: String,
    /// Its request headers (`Debug` hides the values).
    pub headers: crate::RequestHeaders,
    /// Reuse until then: the earlier of the pool's and the token's limit.
    pub valid_until_ms: i64,
}

/// Where one request stands when an answer comes back (the WIT record,
/// used as it is).
pub use vault::Attempt;
/// What to do with an answer (the WIT enum, used as it is).
pub use vault::Verdict;

impl Attempt {
    /// A request's first send, its body kept, the pool choosing.
    pub const FIRST: Self =
        Self { replayable: true, recovered: false, pinned: false, tried: Vec::new(), model: None };
}
