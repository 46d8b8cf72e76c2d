/*!
`codex-auth serve`: one process that holds the refresh tokens, for every
other process on the machine.

- The **broker** hands out ready headers and tokens over HTTP on
  `127.0.0.1` (and a Unix socket), so agents and scripts never refresh on
  their own and never present a rotated token twice.
- The **gateway** forwards `/backend-api/codex/...` to the Codex backend
  with the client's `Authorization` replaced by the chosen account's;
  bodies stream both ways and SSE passes through unbuffered.
- **OpenAI's APIs** (`/v1/chat/completions`, `/v1/responses`,
  `/v1/models`) for generic clients, translated by the guest through the
  same gateway.

Every decision (which account, whether to recover or rotate, what an
upstream answer means, how a request and its answer are translated) is the
guest's, through [`codex_auth::Auth`] and [`codex_auth::openai`]; this
crate only moves bytes.
*/

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod answers;
mod broker;
mod dashboard;
mod gateway;
mod held;
mod key;
mod metrics;
mod openai_api;
mod respond;
mod routes;

pub use key::{KEY_FILE, load_or_create as load_or_create_key};

use codex_auth::AsyncAuth;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use respond::Body;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, UnixListener};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The loopback port; `0` picks a free one (printed at start).
    pub port: u16,
    /// Also listen on this Unix socket (mode 0600, peers of other users refused).
    pub socket: Option<PathBuf>,
    /// Where the gateway forwards: `{chatgpt base}/codex`.
    pub upstream: String,
    /// The local key clients present as `Authorization: Bearer <key>`.
    pub key: String,
    /// How long open streams may finish after SIGTERM.
    pub drain: Duration,
    /// Request bodies up to this size are kept, so a request can be replayed
    /// once (after a 401, or on a sibling after a usage limit); larger ones
    /// stream through and are never replayed.
    pub replay_limit: usize,
}

/// Connections waiting to be accepted at most.
const BACKLOG: u32 = 1024;

