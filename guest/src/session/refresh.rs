//! Refreshing tokens without ever presenting a refresh token twice.
//!
//! The rule that makes it safe: a refresh request only ever carries the
//! refresh token read from the store *under the store lock*, and its answer
//! is written before the lock is released. Whoever comes next, in this
//! process or another, reads the rotated token and, when it is fresh, sends
//! nothing at all.

use crate::error::AuthError;
use crate::oauth::jwt;
use crate::oauth::oauth_error::OAuthError;
use crate::oauth::responses::{self, RefreshFailure, TokenGrant};
use crate::platform::{Notice, Platform, RefreshOutcome, RefreshReport};
use crate::session::endpoints::Endpoints;
use crate::session::policy::{self, RefreshDecision};
use crate::session::{Need, PROACTIVE_TIMEOUT_MS, Session};
use crate::store::auth_file::{self, ChatGptTokens, Credential, StoredAuth};

/// What one attempt came to.
enum Attempt {
    Done,
    /// A transient failure with attempts left: pause, lock, re-read, retry.
    Retry,
    /// The issuer rotated the tokens but the store could not take them (a
    /// database that went away mid-refresh): `sent` is spent, so `fresh`
    /// holds the only good refresh token.
    Unwritten {
        fresh: Box<StoredAuth>,
        sent: String,
        why: String,
    },
    /// On a store the Codex CLI also uses, the issuer said `sent` was used
    /// already: Codex refreshed first and writes once it has the lock.
    Reused {
        sent: String,
        error: OAuthError,
    },
}

/// Attempts at a refresh whose access token has already expired.
const EXPIRED_ATTEMPTS: u32 = 3;
/// The first pause between attempts; it doubles.
const FIRST_BACKOFF_MS: u64 = 500;
/// The longest pause between tries to write rotated tokens.
const MAX_PERSIST_PAUSE_MS: u64 = 2_000;
/// How long a peer that refreshed first (the Codex CLI) may take to store
/// its answer once the lock is free, and how often the store is re-read
/// meanwhile.
pub const PEER_WRITE_GRACE_MS: i64 = 5_000;
const PEER_POLL_MS: u64 = 100;

impl<P: Platform> Session<P> {
    /// Refreshes under the store lock when `need` says so. Returns whether
    /// the stored tokens are usable afterwards.
    ///
    /// Each attempt takes the lock, re-reads the store, decides, sends at
    /// most one request, writes and releases. A pause before another attempt
    /// is taken with the lock released, and the next attempt re-reads: a
    /// peer may have refreshed meanwhile, and then nothing is sent.
    pub(crate) fn refresh_under_lock(&self, need: &Need) -> Result<(), AuthError> {
        let mut backoff = FIRST_BACKOFF_MS;
        let mut attempt = 1;
        loop {
            match self.refresh_attempt(need, attempt)? {
                Attempt::Done => return Ok(()),
                Attempt::Unwritten { fresh, sent, why } => return self.persist_rotated(*fresh, &sent, why),
                Attempt::Reused { sent, error } => return self.await_peer(&sent, error),
                Attempt::Retry => {
                    // The guard is gone: nobody waits on this pause.
                    self.platform.sleep_ms(backoff);
                    backoff *= 2;
                    attempt += 1;
                }
            }
        }
    }

