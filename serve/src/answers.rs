//! The Codex backend's answers for OpenAI clients: a 2xx stream translated
//! piece by piece as it arrives (or whole at its end), an error answer in
//! OpenAI's shape, and the tokens of a pass-through stream counted for the
//! metrics. The guest translates (`codex_auth::openai`); the gateway
//! ([`crate::gateway::exchange`]) sends and hands its answers here.

use crate::metrics::Metrics;
use crate::respond::{self, Body};
use crate::{Shared, lock, log_error};
use bytes::Bytes;
use codex_auth::openai::{Answer, AnswerShape, Translator};
use futures_util::{Stream, StreamExt as _};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{HeaderMap, Response};
use std::sync::{Arc, Mutex};

/// A worker's translator: a guest instance of its own, so translating never
/// waits behind an account's calls (or another worker's).
pub(crate) type SharedTranslator = Arc<Mutex<Translator>>;

/// The client's answer made of the backend's 2xx stream: streamed as each
/// piece arrives, or whole at its end.
pub(crate) async fn answer(
    shared: &Shared,
    account: &str,
    shape: AnswerShape,
    model: &str,
    upstream_headers: &HeaderMap,
    mut chunks: impl Stream<Item = Result<Bytes, String>> + Send + Sync + Unpin + 'static,
) -> Response<Body> {
    let now = shared.auth.blocking().options().clock.now_ms() / 1000;
    let answer = match with_translator(shared, |t| t.answer(shape, model, now)) {
        Ok(answer) => answer,
        Err(e) => return respond::error(500, "internal", &e.to_string()),
    };
    let translator = shared.translator.clone();
    let (account, metrics) = (account.to_owned(), shared.metrics.clone());
    if answer.streamed {
        let open = shared.metrics.stream_opened();
        let mut feeding = Feeding { translator, answer: Some(answer), account, metrics };
        let body = async_stream(
            move |chunk| {
                let _open = &open;
                feeding.step(chunk)
            },
            chunks,
        );
        return head(200, "text/event-stream", upstream_headers, BodyExt::boxed(StreamBody::new(body)));
    }
    let mut feeding = Feeding { translator, answer: Some(answer), account, metrics };
    let mut broke = None;
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(chunk) => {
                feeding.feed(&chunk);
            }
            Err(why) => {
                broke = Some(why);
                break;
            }
        }
    }
    match feeding.finish(broke.as_deref()) {
        Some(whole) => head(whole.status, "application/json", upstream_headers, respond::full(whole.body)),
        None => respond::error(500, "internal", "the translation failed"),
    }
}

/// An answer under way on a worker's translator; let go of when dropped
/// (a client that went away leaves nothing behind in the guest). The
/// tokens of a completed answer are counted for its account.
struct Feeding {
    translator: SharedTranslator,
    answer: Option<Answer>,
    account: String,
    metrics: Arc<Metrics>,
}

impl Feeding {
    fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        let Some(answer) = &self.answer else { return Vec::new() };
        match lock(&self.translator).feed(answer, chunk) {
            Ok(out) => out,
            Err(e) => {
                log_error(&format!("the translation of an answer failed: {e}"));
                self.answer = None;
                Vec::new()
            }
        }
    }

    fn finish(&mut self, broke: Option<&str>) -> Option<codex_auth::openai::Whole> {
        let answer = self.answer.take()?;
        let whole = lock(&self.translator).finish(answer, broke).ok()?;
        if let Some(usage) = &whole.usage {
            self.metrics.tokens(&self.account, usage);
        }
        Some(whole)
    }

    /// One step of a streamed answer: a piece of upstream in, the client's
    /// bytes out; `None` (the end) gives the last bytes.
    fn step(&mut self, chunk: Option<Result<Bytes, String>>) -> Option<Vec<u8>> {
        match chunk {
            Some(Ok(chunk)) => Some(self.feed(&chunk)),
            Some(Err(why)) => {
                log_error(&format!("the Codex backend's stream broke off: {why}"));
                self.finish(Some(&why)).map(|w| w.body)
            }
            None => self.finish(None).map(|w| w.body),
        }
    }
}

impl Drop for Feeding {
    fn drop(&mut self) {
        if let Some(answer) = self.answer.take() {
            lock(&self.translator).discard(answer);
        }
    }
}

/// The tokens of a pass-through stream. Its bytes are copied from the chunk
/// that holds the end event on (the chunks themselves are not kept, so the
/// connection's read buffer is reused); when the stream is over they wait
/// in [`Tails`] to be counted with many others in one guest call
/// ([`count_tokens`]): neither the stream nor the next request waits for
/// the guest.
pub(crate) struct UsageTap {
    counting: Counting,
    account: String,
    /// The end of the last chunk, until the end event shows: that event's
    /// first line may have begun in it.
    previous: Vec<u8>,
    kept: Vec<u8>,
}

/// What marks the end event (`event: response.completed`, and the data's
/// `"type"`): the bytes from there on are the ones the guest reads.
const END_EVENTS: [&[u8]; 2] = [b"response.completed", b"response.incomplete"];

/// How much of the chunk before the end event is kept: more than its
/// `event:` line.
const PREVIOUS_KEPT: usize = 256;

