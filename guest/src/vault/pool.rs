//! The pool: what is known of each account's usage and limits, and which
//! account a call gets. Pure functions of (state, now); the vault reads and
//! writes the per-account state through the host.

use crate::defaults::Strategy;
use crate::vault::usage::{LimitReached, MAIN_METER, Usage};
use serde_json::{Value, json};

/// At most one usage request per account in this long (give or take
/// [`USAGE_JITTER_PERCENT`]), shared by every process through the store.
pub const USAGE_TTL_SECONDS: i64 = 300;
pub const USAGE_JITTER_PERCENT: i64 = 25;
/// How long an account stays blocked when a usage limit names no reset.
pub const FALLBACK_BLOCK_SECONDS: i64 = 15 * 60;
/// Sticky sessions remembered by one vault at most; beyond, the oldest go.
pub const MAX_STICKY_SESSIONS: usize = 4096;
/// Meter blocks kept per account at most, and models per block: a hostile
/// or buggy upstream cannot grow the state without bound.
const MAX_METER_BLOCKS: usize = 32;
const MAX_MODELS_PER_BLOCK: usize = 32;

/// A usage limit on one meter of an account, not on the whole account:
/// the meter the answer named (`x-codex-active-limit`), else the model of
/// the request. It blocks the account for the models seen meeting it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterBlock {
    pub meter: String,
    /// The models of the requests that met it.
    pub models: Vec<String>,
    pub until: i64,
    pub reason: Option<String>,
}

/// What the pool keeps of one account, beside its store. Never a token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolState {
    /// The last good usage seen (kept when a later fetch fails).
    pub usage: Option<Usage>,
    /// When `usage` was fetched from the usage endpoint.
    pub fetched_at: Option<i64>,
    /// No usage request before this instant (jittered).
    pub next_fetch_at: Option<i64>,
    /// Why the last usage request failed.
    pub last_error: Option<String>,
    /// A usage limit of the account's own meter was reached (or one that
    /// named neither a meter nor a model); not chosen before this instant.
    pub blocked_until: Option<i64>,
    pub blocked_reason: Option<String>,
    /// Limits of other meters: the account is skipped for their models only.
    pub meter_blocks: Vec<MeterBlock>,
    /// When the pool last chose it (milliseconds), for round-robin.
    pub last_chosen_ms: Option<i64>,
    /// What it served per day (UTC), newest last, the last
    /// [`MAX_SERVED_DAYS`] days: every process adds its own, so a fleet on
    /// one database sees one total.
    pub served: Vec<DayServed>,
}

/// Days of [`PoolState::served`] kept.
pub const MAX_SERVED_DAYS: usize = 31;

/// What an account served on one day (UTC): requests, and the tokens of
/// the answers that said how many.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayServed {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Of the input tokens, read from the prompt cache.
    pub cached_tokens: u64,
}

impl DayServed {
    fn from_json(v: &Value) -> Option<Self> {
        let count = |name: &str| v[name].as_u64().unwrap_or(0);
        Some(Self {
            day: v["day"].as_str().filter(|d| d.len() == 10)?.to_owned(),
            requests: count("requests"),
            input_tokens: count("input_tokens"),
            output_tokens: count("output_tokens"),
            cached_tokens: count("cached_tokens"),
        })
    }

    fn to_json(&self) -> Value {
        json!({"day": self.day, "requests": self.requests, "input_tokens": self.input_tokens,
               "output_tokens": self.output_tokens, "cached_tokens": self.cached_tokens})
    }
}

