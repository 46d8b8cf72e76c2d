//! OpenAI's APIs over the Codex backend, for a gateway: the guest's
//! translation of a client's request and of the backend's stream
//! ([`Translator`]). The translation runs on an instance of its own, made
//! for one thread (a gateway keeps one per worker), so it never waits on
//! an account's calls.

use crate::bindings::exports::codex::auth::openai as wit;
use crate::state::HostState;
use crate::{Error, runtime};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

pub use wit::{AnswerShape, ApiError, ErrorAnswer, ModelList, OpeningHold, TokenUsage, Translated, Whole};

/// The largest memory a translator may use: the backend's last event
/// carries the whole answer, and a few copies of it are held at once.
const MAX_MEMORY: usize = 256 << 20;

/// A guest instance for translation. A trap discards it; the next call
/// makes a new one (the answers under way on the old one end with an error).
pub struct Translator {
    instance: Option<(Store<HostState>, crate::bindings::Guest)>,
    /// Which instance an [`Answer`] belongs to.
    generation: u64,
}

/// One answer under way on a [`Translator`]: hand it back with each piece
/// of the stream, and to [`Translator::finish`] or [`Translator::discard`].
#[derive(Debug)]
pub struct Answer {
    resource: ResourceAny,
    generation: u64,
    /// Whether the client gets events as they come.
    pub streamed: bool,
}

impl AnswerShape {
    /// Whether the client gets the answer's events as they come (else one
    /// whole answer at the stream's end).
    pub fn streamed(self) -> bool {
        matches!(self, Self::ChatStream | Self::ChatStreamWithUsage | Self::ResponsesStream)
    }
}

impl std::fmt::Debug for Translator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Translator").field("generation", &self.generation).finish_non_exhaustive()
    }
}

impl Translator {
    /// A translator with its instance made (the engine is set up on first use).
    pub fn new() -> Result<Self, Error> {
        let mut translator = Self { instance: None, generation: 0 };
        translator.instance()?;
        Ok(translator)
    }

    /// A Chat Completions request made into a Responses request, or the
    /// client's error.
    pub fn chat_request(&mut self, body: &[u8]) -> Result<Result<Translated, ApiError>, Error> {
        self.call(|g, s| openai(g).call_chat_request(s, body))
    }

    /// A generic Responses request made into one the backend takes.
    pub fn responses_request(&mut self, body: &[u8]) -> Result<Result<Translated, ApiError>, Error> {
        self.call(|g, s| openai(g).call_responses_request(s, body))
    }

    /// An error answer of the backend in OpenAI's shape; `now` (Unix
    /// seconds) turns a reset time into a wait.
    pub fn upstream_error(&mut self, status: u16, body: &[u8], now: i64) -> Result<ErrorAnswer, Error> {
        self.call(|g, s| openai(g).call_upstream_error(s, status, body, now))
    }

    /// An error's JSON body, in OpenAI's shape.
    pub fn error_body(&mut self, error: &ApiError) -> Result<Vec<u8>, Error> {
        self.call(|g, s| openai(g).call_error_body(s, error))
    }

    /// The path of the backend's model list under the Codex base URL.
    pub fn models_path(&mut self) -> Result<String, Error> {
        self.call(|g, s| openai(g).call_models_path(s))
    }

    /// The models offered, from the backend's answer (status, body) or,
    /// without one, the built-in list; with until when it holds.
    pub fn offered_models(&mut self, answer: Option<(u16, &[u8])>, now_ms: i64) -> Result<ModelList, Error> {
        let answer = answer.map(|(status, body)| (status, body.to_vec()));
        self.call(|g, s| {
            openai(g).call_offered_models(s, answer.as_ref().map(|(a, b)| (*a, b.as_slice())), now_ms)
        })
    }

    /// `GET /v1/models`'s body for a list.
    pub fn models_body(&mut self, models: &ModelList) -> Result<Vec<u8>, Error> {
        self.call(|g, s| openai(g).call_models_body(s, models))
    }

    /// `GET /v1/models/{id}`'s body.
    pub fn model_body(&mut self, id: &str) -> Result<Vec<u8>, Error> {
        self.call(|g, s| openai(g).call_model_body(s, id))
    }

    /// The tokens the end event of each Responses stream counts, read from
    /// the streams' `tails` (each cut anywhere before that event began), in
    /// one call.
    pub fn streams_usage(&mut self, tails: &[Vec<u8>]) -> Result<Vec<Option<TokenUsage>>, Error> {
        self.call(|g, s| openai(g).call_streams_usage(s, tails))
    }

    /// How long a gateway may hold a Responses stream back while it shows
    /// only the events that open it, so that a usage limit sent after them
    /// still moves the request to a sibling.
    pub fn stream_opening(&mut self) -> Result<OpeningHold, Error> {
        self.call(|g, s| openai(g).call_stream_opening(s))
    }

    /// A new answer of `shape` to a request for `model`, dated `now` (Unix
    /// seconds) until the stream names its own time.
    pub fn answer(&mut self, shape: AnswerShape, model: &str, now: i64) -> Result<Answer, Error> {
        let resource = self.call(|g, s| openai(g).answer().call_constructor(s, shape, model, now))?;
        Ok(Answer { resource, generation: self.generation, streamed: shape.streamed() })
    }

    /// A piece of the backend's stream: what the client gets now.
    pub fn feed(&mut self, answer: &Answer, chunk: &[u8]) -> Result<Vec<u8>, Error> {
        self.check(answer)?;
        self.call(|g, s| openai(g).answer().call_feed(s, answer.resource, chunk))
    }

    /// The stream ended, cleanly or (`broke`: why) not: the whole answer,
    /// or a streamed one's last bytes. The answer is gone afterwards.
    pub fn finish(&mut self, answer: Answer, broke: Option<&str>) -> Result<Whole, Error> {
        self.check(&answer)?;
        let whole = self.call(|g, s| openai(g).answer().call_finish(s, answer.resource, broke));
        self.discard(answer);
        whole
    }

    /// Lets go of an answer without finishing it (the client went away).
    pub fn discard(&mut self, answer: Answer) {
        if answer.generation == self.generation
            && let Some((store, _)) = &mut self.instance
        {
            let _ = answer.resource.resource_drop(store);
        }
    }

    fn check(&self, answer: &Answer) -> Result<(), Error> {
        if answer.generation == self.generation {
            Ok(())
        } else {
            Err(Error::GuestTrap("the translation this answer was under way on failed".into()))
        }
    }

    fn instance(&mut self) -> Result<&mut (Store<HostState>, crate::bindings::Guest), Error> {
        if self.instance.is_none() {
            let runtime = runtime::get().map_err(Error::Engine)?;
            let made =
                runtime::bare_instance(runtime, MAX_MEMORY).map_err(|e| Error::Engine(e.to_string()))?;
            self.generation += 1;
            self.instance = Some(made);
        }
        Ok(self.instance.as_mut().expect("made above"))
    }

    fn call<R>(
        &mut self,
        f: impl FnOnce(&crate::bindings::Guest, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, Error> {
        let (store, guest) = self.instance()?;
        match f(guest, store) {
            Ok(r) => Ok(r),
            Err(trap) => {
                self.instance = None;
                Err(Error::GuestTrap(trap.root_cause().to_string()))
            }
        }
    }
}

fn openai(guest: &crate::bindings::Guest) -> &wit::Guest {
    guest.codex_auth_openai()
}