/// What every connection of one worker shares.
pub(crate) struct Shared {
    pub auth: AsyncAuth,
    pub options: ServeOptions,
    /// The worker's own client: its pooled upstream connections live on the
    /// worker's runtime, so a request and its upstream call stay on one thread.
    pub client: reqwest::Client,
    /// The guest's routes, reused while they hold (one cache for all workers).
    pub routes: Arc<routes::Routes>,
    /// The socket file's owner: the only user whose peers are served on it.
    pub socket_uid: Option<u32>,
    /// The worker's own translator for OpenAI's APIs.
    pub translator: answers::SharedTranslator,
    /// How a stream's head may be held while it shows only the events that
    /// open it (the guest's).
    pub opening: codex_auth::openai::OpeningHold,
    /// The model list (one for all workers).
    pub models: Arc<openai_api::ModelsCache>,
    /// What `/metrics` shows (one for all workers).
    pub metrics: Arc<metrics::Metrics>,
    /// Streams over whose tokens are not counted yet (one for all workers).
    pub tails: Arc<answers::Tails>,
    /// The dashboard's codes and sessions (one for all workers).
    pub dashboard: Arc<dashboard::Dashboard>,
    /// Becomes true when the server stops: live dashboards end then, so
    /// the drain waits only for real streams.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

/// Serves until `shutdown` resolves, then lets open streams finish for at
/// most `options.drain`. Prints one JSON line on stdout once listening
/// (address, socket, accounts); logs one JSON line per request on stderr
/// (method, path, status, account, latency), never a token.
pub async fn run(
    auth: AsyncAuth,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    // A backlog as deep as tokio's own (std's is 128): hundreds of clients
    // connecting at once are queued, not made to retry their SYNs.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind((std::net::Ipv4Addr::LOCALHOST, options.port).into())?;
    let listener = socket.listen(BACKLOG)?.into_std()?;
    let address = listener.local_addr()?;
    let unix = match &options.socket {
        Some(path) => {
            // A stale socket of an earlier run would make bind fail.
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
                std::fs::remove_file(path)?;
            }
            let listener = UnixListener::bind(path)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            Some(listener)
        }
        None => None,
    };
    let socket_uid = match &options.socket {
        Some(path) => Some(std::fs::metadata(path)?.uid()),
        None => None,
    };
    let accounts = auth
        .run(|a| a.accounts())
        .await
        .map(|list| list.into_iter().map(|a| a.name).collect::<Vec<_>>())
        .unwrap_or_default();
    let routes = Arc::new(routes::Routes::default());
    let models = Arc::new(openai_api::ModelsCache::default());
    let metrics = Arc::new(metrics::Metrics::new(auth.blocking().options().clock.clone()));
    let dashboard = Arc::new(dashboard::Dashboard::default());
    let tails = Arc::new(answers::Tails::default());
    auth.blocking().listen(metrics.clone());
    // Told to every worker (and every live dashboard) when the server stops.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = |client| -> io::Result<Arc<Shared>> {
        let (auth, options, routes, models) = (auth.clone(), options.clone(), routes.clone(), models.clone());
        let mut translator = codex_auth::openai::Translator::new().map_err(io::Error::other)?;
        let opening = translator.stream_opening().map_err(io::Error::other)?;
        let translator = Arc::new(std::sync::Mutex::new(translator));
        let (metrics, dashboard, stopping) = (metrics.clone(), dashboard.clone(), stopped.clone());
        let tails = tails.clone();
        Ok(Arc::new(Shared {
            auth,
            options,
            client,
            routes,
            socket_uid,
            translator,
            opening,
            models,
            metrics,
            tails,
            dashboard,
            stopping,
        }))
    };
    let shared = worker(upstream_client()?)?;
    let start = serde_json::json!({
        "listening": address.to_string(),
        "socket": options.socket,
        "accounts": accounts,
    });
    println!("{start}");
    // A fleet on one database: what another gateway learns about an account
    // makes this one's routes to it stale at once. Logged, `null` when
    // changes may have been missed (the listening connection was made again).
    let weak = Arc::downgrade(&routes);
    auth.blocking().on_pool_change(move |account| {
        if let Some(routes) = weak.upgrade() {
            match account {
                Some(account) => routes.taught(account),
                None => routes.taught_all(),
            }
        }
        log_line(&serde_json::json!({"pool_changed": account}));
    });
    // The tokens of streams that ended are counted every second; what each
    // account served goes to its pool state every ten, and once more at the end.
    let flusher = tokio::spawn({
        let shared = shared.clone();
        async move {
            let mut every = tokio::time::interval(TOKENS_COUNTED);
            let mut ticks = 0u32;
            loop {
                every.tick().await;
                answers::count_tokens(&shared);
                ticks += 1;
                if ticks.is_multiple_of(SERVED_FLUSH_TICKS) {
                    write_served(&shared).await;
                }
            }
        }
    });
    // One worker per core, each a single-threaded runtime accepting on the
    // shared listener with its own upstream client, as nginx's workers do:
    // no request crosses threads on its way. This runtime is the first.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut workers = Vec::new();
    for _ in 1..cores {
        let (listener, shared, stopped) =
            (listener.try_clone()?, worker(upstream_client()?)?, stopped.clone());
        workers.push(std::thread::Builder::new().name("serve-worker".into()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(accept_tcp(listener, shared, stopped))
        })?);
    }
    let tcp = TcpListener::from_std(listener)?;
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok((stream, _)) => serve_connection(&graceful, &shared, stream),
                Err(e) => log_error(&format!("accept: {e}")),
            },
            accepted = accept_unix(unix.as_ref()) => match accepted {
                Ok(stream) => {
                    let peer = stream.peer_cred().map(|c| c.uid()).ok();
                    if peer.is_some() && peer == shared.socket_uid {
                        serve_connection(&graceful, &shared, stream);
                    } else {
                        log_error("refused a socket peer of another user");
                    }
                }
                Err(e) => log_error(&format!("accept on the socket: {e}")),
            },
            () = &mut shutdown => break,
        }
    }
    let _ = stop.send(true);
    drop(tcp);
    drop(unix);
    if let Some(path) = &shared.options.socket {
        let _ = std::fs::remove_file(path);
    }
    drain(&shared, graceful).await;
    let joined = tokio::task::spawn_blocking(move || {
        for worker in workers {
            if let Ok(Err(e)) = worker.join() {
                log_error(&format!("a worker failed: {e}"));
            }
        }
    })
    .await
    .map_err(io::Error::other);
    flusher.abort();
    write_served(&shared).await;
    joined
}

