//! [`Auth`]: one store's credential manager, driving one guest instance.

use crate::bindings::{self, session::Config};
use crate::file_store::FileStore;
use crate::state::{HostState, Shared};
use crate::{
    AUTH_FILE, AuthorizeRequest, Claims, ComponentOrigin, Credential, Error, LoginMethod, LoginOptions,
    LogoutReport, Options, RequestHeaders, Revocation, Secret, Status, runtime,
};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

/// The credential manager of one store.
pub struct Auth {
    options: Options,
    shared: Arc<Shared>,
    runtime: &'static runtime::Runtime,
    slot: Mutex<Option<Instance>>,
}

/// A live guest instance and its session.
struct Instance {
    store: Store<HostState>,
    guest: bindings::Guest,
    session: ResourceAny,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth").field("options", &self.options).finish_non_exhaustive()
    }
}

impl Auth {
    /// Sets up the engine (once per process) and a session for `options.home`.
    /// Nothing is read from the store until first use.
    ///
    /// ```no_run
    /// use codex_auth::{Auth, Options};
    /// // A store of its own, an issuer of its own (e.g. for tests):
    /// let mut options = Options::new("/tmp/my-app-auth");
    /// options.issuer = "http://127.0.0.1:8080".into();
    /// let auth = Auth::open(options)?;
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn open(options: Options) -> Result<Self, Error> {
        let runtime = runtime::get(options.cache_dir.as_deref()).map_err(Error::Engine)?;
        let shared = Arc::new(Shared {
            clock: options.clock.clone(),
            notifier: options.notifier.clone(),
            http: OnceLock::new(),
            api_key: options.api_key.clone(),
            environment: options.environment.clone(),
        });
        let auth = Self { options, shared, runtime, slot: Mutex::new(None) };
        auth.with_instance(|_| Ok(()))?;
        Ok(auth)
    }

    /// The store file's path.
    pub fn store_path(&self) -> PathBuf {
        self.options.home.join(AUTH_FILE)
    }

    /// How the compiled guest was obtained by this process.
    pub fn component_origin(&self) -> &ComponentOrigin {
        &self.runtime.origin
    }

    /// The options this was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// What is signed in and from where.
    pub fn status(&self) -> Result<Status, Error> {
        self.call(|i| {
            let r = i.guest.codex_auth_session().session().call_status(&mut i.store, i.session)?;
            Ok(r.map(Status::from))
        })
    }

    /// Whether a credential is available.
    pub fn authenticated(&self) -> Result<bool, Error> {
        self.with_instance(|i| {
            i.guest.codex_auth_session().session().call_authenticated(&mut i.store, i.session)
        })
    }

    /// The bearer token to send (access token or API key).
    pub fn access_token(&self) -> Result<Secret, Error> {
        self.call(|i| {
            let r = i.guest.codex_auth_session().session().call_access_token(&mut i.store, i.session)?;
            Ok(r.map(Secret::new))
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
        self.call(|i| {
            let r = i.guest.codex_auth_session().session().call_request_headers(&mut i.store, i.session)?;
            Ok(r.map(RequestHeaders::new))
        })
    }

    /// Stores a credential, replacing the stored one atomically.
    pub fn set_credential(&self, credential: Credential) -> Result<(), Error> {
        let credential = credential.into_wit();
        self.call(|i| {
            i.guest.codex_auth_session().session().call_set_credential(&mut i.store, i.session, &credential)
        })
    }

    /// Copies the credential of a Codex CLI `auth.json` into this store. The
    /// source is only read.
    pub fn import(&self, path: &Path) -> Result<Status, Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Storage(format!("cannot read {}: {e}", path.display())))?;
        let parsed =
            self.with_instance(|i| i.guest.codex_auth_auth_file().call_read(&mut i.store, &bytes))?;
        let stored = parsed.map_err(|reason| Error::CorruptStore { path: path.to_owned(), reason })?;
        let credential = stored.credential.ok_or_else(|| {
            Error::InvalidInput(format!("{} holds no credential to import", path.display()))
        })?;
        self.call(|i| {
            i.guest.codex_auth_session().session().call_set_credential(&mut i.store, i.session, &credential)
        })?;
        self.status()
    }

    /// Revokes the refresh token (best effort), then forgets the stored
    /// credential. A failed revocation is reported, not an error.
    pub fn logout(&self) -> Result<LogoutReport, Error> {
        let report =
            self.call(|i| i.guest.codex_auth_session().session().call_logout(&mut i.store, i.session))?;
        Ok(LogoutReport {
            removed: report.removed,
            revocation: match report.revocation {
                bindings::session::Revocation::NotNeeded => Revocation::NotNeeded,
                bindings::session::Revocation::Revoked => Revocation::Revoked,
                bindings::session::Revocation::Failed(why) => Revocation::Failed(why),
            },
        })
    }