/// Streams over whose tokens are not counted yet, by account: one queue
/// for all workers.
#[derive(Default)]
pub(crate) struct Tails(Mutex<Vec<(String, Vec<u8>)>>);

/// This many streams waiting are counted at once, without waiting for the
/// next tick ([`count_tokens`] runs every second, and before `/metrics`
/// and the dashboard read the counts).
const TAILS_AT_MOST: usize = 256;

impl UsageTap {
    pub fn new(shared: &Shared, account: &str) -> Self {
        let counting = Counting::of(shared);
        Self { counting, account: account.to_owned(), previous: Vec::new(), kept: Vec::new() }
    }

    pub fn look(&mut self, chunk: &[u8]) {
        if !self.kept.is_empty() {
            self.kept.extend_from_slice(chunk);
        } else if END_EVENTS.iter().any(|end| memchr::memmem::find(chunk, end).is_some()) {
            self.kept.extend_from_slice(&self.previous);
            self.kept.extend_from_slice(chunk);
        } else {
            self.previous.clear();
            self.previous.extend_from_slice(&chunk[chunk.len().saturating_sub(PREVIOUS_KEPT)..]);
        }
    }
}

impl Drop for UsageTap {
    fn drop(&mut self) {
        let kept = std::mem::take(&mut self.kept);
        if kept.is_empty() {
            return;
        }
        let waiting = {
            let mut tails = lock(&self.counting.tails.0);
            tails.push((std::mem::take(&mut self.account), kept));
            tails.len()
        };
        if waiting >= TAILS_AT_MOST {
            let counting = self.counting.clone();
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn(async move { counting.count() })),
                Err(_) => counting.count(),
            }
        }
    }
}

/// Counts the tokens of every stream over since the last time, in one
/// guest call on this worker's translator.
pub(crate) fn count_tokens(shared: &Shared) {
    Counting::of(shared).count();
}

/// What counting needs, held by a tap past its request.
#[derive(Clone)]
struct Counting {
    tails: Arc<Tails>,
    translator: SharedTranslator,
    metrics: Arc<Metrics>,
}

impl Counting {
    fn of(shared: &Shared) -> Self {
        Self {
            tails: shared.tails.clone(),
            translator: shared.translator.clone(),
            metrics: shared.metrics.clone(),
        }
    }

    fn count(&self) {
        let taken = std::mem::take(&mut *lock(&self.tails.0));
        if taken.is_empty() {
            return;
        }
        let (accounts, tails): (Vec<String>, Vec<Vec<u8>>) = taken.into_iter().unzip();
        match lock(&self.translator).streams_usage(&tails) {
            Ok(counted) => {
                for (account, usage) in accounts.iter().zip(counted) {
                    if let Some(usage) = usage {
                        self.metrics.tokens(account, &usage);
                    }
                }
            }
            Err(e) => log_error(&format!("counting the tokens of {} streams failed: {e}", tails.len())),
        }
    }
}

/// The client's body: each upstream piece stepped through `step` (and the
/// end as `None`), empty outputs skipped, ending once `step` has given
/// the end's bytes.
fn async_stream(
    mut step: impl FnMut(Option<Result<Bytes, String>>) -> Option<Vec<u8>> + Send + Sync + 'static,
    chunks: impl Stream<Item = Result<Bytes, String>> + Send + Sync + Unpin + 'static,
) -> impl Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send + Sync + 'static {
    chunks
        .map(Some)
        .chain(futures_util::stream::iter([None]))
        .scan(false, move |ended, chunk| {
            if *ended {
                return std::future::ready(None);
            }
            *ended = !matches!(chunk, Some(Ok(_)));
            std::future::ready(Some(step(chunk).unwrap_or_default()))
        })
        .filter(|out| std::future::ready(!out.is_empty()))
        .map(|out| Ok(Frame::data(Bytes::from(out))))
}

/// A response of ours with the upstream's own headers (rate limits and
/// such) but the body's type and length.
fn head(status: u16, content_type: &'static str, upstream: &HeaderMap, body: Body) -> Response<Body> {
    let status = reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
    let mut response = respond::passed_on(status, upstream, body);
    let headers = response.headers_mut();
    headers.remove(hyper::header::CONTENT_ENCODING);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The backend's error answer in OpenAI's shape.
pub(crate) fn upstream_error(shared: &Shared, status: u16, body: &[u8]) -> Response<Body> {
    let now = shared.auth.blocking().options().clock.now_ms() / 1000;
    match with_translator(shared, |t| t.upstream_error(status, body, now)) {
        Ok(answer) => {
            let mut response = json_response(answer.status, answer.body);
            if let Some(wait) = answer.retry_after {
                response.headers_mut().insert(hyper::header::RETRY_AFTER, HeaderValue::from(wait));
            }
            response
        }
        Err(e) => respond::error(502, "upstream_error", &e.to_string()),
    }
}

pub(crate) fn json_response(status: u16, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(respond::full(body));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub(crate) fn with_translator<R>(
    shared: &Shared,
    f: impl FnOnce(&mut Translator) -> Result<R, codex_auth::Error>,
) -> Result<R, codex_auth::Error> {
    f(&mut lock(&shared.translator))
}
