//! The calls on the account in use: tokens and headers, the pool's choice
//! and what it learns, refresh, 401 recovery, logout, and signing in.

use super::instances::{Resource, session, vault};
use super::{Auth, saturate};
use crate::{
    Attempt, CheckOutcome, Credential, Error, Learned, LoginOptions, LogoutReport, RequestHeaders, Route,
    Secret, Status, Upstream, UsageReport, bindings,
};

impl Auth {
    /// Ready headers for one conversation: the pool chooses the account
    /// (the session's while it is usable, else the pinned one, else by the
    /// strategy; [`Options::account`](crate::Options::account) overrides) and says which. Report what
    /// the upstream answered with [`Auth::report`].
    ///
    /// ```no_run
    /// use codex_auth::{Attempt, Auth, Options, Upstream, Verdict};
    /// let auth = Auth::open(Options::from_env())?;
    /// let (account, headers) = auth.headers_for(Some("conversation-42"))?;
    /// // ... send the request with `headers`; it answered 429:
    /// # let (status, answer_headers, body) = (429u16, Vec::<(String, String)>::new(), Vec::<u8>::new());
    /// let answer = Upstream::Answer { status, headers: &answer_headers, body: &body };
    /// let learned = auth.report(&account, answer, Attempt::FIRST)?;
    /// if learned.verdict == Verdict::RotateAndReplay {
    ///     let (sibling, headers) = auth.headers_for(Some("conversation-42"))?; // another account
    /// }
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn headers_for(&self, session_key: Option<&str>) -> Result<(String, RequestHeaders), Error> {
        self.headers_for_request(session_key, None)
    }

    /// [`Auth::headers_for`] a request of `model`: an account where a meter
    /// that model met is spent is skipped for it (and still used for other
    /// models). Set the same model in the [`Attempt`] you report with, so a
    /// usage limit that names no meter blocks that model only.
    pub fn headers_for_request(
        &self,
        session_key: Option<&str>,
        model: Option<&str>,
    ) -> Result<(String, RequestHeaders), Error> {
        self.route(session_key, model).map(|r| (r.account, r.headers))
    }

    /// [`Auth::headers_for_request`] as a verdict a host may cache: the
    /// account, its headers, and until when both may be reused for the same
    /// session key and model without asking again ([`Route::valid_until_ms`]:
    /// the earlier of the pool's and the token's). Ask again sooner when
    /// [`Auth::report`] of that account's answer says [`Learned::reroute`].
    pub fn route(&self, session_key: Option<&str>, model: Option<&str>) -> Result<Route, Error> {
        let explicit = self.options.account.clone();
        let choice = self.instances.vault_call(|i| {
            vault(&i.guest).call_choose(&mut i.store, i.resource, explicit.as_deref(), session_key, model)
        })?;
        let verdict = self.instances.session_call(&choice.account, |i| {
            session(&i.guest).call_request_headers_verdict(&mut i.store, i.resource)
        })?;
        Ok(Route {
            account: choice.account,
            headers: RequestHeaders::new(verdict.headers),
            valid_until_ms: choice.valid_until.min(verdict.valid_until),
        })
    }

    /// Tells the pool what the upstream answered for `account`: rate-limit
    /// headers update its usage; a `usage_limit_reached` (a 429, or a
    /// `response.failed` event) blocks it until its reset, for every process;
    /// a 401 says to call [`Auth::unauthorized`].
    pub fn report(&self, account: &str, upstream: Upstream<'_>, attempt: Attempt) -> Result<Learned, Error> {
        let upstream = match upstream {
            Upstream::Answer { status, headers, body } => {
                bindings::vault::Upstream::Answer(bindings::vault::UpstreamAnswer {
                    status,
                    headers: headers.to_vec(),
                    body: body.to_vec(),
                })
            }
            Upstream::Event(event) => bindings::vault::Upstream::StreamEvent(event.to_vec()),
        };
        let learned: Learned = self.instances.vault_call(|i| {
            vault(&i.guest).call_report(&mut i.store, i.resource, account, &upstream, &attempt)
        })?;
        if learned.blocked_until.is_some() {
            self.forget_selection();
        }
        Ok(learned)
    }