impl PoolState {
    /// Lenient: a state that cannot be read only loses what the pool knew.
    pub fn read(bytes: Option<&[u8]>) -> Self {
        let v: Value = bytes.and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_default();
        Self {
            usage: Usage::from_json(&v["usage"]),
            fetched_at: v["fetched_at"].as_i64(),
            next_fetch_at: v["next_fetch_at"].as_i64(),
            last_error: v["last_error"].as_str().map(str::to_owned),
            blocked_until: v["blocked_until"].as_i64(),
            blocked_reason: v["blocked_reason"].as_str().map(str::to_owned),
            meter_blocks: v["meter_blocks"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .take(MAX_METER_BLOCKS)
                .filter_map(|b| {
                    Some(MeterBlock {
                        meter: b["meter"].as_str()?.to_owned(),
                        models: b["models"]
                            .as_array()
                            .map(Vec::as_slice)
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|m| m.as_str().map(str::to_owned))
                            .take(MAX_MODELS_PER_BLOCK)
                            .collect(),
                        until: b["until"].as_i64()?,
                        reason: b["reason"].as_str().map(str::to_owned),
                    })
                })
                .collect(),
            last_chosen_ms: v["last_chosen_ms"].as_i64(),
            served: v["served"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .rev()
                .take(MAX_SERVED_DAYS)
                .rev()
                .filter_map(DayServed::from_json)
                .collect(),
        }
    }

    pub fn write(&self) -> Vec<u8> {
        let mut text = json!({
            "usage": self.usage.as_ref().map(Usage::to_json),
            "fetched_at": self.fetched_at,
            "next_fetch_at": self.next_fetch_at,
            "last_error": self.last_error,
            "blocked_until": self.blocked_until,
            "blocked_reason": self.blocked_reason,
            "meter_blocks": self.meter_blocks.iter().map(|b| json!({
                "meter": b.meter, "models": b.models, "until": b.until, "reason": b.reason,
            })).collect::<Vec<_>>(),
            "last_chosen_ms": self.last_chosen_ms,
            "served": self.served.iter().map(DayServed::to_json).collect::<Vec<_>>(),
        })
        .to_string();
        text.push('\n');
        text.into_bytes()
    }

    /// Adds what was served to `counts.day`'s totals, keeping the last
    /// [`MAX_SERVED_DAYS`] days.
    pub fn add_served(&mut self, counts: &DayServed) {
        match self.served.iter_mut().find(|d| d.day == counts.day) {
            Some(day) => {
                day.requests += counts.requests;
                day.input_tokens += counts.input_tokens;
                day.output_tokens += counts.output_tokens;
                day.cached_tokens += counts.cached_tokens;
            }
            None => {
                self.served.push(counts.clone());
                self.served.sort_by(|a, b| a.day.cmp(&b.day));
            }
        }
        let excess = self.served.len().saturating_sub(MAX_SERVED_DAYS);
        self.served.drain(..excess);
    }

    /// Until when it is blocked as a whole, if it is now.
    pub fn blocked(&self, now: i64) -> Option<i64> {
        self.blocked_until.filter(|&until| until > now)
    }

    /// The meter blocks in force now.
    pub fn meter_blocks(&self, now: i64) -> Vec<MeterBlock> {
        self.meter_blocks.iter().filter(|b| b.until > now).cloned().collect()
    }

    /// Whether a usage request may be sent now.
    pub fn fetch_due(&self, now: i64) -> bool {
        self.next_fetch_at.is_none_or(|at| now >= at)
    }

    /// Blocks it on a usage limit met by a request for `model`: the whole
    /// account when the limit is its own meter's (or names neither a meter
    /// nor a model), else that meter (or model) for the request's model.
    pub fn block(&mut self, limit: &LimitReached, model: Option<&str>, now: i64) -> i64 {
        let reason = Some(limit.message.clone().unwrap_or_else(|| "usage limit reached".into()));
        let meter = match (limit.meter.as_deref(), model) {
            (Some(MAIN_METER), _) | (None, None) => None,
            (Some(meter), _) => Some(meter),
            (None, Some(model)) => Some(model),
        };
        let Some(meter) = meter else {
            let until = block_until(limit, self.usage.as_ref().and_then(Usage::binding), now);
            self.blocked_until = Some(until);
            self.blocked_reason = reason;
            return until;
        };
        let known = self.usage.as_ref().and_then(|u| u.meter_binding(meter));
        let until = block_until(limit, known, now);
        // The models that met this meter before (while it was in force) stay blocked with it.
        let mut models: Vec<String> = model.into_iter().map(str::to_owned).collect();
        if let Some(old) = self.meter_blocks.iter().find(|b| b.meter == meter && b.until > now) {
            models.extend(old.models.iter().filter(|m| Some(m.as_str()) != model).cloned());
        }
        models.truncate(MAX_MODELS_PER_BLOCK);
        self.meter_blocks.retain(|b| b.until > now && b.meter != meter);
        if self.meter_blocks.len() >= MAX_METER_BLOCKS {
            self.meter_blocks.remove(0);
        }
        self.meter_blocks.push(MeterBlock { meter: meter.to_owned(), models, until, reason });
        until
    }
}

/// The next instant a usage request may go out: the TTL, give or take the
/// jitter, drawn from `random` so processes do not poll in step.
pub fn next_fetch_at(now: i64, random: u32) -> i64 {
    let spread = USAGE_TTL_SECONDS * USAGE_JITTER_PERCENT / 100;
    let offset = i64::from(random) % (2 * spread + 1) - spread;
    now.saturating_add(USAGE_TTL_SECONDS + offset)
}

/// Until when a limit blocks: the reset the answer names, else the reset of
/// the meter's binding window known from usage, else a fallback.
pub fn block_until(limit: &LimitReached, binding: Option<&crate::vault::usage::Window>, now: i64) -> i64 {
    let known = binding.and_then(|w| w.resets_at);
    limit.resets_at.or(known).filter(|&t| t > now).unwrap_or(now.saturating_add(FALLBACK_BLOCK_SECONDS))
}

/// Until when an account is blocked for a request of `model` (`None`: any
/// model, as for a token handed out): its whole-account block, else the
/// latest block of a meter that model met.
pub fn blocked_for(
    blocked_until: Option<i64>,
    blocks: &[MeterBlock],
    model: Option<&str>,
    now: i64,
) -> Option<i64> {
    let whole = blocked_until.filter(|&t| t > now);
    let model = model.map(|m| {
        blocks.iter().filter(|b| b.until > now && b.models.iter().any(|x| x == m)).map(|b| b.until).max()
    });
    whole.or(model.flatten())
}

/// A host that caches choices reports answers that carry only rate-limit
/// headers at most this often per account: usage moves slowly, and the pool
/// writes only when what it learned changed.
pub const USAGE_REPORT_INTERVAL_MS: u32 = 1_000;

/// How long a host may reuse a choice without asking again. Meanwhile
/// another process may block the account: the request then meets the limit,
/// the report teaches this process at once, and it moves on.
pub const CHOICE_TTL_MS: i64 = 2_000;

/// Until when a choice may be reused (Unix ms): not at all under
/// round-robin (each call takes the next account) unless the session or
/// the pin holds it; else for [`CHOICE_TTL_MS`], and not past the instant
/// a blocked account frees up (the choice may then change).
pub fn choice_valid_until(candidates: &[Candidate], held: bool, strategy: Strategy, now_ms: i64) -> i64 {
    if strategy == Strategy::RoundRobin && !held {
        return now_ms;
    }
    let frees = candidates
        .iter()
        .filter(|c| c.usable)
        .filter_map(|c| c.blocked_until)
        .map(|t| t.saturating_mul(1000))
        .filter(|&t| t > now_ms)
        .min();
    frees.unwrap_or(i64::MAX).min(now_ms.saturating_add(CHOICE_TTL_MS))
}

/// One account as the chooser sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    /// It holds a credential that is not disabled and can be read.
    pub usable: bool,
    pub blocked_until: Option<i64>,
    pub binding_percent: Option<u32>,
    pub last_chosen_ms: Option<i64>,
}