    /// Signs in and stores the credential, replacing the old one atomically.
    ///
    /// The sign-in runs on a guest instance of its own: other threads keep
    /// getting tokens and headers from this `Auth` while it waits.
    ///
    /// ```no_run
    /// use codex_auth::{Auth, LoginMethod, LoginOptions, Options};
    /// let auth = Auth::open(Options::from_env())?;
    /// let status = auth.login(&LoginOptions { method: LoginMethod::Device, ..LoginOptions::default() })?;
    /// println!("signed in to {:?}", status.account_id);
    /// # Ok::<(), codex_auth::Error>(())
    /// ```
    pub fn login(&self, login: &LoginOptions) -> Result<Status, Error> {
        let options = bindings::session::LoginOptions {
            method: match login.method {
                LoginMethod::Auto => bindings::session::LoginMethod::Auto,
                LoginMethod::Browser => bindings::session::LoginMethod::Browser,
                LoginMethod::Device => bindings::session::LoginMethod::Device,
                LoginMethod::Paste => bindings::session::LoginMethod::Paste,
            },
            open_browser: login.open_browser,
            ports: login.ports.clone(),
            timeout_seconds: saturate(login.timeout.as_secs()),
            os: std::env::consts::OS.to_owned(),
        };
        let mut instance = self.instantiate()?;
        let result = instance.guest.codex_auth_session().session().call_login(
            &mut instance.store,
            instance.session,
            &options,
        );
        let status = result.map_err(|trap| Error::GuestTrap(trap.root_cause().to_string()))??;
        self.reload()?;
        Ok(Status::from(status))
    }

    /// Refreshes the tokens if they are due (always, with `force`).
    pub fn refresh(&self, force: bool) -> Result<Status, Error> {
        self.call(|i| {
            let r = i.guest.codex_auth_session().session().call_refresh(&mut i.store, i.session, force)?;
            Ok(r.map(Status::from))
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
        self.call(|i| {
            let session = i.guest.codex_auth_session().session();
            let r = session.call_unauthorized(&mut i.store, i.session, previous.expose())?;
            Ok(r.map(Secret::new))
        })
    }

    /// The claims of a JWT (id or access token), read without verification.
    pub fn claims(&self, jwt: &str) -> Result<Claims, Error> {
        let parsed = self.with_instance(|i| i.guest.codex_auth_claims().call_parse(&mut i.store, jwt))?;
        let c = parsed.map_err(|e| Error::InvalidInput(format!("not a readable JWT: {e:?}")))?;
        Ok(Claims {
            account_id: c.account_id,
            plan: c.plan,
            user_id: c.user_id,
            email: c.email,
            expires_at: c.expires_at,
        })
    }

    /// The authorize URL for a browser sign-in, exactly as `login` builds it.
    pub fn authorize_url(&self, request: &AuthorizeRequest) -> Result<String, Error> {
        let r = bindings::authorize::AuthorizeRequest {
            issuer: request.issuer.clone(),
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scope.clone(),
            code_challenge: request.code_challenge.clone(),
            state: request.state.clone(),
            originator: request.originator.clone(),
            allowed_workspace_id: request.allowed_workspace_id.clone(),
        };
        let url =
            self.with_instance(|i| i.guest.codex_auth_authorize().call_authorize_url(&mut i.store, &r))?;
        url.map_err(Error::InvalidInput)
    }

    /// A PKCE pair (RFC 7636, S256) whose verifier is base64url of
    /// `entropy` (32 to 96 bytes). Returns (verifier, challenge).
    pub fn pkce(&self, entropy: &[u8]) -> Result<(Secret, String), Error> {
        let pair =
            self.with_instance(|i| i.guest.codex_auth_pkce().call_from_entropy(&mut i.store, entropy))?;
        let pair = pair.map_err(|e| Error::InvalidInput(format!("no PKCE pair from this entropy: {e:?}")))?;
        Ok((Secret::new(pair.verifier), pair.challenge))
    }

    /// Reads the store again (after another writer changed it).
    pub fn reload(&self) -> Result<(), Error> {
        self.call(|i| i.guest.codex_auth_session().session().call_reload(&mut i.store, i.session))
    }

    /// Runs a session call whose result is the guest's `result<_, auth-error>`.
    fn call<R>(
        &self,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<Result<R, bindings::types::AuthError>>,
    ) -> Result<R, Error> {
        self.with_instance(f)?.map_err(Error::from)
    }

    /// Runs `f` on the instance, making one first. A trap discards the
    /// instance (it cannot be entered again) and its store lock with it.
    fn with_instance<R>(&self, f: impl FnOnce(&mut Instance) -> wasmtime::Result<R>) -> Result<R, Error> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        let instance = match slot.take() {
            Some(instance) => slot.insert(instance),
            None => slot.insert(self.instantiate()?),
        };
        match f(instance) {
            Ok(r) => Ok(r),
            Err(trap) => {
                *slot = None;
                Err(Error::GuestTrap(trap.root_cause().to_string()))
            }
        }
    }

    fn instantiate(&self) -> Result<Instance, Error> {
        let o = &self.options;
        let state = HostState::new(FileStore::new(&o.home), self.shared.clone(), o.max_guest_memory);
        let (mut store, guest) =
            runtime::instantiate(self.runtime, state).map_err(|e| Error::Engine(e.to_string()))?;
        let config = Config {
            issuer: o.issuer.clone(),
            client_id: o.client_id.clone(),
            originator: o.originator.clone(),
            refresh_skew_seconds: saturate(o.refresh_skew.as_secs()),
            lock_timeout_ms: saturate(o.lock_timeout.as_millis()),
            http_timeout_ms: saturate(o.http_timeout.as_millis()),
        };
        let session = guest
            .codex_auth_session()
            .session()
            .call_constructor(&mut store, &config)
            .map_err(|e| Error::GuestTrap(e.root_cause().to_string()))?;
        Ok(Instance { store, guest, session })
    }
}

fn saturate(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}
