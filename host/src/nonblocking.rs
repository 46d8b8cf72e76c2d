//! [`Auth`] for async code: every call runs on tokio's blocking pool, so a
//! refresh or a sign-in never stalls the runtime's worker threads.

use crate::{Auth, Error, LoginOptions, RequestHeaders, Secret, Status};
use std::sync::Arc;

/// A cheaply cloned, async handle to an [`Auth`].
///
/// ```no_run
/// # async fn demo() -> Result<(), codex_auth::Error> {
/// let auth = codex_auth::AsyncAuth::new(codex_auth::Auth::open(codex_auth::Options::from_env())?);
/// let headers = auth.request_headers().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AsyncAuth {
    inner: Arc<Auth>,
}

impl AsyncAuth {
    /// Wraps an `Auth`.
    pub fn new(auth: Auth) -> Self {
        Self { inner: Arc::new(auth) }
    }

    /// The wrapped `Auth`, for calls that never block for long.
    pub fn blocking(&self) -> &Auth {
        &self.inner
    }

    /// Runs `f` on the blocking pool: any `Auth` call, without stalling the
    /// runtime.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Auth) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, Error> {
        let auth = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&auth))
            .await
            .map_err(|e| Error::Internal(format!("the blocking task failed: {e}")))?
    }

    /// See [`Auth::access_token`].
    pub async fn access_token(&self) -> Result<Secret, Error> {
        self.run(Auth::access_token).await
    }

    /// See [`Auth::request_headers`].
    pub async fn request_headers(&self) -> Result<RequestHeaders, Error> {
        self.run(Auth::request_headers).await
    }

    /// See [`Auth::status`].
    pub async fn status(&self) -> Result<Status, Error> {
        self.run(Auth::status).await
    }

    /// See [`Auth::refresh`].
    pub async fn refresh(&self, force: bool) -> Result<Status, Error> {
        self.run(move |a| a.refresh(force)).await
    }

    /// See [`Auth::unauthorized`].
    pub async fn unauthorized(&self, previous: Secret) -> Result<Secret, Error> {
        self.run(move |a| a.unauthorized(&previous)).await
    }

    /// See [`Auth::login`].
    pub async fn login(&self, options: LoginOptions) -> Result<Status, Error> {
        self.run(move |a| a.login(&options)).await
    }
}
