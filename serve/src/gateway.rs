//! The gateway: a request under `/backend-api/codex/` (or `/v1/responses`)
//! goes to `{upstream}/...` with the client's `Authorization` replaced by the
//! chosen account's headers. Bodies stream both ways; an SSE answer is passed
//! on chunk by chunk as it arrives. The guest decides what an answer means
//! and what follows (`Auth::report` returns its verdict): pass it on, recover
//! a 401 and replay, or replay on a sibling after a usage limit (a 429, or a
//! `response.failed` event before anything reached the client). This loop
//! only applies the verdicts and counts them in an `Attempt`.

use crate::Shared;
use crate::held::{self, Shown, Whole};
use crate::respond::{self, Body};
use bytes::Bytes;
use codex_auth::openai::AnswerShape;
use codex_auth::{Attempt, Learned, Secret, Upstream, Verdict};
use futures_util::{StreamExt as _, TryStreamExt as _};
use http_body_util::{BodyDataStream, BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{HeaderMap, Request, Response};
use std::sync::Arc;

/// The largest upstream error answer read (to classify it and pass it on).
const MAX_ERROR_BODY: usize = 1 << 20;

/// The most of a whole (not streamed) answer read before translating it,
/// so that a usage limit anywhere in it can still move to a sibling; a
/// longer answer is translated as it comes (the guest's translator holds
/// at most 256 MiB).
const MAX_WHOLE: usize = 64 << 20;

pub async fn forward(
    shared: &Shared,
    request: Request<Incoming>,
    rest: &str,
) -> (Response<Body>, Option<String>) {
    let (parts, body) = request.into_parts();
    let body = match RequestBody::read(body, shared.options.replay_limit).await {
        Ok(body) => body,
        Err(why) => return (respond::error(400, "bad_request_body", &why), None),
    };
    let model = body.model();
    exchange(shared, &parts, body, rest, model, None).await
}

/// Sends a request upstream until the guest's verdict is to pass the
/// answer on; then passes it on, or (`translation`) the client's answer
/// made of it.
pub(crate) async fn exchange(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    mut body: RequestBody,
    rest: &str,
    model: Option<String>,
    translation: Option<AnswerShape>,
) -> (Response<Body>, Option<String>) {
    // Codex names its conversation in `session_id`: one account per conversation.
    let session = parts.headers.get("session_id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let url = format!("{}{rest}{query}", shared.options.upstream.trim_end_matches('/'));
    // `--account` names one account: a request never moves off it.
    let pinned = shared.auth.blocking().options().account.is_some();
    let mut attempt = Attempt { replayable: body.replayable(), pinned, model, ..Attempt::FIRST };
    // How each send's route came: from the cache or from the guest (logged).
    let mut routed = Routed(Vec::new());
    let (ready, api) = (std::time::Instant::now(), api_of(translation));
    loop {
        let route = match route(shared, &session, &attempt.model, &mut routed).await {
            Ok(route) => route,
            Err(e) => return (routed.tag(respond::auth_error(&e)), None),
        };
        let (account, headers) = (route.route.account.clone(), &route.route.headers);
        let mut upstream = shared.client.request(parts.method.clone(), &url);
        for (name, value) in parts.headers.iter().filter(|(n, _)| !respond::DROPPED.contains(&n.as_str())) {
            // A translated answer is read here: it must come uncompressed.
            if translation.is_none() || name != hyper::header::ACCEPT_ENCODING {
                upstream = upstream.header(name, value);
            }
        }
        for (name, value) in headers.iter() {
            upstream = upstream.header(name, value);
        }
        let sent = std::time::Instant::now();
        let answer = match upstream.body(body.next_send()).send().await {
            Ok(answer) => {
                shared.metrics.upstream(api, sent.elapsed());
                answer
            }
            Err(e) => {
                let why = format!("the Codex backend could not be reached: {}", e.without_url());
                return (routed.tag(respond::error(502, "upstream_unreachable", &why)), Some(account));
            }
        };
        let status = answer.status();
        let answer_headers = answer.headers().clone();
        if status.as_u16() >= 400 {
            let pairs = header_pairs(&answer_headers);
            let bytes = match read_bounded(answer).await {
                Ok(bytes) => bytes,
                Err(why) => return (routed.tag(respond::error(502, "upstream_error", &why)), Some(account)),
            };
            let answer = Report::Answer(status.as_u16(), pairs, bytes.clone());
            let learned = report(shared, &account, answer, attempt.clone()).await;
            learn(shared, &account, &learned);
            attempt = learned.next;
            match learned.verdict {
                Verdict::RotateAndReplay => continue,
                Verdict::RecoverAndReplay => {
                    let rejected = headers
                        .get("Authorization")
                        .and_then(|a| a.strip_prefix("Bearer "))
                        .unwrap_or_default();
                    let (rejected, name) = (Secret::from(rejected.to_owned()), account.clone());
                    let recovery =
                        shared.auth.run(move |auth| auth.account(&name)?.unauthorized(&rejected)).await;
                    if recovery.is_ok() {
                        continue;
                    }
                }
                Verdict::PassOn => {}
            }
            if translation.is_some() {
                let error = crate::answers::upstream_error(shared, status.as_u16(), &bytes);
                return (routed.tag(error), Some(account));
            }
            return (
                routed.tag(respond::passed_on(status, &answer_headers, respond::full(bytes))),
                Some(account),
            );
        }
        // What a good answer teaches (its rate-limit headers) cannot change
        // what happens to it: learnt in the background, at most once per
        // account per interval.
        let interval = shared.auth.blocking().defaults().usage_report_interval.as_millis();
        let now_ms = shared.auth.blocking().options().clock.now_ms();
        if route.report_due(now_ms, i64::try_from(interval).unwrap_or(i64::MAX)) {
            let (auth, account, attempt) = (shared.auth.clone(), account.clone(), attempt.clone());
            let status = status.as_u16();
            let pairs = header_pairs(&answer_headers);
            tokio::spawn(async move {
                let report = move |a: &codex_auth::Auth| {
                    a.report(&account, Upstream::Answer { status, headers: &pairs, body: &[] }, attempt)
                };
                let _ = auth.run(report).await;
            });
        }
        let mut stream = answer.bytes_stream();
        // Waiting for the first chunk holds nothing back: nothing else could
        // be sent before it.
        let first = stream.next().await;
        let sse = answer_headers
            .get(hyper::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        if sse && matches!(first, Some(Ok(_))) {
            shared.metrics.first_byte(api, ready.elapsed());
        }
        if let Some(shape) = translation.filter(|shape| !shape.streamed()) {
            // A whole answer reaches the client only at the stream's end, so
            // a usage limit anywhere in the stream can still move to a sibling.
            let Whole { kept, broke, ended } = held::whole(first, &mut stream, MAX_WHOLE).await;
            if ended && memchr::memmem::find(&kept, b"response.failed").is_some() {
                let learned = report(shared, &account, Report::Event(kept.clone()), attempt.clone()).await;
                learn(shared, &account, &learned);
                if learned.verdict == Verdict::RotateAndReplay {
                    attempt = learned.next;
                    continue;
                }
            }
            // Past the bound, the rest is translated as it comes.
            let rest = futures_util::stream::iter((!ended).then_some(stream))
                .flatten()
                .map(|c| c.map_err(|e| e.without_url().to_string()));
            let kept = std::iter::once(Ok(kept)).chain(broke.map(|e| Err(e.without_url().to_string())));
            let chunks = futures_util::stream::iter(kept).chain(rest);
            let model = attempt.model.clone().unwrap_or_default();
            let response =
                crate::answers::answer(shared, &account, shape, &model, &answer_headers, chunks).await;
            return (routed.tag(response), Some(account));
        }
        // Nothing has gone out while the head shows only opening events,
        // nor of the piece that ends the hold: a usage limit there can
        // still move to a sibling. Only a head that can hold that event
        // goes to the guest, which decides.
        let (head, shown) = held::opening(&shared.opening, first, &mut stream, sse).await;
        let failed = |chunk: &reqwest::Result<Bytes>| {
            chunk.as_ref().is_ok_and(|c| memchr::memmem::find(c, b"response.failed").is_some())
        };
        if shown == Shown::Failed || head.iter().any(failed) {
            let bytes: Vec<u8> =
                head.iter().filter_map(|c| c.as_ref().ok()).flat_map(|c| c.iter().copied()).collect();
            let learned = report(shared, &account, Report::Event(bytes.into()), attempt.clone()).await;
            learn(shared, &account, &learned);
            if learned.verdict == Verdict::RotateAndReplay {
                attempt = learned.next;
                continue;
            }
        }
        let watcher = Arc::new(Watcher {
            auth: shared.auth.clone(),
            account: account.clone(),
            metrics: shared.metrics.clone(),
        });
        let rest = stream.inspect_ok(move |chunk| watcher.look(chunk));
        if let Some(shape) = translation {
            let chunks = futures_util::stream::iter(head)
                .chain(rest)
                .map(|c| c.map_err(|e| e.without_url().to_string()));
            let model = attempt.model.clone().unwrap_or_default();
            let response =
                crate::answers::answer(shared, &account, shape, &model, &answer_headers, chunks).await;
            return (routed.tag(response), Some(account));
        }
        // Open until the body is dropped; the tokens of the answer's last
        // event counted as the stream ends.
        let open = shared.metrics.stream_opened();
        let mut tap = crate::answers::UsageTap::new(shared, &account);
        let chunks = futures_util::stream::iter(head).chain(rest).scan(false, move |broke, chunk| {
            let _open = &open;
            let frame = match chunk {
                _ if *broke => None,
                Ok(chunk) => {
                    tap.look(&chunk);
                    Some(Ok(Frame::data(chunk)))
                }
                Err(e) => {
                    *broke = true;
                    let why = format!("the Codex backend's stream broke off: {}", e.without_url());
                    crate::log_error(&why);
                    // A stream ends with an event that says so, cleanly;
                    // another body can only break off too. The pool is not
                    // told: a broken connection says nothing of the account.
                    Some(if sse {
                        Ok(Frame::data(broken_event(&why)))
                    } else {
                        Err(std::io::Error::other(why))
                    })
                }
            };
            std::future::ready(frame)
        });
        let response = respond::passed_on(status, &answer_headers, BodyExt::boxed(StreamBody::new(chunks)));
        return (routed.tag(response), Some(account));
    }
}

/// The guest's route for this request: cached while its verdict holds,
/// else asked for (on the blocking pool) and cached.
pub(crate) async fn route(
    shared: &Shared,
    session: &Option<String>,
    model: &Option<String>,
    routed: &mut Routed,
) -> Result<Arc<crate::routes::Entry>, codex_auth::Error> {
    let now_ms = shared.auth.blocking().options().clock.now_ms();
    if let Some(route) = shared.routes.get(session, model, now_ms) {
        routed.0.push("cached");
        return Ok(route);
    }
    routed.0.push("asked");
    let ticket = shared.routes.ticket();
    let (key, asked) = (session.clone(), model.clone());
    let route = shared.auth.run(move |auth| auth.route(key.as_deref(), asked.as_deref())).await?;
    Ok(shared.routes.put(session.clone(), model.clone(), route, ticket))
}

/// How the route of each send of one request came: `cached`, or `asked`
/// (of the guest). The request's log line shows it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Routed(pub Vec<&'static str>);

impl Routed {
    fn tag(&self, mut response: Response<Body>) -> Response<Body> {
        response.extensions_mut().insert(self.clone());
        response
    }
}

/// What an answer of `account` taught: its routes go stale, and a block is counted.
fn learn(shared: &Shared, account: &str, learned: &Learned) {
    if learned.reroute {
        shared.routes.taught(account);
    }
    if let (Some(_), Some(meter)) = (learned.blocked_until, &learned.blocked_meter) {
        shared.metrics.blocked(account, meter);
    }
}

/// The API label of a request's metrics.
fn api_of(translation: Option<AnswerShape>) -> &'static str {
    match translation {
        None => "codex",
        Some(AnswerShape::ChatStream | AnswerShape::ChatStreamWithUsage | AnswerShape::ChatWhole) => {
            "chat_completions"
        }
        Some(_) => "responses",
    }
}

/// Later chunks of a stream: a usage limit there cannot be replayed any
/// more (output reached the client), but the pool still learns of it.
struct Watcher {
    auth: codex_auth::AsyncAuth,
    account: String,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Watcher {
    fn look(&self, chunk: &Bytes) {
        // Only chunks that can hold the event go to the guest, which decides.
        if memchr::memmem::find(chunk, b"response.failed").is_some() {
            let (auth, account, event) = (self.auth.clone(), self.account.clone(), chunk.clone());
            let metrics = self.metrics.clone();
            tokio::spawn(async move {
                // Output reached the client: nothing can be replayed now.
                let attempt = Attempt { replayable: false, ..Attempt::FIRST };
                let name = account.clone();
                let learned = auth.run(move |a| a.report(&name, Upstream::Event(&event), attempt)).await;
                if let Ok(Learned { blocked_until: Some(_), blocked_meter: Some(meter), .. }) = &learned {
                    metrics.blocked(&account, meter);
                }
            });
        }
    }
}

/// The event that ends a stream whose upstream broke off: an `error`
/// event, as the Responses API sends one.
fn broken_event(why: &str) -> Bytes {
    let error = serde_json::json!({"type": "error", "code": "upstream_disconnected", "message": why});
    Bytes::from(format!("event: error\ndata: {error}\n\n"))
}

enum Report {
    Answer(u16, Vec<(String, String)>, Bytes),
    Event(Bytes),
}

/// What the pool makes of an answer; a pool that cannot be asked learns
/// nothing, and the answer is passed on as it is.
async fn report(shared: &Shared, account: &str, report: Report, attempt: Attempt) -> Learned {
    let account = account.to_owned();
    let learned = shared
        .auth
        .run(move |auth| match &report {
            Report::Answer(status, headers, body) => {
                auth.report(&account, Upstream::Answer { status: *status, headers, body }, attempt)
            }
            Report::Event(event) => auth.report(&account, Upstream::Event(event), attempt),
        })
        .await;
    learned.unwrap_or(Learned {
        blocked_until: None,
        blocked_meter: None,
        unauthorized: false,
        usage_updated: false,
        reroute: false,
        verdict: Verdict::PassOn,
        next: Attempt { replayable: false, ..Attempt::FIRST },
    })
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers.iter().filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned()))).collect()
}

