//! The gateway's cache of the guest's routes. Per (session key, model): the
//! account and headers the guest chose ([`codex_auth::Auth::route`]), reused
//! until the guest's own limit (`valid_until_ms`) or until an answer of that
//! account taught the pool something (a usage limit, a 401), which makes
//! every route to it stale. The decision stays the guest's; this only
//! remembers it for as long as the guest said. A request reads one shard of
//! the route map and a few atomics: no lock is shared by all requests.

use codex_auth::Route;
use dashmap::DashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Routes kept at most (session keys come from clients); beyond, all go.
const MAX_ROUTES: usize = 16_384;

type Key = (Option<String>, Option<String>);

#[derive(Default)]
pub(crate) struct Routes {
    routes: DashMap<Key, Arc<Entry>>,
    /// What every route to one account shares: read with atomics, so a
    /// request takes no lock beyond its shard's read of `routes`.
    accounts: DashMap<String, Arc<Account>>,
    /// A counter read before each ask (see [`Ticket`]).
    clock: AtomicU64,
    /// The counter when every route was last made stale.
    taught_all: AtomicU64,
}

#[derive(Default)]
struct Account {
    /// The counter when an answer of the account last taught the pool something.
    taught: AtomicU64,
    /// When its rate-limit headers were last reported (Unix ms).
    reported: AtomicI64,
}

/// One cached route.
pub(crate) struct Entry {
    pub route: Route,
    /// The counter when the guest was asked.
    asked: u64,
    account: Arc<Account>,
}

impl Entry {
    /// Whether an answer of this route's account that carries only
    /// rate-limit headers should be reported now: at most once per
    /// `interval_ms` for the account, whichever request sees it first.
    pub fn report_due(&self, now_ms: i64, interval_ms: i64) -> bool {
        let last = self.account.reported.load(Ordering::Relaxed);
        now_ms.saturating_sub(last) >= interval_ms
            && self
                .account
                .reported
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// A ticket taken before asking the guest, to cache what it answers.
pub(crate) struct Ticket(u64);

impl Routes {
    /// The route for `key` while the guest's verdict holds at `now_ms` and
    /// nothing its account answered since made it stale.
    pub fn get(&self, session: &Option<String>, model: &Option<String>, now_ms: i64) -> Option<Arc<Entry>> {
        let key = (session.clone(), model.clone());
        let entry = self.routes.get(&key)?.clone();
        let stale = entry.account.taught.load(Ordering::Acquire) > entry.asked
            || self.taught_all.load(Ordering::Acquire) > entry.asked;
        (now_ms < entry.route.valid_until_ms && !stale).then_some(entry)
    }

    /// Take before asking the guest; [`Self::put`] its answer with it.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.clock.load(Ordering::Acquire))
    }

    /// Caches what the guest answered; the entry to use now.
    pub fn put(
        &self,
        session: Option<String>,
        model: Option<String>,
        route: Route,
        ticket: Ticket,
    ) -> Arc<Entry> {
        if self.routes.len() >= MAX_ROUTES {
            self.routes.clear();
        }
        let account = self.account(&route.account);
        let entry = Arc::new(Entry { route, asked: ticket.0, account });
        self.routes.insert((session, model), entry.clone());
        entry
    }

    /// An answer of `account` taught the pool something: every route to it,
    /// including those asked for before now and cached after, is stale.
    pub fn taught(&self, account: &str) {
        let now = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        self.account(account).taught.fetch_max(now, Ordering::AcqRel);
    }

    /// Changes may have been missed: every route is stale.
    pub fn taught_all(&self) {
        let now = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        self.taught_all.fetch_max(now, Ordering::AcqRel);
        self.routes.clear();
    }

    fn account(&self, name: &str) -> Arc<Account> {
        if let Some(account) = self.accounts.get(name) {
            return account.clone();
        }
        self.accounts.entry(name.to_owned()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(account: &str, valid_until_ms: i64) -> Route {
        Route { account: account.into(), headers: codex_auth::RequestHeaders::default(), valid_until_ms }
    }

    #[test]
    fn a_route_is_reused_until_its_limit_or_until_its_account_teaches_something() {
        let routes = Routes::default();
        let (conv, model) = (Some("conv-1".to_owned()), Some("gpt-5.1-codex".to_owned()));
        let account = |e: Option<Arc<Entry>>| e.map(|e| e.route.account.clone());
        assert!(routes.get(&conv, &model, 0).is_none());
        routes.put(conv.clone(), model.clone(), route("a", 1_000), routes.ticket());
        assert_eq!(account(routes.get(&conv, &model, 999)).as_deref(), Some("a"));
        assert!(routes.get(&conv, &model, 1_000).is_none(), "the guest's limit is exclusive");
        assert!(routes.get(&conv, &None, 0).is_none(), "another model is another route");

        // A limit on `a` makes its routes stale; another account's stay.
        routes.put(None, None, route("b", 1_000), routes.ticket());
        routes.taught("a");
        assert!(routes.get(&conv, &model, 0).is_none());
        assert_eq!(account(routes.get(&None, &None, 0)).as_deref(), Some("b"));

        // Asked before the lesson, cached after it: stale all the same.
        let early = routes.ticket();
        routes.taught("a");
        routes.put(conv.clone(), model.clone(), route("a", 1_000), early);
        assert!(routes.get(&conv, &model, 0).is_none());
        routes.put(conv.clone(), model.clone(), route("a", 1_000), routes.ticket());
        assert!(routes.get(&conv, &model, 0).is_some(), "asked after it: fresh");

        // Changes may have been missed: every route, even one in flight.
        let early = routes.ticket();
        routes.taught_all();
        assert!(routes.get(&conv, &model, 0).is_none());
        routes.put(None, None, route("b", 1_000), early);
        assert!(routes.get(&None, &None, 0).is_none());
    }

    #[test]
    fn rate_limit_headers_are_reported_at_most_once_per_interval_per_account() {
        let routes = Routes::default();
        let a1 = routes.put(Some("1".into()), None, route("a", i64::MAX), routes.ticket());
        let a2 = routes.put(Some("2".into()), None, route("a", i64::MAX), routes.ticket());
        let b = routes.put(None, None, route("b", i64::MAX), routes.ticket());
        assert!(a1.report_due(10_000, 1_000));
        assert!(!a2.report_due(10_999, 1_000), "per account, whichever route");
        assert!(b.report_due(10_999, 1_000), "another account");
        assert!(a2.report_due(11_000, 1_000));
    }
}
