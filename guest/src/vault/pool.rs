//! The pool: what is known of each account's usage and limits, and which
//! account a call gets. Pure functions of (state, now); the vault reads and
//! writes the per-account state through the host.

use crate::defaults::Strategy;
use crate::vault::usage::{LimitReached, Usage};
use serde_json::{Value, json};

/// At most one usage request per account in this long (give or take
/// [`USAGE_JITTER_PERCENT`]), shared by every process through the store.
pub const USAGE_TTL_SECONDS: i64 = 300;
pub const USAGE_JITTER_PERCENT: i64 = 25;
/// How long an account stays blocked when a usage limit names no reset.
pub const FALLBACK_BLOCK_SECONDS: i64 = 15 * 60;
/// Sticky sessions remembered by one vault at most; beyond, the oldest go.
pub const MAX_STICKY_SESSIONS: usize = 4096;

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
    /// A usage limit was reached; not chosen before this instant.
    pub blocked_until: Option<i64>,
    pub blocked_reason: Option<String>,
    /// When the pool last chose it (milliseconds), for round-robin.
    pub last_chosen_ms: Option<i64>,
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
            last_chosen_ms: v["last_chosen_ms"].as_i64(),
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
            "last_chosen_ms": self.last_chosen_ms,
        })
        .to_string();
        text.push('\n');
        text.into_bytes()
    }

    /// Until when it is blocked, if it is now.
    pub fn blocked(&self, now: i64) -> Option<i64> {
        self.blocked_until.filter(|&until| until > now)
    }

    /// Whether a usage request may be sent now.
    pub fn fetch_due(&self, now: i64) -> bool {
        self.next_fetch_at.is_none_or(|at| now >= at)
    }

    /// Blocks it on a usage limit.
    pub fn block(&mut self, limit: &LimitReached, now: i64) -> i64 {
        let until = block_until(limit, self.usage.as_ref(), now);
        self.blocked_until = Some(until);
        self.blocked_reason = Some(limit.message.clone().unwrap_or_else(|| "usage limit reached".into()));
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
/// the binding window known from usage, else a fallback.
pub fn block_until(limit: &LimitReached, usage: Option<&Usage>, now: i64) -> i64 {
    let known = usage.and_then(Usage::binding).and_then(|w| w.resets_at);
    limit.resets_at.or(known).filter(|&t| t > now).unwrap_or(now.saturating_add(FALLBACK_BLOCK_SECONDS))
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
                name: "primary".into(),
                used_percent: 100,
                window_seconds: None,
                resets_at: Some(NOW + 777),
            }],
            ..Default::default()
        };
        let named = LimitReached { resets_at: Some(NOW + 5), message: None };
        let unnamed = LimitReached { resets_at: None, message: Some("slow down".into()) };
        assert_eq!(block_until(&named, Some(&usage), NOW), NOW + 5);
        assert_eq!(block_until(&unnamed, Some(&usage), NOW), NOW + 777);
        assert_eq!(block_until(&unnamed, None, NOW), NOW + FALLBACK_BLOCK_SECONDS);
        let past = LimitReached { resets_at: Some(NOW - 5), message: None };
        assert_eq!(block_until(&past, None, NOW), NOW + FALLBACK_BLOCK_SECONDS);
        let mut state = PoolState { usage: Some(usage), ..Default::default() };
        assert_eq!(state.block(&unnamed, NOW), NOW + 777);
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
}
