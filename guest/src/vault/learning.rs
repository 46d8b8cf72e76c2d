//! What the pool learns: from the upstream's answers (usage limits,
//! rate-limit headers, a 401) and from its own usage requests and checks.

use crate::error::AuthError;
use crate::platform::{AccountBlocked, HttpRequest, Method, Notice, Platform};
use crate::session::Kind;
use crate::session::{Config, Session};
use crate::store::names::check_name;
use crate::vault::pool::{self, PoolState};
use crate::vault::replay;
use crate::vault::usage::{self, LimitReached, Usage};
use crate::vault::{AccountState, Vault};

/// A check's requests each wait at most this long.
pub const CHECK_TIMEOUT_MS: u32 = 10_000;

/// An upstream answer the pool learns from.
#[derive(Clone, Copy, Debug)]
pub enum Upstream<'a> {
    /// A whole answer's status, headers and (error) body.
    Answer { status: u16, headers: &'a [(String, String)], body: &'a [u8] },
    /// One stream event (its JSON, or the SSE block).
    Event(&'a [u8]),
}

/// What the pool learned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learned {
    /// The account is blocked until then.
    pub blocked_until: Option<i64>,
    /// The meter that is spent, when it blocks (`codex`, the account's
    /// own, when the answer names none).
    pub blocked_meter: Option<String>,
    /// The answer was a 401: recover (`unauthorized`) before a retry.
    pub unauthorized: bool,
    /// Its rate-limit headers updated the account's usage.
    pub usage_updated: bool,
    /// Routes to this account a host cached no longer hold (a limit was
    /// learned, or its token was refused).
    pub reroute: bool,
    /// What a gateway does with the answer.
    pub verdict: replay::Verdict,
    /// The request's attempt once the verdict is acted on.
    pub next: replay::Attempt,
}

impl Learned {
    pub(super) fn judge(&mut self, account: &str, attempt: replay::Attempt) {
        self.reroute = self.unauthorized || self.blocked_until.is_some();
        self.verdict = replay::verdict(self.unauthorized, self.blocked_until.is_some(), account, &attempt);
        self.next = attempt.after(self.verdict, account);
    }
}

/// An account's usage, as `usage` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageReport {
    pub account: String,
    /// The last good value.
    pub usage: Option<Usage>,
    pub fetched_at: Option<i64>,
    /// Why there is no (fresh) value.
    pub error: Option<String>,
    pub blocked_until: Option<i64>,
    /// The limits of single meters in force.
    pub blocks: Vec<crate::vault::pool::MeterBlock>,
    /// What it served per day (UTC), newest last.
    pub served: Vec<crate::vault::pool::DayServed>,
}

/// What checking one account found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Its token works; its usage, as the probe read it.
    Ok(Option<Usage>),
    /// It does not work; why.
    Failed(String),
    /// It could not be told (an API key, the backend unreachable); why.
    Unverifiable(String),
    /// Nothing to check (logged out).
    Skipped(String),
}

/// Why a probe found no usage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    /// The credential was refused.
    Refused(String),
    /// No verdict: unreachable, a server error, an unreadable answer.
    Unavailable(String),
}

