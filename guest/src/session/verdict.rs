//! How long a host may reuse a session's headers without asking again: the
//! verdict a caching host (the gateway) keeps.

use super::*;

/// Ready headers and until when they may be sent again without asking
/// (Unix ms; the WIT `headers-verdict`).
#[derive(Clone, PartialEq, Eq)]
pub struct HeadersVerdict {
    pub headers: Vec<(String, String)>,
    pub valid_until: i64,
}

impl std::fmt::Debug for HeadersVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The headers carry the bearer token.
        f.debug_struct("HeadersVerdict").field("valid_until", &self.valid_until).finish_non_exhaustive()
    }
}

impl<P: Platform> Session<P> {
    /// [`Self::request_headers`], and until when a host may send them again
    /// without asking (Unix ms): the instant the refresh policy would act
    /// (the access token's refresh point, or the end of the pause after a
    /// failed proactive refresh, never past its expiry), the end of a command
    /// token's reuse, never for a key. A 401 ends it sooner: the host
    /// recovers through [`Self::unauthorized`] and asks again.
    pub fn headers_verdict(&self) -> Result<HeadersVerdict, AuthError> {
        let headers = self.request_headers()?;
        Ok(HeadersVerdict { headers, valid_until: self.reuse_until()? })
    }

    fn reuse_until(&self) -> Result<i64, AuthError> {
        let now = self.platform.now_ms();
        let loaded = self.loaded_ref()?;
        Ok(match &loaded.active {
            Active::Subscription { access_expires_at, .. } => {
                let seconds = match access_expires_at {
                    Some(exp) => exp.saturating_sub(i64::from(self.skew_seconds())),
                    None => loaded
                        .stored
                        .last_refresh
                        .map_or(i64::MIN, |at| at.saturating_add(policy::MAX_TOKEN_AGE_SECONDS)),
                };
                let due = seconds.saturating_mul(1000);
                if due > now {
                    due
                } else {
                    // Due, and serving the old token while the refresh pauses.
                    let expires = access_expires_at.map_or(i64::MAX, |exp| exp.saturating_mul(1000));
                    self.proactive_pause_until_ms.get().min(expires).max(now)
                }
            }
            Active::StoredKey(_)
            | Active::RuntimeKey(_)
            | Active::ConfigKey(_)
            | Active::EnvironmentKey(_) => i64::MAX,
            Active::Command { spec, last } => match (spec.refresh_interval_ms, last.borrow().as_ref()) {
                (Some(interval), Some((_, at))) => {
                    at.saturating_add(i64::try_from(interval).unwrap_or(i64::MAX))
                }
                (Some(_), None) => now,
                (None, _) => i64::MAX,
            },
            Active::None => now,
        })
    }
}