/// How often the tokens of streams that ended are counted.
const TOKENS_COUNTED: Duration = Duration::from_secs(1);
/// Every how many of those what each account served is added to its pool
/// state (ten seconds).
const SERVED_FLUSH_TICKS: u32 = 10;

/// Adds what each account served since the last time (its streams' tokens
/// counted first) to its pool state; what a store cannot take now is kept
/// for the next time.
async fn write_served(shared: &Shared) {
    answers::count_tokens(shared);
    let (auth, metrics) = (&shared.auth, &shared.metrics);
    for (account, counts) in metrics.take_served() {
        let (name, kept) = (account.clone(), counts.clone());
        if let Err(e) = auth.run(move |a| a.record_served(&name, &kept)).await {
            log_error(&format!("cannot record what `{account}` served yet: {e}"));
            metrics.keep_served(&account, &counts);
        }
    }
}

/// Another worker: accepts on its clone of the listener until told to stop,
/// then drains its own streams.
async fn accept_tcp(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> io::Result<()> {
    let tcp = TcpListener::from_std(listener)?;
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok((stream, _)) => serve_connection(&graceful, &shared, stream),
                Err(e) => log_error(&format!("accept: {e}")),
            },
            _ = stopped.changed() => break,
        }
    }
    drop(tcp);
    drain(&shared, graceful).await;
    Ok(())
}

/// Lets open streams finish for at most the drain time.
async fn drain(shared: &Shared, graceful: GracefulShutdown) {
    if tokio::time::timeout(shared.options.drain, graceful.shutdown()).await.is_err() {
        log_error("streams still open after the drain time; closing them");
    }
}

/// A single-use link to the dashboard of the server on `127.0.0.1:port`,
/// asked for with the local key.
pub async fn dashboard_link(port: u16, key: &str) -> io::Result<String> {
    let answer = upstream_client()?
        .post(format!("http://127.0.0.1:{port}/dashboard/code"))
        .bearer_auth(key)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| io::Error::other(e.without_url().to_string()))?;
    if !answer.status().is_success() {
        return Err(io::Error::other(format!("it answered {}", answer.status())));
    }
    let body = answer.bytes().await.map_err(|e| io::Error::other(e.without_url().to_string()))?;
    let link: serde_json::Value = serde_json::from_slice(&body).map_err(io::Error::other)?;
    link["url"].as_str().map(str::to_owned).ok_or_else(|| io::Error::other("no link in its answer"))
}

/// A client for the upstream (HTTPS verified as everywhere, no redirects).
fn upstream_client() -> io::Result<reqwest::Client> {
    let tls = codex_auth::tls::client_config()
        .map_err(|e| io::Error::other(format!("cannot set up HTTPS: {e}")))?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| io::Error::other(format!("cannot set up HTTPS: {e}")))
}

async fn accept_unix(listener: Option<&UnixListener>) -> io::Result<tokio::net::UnixStream> {
    match listener {
        Some(listener) => listener.accept().await.map(|(stream, _)| stream),
        None => std::future::pending().await,
    }
}

fn serve_connection<S>(graceful: &GracefulShutdown, shared: &Arc<Shared>, stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let shared = shared.clone();
    let service = service_fn(move |request| handle(shared.clone(), request));
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        // A client that hangs up ends here; dropping the connection drops
        // its upstream request and stream with it.
        let _ = connection.await;
    });
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let (response, account) = route(&shared, request).await;
    shared.metrics.request(account.as_deref(), &path, response.status().as_u16());
    /// The request's log line, written as it is (no JSON tree built).
    #[derive(serde::Serialize)]
    struct Line<'a> {
        method: &'a str,
        path: &'a str,
        status: u16,
        account: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        routes: Option<&'a [&'static str]>,
        ms: f64,
    }
    let line = Line {
        method: method.as_str(),
        path: &path,
        status: response.status().as_u16(),
        account: account.as_deref(),
        routes: response.extensions().get::<gateway::Routed>().map(|r| r.0.as_slice()),
        ms: (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
    };
    log_line(&line);
    Ok(response)
}

