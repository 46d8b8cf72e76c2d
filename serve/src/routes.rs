//! The gateway's cache of the guest's routes. Per (session key, model): the
//! account and headers the guest chose ([`codex_auth::Auth::route`]), reused
//! until the guest's own limit (`valid_until_ms`) or until an answer of that
//! account taught the pool something (a usage limit, a 401), which makes
//! every route to it stale. The decision stays the guest's; this only
//! remembers it for as long as the guest said. The maps are sharded, so
//! requests of different conversations share no lock.

use codex_auth::Route;
use dashmap::DashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Routes kept at most (session keys come from clients); beyond, all go.
const MAX_ROUTES: usize = 16_384;

type Key = (Option<String>, Option<String>);

#[derive(Default)]
pub(crate) struct Routes {
    routes: DashMap<Key, Cached>,
    /// A counter read before each ask; an account's entry is its value when
    /// an answer of that account last taught the pool something.
    clock: AtomicU64,
    taught: DashMap<String, u64>,
    /// The counter when every route was last made stale.
    taught_all: AtomicU64,
    /// When each account's rate-limit headers were last reported (Unix ms).
    reported: DashMap<String, i64>,
}

struct Cached {
    route: Arc<Route>,
    /// The counter when the guest was asked.
    asked: u64,
}

/// A ticket taken before asking the guest, to cache what it answers.
pub(crate) struct Ticket(u64);

impl Routes {
    /// The route for `key` while the guest's verdict holds at `now_ms` and
    /// nothing its account answered since made it stale.
    pub fn get(&self, session: &Option<String>, model: &Option<String>, now_ms: i64) -> Option<Arc<Route>> {
        let key = (session.clone(), model.clone());
        let cached = self.routes.get(&key)?;
        let stale = self.taught.get(&cached.route.account).is_some_and(|t| *t > cached.asked)
            || self.taught_all.load(Ordering::Acquire) > cached.asked;
        (now_ms < cached.route.valid_until_ms && !stale).then(|| cached.route.clone())
    }

    /// Take before asking the guest; [`Self::put`] its answer with it.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.clock.load(Ordering::Acquire))
    }

    pub fn put(&self, session: Option<String>, model: Option<String>, route: Arc<Route>, ticket: Ticket) {
        if self.routes.len() >= MAX_ROUTES {
            self.routes.clear();
        }
        self.routes.insert((session, model), Cached { route, asked: ticket.0 });
    }

    /// An answer of `account` taught the pool something: every route to it,
    /// including those asked for before now and cached after, is stale.
    pub fn taught(&self, account: &str) {
        let now = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        self.taught.insert(account.to_owned(), now);
    }

    /// Changes may have been missed: every route is stale.
    pub fn taught_all(&self) {
        let now = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        self.taught_all.store(now, Ordering::Release);
        self.routes.clear();
    }

    /// Whether an answer of `account` that carries only rate-limit headers
    /// should be reported now: at most once per `interval_ms`.
    pub fn report_due(&self, account: &str, now_ms: i64, interval_ms: i64) -> bool {
        // The account is known after its first report: no allocation then.
        if let Some(mut last) = self.reported.get_mut(account) {
            let due = now_ms.saturating_sub(*last) >= interval_ms;
            if due {
                *last = now_ms;
            }
            return due;
        }
        self.reported.insert(account.to_owned(), now_ms);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(account: &str, valid_until_ms: i64) -> Arc<Route> {
        let headers = codex_auth::RequestHeaders::default();
        Arc::new(Route { account: account.into(), headers, valid_until_ms })
    }

    #[test]
    fn a_route_is_reused_until_its_limit_or_until_its_account_teaches_something() {
        let routes = Routes::default();
        let (conv, model) = (Some("conv-1".to_owned()), Some("gpt-5.1-codex".to_owned()));
        assert!(routes.get(&conv, &model, 0).is_none());
        routes.put(conv.clone(), model.clone(), route("a", 1_000), routes.ticket());
        assert_eq!(routes.get(&conv, &model, 999).unwrap().account, "a");
        assert!(routes.get(&conv, &model, 1_000).is_none(), "the guest's limit is exclusive");
        assert!(routes.get(&conv, &None, 0).is_none(), "another model is another route");

        // A limit on `a` makes its routes stale; another account's stay.
        routes.put(None, None, route("b", 1_000), routes.ticket());
        routes.taught("a");
        assert!(routes.get(&conv, &model, 0).is_none());
        assert_eq!(routes.get(&None, &None, 0).unwrap().account, "b");

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
        assert!(routes.report_due("a", 10_000, 1_000));
        assert!(!routes.report_due("a", 10_999, 1_000));
        assert!(routes.report_due("b", 10_999, 1_000), "per account");
        assert!(routes.report_due("a", 11_000, 1_000));
    }
}