async fn read_bounded(answer: reqwest::Response) -> Result<Bytes, String> {
    let mut stream = answer.bytes_stream();
    let read = held::whole(stream.next().await, &mut stream, MAX_ERROR_BODY + 1).await;
    match read {
        Whole { broke: Some(e), .. } => {
            Err(format!("the Codex backend's answer broke off: {}", e.without_url()))
        }
        Whole { kept, ended: true, .. } if kept.len() <= MAX_ERROR_BODY => Ok(kept),
        _ => Err(format!("the Codex backend's error answer is larger than {MAX_ERROR_BODY} bytes")),
    }
}

/// A request body: kept whole when it fits the replay bound, else streamed
/// through once.
pub(crate) enum RequestBody {
    Kept(Bytes),
    Streaming(Option<(Bytes, Incoming)>),
}

impl RequestBody {
    async fn read(mut body: Incoming, limit: usize) -> Result<Self, String> {
        let mut kept = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| format!("cannot read the request body: {e}"))?;
            if let Ok(data) = frame.into_data() {
                kept.extend_from_slice(&data);
                if kept.len() > limit {
                    return Ok(Self::Streaming(Some((kept.into(), body))));
                }
            }
        }
        Ok(Self::Kept(kept.into()))
    }

    fn replayable(&self) -> bool {
        matches!(self, Self::Kept(_))
    }

    /// The model a kept JSON body asks for: the pool skips accounts where a
    /// meter of that model is spent. (A streamed body is not read ahead.)
    fn model(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Asked {
            model: Option<String>,
        }
        match self {
            Self::Kept(bytes) => serde_json::from_slice::<Asked>(bytes).ok()?.model,
            Self::Streaming(_) => None,
        }
    }

    /// The body for one send; a streamed one can be sent only once (then
    /// nothing is replayed, so this is never asked twice).
    fn next_send(&mut self) -> reqwest::Body {
        match self {
            Self::Kept(bytes) => reqwest::Body::from(bytes.clone()),
            Self::Streaming(rest) => match rest.take() {
                Some((prefix, body)) => {
                    let tail = BodyDataStream::new(body);
                    reqwest::Body::wrap_stream(futures_util::stream::iter([Ok(prefix)]).chain(tail))
                }
                None => reqwest::Body::from(Bytes::new()),
            },
        }
    }
}
