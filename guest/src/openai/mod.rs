//! OpenAI's APIs over the Codex backend, for clients that speak them: a
//! Chat Completions or generic Responses request made into one the backend
//! takes, and the backend's stream made into the answer the client asked
//! for (chunks as they come, or one JSON answer at the end). Pure: bytes in,
//! bytes out; the host sends and receives.
//!
//! - [`sse`]: server-sent events, framed across chunk boundaries.
//! - [`chat_request`] and [`responses_request`]: what a client sent, made
//!   into a Responses request the backend takes, or a 400 saying why not.
//! - [`answer`]: the backend's stream, as the client's answer.
//! - [`models`]: `GET /v1/models` from the backend's model list.
//! - [`stream_usage`]: the tokens of a stream passed on as it is.

pub mod answer;
pub mod chat_request;
pub mod models;
pub mod responses_request;
pub mod sse;
pub mod stream_usage;
pub mod upstream_error;

use serde_json::{Value, json};

/// An error in OpenAI's shape (`{"error": {"message", "type", "code",
/// "param"}}`) with the HTTP status it goes out with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    /// OpenAI's `type`: `invalid_request_error`, `rate_limit_error`...
    pub kind: String,
    pub code: String,
    /// The request field the error is about.
    pub param: Option<String>,
}

impl ApiError {
    /// A request the gateway cannot send: 400 `invalid_request_error`.
    pub fn invalid(code: &str, param: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
            kind: "invalid_request_error".into(),
            code: code.into(),
            param: param.map(str::to_owned),
        }
    }

    /// `{"error": {...}}`, as OpenAI answers.
    pub fn to_json(&self) -> Value {
        json!({"error": {"message": self.message, "type": self.kind, "code": self.code, "param": self.param}})
    }
}

wit_enum! {
    /// How the backend's stream becomes the client's answer.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum AnswerShape {
        /// `chat.completion.chunk` events, then `[DONE]`.
        ChatStream,
        /// The same with a usage chunk before `[DONE]` (`stream_options.include_usage`).
        ChatStreamWithUsage,
        /// One `chat.completion`.
        ChatWhole,
        /// The backend's Responses events as they are.
        ResponsesStream,
        /// One `response` object, built from the stream.
        ResponsesWhole,
    }
}

/// How a gateway may hold a Responses stream's opening back (see the WIT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningHold {
    pub events: Vec<String>,
    pub most_ms: u32,
    pub most_bytes: u32,
}

/// How a Responses stream's opening may be held back. Its opening events
/// say only that the response exists: nothing a client could use yet. A
/// usage limit follows `response.created` at once, so a second is plenty;
/// past it, the client hears how its request goes. Codex's opening events
/// echo its instructions and tools (tens of KiB), hence the bytes.
pub fn stream_opening() -> OpeningHold {
    OpeningHold {
        events: ["response.created", "response.queued", "response.in_progress"].map(str::to_owned).to_vec(),
        most_ms: 1_000,
        most_bytes: 256 << 10,
    }
}

impl AnswerShape {
    /// Whether the client gets events as they come.
    pub fn streamed(self) -> bool {
        matches!(self, Self::ChatStream | Self::ChatStreamWithUsage | Self::ResponsesStream)
    }
}

/// A client's request, made into one the backend takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translated {
    /// The Responses request to send upstream (JSON).
    pub body: Vec<u8>,
    /// Its model, for the pool's choice.
    pub model: Option<String>,
    /// How the backend's stream becomes the client's answer.
    pub shape: AnswerShape,
}

/// The client's request as a JSON object, or a 400 that says what is wrong.
fn parse_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid("invalid_json", None, "the request body must be a JSON object")),
        Err(e) => Err(ApiError::invalid(
            "invalid_json",
            None,
            format!("the request body is not valid JSON ({e}); send `Content-Type: application/json`"),
        )),
    }
}
