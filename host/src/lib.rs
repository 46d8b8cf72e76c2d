/*!
codex-auth: "Sign in with ChatGPT (Codex)" credentials for your own tools.

Every decision (PKCE, URLs, token parsing, expiry, precedence, the
`auth.json` format) lives in a WebAssembly component, embedded in this
crate and run by wasmtime. This crate only does I/O for it: files and
locks, HTTP, the loopback listener, the clock.

```no_run
let auth = codex_auth::Auth::open(codex_auth::Options::from_env())?;
for (name, value) in auth.request_headers()?.iter() {
    println!("{name}: <{} bytes>", value.len());
}
# Ok::<(), codex_auth::Error>(())
```

One [`Auth`] serves many threads: calls are serialized on one guest
instance, so concurrent callers never race on the store.
*/

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod bindings;
mod clock;
mod credential;
mod error;
mod file_store;
mod imports;
mod nonblocking;
mod notifier;
mod runtime;
mod secret;
mod state;
mod status;

pub use clock::{Clock, SystemClock};
pub use credential::Credential;
pub use error::Error;
pub use file_store::{AUTH_FILE, LOCK_FILE};
pub use nonblocking::AsyncAuth;
pub use notifier::{LoginEvent, Notifier, Silent};
pub use runtime::{ComponentOrigin, GUEST_WASM, default_cache_dir};
pub use secret::{RequestHeaders, Secret};
pub use status::{Kind, Source, Status};

use bindings::session::Config;
use file_store::FileStore;
use state::{HostState, Shared};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use wasmtime::Store;
use wasmtime::component::ResourceAny;

/// The environment variable holding an API key, used when nothing is stored.
pub const API_KEY_VAR: &str = "OPENAI_API_KEY";
/// Variables that tell whether a browser can be used for signing in.
pub const LOGIN_ENV_VARS: [&str; 4] = ["DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY"];
/// The environment variable naming the store directory.
pub const HOME_VAR: &str = "CODEX_AUTH_HOME";
/// The environment variable overriding the issuer.
pub const ISSUER_VAR: &str = "CODEX_AUTH_ISSUER";
/// OpenAI's issuer.
pub const DEFAULT_ISSUER: &str = "https://auth.openai.com";
/// The Codex CLI's public OAuth client.
pub const DEFAULT_CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
/// The `originator` the Codex CLI sends.
pub const DEFAULT_ORIGINATOR: &str = "codex_cli_rs";

/// The claims codex-auth reads from a JWT.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claims {
    /// The ChatGPT account (workspace) id.
    pub account_id: Option<String>,
    /// The ChatGPT plan: free, plus, pro, team, business, enterprise, edu...
    pub plan: Option<String>,
    /// The ChatGPT user id.
    pub user_id: Option<String>,
    /// The account's email address.
    pub email: Option<String>,
    /// `exp`, Unix seconds.
    pub expires_at: Option<i64>,
}

/// What an authorize URL carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// Base URL of the issuer.
    pub issuer: String,
    /// The OAuth client id.
    pub client_id: String,
    /// `http://localhost:<port>/auth/callback`.
    pub redirect_uri: String,
    /// Space-separated scopes; `None` for the Codex CLI's default.
    pub scope: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The OAuth `state` the callback must carry back.
    pub state: String,
    /// The `originator` parameter, e.g. `codex_cli_rs`.
    pub originator: String,
    /// Restrict the sign-in to this workspace.
    pub allowed_workspace_id: Option<String>,
}

/// How to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    /// Browser on the loopback; device code when no browser can be used
    /// (SSH, no display) or no port can be bound.
    Auto,
    /// Browser with the loopback listener.
    Browser,
    /// Device code.
    Device,
    /// Browser elsewhere; the person pastes the redirect URL.
    Paste,
}

/// How a sign-in runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOptions {
    /// Which flow to use.
    pub method: LoginMethod,
    /// Open the browser (the URL is shown either way).
    pub open_browser: bool,
    /// Loopback ports to try in order; the issuer accepts 1455 and 1457.
    pub ports: Vec<u16>,
    /// Give up after this long.
    pub timeout: Duration,
}

impl Default for LoginOptions {
    fn default() -> Self {
        Self {
            method: LoginMethod::Auto,
            open_browser: true,
            ports: vec![1455, 1457],
            timeout: Duration::from_secs(600),
        }
    }
}

/// What logout did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutReport {
    /// A stored credential was removed.
    pub removed: bool,
    /// What became of the refresh token.
    pub revocation: Revocation,
}

/// What revoking the refresh token came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// No refresh token was stored.
    NotNeeded,
    /// The issuer accepted it.
    Revoked,
    /// It failed (why); the credential was removed anyway.
    Failed(String),
}

/// How an [`Auth`] is set up. Every path and URL is injectable.
#[derive(Clone)]
pub struct Options {
    /// The store directory (holds `auth.json` and `auth.lock`).
    pub home: PathBuf,
    /// Base URL of the issuer.
    pub issuer: String,
    /// The OAuth client id (the Codex CLI's public client by default).
    pub client_id: String,
    /// The `originator` sent when signing in.
    pub originator: String,
    /// Refresh when the access token expires within this.
    pub refresh_skew: Duration,
    /// Bound on waiting for the store lock.
    pub lock_timeout: Duration,
    /// Bound on each HTTP request.
    pub http_timeout: Duration,
    /// The API key to fall back on (never written to disk).
    pub api_key: Option<String>,
    /// Variables the guest reads to judge whether a browser can be used
    /// ([`LOGIN_ENV_VARS`]).
    pub environment: Vec<(String, String)>,
    /// Where compiled code is cached; `None` compiles every start.
    pub cache_dir: Option<PathBuf>,
    /// The most linear memory the guest may use.
    pub max_guest_memory: usize,
    /// The guest's clock.
    pub clock: Arc<dyn Clock>,
    /// Where sign-in progress goes.
    pub notifier: Arc<dyn Notifier>,
}

impl Options {
    /// Options for a store directory, with defaults for everything else and
    /// nothing read from the environment.
    pub fn new(home: impl Into<PathBuf>) -> Self {
        Self {
            home: home.into(),
            issuer: DEFAULT_ISSUER.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            originator: DEFAULT_ORIGINATOR.into(),
            refresh_skew: Duration::from_secs(5 * 60),
            lock_timeout: Duration::from_secs(30),
            http_timeout: Duration::from_secs(30),
            api_key: None,
            environment: Vec::new(),
            cache_dir: None,
            max_guest_memory: 64 << 20,
            clock: Arc::new(SystemClock),
            notifier: Arc::new(Silent),
        }
    }

    /// Options from the environment: `CODEX_AUTH_HOME` (default
    /// `~/.codex-auth`), `CODEX_AUTH_ISSUER`, `OPENAI_API_KEY`, and the
    /// compiled-code cache of [`default_cache_dir`].
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let home = var(HOME_VAR).map(PathBuf::from).unwrap_or_else(default_home);
        let mut options = Self::new(home);
        if let Some(issuer) = var(ISSUER_VAR) {
            options.issuer = issuer;
        }
        options.api_key = var(API_KEY_VAR);
        options.environment =
            LOGIN_ENV_VARS.iter().filter_map(|&name| Some((name.to_owned(), var(name)?))).collect();
        options.cache_dir = default_cache_dir();
        options
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("home", &self.home)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("cache_dir", &self.cache_dir)
            .finish_non_exhaustive()
    }
}

/// `~/.codex-auth`, or `.codex-auth` when there is no home directory.
pub fn default_home() -> PathBuf {
    std::env::home_dir().unwrap_or_default().join(".codex-auth")
}

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