impl<P: Platform> Vault<P> {
    /// Learns from an upstream answer (or a stream event) of `account`:
    /// rate-limit headers update its usage; a usage limit blocks it until
    /// the reset, persisted for every process; a 401 says to recover.
    pub fn report(
        &self,
        account: &str,
        upstream: Upstream<'_>,
        attempt: replay::Attempt,
    ) -> Result<Learned, AuthError> {
        check_name(account).map_err(AuthError::InvalidInput)?;
        let now = self.now();
        let (limit, seen, unauthorized) = match upstream {
            Upstream::Answer { status, headers, body } => (
                usage::parse_limit_answer(status, headers, body, now),
                usage::parse_rate_limit_headers(headers),
                status == 401,
            ),
            Upstream::Event(event) => (usage::parse_limit_event(event, now), None, false),
        };
        let mut learned = Learned {
            blocked_until: None,
            blocked_meter: None,
            unauthorized,
            usage_updated: seen.is_some(),
            reroute: false,
            verdict: replay::Verdict::PassOn,
            next: replay::Attempt::default(),
        };
        if limit.is_none() && seen.is_none() {
            learned.judge(account, attempt);
            return Ok(learned);
        }
        let until = self.update_pool(account, self.config.lock_timeout_ms, |state| {
            if let Some(seen) = seen {
                state.usage.get_or_insert_default().merge(seen);
            }
            limit.as_ref().map(|l| state.block(l, attempt.model.as_deref(), now))
        })?;
        if let Some(until) = until {
            self.platform
                .notify(Notice::AccountBlocked(AccountBlocked { account: account.to_owned(), until }));
            learned.blocked_until = Some(until);
            let meter = limit.as_ref().and_then(|l| l.meter.clone());
            learned.blocked_meter = Some(meter.unwrap_or_else(|| usage::MAIN_METER.to_owned()));
        }
        learned.judge(account, attempt);
        Ok(learned)
    }

    /// An account's usage: the cached value, fetched anew when the cache is
    /// due and no other process is fetching it right now.
    pub fn usage(&self, account: &str) -> Result<UsageReport, AuthError> {
        let info = self.require(account)?;
        let mut error = match (info.kind, info.state) {
            (Kind::ApiKey, _) => Some("an API key has no ChatGPT usage".to_owned()),
            (Kind::Command, _) => Some("a command account has no ChatGPT usage".to_owned()),
            (_, AccountState::Ok | AccountState::Blocked) => None,
            (_, AccountState::LoggedOut) => Some("logged out".to_owned()),
            _ => info.problem.clone(),
        };
        if error.is_none() && self.pool_state(account).fetch_due(self.now()) {
            // The account's headers (maybe a refresh, under its own lock)
            // before the pool lock: nothing waits while holding it.
            let headers = self.probe_headers(account);
            match self.platform.lock_pool(account, 0) {
                // Another process is fetching: what it writes is shared.
                Err(crate::platform::StorageError::LockTimeout(_)) => {}
                Err(e) => return Err(e.into()),
                Ok(()) => {
                    let fetched = self.fetch_locked(account, false, headers);
                    self.platform.unlock_pool(account);
                    // A failed request is recorded in the state read below.
                    fetched?.ok();
                }
            }
        }
        let state = self.pool_state(account);
        if error.is_none() {
            error = state.last_error.clone();
        }
        let now = self.now();
        Ok(UsageReport {
            account: account.to_owned(),
            blocked_until: state.blocked(now),
            blocks: state.meter_blocks(now),
            usage: state.usage,
            fetched_at: state.fetched_at,
            error,
            served: state.served,
        })
    }

    /// Adds what a server served with `account` since it last said so
    /// (requests and tokens; `counts.day` is ignored) to today's totals
    /// (UTC) in the account's pool state, where every process adds its own.
    pub fn record_served(
        &self,
        account: &str,
        counts: &crate::vault::pool::DayServed,
    ) -> Result<(), AuthError> {
        let now = self.platform.now_ms() / 1000;
        let today = crate::store::rfc3339::format(now).chars().take(10).collect::<String>();
        let counts = crate::vault::pool::DayServed { day: today, ..counts.clone() };
        self.update_pool(account, self.config.lock_timeout_ms, |state| state.add_served(&counts))
    }