    /// One attempt, wholly under the store lock.
    fn refresh_attempt(&self, need: &Need, attempt: u32) -> Result<Attempt, AuthError> {
        let _lock = self.lock()?;
        let account = &self.config.account;
        let previous = self.platform.load(account)?;
        let stored = self.parse(previous.as_deref())?;
        let Some(Credential::Chatgpt(tokens)) = stored.credential.clone() else {
            // Nothing to refresh (logged out, or an API key meanwhile).
            self.adopt(stored);
            return Ok(Attempt::Done);
        };
        if let Some(dead) = stored.login_required.clone() {
            self.adopt(stored);
            return Err(AuthError::LoginRequired(dead));
        }
        let decision = self.decision(&tokens, stored.last_refresh);
        let needed = match need {
            Need::IfDue => decision != RefreshDecision::Fresh,
            Need::Always => true,
            Need::Replace(rejected) => tokens.access_token == *rejected,
        };
        if !needed {
            self.adopt(stored);
            return Ok(Attempt::Done);
        }
        // A still-valid token is worth little waiting; an expired one is.
        // Either way the request ends well before a waiter's lock timeout.
        let timeout_ms = match decision {
            RefreshDecision::Expired => self.request_bound_ms(),
            _ => self.request_bound_ms().min(PROACTIVE_TIMEOUT_MS),
        };
        let answer = self.send_refresh(&tokens.refresh_token, timeout_ms)?;
        let outcome = match &answer {
            Ok(_) => RefreshOutcome::Rotated,
            Err(RefreshFailure::Permanent(error)) if error.code == REUSED => RefreshOutcome::Reused,
            Err(RefreshFailure::Permanent(_)) => RefreshOutcome::Refused,
            Err(RefreshFailure::Transient(_)) => RefreshOutcome::Transient,
        };
        self.platform.notify(Notice::Refreshed(RefreshReport { account: account.clone(), outcome }));
        match answer {
            Ok(grant) => {
                let sent = tokens.refresh_token.clone();
                let fresh = StoredAuth {
                    credential: Some(Credential::Chatgpt(merge(tokens, grant))),
                    last_refresh: Some(self.now_seconds()),
                    login_required: None,
                };
                // Persisted before anyone is handed the new token.
                match self.write(previous.as_deref(), fresh.clone()) {
                    Ok(()) => Ok(Attempt::Done),
                    Err(AuthError::Storage(why)) => {
                        Ok(Attempt::Unwritten { fresh: Box::new(fresh), sent, why })
                    }
                    Err(e) => Err(e),
                }
            }
            Err(RefreshFailure::Permanent(error)) if error.code == REUSED && self.shared() => {
                self.adopt(stored);
                Ok(Attempt::Reused { sent: tokens.refresh_token, error })
            }
            Err(RefreshFailure::Permanent(error)) => {
                self.mark_login_required(previous.as_deref(), stored, &tokens, error).map(|()| Attempt::Done)
            }
            Err(RefreshFailure::Transient(why)) => {
                self.adopt(stored);
                let attempts = if decision == RefreshDecision::Expired { EXPIRED_ATTEMPTS } else { 1 };
                if attempt < attempts {
                    return Ok(Attempt::Retry);
                }
                Err(AuthError::Transport(match decision {
                    RefreshDecision::Expired => format!(
                        "{why}; the access token has expired, so there is none to use until a refresh succeeds"
                    ),
                    _ => why,
                }))
            }
        }
    }

    /// Keeps rotated tokens the store could not take: this session uses
    /// them at once, and they are written as soon as the store is back
    /// (within the lock timeout), each try taking the lock and re-reading,
    /// and writing only while the store still holds the refresh token that
    /// was sent (a compare-and-set: a peer's newer sign-in is never
    /// overwritten). Pauses are taken with the lock released. A store that
    /// stays away is an error that says the rotation is lost.
    fn persist_rotated(&self, fresh: StoredAuth, sent: &str, mut why: String) -> Result<(), AuthError> {
        self.adopt(fresh.clone());
        let deadline = self.platform.now_ms().saturating_add(i64::from(self.config.lock_timeout_ms));
        let mut pause = FIRST_BACKOFF_MS / 2;
        while self.platform.now_ms() < deadline {
            self.platform.sleep_ms(pause);
            pause = (pause * 2).min(MAX_PERSIST_PAUSE_MS);
            match self.persist_if_unchanged(&fresh, sent) {
                Ok(()) => return Ok(()),
                Err(AuthError::Storage(again)) => why = again,
                Err(AuthError::LockTimeout(ms)) => {
                    why = format!("the store lock was held for more than {ms} ms")
                }
                Err(e) => return Err(e),
            }
        }
        Err(AuthError::Storage(format!(
            "{why}; the refreshed tokens could not be written, and the issuer has retired the stored \
             refresh token: sign in again if this account stops working"
        )))
    }

    /// The issuer says `sent` was used already, on a store the Codex CLI
    /// also uses: Codex sent it first (it refreshes before it locks) and
    /// stores its answer once it gets `auth.lock`, which this session has
    /// just released. So the store is re-read, unlocked, for a short grace;
    /// a newer login found there is used. Only a store that still holds
    /// `sent` after that, checked under the lock, disables the account.
    fn await_peer(&self, sent: &str, error: OAuthError) -> Result<(), AuthError> {
        let deadline = self.platform.now_ms().saturating_add(PEER_WRITE_GRACE_MS);
        loop {
            let stored = self.read_store()?;
            if holds_another_login(&stored, sent) {
                self.adopt_peer_login(stored);
                return Ok(());
            }
            if self.platform.now_ms() >= deadline {
                break;
            }
            self.platform.sleep_ms(PEER_POLL_MS);
        }
        let _lock = self.lock()?;
        let previous = self.platform.load(&self.config.account)?;
        let stored = self.parse(previous.as_deref())?;
        match stored.credential.clone() {
            Some(Credential::Chatgpt(tokens)) if tokens.refresh_token == sent => {
                self.mark_login_required(previous.as_deref(), stored, &tokens, error)
            }
            _ => {
                self.adopt_peer_login(stored);
                Ok(())
            }
        }
    }