    /// Every account's usage: cached and shared by every process, fetched
    /// anew at most once per account per five minutes (give or take a quarter).
    pub fn usage(&self) -> Result<Vec<UsageReport>, Error> {
        self.accounts()?
            .iter()
            .map(|a| {
                self.instances.vault_call(|i| vault(&i.guest).call_usage(&mut i.store, i.resource, &a.name))
            })
            .collect()
    }

    /// Adds what a server served with `account` since it last said so to
    /// today's totals (UTC) in the account's pool state, shared by every
    /// process (a fleet on one database sees one total). `counts.day` is
    /// ignored: the guest dates it.
    pub fn record_served(&self, account: &str, counts: &crate::DayServed) -> Result<(), Error> {
        let counts = bindings::vault::DayServed {
            day: String::new(),
            requests: counts.requests,
            input_tokens: counts.input_tokens,
            output_tokens: counts.output_tokens,
            cached_tokens: counts.cached_tokens,
        };
        self.instances
            .vault_call(|i| vault(&i.guest).call_record_served(&mut i.store, i.resource, account, &counts))
    }

    /// Probes every account in turn (a refresh when due, then a usage
    /// request, each bounded in time): ok, failed with why, unverifiable, or
    /// skipped.
    pub fn check(&self) -> Result<Vec<(String, CheckOutcome)>, Error> {
        let mut outcomes = Vec::new();
        for account in self.accounts()? {
            let outcome = self.instances.vault_call(|i| {
                Ok(vault(&i.guest)
                    .call_check(&mut i.store, i.resource, &account.name)?
                    .map(CheckOutcome::from))
            })?;
            outcomes.push((account.name, outcome));
        }
        Ok(outcomes)
    }

    /// What is signed in and from where. Read without any lock: it never
    /// waits behind a refresh.
    pub fn status(&self) -> Result<Status, Error> {
        let account = self.current_account()?;
        self.instances.vault_call(|i| {
            Ok(vault(&i.guest).call_status(&mut i.store, i.resource, &account)?.map(Status::from))
        })
    }

    /// Whether a credential is available.
    pub fn authenticated(&self) -> Result<bool, Error> {
        let account = self.current_account()?;
        self.instances.session(&account, |i| session(&i.guest).call_authenticated(&mut i.store, i.resource))
    }

    /// The bearer token to send (access token or API key).
    pub fn access_token(&self) -> Result<Secret, Error> {
        self.session_call(|i| {
            Ok(session(&i.guest).call_access_token(&mut i.store, i.resource)?.map(Secret::new))
        })
    }

    /// Ready request headers, refreshed first when the token is due.
    ///
    /// ```no_run
    /// # let auth = codex_auth::Auth::open(codex_auth::Options::from_env())?;
    /// let headers = auth.request_headers()?;
    /// let authorization = headers.get("Authorization").expect("always present");
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn request_headers(&self) -> Result<RequestHeaders, Error> {
        self.session_call(|i| {
            Ok(session(&i.guest).call_request_headers(&mut i.store, i.resource)?.map(RequestHeaders::new))
        })
    }

    /// Refreshes the tokens if they are due (always, with `force`).
    pub fn refresh(&self, force: bool) -> Result<Status, Error> {
        self.session_call(|i| {
            Ok(session(&i.guest).call_refresh(&mut i.store, i.resource, force)?.map(Status::from))
        })
    }

