//! Decisions that are functions of (state, now): when to refresh, which
//! credential tier wins, and which headers a request carries.

/// Without `exp`, tokens older than this are refreshed (the Codex CLI's rule).
pub const MAX_TOKEN_AGE_SECONDS: i64 = 8 * 24 * 60 * 60;
/// Refresh this long before `exp` unless configured otherwise.
pub const DEFAULT_SKEW_SECONDS: u32 = crate::defaults::REFRESH_SKEW_SECONDS;

wit_enum! {
    /// Whether the access token must be refreshed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum RefreshDecision {
        Fresh,
        /// Refresh first; the token still works if the refresh fails.
        Due,
        /// Past `exp`: the token no longer works.
        Expired,
    }
}

/// Due when `exp` is within `skew` of `now`; without `exp`, when
/// `last_refresh` is unknown or older than [`MAX_TOKEN_AGE_SECONDS`].
pub fn decide_refresh(
    expires_at: Option<i64>,
    last_refresh: Option<i64>,
    now: i64,
    skew_seconds: u32,
) -> RefreshDecision {
    match (expires_at, last_refresh) {
        (Some(exp), _) if exp <= now => RefreshDecision::Expired,
        (Some(exp), _) if exp.saturating_sub(now) <= i64::from(skew_seconds) => RefreshDecision::Due,
        (Some(_), _) => RefreshDecision::Fresh,
        (None, Some(at)) if now.saturating_sub(at) < MAX_TOKEN_AGE_SECONDS => RefreshDecision::Fresh,
        (None, _) => RefreshDecision::Due,
    }
}

wit_enum! {
    /// What the store holds.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum StoredKind {
        None,
        Subscription,
        ApiKey,
        Command,
    }
}

wit_enum! {
    /// Which tier the credential in use came from, highest first.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Tier {
        /// A runtime override (`--api-key-stdin`, or the library's option).
        Runtime,
        /// `api_key` in the config file.
        Config,
        /// The chosen account's store.
        Store,
        /// The chosen account's command.
        Command,
        /// `OPENAI_API_KEY` from the environment.
        Environment,
        None,
    }
}

/// The credential tier, highest first: a runtime override, a key in the
/// config file, the chosen account's store (or its command), then
/// `OPENAI_API_KEY` from the environment.
pub fn choose_tier(runtime: bool, config: bool, stored: StoredKind, environment: bool) -> Tier {
    match (runtime, config, stored, environment) {
        (true, ..) => Tier::Runtime,
        (_, true, ..) => Tier::Config,
        (_, _, StoredKind::Subscription | StoredKind::ApiKey, _) => Tier::Store,
        (_, _, StoredKind::Command, _) => Tier::Command,
        (.., true) => Tier::Environment,
        _ => Tier::None,
    }
}

/// `Authorization: Bearer <token>`, and `chatgpt-account-id` when known.
pub fn request_headers(bearer: &str, account_id: Option<&str>) -> Vec<(String, String)> {
    let mut authorization = String::with_capacity(7 + bearer.len());
    authorization.push_str("Bearer ");
    authorization.push_str(bearer);
    let mut headers = Vec::with_capacity(2);
    headers.push(("Authorization".to_owned(), authorization));
    if let Some(account) = account_id {
        headers.push(("chatgpt-account-id".to_owned(), account.to_owned()));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use RefreshDecision::*;

    #[test]
    fn refresh_decisions() {
        let now = 1_000_000;
        let skew = DEFAULT_SKEW_SECONDS;
        assert_eq!(decide_refresh(Some(now + 301), None, now, skew), Fresh);
        assert_eq!(decide_refresh(Some(now + 300), None, now, skew), Due);
        assert_eq!(decide_refresh(Some(now + 1), None, now, skew), Due);
        assert_eq!(decide_refresh(Some(now), None, now, skew), Expired);
        assert_eq!(decide_refresh(Some(now + 100), None, now, 60), Fresh);
        assert_eq!(decide_refresh(Some(i64::MIN), Some(now), now, skew), Expired);
        assert_eq!(decide_refresh(Some(i64::MAX), None, now, u32::MAX), Fresh);
        // Found by fuzzing: exp - now overflowed for a very negative now.
        assert_eq!(decide_refresh(Some(i64::MAX - 5), None, i64::MIN + 5, 300), Fresh);
        // Without exp, age decides; exp wins over a recent last_refresh.
        assert_eq!(decide_refresh(None, Some(now - MAX_TOKEN_AGE_SECONDS + 1), now, skew), Fresh);
        assert_eq!(decide_refresh(None, Some(now - MAX_TOKEN_AGE_SECONDS), now, skew), Due);
        assert_eq!(decide_refresh(None, None, now, skew), Due);
        assert_eq!(decide_refresh(None, Some(i64::MIN), i64::MAX, skew), Due);
    }

    #[test]
    fn tiers_highest_first() {
        use StoredKind as S;
        assert_eq!(choose_tier(true, true, S::Subscription, true), Tier::Runtime);
        assert_eq!(choose_tier(false, true, S::Subscription, true), Tier::Config);
        assert_eq!(choose_tier(false, false, S::Subscription, true), Tier::Store);
        assert_eq!(choose_tier(false, false, S::ApiKey, true), Tier::Store);
        assert_eq!(choose_tier(false, false, S::Command, true), Tier::Command);
        assert_eq!(choose_tier(false, false, S::None, true), Tier::Environment);
        assert_eq!(choose_tier(false, false, S::None, false), Tier::None);
    }

    #[test]
    fn headers_per_kind() {
        assert_eq!(
            request_headers("tok", Some("acct")),
            vec![
                ("Authorization".to_owned(), "Bearer tok".to_owned()),
                ("chatgpt-account-id".to_owned(), "acct".to_owned())
            ]
        );
        assert_eq!(
            request_headers("sk-1", None),
            vec![("Authorization".to_owned(), "Bearer sk-1".to_owned())]
        );
    }
}