    /// Uses a login another program stored after the one this session sent,
    /// and says so.
    fn adopt_peer_login(&self, stored: StoredAuth) {
        let signed_in = matches!(stored.credential, Some(Credential::Chatgpt(_)));
        self.adopt(stored);
        if signed_in {
            self.platform.notify(crate::platform::Notice::PeerRefreshed(self.config.account.clone()));
        }
    }

    fn persist_if_unchanged(&self, fresh: &StoredAuth, sent: &str) -> Result<(), AuthError> {
        let _lock = self.lock()?;
        let previous = self.platform.load(&self.config.account)?;
        let stored = self.parse(previous.as_deref())?;
        match &stored.credential {
            Some(Credential::Chatgpt(tokens)) if tokens.refresh_token == sent => {
                self.write(previous.as_deref(), fresh.clone())
            }
            // Someone wrote since (a new sign-in): theirs stands.
            _ => {
                self.adopt(stored);
                Ok(())
            }
        }
    }

    /// One refresh request. Transport failures count as transient.
    fn send_refresh(
        &self,
        refresh_token: &str,
        timeout_ms: u32,
    ) -> Result<Result<TokenGrant, RefreshFailure>, AuthError> {
        let endpoints = Endpoints::new(&self.config.issuer)?;
        let body = serde_json::json!({
            "client_id": self.config.client_id,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        });
        let answer = match self.post_within(
            endpoints.token(),
            "application/json",
            body.to_string().into_bytes(),
            timeout_ms,
        ) {
            Ok(answer) => answer,
            Err(AuthError::Transport(why)) => return Ok(Err(RefreshFailure::Transient(why))),
            Err(e) => return Err(e),
        };
        if !(200..300).contains(&answer.status) {
            return Ok(Err(responses::classify_refresh_error(answer.status, &answer.body)));
        }
        Ok(responses::parse_token_response(answer.status, &answer.body)
            .map_err(|e| RefreshFailure::Transient(e.to_string())))
    }

    /// The issuer refused the refresh token for good. Unless a peer rotated
    /// the store meanwhile (then its tokens are used), remember it in the
    /// store so the token is never sent again; the credential is kept.
    fn mark_login_required(
        &self,
        previous: Option<&[u8]>,
        mut stored: StoredAuth,
        sent: &ChatGptTokens,
        error: OAuthError,
    ) -> Result<(), AuthError> {
        let now = self.parse(self.platform.load(&self.config.account)?.as_deref())?;
        if holds_another_login(&now, &sent.refresh_token) {
            self.adopt_peer_login(now);
            return Ok(());
        }
        stored.login_required = Some(error.clone());
        self.write(previous, stored)?;
        self.platform.notify(crate::platform::Notice::AccountDisabled(crate::platform::AccountDisabled {
            account: self.config.account.clone(),
            reason: error.to_string(),
        }));
        Err(AuthError::LoginRequired(error))
    }

    pub(crate) fn decision(&self, tokens: &ChatGptTokens, last_refresh: Option<i64>) -> RefreshDecision {
        let expires_at = jwt::parse(&tokens.access_token).ok().and_then(|c| c.expires_at);
        policy::decide_refresh(expires_at, last_refresh, self.now_seconds(), self.skew_seconds())
    }

    fn parse(&self, bytes: Option<&[u8]>) -> Result<StoredAuth, AuthError> {
        bytes.map_or(Ok(StoredAuth::default()), |b| auth_file::read(b).map_err(|reason| self.corrupt(reason)))
    }
}

/// The issuer's code for a refresh token presented a second time.
const REUSED: &str = "refresh_token_reused";

/// Whether `stored` holds a ChatGPT login other than the one whose refresh
/// token was `sent`.
fn holds_another_login(stored: &StoredAuth, sent: &str) -> bool {
    matches!(&stored.credential, Some(Credential::Chatgpt(t)) if t.refresh_token != sent)
}

/// The rotated tokens: what the answer holds, the old values for the rest.
fn merge(old: ChatGptTokens, grant: TokenGrant) -> ChatGptTokens {
    let account_id = match &grant.id_token {
        Some(id) => jwt::parse(id).ok().and_then(|c| c.account_id).or(old.account_id),
        None => old.account_id,
    };
    ChatGptTokens {
        id_token: grant.id_token.unwrap_or(old.id_token),
        access_token: grant.access_token.unwrap_or(old.access_token),
        refresh_token: grant.refresh_token.unwrap_or(old.refresh_token),
        account_id,
    }
}
