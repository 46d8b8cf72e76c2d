//! Which account a call uses: explicit, else the pool's choice for the
//! session and model (see [`pool::choose`]), and for how long a host may
//! reuse it.

use super::*;

/// The account a call uses, and until when a host may reuse that choice for
/// the same session and model without asking (Unix ms; the WIT `choice`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub account: String,
    pub valid_until: i64,
}

impl<P: Platform> Vault<P> {
    /// The account a call uses without choosing anew (status, listing):
    /// explicit, else as [`Self::choose`] would, without recording it.
    pub fn select(&self, explicit: Option<&str>) -> Result<String, AuthError> {
        self.pick(explicit, None, None, false).map(|c| c.account)
    }

    /// The account a call uses, choosing by the pool (see [`pool::choose`]):
    /// explicit, else the session's while usable, else the pinned one while
    /// usable, else by the strategy; recorded for round-robin and for the
    /// session. An account is skipped when a usage limit blocks it as a
    /// whole, or blocks `model` on it (a meter that model met). When every
    /// account is blocked, the error says when the first frees up.
    pub fn choose(
        &self,
        explicit: Option<&str>,
        session: Option<&str>,
        model: Option<&str>,
    ) -> Result<String, AuthError> {
        self.choose_verdict(explicit, session, model).map(|c| c.account)
    }

    /// [`Self::choose`], and until when a host may reuse the choice for the
    /// same session and model without asking (see [`pool::choice_valid_until`]).
    pub fn choose_verdict(
        &self,
        explicit: Option<&str>,
        session: Option<&str>,
        model: Option<&str>,
    ) -> Result<Choice, AuthError> {
        self.pick(explicit, session, model, true)
    }

    fn pick(
        &self,
        explicit: Option<&str>,
        session: Option<&str>,
        model: Option<&str>,
        record: bool,
    ) -> Result<Choice, AuthError> {
        let now_ms = self.platform.now_ms();
        // Flag > environment (both `explicit`, from the host) > config file.
        let explicit = explicit.or(self.config.file.as_ref().and_then(|f| f.account.as_deref()));
        if let Some(name) = explicit {
            let account = self.select_listed(name)?;
            return Ok(Choice { account, valid_until: now_ms.saturating_add(pool::CHOICE_TTL_MS) });
        }
        let listed = match self.listed() {
            Ok(listed) => listed,
            // The store cannot be listed (a database down, a keyring
            // locked): the choice in hand stands, and its session serves the
            // token it holds while that is valid. Nothing in hand: the error.
            // Not to be reused: the next call looks at the store again.
            Err(e @ AuthError::Storage(_)) => {
                let account = self.choice_in_hand(session).ok_or(e)?;
                return Ok(Choice { account, valid_until: now_ms });
            }
            Err(e) => return Err(e),
        };
        let now = self.now();
        let candidates: Vec<Candidate> =
            listed.iter().map(|(a, chosen)| a.candidate(*chosen, model, now)).collect();
        let accounts: Vec<AccountInfo> = listed.into_iter().map(|(info, _)| info).collect();
        let pinned = accounts.iter().find(|a| a.pinned).map(|a| a.name.clone());
        let sticky = session.and_then(|key| self.sticky.borrow().get(key).cloned());
        let name = match pool::choose(
            &candidates,
            sticky.as_deref(),
            pinned.as_deref(),
            self.config.strategy,
            self.now(),
        ) {
            Pick::Account(name) => name,
            Pick::AllBlocked { first_free } if record => return Err(AuthError::AllBlocked(first_free)),
            // Nothing usable (or, for a look without use, nothing free): the
            // first in order names what to report on.
            Pick::AllBlocked { .. } | Pick::NoneUsable => {
                let account = select(None, pinned.as_deref(), &accounts)?;
                return Ok(Choice { account, valid_until: now_ms });
            }
        };
        let held = sticky.as_deref() == Some(name.as_str()) || pinned.as_deref() == Some(name.as_str());
        let valid_until = pool::choice_valid_until(&candidates, held, self.config.strategy, now_ms);
        if record {
            self.last_choice.replace(Some(name.clone()));
            if let Some(key) = session {
                let mut sticky = self.sticky.borrow_mut();
                if sticky.len() >= pool::MAX_STICKY_SESSIONS && !sticky.contains_key(key) {
                    sticky.clear();
                }
                sticky.insert(key.to_owned(), name.clone());
            }
            if self.config.strategy == Strategy::RoundRobin {
                let now_ms = self.platform.now_ms();
                // Best effort: a busy pool lock only makes the rotation less even.
                let _ = self.update_pool(&name, 0, |state| state.last_chosen_ms = Some(now_ms));
            }
        }
        Ok(Choice { account: name, valid_until })
    }

    /// The session's account, else the last one chosen.
    fn choice_in_hand(&self, session: Option<&str>) -> Option<String> {
        let sticky = session.and_then(|key| self.sticky.borrow().get(key).cloned());
        sticky.or_else(|| self.last_choice.borrow().clone())
    }

    /// An explicit account: only its existence matters, no other store is read.
    fn select_listed(&self, name: &str) -> Result<String, AuthError> {
        check_name(name).map_err(AuthError::InvalidInput)?;
        let mut names = self.names()?;
        order(&mut names);
        let listed: Vec<AccountInfo> =
            names.into_iter().filter(|n| n == name).map(|n| self.describe_store(n, None)).collect();
        select(Some(name), None, &listed)
    }
}