    /// Probes one account: a refresh when due, then a usage request, each
    /// bounded by [`CHECK_TIMEOUT_MS`].
    pub fn check(&self, account: &str) -> Result<CheckOutcome, AuthError> {
        let info = self.require(account)?;
        match (info.kind, info.state) {
            (_, AccountState::LoggedOut) => return Ok(CheckOutcome::Skipped("logged out".into())),
            (_, AccountState::Unreadable | AccountState::Disabled) => {
                return Ok(CheckOutcome::Failed(info.problem.unwrap_or_default()));
            }
            (Kind::ApiKey | Kind::Command, _) => {
                return Ok(CheckOutcome::Unverifiable(format!(
                    "{} has no usage endpoint to probe",
                    if info.kind == Kind::ApiKey { "an API key" } else { "a command account" }
                )));
            }
            _ => {}
        }
        let headers = self.probe_headers(account);
        self.platform.lock_pool(account, self.config.lock_timeout_ms)?;
        let probed = self.fetch_locked(account, true, headers);
        self.platform.unlock_pool(account);
        Ok(match probed? {
            Ok(usage) => CheckOutcome::Ok(usage),
            Err(Probe::Refused(why)) => CheckOutcome::Failed(why),
            Err(Probe::Unavailable(why)) => CheckOutcome::Unverifiable(why),
        })
    }

    /// Sends a usage request for `account` (holding its pool lock) unless
    /// the cache is fresh and `force` is off, and records the outcome.
    fn fetch_locked(
        &self,
        account: &str,
        force: bool,
        headers: Result<Vec<(String, String)>, Probe>,
    ) -> Result<Result<Option<Usage>, Probe>, AuthError> {
        let now = self.now();
        let mut state = PoolState::read(self.platform.load_pool(account)?.as_deref());
        if !force && !state.fetch_due(now) {
            return Ok(Ok(state.usage));
        }
        let probed = headers.and_then(|headers| self.probe(headers));
        let mut random = [0u8; 4];
        self.platform.fill_random(&mut random);
        state.next_fetch_at = Some(pool::next_fetch_at(now, u32::from_le_bytes(random)));
        match &probed {
            Ok(usage) => {
                state.usage = Some(usage.clone());
                state.fetched_at = Some(now);
                state.last_error = None;
                if usage.limit_reached {
                    let limit = LimitReached {
                        resets_at: None,
                        message: Some("the usage endpoint says a limit is reached".into()),
                        meter: None,
                    };
                    state.usage = Some(usage.clone());
                    let until = state.block(&limit, None, now);
                    self.platform.notify(Notice::AccountBlocked(AccountBlocked {
                        account: account.to_owned(),
                        until,
                    }));
                }
            }
            Err(Probe::Refused(why) | Probe::Unavailable(why)) => state.last_error = Some(why.clone()),
        }
        self.platform.save_pool(account, &state.write())?;
        Ok(probed.map(Some))
    }

    /// The account's headers for a probe: a refresh when due, bounded by
    /// [`CHECK_TIMEOUT_MS`], under the account's own lock only.
    fn probe_headers(&self, account: &str) -> Result<Vec<(String, String)>, Probe> {
        let bound = self.config.http_timeout_ms.min(CHECK_TIMEOUT_MS);
        let session = Session::new(
            &self.platform,
            Config { account: account.to_owned(), http_timeout_ms: bound, ..self.config.clone() },
        );
        session.request_headers().map_err(|e| match e {
            AuthError::Transport(why) => Probe::Unavailable(why),
            e => Probe::Refused(e.to_string()),
        })
    }

    /// `GET {chatgpt base}/wham/usage` with the account's headers.
    fn probe(&self, headers: Vec<(String, String)>) -> Result<Usage, Probe> {
        let bound = self.config.http_timeout_ms.min(CHECK_TIMEOUT_MS);
        let mut headers = headers;
        headers.push(("Accept".into(), "application/json".into()));
        let request = HttpRequest {
            method: Method::Get,
            url: crate::session::endpoints::usage_url(&self.config.chatgpt_base_url),
            headers,
            body: Vec::new(),
            timeout_ms: bound,
        };
        let answer = self.platform.send(&request).map_err(|e| Probe::Unavailable(e.to_string()))?;
        match answer.status {
            200..=299 => usage::parse_usage(&answer.body, self.now()).map_err(Probe::Unavailable),
            401 | 403 => {
                Err(Probe::Refused(format!("the ChatGPT backend refused its token (HTTP {})", answer.status)))
            }
            status => Err(Probe::Unavailable(format!("the usage endpoint answered HTTP {status}"))),
        }
    }
}