/// What the chooser decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    Account(String),
    /// Every usable account is blocked; the first frees up then.
    AllBlocked {
        first_free: i64,
    },
    /// No account is usable at all.
    NoneUsable,
}

/// Chooses among `candidates` (in listing order): the session's account
/// while it is usable, else the pinned one while it is usable, else one by
/// `strategy`. Blocked, disabled and unreadable accounts are skipped.
pub fn choose(
    candidates: &[Candidate],
    sticky: Option<&str>,
    pinned: Option<&str>,
    strategy: Strategy,
    now: i64,
) -> Pick {
    let available: Vec<&Candidate> =
        candidates.iter().filter(|c| c.usable && c.blocked_until.is_none_or(|t| t <= now)).collect();
    let named = |name: Option<&str>| name.and_then(|n| available.iter().find(|c| c.name == n));
    if let Some(c) = named(sticky).or_else(|| named(pinned)) {
        return Pick::Account(c.name.clone());
    }
    let used = |c: &&&Candidate| c.binding_percent.unwrap_or(0);
    // `min_by_key`/`max_by_key` keep the first/last of equals; listing order wins ties.
    let chosen = match strategy {
        Strategy::RoundRobin => available.iter().min_by_key(|c| c.last_chosen_ms.unwrap_or(i64::MIN)),
        Strategy::LeastUsed => available.iter().min_by_key(used),
        Strategy::DrainFirst => available.iter().rev().max_by_key(used),
    };
    if let Some(c) = chosen {
        return Pick::Account(c.name.clone());
    }
    match candidates.iter().filter(|c| c.usable).filter_map(|c| c.blocked_until).min() {
        Some(first_free) => Pick::AllBlocked { first_free },
        None => Pick::NoneUsable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_381_200;

    fn c(name: &str, used: Option<u32>, chosen: Option<i64>) -> Candidate {
        Candidate {
            name: name.into(),
            usable: true,
            blocked_until: None,
            binding_percent: used,
            last_chosen_ms: chosen,
        }
    }

    #[test]
    fn served_counts_add_up_per_day_and_keep_a_month() {
        let day = |d: u32, requests: u64| DayServed {
            day: format!("2026-{:02}-{:02}", 1 + d / 28, 1 + d % 28),
            requests,
            input_tokens: requests * 10,
            ..DayServed::default()
        };
        let mut state = PoolState::default();
        state.add_served(&day(0, 2));
        state.add_served(&day(0, 3));
        assert_eq!(state.served, vec![day(0, 5)]);
        for d in 1..40 {
            state.add_served(&day(d, 1));
        }
        assert_eq!(state.served.len(), MAX_SERVED_DAYS);
        assert_eq!(state.served.last(), Some(&day(39, 1)));
        let again = PoolState::read(Some(&state.write()));
        assert_eq!(again.served, state.served, "written and read back the same");
    }

    #[test]
    fn strategies() {
        let pool = [
            c("a", Some(40), Some(3)),
            c("b", Some(10), Some(1)),
            c("c", Some(90), None),
            c("d", Some(90), Some(2)),
        ];
        let pick = |s| choose(&pool, None, None, s, NOW);
        assert_eq!(pick(Strategy::RoundRobin), Pick::Account("c".into()), "never chosen goes first");
        assert_eq!(pick(Strategy::LeastUsed), Pick::Account("b".into()));
        assert_eq!(
            pick(Strategy::DrainFirst),
            Pick::Account("c".into()),
            "most used, first in order on a tie"
        );
        let unknown = [c("a", None, None), c("b", None, None)];
        for s in [Strategy::RoundRobin, Strategy::LeastUsed, Strategy::DrainFirst] {
            assert_eq!(
                choose(&unknown, None, None, s, NOW),
                Pick::Account("a".into()),
                "{s:?}: listing order"
            );
        }
    }

    #[test]
    fn sticky_then_pinned_then_strategy_and_blocked_ones_are_skipped() {
        let mut pool = vec![c("a", Some(10), None), c("b", Some(20), None), c("c", Some(30), None)];
        assert_eq!(choose(&pool, Some("b"), Some("c"), Strategy::DrainFirst, NOW), Pick::Account("b".into()));
        assert_eq!(
            choose(&pool, Some("gone"), Some("a"), Strategy::DrainFirst, NOW),
            Pick::Account("a".into())
        );
        pool[0].blocked_until = Some(NOW + 60);
        pool[2].usable = false;
        assert_eq!(
            choose(&pool, Some("a"), Some("a"), Strategy::LeastUsed, NOW),
            Pick::Account("b".into()),
            "rotates to a sibling"
        );
        pool[0].blocked_until = Some(NOW);
        assert_eq!(
            choose(&pool, None, Some("a"), Strategy::LeastUsed, NOW),
            Pick::Account("a".into()),
            "a block ends at its instant"
        );
        pool[0].blocked_until = Some(NOW + 600);
        pool[1].blocked_until = Some(NOW + 60);
        assert_eq!(
            choose(&pool, None, None, Strategy::LeastUsed, NOW),
            Pick::AllBlocked { first_free: NOW + 60 }
        );
        pool.iter_mut().for_each(|p| p.usable = false);
        assert_eq!(choose(&pool, None, None, Strategy::LeastUsed, NOW), Pick::NoneUsable);
        assert_eq!(choose(&[], None, None, Strategy::LeastUsed, NOW), Pick::NoneUsable);
    }

    #[test]
    fn usage_requests_are_spread_and_spaced() {
        let spread = USAGE_TTL_SECONDS * USAGE_JITTER_PERCENT / 100;
        let all: Vec<i64> =
            (0..1000u32).map(|r| next_fetch_at(NOW, r.wrapping_mul(2_654_435_761)) - NOW).collect();
        assert!(all.iter().all(|d| (USAGE_TTL_SECONDS - spread..=USAGE_TTL_SECONDS + spread).contains(d)));
        assert!(
            all.iter().min() < Some(&(USAGE_TTL_SECONDS - spread / 2))
                && all.iter().max() > Some(&(USAGE_TTL_SECONDS + spread / 2))
        );
        let mut s = PoolState::default();
        assert!(s.fetch_due(NOW));
        s.next_fetch_at = Some(NOW + 1);
        assert!(!s.fetch_due(NOW) && s.fetch_due(NOW + 1));
    }

    #[test]
    fn blocks_end_at_the_named_reset_else_the_known_one_else_a_fallback() {
        let usage = crate::vault::usage::Usage {
            windows: vec![crate::vault::usage::Window {
                meter: MAIN_METER.into(),
                name: "primary".into(),
                used_percent: 100,
                window_seconds: None,
                resets_at: Some(NOW + 777),
            }],
            ..Default::default()
        };
        let named = LimitReached { resets_at: Some(NOW + 5), message: None, meter: None };
        let unnamed = LimitReached { resets_at: None, message: Some("slow down".into()), meter: None };
        assert_eq!(block_until(&named, usage.binding(), NOW), NOW + 5);
        assert_eq!(block_until(&unnamed, usage.binding(), NOW), NOW + 777);
        assert_eq!(block_until(&unnamed, None, NOW), NOW + FALLBACK_BLOCK_SECONDS);
        let past = LimitReached { resets_at: Some(NOW - 5), message: None, meter: None };
        assert_eq!(block_until(&past, None, NOW), NOW + FALLBACK_BLOCK_SECONDS);
        let mut state = PoolState { usage: Some(usage), ..Default::default() };
        assert_eq!(state.block(&unnamed, None, NOW), NOW + 777);
        assert_eq!(state.blocked(NOW), Some(NOW + 777));
        assert_eq!(state.blocked(NOW + 777), None);
        assert_eq!(PoolState::read(Some(&state.write())), state);
        assert_eq!(PoolState::read(Some(b"garbage")), PoolState::default());
    }

    #[test]
    fn strategy_names() {
        for &strategy in Strategy::ALL {
            assert_eq!(Strategy::parse(strategy.name()), Ok(strategy));
        }
        assert!(Strategy::parse("random").unwrap_err().contains("round-robin, least-used, drain-first"));
    }

    #[test]
    fn a_limit_blocks_its_meter_for_the_models_that_met_it_or_the_whole_account() {
        let limit = |meter: Option<&str>, at: i64| LimitReached {
            resets_at: Some(NOW + at),
            message: None,
            meter: meter.map(str::to_owned),
        };
        let mut s = PoolState::default();
        // Another meter, met by a spark request: spark is blocked, the rest is not.
        s.block(&limit(Some("codex_bengalfox"), 60), Some("gpt-5.3-codex-spark"), NOW);
        assert_eq!(s.blocked(NOW), None, "the account as a whole is not blocked");
        let for_model = |s: &PoolState, m| blocked_for(s.blocked_until, &s.meter_blocks, m, NOW);
        assert_eq!(for_model(&s, Some("gpt-5.3-codex-spark")), Some(NOW + 60));
        assert_eq!(for_model(&s, Some("gpt-5.1-codex")), None);
        assert_eq!(for_model(&s, None), None, "a model-less call (a token) still gets it");
        // No meter named: the request's model is the meter.
        s.block(&limit(None, 30), Some("o3"), NOW);
        assert_eq!(for_model(&s, Some("o3")), Some(NOW + 30));
        // The same meter met by a second model: both are blocked, until the newer reset.
        s.block(&limit(Some("codex_bengalfox"), 90), Some("spark-mini"), NOW);
        assert_eq!(for_model(&s, Some("gpt-5.3-codex-spark")), Some(NOW + 90));
        assert_eq!(for_model(&s, Some("spark-mini")), Some(NOW + 90));
        assert_eq!(s.meter_blocks(NOW).len(), 2);
        assert_eq!(PoolState::read(Some(&s.write())), s, "kept for every process");
        // The account's own meter, or no meter and no model: the whole account.
        s.block(&limit(Some(MAIN_METER), 120), Some("gpt-5.1-codex"), NOW);
        assert_eq!(for_model(&s, None), Some(NOW + 120));
        let mut t = PoolState::default();
        t.block(&limit(None, 10), None, NOW);
        assert_eq!(t.blocked(NOW), Some(NOW + 10));
        // Blocks end at their instant and a hostile upstream cannot grow the state.
        assert_eq!(s.meter_blocks(NOW + 90), []);
        for i in 0..100 {
            t.block(&limit(Some(&format!("m{i}")), 60), Some("x"), NOW);
        }
        assert_eq!(t.meter_blocks.len(), MAX_METER_BLOCKS);
    }

    #[test]
    fn a_choice_is_reused_for_a_while_but_not_past_a_block_or_under_round_robin() {
        let now_ms = NOW * 1000;
        let mut pool = vec![c("a", Some(10), None), c("b", Some(20), None)];
        let ttl = now_ms + CHOICE_TTL_MS;
        assert_eq!(choice_valid_until(&pool, false, Strategy::DrainFirst, now_ms), ttl);
        assert_eq!(
            choice_valid_until(&pool, false, Strategy::RoundRobin, now_ms),
            now_ms,
            "the next call turns"
        );
        assert_eq!(choice_valid_until(&pool, true, Strategy::RoundRobin, now_ms), ttl, "a session holds it");
        pool[1].blocked_until = Some(NOW + 1);
        assert_eq!(
            choice_valid_until(&pool, false, Strategy::DrainFirst, now_ms),
            now_ms + 1000,
            "b frees up"
        );
        pool[1].blocked_until = Some(NOW - 1);
        assert_eq!(
            choice_valid_until(&pool, false, Strategy::LeastUsed, now_ms),
            ttl,
            "a past block is no limit"
        );
    }
}