    /// 401 recovery: the API rejected `previous`. Returns the token to retry
    /// with: one another process stored meanwhile, else a refreshed one; else
    /// [`Error::LoginRequired`].
    ///
    /// ```no_run
    /// # let auth = codex_auth::Auth::open(codex_auth::Options::from_env())?;
    /// # let send = |_: &str| 401;
    /// let token = auth.access_token()?;
    /// if send(token.expose()) == 401 {
    ///     let retry = auth.unauthorized(&token)?; // Err(LoginRequired) when nothing helps
    ///     send(retry.expose());
    /// }
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn unauthorized(&self, previous: &Secret) -> Result<Secret, Error> {
        self.session_call(|i| {
            let r = session(&i.guest).call_unauthorized(&mut i.store, i.resource, previous.expose())?;
            Ok(r.map(Secret::new))
        })
    }

    /// Revokes the refresh token of the account in use (best effort), then
    /// forgets its credential. A failed revocation is reported, not an error.
    pub fn logout(&self) -> Result<LogoutReport, Error> {
        let report = self.session_call(|i| session(&i.guest).call_logout(&mut i.store, i.resource))?;
        self.forget_selection();
        Ok(report)
    }

    /// Reads the stores again (after another writer changed them), choosing
    /// the account anew.
    pub fn reload(&self) -> Result<(), Error> {
        self.forget_selection();
        self.session_call(|i| session(&i.guest).call_reload(&mut i.store, i.resource))
    }

    /// Stores a credential in [`Options::account`](crate::Options::account) (else the pinned account,
    /// else the home's own), replacing that account's atomically. No other
    /// account is touched.
    pub fn set_credential(&self, credential: Credential) -> Result<Status, Error> {
        self.store_credential(None, credential)
    }

    /// Stores a credential in account `name` (created when new), replacing
    /// only that account's. An API key can be an account too.
    ///
    /// ```no_run
    /// use codex_auth::{Auth, Credential, Options};
    /// let auth = Auth::open(Options::from_env())?;
    /// auth.store_credential(Some("ci-key"), Credential::ApiKey("sk-...".into()))?;
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn store_credential(&self, name: Option<&str>, credential: Credential) -> Result<Status, Error> {
        let account = self.target(name)?;
        let credential = credential.into_wit();
        self.instances.session(&account, |i| {
            session(&i.guest).call_set_credential(&mut i.store, i.resource, &credential)
        })??;
        self.forget_selection();
        self.account_status(&account)
    }

    /// Signs in to [`LoginOptions::account`](crate::LoginOptions::account) (else [`Options::account`](crate::Options::account), else
    /// the pinned account, else the home's own) and stores the credential
    /// there, replacing only that account's; every other account is left
    /// as it is, and nothing is revoked.
    ///
    /// The sign-in runs on a guest instance of its own: other threads keep
    /// getting tokens and headers from this `Auth` while it waits.
    ///
    /// ```no_run
    /// use codex_auth::{Auth, LoginMethod, LoginOptions, Options};
    /// let auth = Auth::open(Options::from_env())?;
    /// let login = LoginOptions { account: Some("work".into()), method: LoginMethod::Device, ..LoginOptions::default() };
    /// let status = auth.login(&login)?;
    /// println!("signed in to {:?}", status.account);
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn login(&self, login: &LoginOptions) -> Result<Status, Error> {
        let account = self.target(login.account.as_deref())?;
        let options = bindings::session::LoginOptions {
            method: login.method,
            open_browser: login.open_browser,
            port: login.port,
            fallback_port: login.fallback_port,
            timeout_seconds: login.timeout.map(|t| saturate(t.as_secs())),
            os: std::env::consts::OS.to_owned(),
        };
        let mut instance = self.instances.fresh(Resource::Session(&account))?;
        let result = session(&instance.guest).call_login(&mut instance.store, instance.resource, &options);
        let status = result.map_err(|trap| Error::GuestTrap(trap.root_cause().to_string()))??;
        self.forget_selection();
        // The account's long-lived session must not serve what it read before.
        self.instances
            .session(&account, |i| session(&i.guest).call_reload(&mut i.store, i.resource))?
            .map_err(Error::from)?;
        Ok(Status::from(status))
    }
}
