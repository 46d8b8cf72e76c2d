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

/// A strategy as JSON: its name (for `#[serde(serialize_with)]`).
pub(crate) fn strategy_name<S: serde::Serializer>(
    strategy: &Strategy,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(strategy.name())
}

/// Named strategies as JSON: `[[name, name], ...]`, as before.
pub(crate) fn strategy_names<S: serde::Serializer>(
    strategies: &[(String, Strategy)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq as _;
    let mut seq = serializer.serialize_seq(Some(strategies.len()))?;
    for (name, strategy) in strategies {
        seq.serialize_element(&(name, strategy.name()))?;
    }
    seq.end()
}

// Usage, its windows, meter blocks, usage reports and served counts are
// the WIT records themselves (bindgen derives `Serialize`; the JSON names
// are the field names): `pub use`d from the crate root.
pub use vault::{DayServed, MeterBlock, Usage, UsageReport, Window};

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
            vault::CheckOutcome::Ok(u) => Self::Ok(u),
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