/// The response, and the account it was served with.
async fn route(shared: &Arc<Shared>, request: Request<Incoming>) -> (Response<Body>, Option<String>) {
    if !respond::loopback_host(request.headers().get(hyper::header::HOST)) {
        return (
            respond::error(421, "host_not_allowed", "the Host header must name the loopback interface"),
            None,
        );
    }
    let path = request.uri().path().to_owned();
    if path == "/healthz" {
        return (health(shared).await, None);
    }
    let get = request.method() == hyper::Method::GET;
    match path.as_str() {
        "/" if get => return (dashboard::page(), None),
        "/dashboard/login" if get => return (dashboard::login(shared, request.uri().query()), None),
        _ => {}
    }
    let authorization = request.headers().get(hyper::header::AUTHORIZATION).map(|v| v.as_bytes());
    let keyed = key::authorized(authorization, &shared.options.key);
    let now_ms = shared.auth.blocking().options().clock.now_ms();
    if get && (keyed || shared.dashboard.admits(request.headers(), now_ms)) {
        match path.as_str() {
            "/dashboard/state" => return (dashboard::state(shared).await, None),
            "/dashboard/events" => return (dashboard::events(shared.clone()), None),
            _ => {}
        }
    }
    if !keyed {
        return (
            respond::error(
                401,
                "unauthorized",
                "send the local key as `Authorization: Bearer <key>` (`codex-auth serve --print-key`)",
            ),
            None,
        );
    }
    if path == "/metrics" {
        return (metrics(shared).await, None);
    }
    if path == "/dashboard/code" && request.method() == hyper::Method::POST {
        return (dashboard::code(shared, request.headers().get(hyper::header::HOST)), None);
    }
    if let Some(rest) = path.strip_prefix("/backend-api/codex/") {
        let rest = format!("/{rest}");
        return gateway::forward(shared, request, &rest).await;
    }
    match path.as_str() {
        "/v1/responses" => return openai_api::translate(shared, request, openai_api::Api::Responses).await,
        "/v1/chat/completions" => {
            return openai_api::translate(shared, request, openai_api::Api::ChatCompletions).await;
        }
        "/v1/models" => return openai_api::models(shared, request, None).await,
        _ => {}
    }
    if let Some(id) = path.strip_prefix("/v1/models/") {
        return openai_api::models(shared, request, Some(id)).await;
    }
    broker::route(shared, request).await
}

/// `ok`, or `degraded` with the reason while the store cannot be read: the
/// server still answers then (each account's token in hand while valid),
/// so the status is 200 and a supervisor has no reason to restart it.
async fn health(shared: &Shared) -> Response<Body> {
    let health = shared.auth.run(|auth| Ok(auth.store_health())).await;
    let body = match health.and_then(|h| h) {
        Ok(()) => serde_json::json!({"ok": true, "status": "ok"}),
        Err(e) => serde_json::json!({"ok": true, "status": "degraded", "reason": e.to_string()}),
    };
    respond::json(200, &body)
}

/// The metrics, with each account's usage as the guest has it now.
async fn metrics(shared: &Shared) -> Response<Body> {
    let accounts = shared.auth.run(|auth| auth.accounts()).await.unwrap_or_default();
    let now = shared.auth.blocking().options().clock.now_ms() / 1000;
    answers::count_tokens(shared);
    let mut response = Response::new(respond::full(shared.metrics.encode(&accounts, now)));
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(metrics::CONTENT_TYPE));
    response
}

/// A mutex's guard; a panic elsewhere while it was held leaves data that
/// is still whole (counts, caches, sessions), so it is used as it is.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn log_error(what: &str) {
    log_line(&serde_json::json!({"error": what}));
}

/// One log line on stderr, in one write: stderr is unbuffered, and a JSON
/// value formatted straight to it would cost a system call per piece.
pub(crate) fn log_line(line: &impl serde::Serialize) {
    use std::io::Write as _;
    let mut text = serde_json::to_string(line).unwrap_or_default();
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
