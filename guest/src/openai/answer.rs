//! The backend's Responses stream made into the answer the client asked
//! for, a piece at a time: each upstream chunk gives at once whatever the
//! client can be sent, so nothing waits on the translation.
//!
//! Chat Completions streams go in OpenAI's order: a role chunk, content
//! (or refusal, or tool-call argument) deltas, the finish chunk, a usage
//! chunk when asked for, then `[DONE]`. A non-streamed answer (Chat
//! Completions or Responses) is built from the same events at the end.

use super::sse::{Event, Framer, encode};
use super::{AnswerShape, ApiError};
use serde_json::{Value, json};

/// What the end of the stream gives: the status of a whole answer (200 for
/// a streamed one, already under way), the last bytes for the client, and
/// the tokens the answer used when the backend said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Whole {
    pub status: u16,
    pub body: Vec<u8>,
    pub usage: Option<TokenUsage>,
}

/// The tokens one answer used, as its last event counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub input: u64,
    pub output: u64,
    /// Of `input`, read from the prompt cache.
    pub cached: u64,
    /// Of `output`, spent reasoning.
    pub reasoning: u64,
}

/// One answer being translated.
#[derive(Debug)]
pub struct Answer {
    shape: AnswerShape,
    framer: Framer,
    /// The response's id, creation time and model once the stream names
    /// them (until then, what the request asked for and the clock).
    id: String,
    created: i64,
    model: String,
    role_sent: bool,
    text: String,
    refusal: String,
    calls: Vec<Call>,
    /// Finished output items, for a whole Responses answer whose last
    /// event does not repeat them.
    items: Vec<Value>,
    outcome: Option<Outcome>,
    usage: Option<TokenUsage>,
}

/// A tool call being streamed.
#[derive(Debug)]
struct Call {
    item_id: String,
    call_id: String,
    name: String,
    arguments: String,
}

/// How the stream ended.
#[derive(Debug)]
enum Outcome {
    /// `response.completed` or `response.incomplete`: the response, and
    /// Chat's finish reason.
    Done { response: Value, finish: &'static str },
    /// `response.failed` or an `error` event; or a stream this gateway
    /// cannot read.
    Failed(ApiError),
}

impl Answer {
    /// An answer to a request for `model`; `now` (Unix seconds) dates it
    /// until the stream does.
    pub fn new(shape: AnswerShape, model: &str, now: i64) -> Self {
        Self {
            shape,
            framer: Framer::default(),
            id: format!("resp_{now}"),
            created: now,
            model: model.to_owned(),
            role_sent: false,
            text: String::new(),
            refusal: String::new(),
            calls: Vec::new(),
            items: Vec::new(),
            outcome: None,
            usage: None,
        }
    }

    /// A piece of the backend's stream; returns what the client gets now.
    /// A Responses stream goes on as it came; its events are still read,
    /// for the usage at its end.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if self.outcome.is_some() {
            if self.shape == AnswerShape::ResponsesStream {
                out.extend_from_slice(chunk);
            }
            return out;
        }
        match self.framer.push(chunk) {
            Ok(events) => {
                for event in events {
                    self.event(&event, &mut out);
                }
            }
            Err(_) => {
                let error =
                    server_error("upstream_error", "the Codex backend sent an event too long to read");
                self.fail(error, &mut out);
            }
        }
        if self.shape == AnswerShape::ResponsesStream {
            out.extend_from_slice(chunk);
        }
        out
    }

    /// The backend's stream ended, cleanly or (`broke`, why) not: the rest
    /// of a streamed answer, or the whole answer.
    pub fn finish(&mut self, broke: Option<&str>) -> Whole {
        let mut out = Vec::new();
        if self.shape == AnswerShape::ResponsesStream {
            return Whole { status: 200, body: out, usage: self.usage };
        }
        if self.outcome.is_none()
            && let Some(event) = self.framer.finish()
        {
            self.event(&event, &mut out);
        }
        if self.outcome.is_none() {
            let why = broke.map_or_else(
                || "the Codex backend's stream ended before the answer was complete".to_owned(),
                |why| format!("the Codex backend's stream broke off: {why}"),
            );
            self.fail(server_error("upstream_disconnected", &why).with_status(502), &mut out);
        }
        let usage = self.usage;
        match (&self.outcome, self.shape) {
            (_, AnswerShape::ChatStream | AnswerShape::ChatStreamWithUsage) => {
                Whole { status: 200, body: out, usage }
            }
            (Some(Outcome::Failed(error)), _) => {
                Whole { status: error.status, body: error.to_json().to_string().into_bytes(), usage }
            }
            (Some(Outcome::Done { response, finish }), AnswerShape::ChatWhole) => {
                let body = self.chat_completion(response, finish).to_string().into_bytes();
                Whole { status: 200, body, usage }
            }
            (Some(Outcome::Done { response, .. }), _) => {
                let mut response = response.clone();
                if response["output"].as_array().is_none_or(Vec::is_empty) && !self.items.is_empty() {
                    response["output"] = self.items.clone().into();
                }
                Whole { status: 200, body: response.to_string().into_bytes(), usage }
            }
            (None, _) => Whole { status: 502, body: Vec::new(), usage },
        }
    }

    fn event(&mut self, event: &Event, out: &mut Vec<u8>) {
        // Nothing follows the end, even in the chunk that carried it.
        if self.outcome.is_some() {
            return;
        }
        let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
            return;
        };
        let kind = data["type"].as_str().unwrap_or(&event.name).to_owned();
        match kind.as_str() {
            "response.created" | "response.in_progress" => {
                self.learn(&data["response"]);
                self.role(out);
            }
            "response.output_text.delta" => {
                let delta = data["delta"].as_str().unwrap_or_default();
                self.text.push_str(delta);
                self.delta(json!({"content": delta}), out);
            }
            "response.refusal.delta" => {
                let delta = data["delta"].as_str().unwrap_or_default();
                self.refusal.push_str(delta);
                self.delta(json!({"refusal": delta}), out);
            }
            "response.output_item.added" if data["item"]["type"] == "function_call" => {
                self.call(&data["item"], out);
            }
            "response.function_call_arguments.delta" => {
                let item_id = data["item_id"].as_str().unwrap_or_default();
                let delta = data["delta"].as_str().unwrap_or_default();
                if let Some(index) = self.calls.iter().position(|c| c.item_id == item_id) {
                    self.calls[index].arguments.push_str(delta);
                    self.delta(
                        json!({"tool_calls": [{"index": index, "function": {"arguments": delta}}]}),
                        out,
                    );
                }
            }
            "response.output_item.done" => {
                let item = &data["item"];
                if item["type"] == "function_call" {
                    self.call(item, out);
                }
                self.items.push(item.clone());
            }
            "response.completed" | "response.incomplete" => {
                let response = data["response"].clone();
                self.learn(&response);
                let finish = match response["incomplete_details"]["reason"].as_str() {
                    Some("content_filter") => "content_filter",
                    Some(_) => "length",
                    None if self.calls.is_empty() => "stop",
                    None => "tool_calls",
                };
                self.done(response, finish, out);
            }
            "response.failed" => {
                let error = &data["response"]["error"];
                self.fail(failure(error), out);
            }
            "error" => {
                let error = if data["error"].is_object() { &data["error"] } else { &data };
                self.fail(failure(error), out);
            }
            _ => {}
        }
    }

    /// What the response says of itself.
    fn learn(&mut self, response: &Value) {
        if let Some(id) = response["id"].as_str() {
            id.clone_into(&mut self.id);
        }
        if let Some(created) = response["created_at"].as_i64() {
            self.created = created;
        }
        if let Some(model) = response["model"].as_str() {
            model.clone_into(&mut self.model);
        }
    }

    /// A tool call, when first seen (its head chunk) and when done (any
    /// arguments its deltas did not carry).
    fn call(&mut self, item: &Value, out: &mut Vec<u8>) {
        let item_id = item["id"].as_str().or(item["call_id"].as_str()).unwrap_or_default();
        let arguments = item["arguments"].as_str().unwrap_or_default();
        let index = match self.calls.iter().position(|c| c.item_id == item_id) {
            Some(index) => index,
            None => {
                let call = Call {
                    item_id: item_id.to_owned(),
                    call_id: item["call_id"].as_str().unwrap_or(item_id).to_owned(),
                    name: item["name"].as_str().unwrap_or_default().to_owned(),
                    arguments: String::new(),
                };
                let head = json!({"tool_calls": [{"index": self.calls.len(), "id": call.call_id, "type": "function",
                                                  "function": {"name": call.name, "arguments": ""}}]});
                self.calls.push(call);
                self.delta(head, out);
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[index];
        if let Some(rest) = arguments.strip_prefix(call.arguments.as_str())
            && !rest.is_empty()
        {
            let rest = rest.to_owned();
            call.arguments.push_str(&rest);
            self.delta(json!({"tool_calls": [{"index": index, "function": {"arguments": rest}}]}), out);
        }
    }

    fn role(&mut self, out: &mut Vec<u8>) {
        if !self.role_sent {
            self.role_sent = true;
            self.chunk(json!({"role": "assistant", "content": "", "refusal": null}), None, out);
        }
    }

    fn delta(&mut self, delta: Value, out: &mut Vec<u8>) {
        self.role(out);
        self.chunk(delta, None, out);
    }

    fn done(&mut self, response: Value, finish: &'static str, out: &mut Vec<u8>) {
        self.usage = token_usage(&response["usage"]);
        self.role(out);
        self.chunk(json!({}), Some(finish), out);
        if self.shape == AnswerShape::ChatStreamWithUsage {
            let mut usage = self.envelope(Vec::new());
            usage["usage"] = chat_usage(&response["usage"]);
            self.send(&usage, out);
        }
        if self.chat_streamed() {
            encode(None, "[DONE]", out);
        }
        self.outcome = Some(Outcome::Done { response, finish });
    }

    fn fail(&mut self, error: ApiError, out: &mut Vec<u8>) {
        if self.chat_streamed() {
            self.send(&error.to_json(), out);
        }
        self.outcome = Some(Outcome::Failed(error));
    }

    /// Whether the client gets Chat chunks as they come.
    fn chat_streamed(&self) -> bool {
        matches!(self.shape, AnswerShape::ChatStream | AnswerShape::ChatStreamWithUsage)
    }

    fn chunk(&self, delta: Value, finish: Option<&str>, out: &mut Vec<u8>) {
        if self.chat_streamed() {
            let chunk = self.envelope(vec![
                json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}),
            ]);
            self.send(&chunk, out);
        }
    }

    fn envelope(&self, choices: Vec<Value>) -> Value {
        let mut chunk = json!({"id": self.chat_id(), "object": "chat.completion.chunk", "created": self.created,
                               "model": self.model, "system_fingerprint": null, "choices": choices});
        if self.shape == AnswerShape::ChatStreamWithUsage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    fn send(&self, value: &Value, out: &mut Vec<u8>) {
        encode(None, &value.to_string(), out);
    }

    fn chat_id(&self) -> String {
        format!("chatcmpl-{}", self.id.strip_prefix("resp_").unwrap_or(&self.id))
    }

    fn chat_completion(&self, response: &Value, finish: &str) -> Value {
        let mut message = json!({"role": "assistant",
            "content": if self.text.is_empty() && !self.calls.is_empty() { Value::Null } else { self.text.clone().into() },
            "refusal": if self.refusal.is_empty() { Value::Null } else { self.refusal.clone().into() },
            "annotations": []});
        if !self.calls.is_empty() {
            let calls: Vec<Value> = self
                .calls
                .iter()
                .map(|c| json!({"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
                .collect();
            message["tool_calls"] = calls.into();
        }
        json!({"id": self.chat_id(), "object": "chat.completion", "created": self.created, "model": self.model,
               "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
               "usage": chat_usage(&response["usage"]), "system_fingerprint": null})
    }
}

/// The tokens of a Responses `usage`, when it has any.
pub(crate) fn token_usage(usage: &Value) -> Option<TokenUsage> {
    let count = |v: &Value| v.as_u64().unwrap_or(0);
    usage.is_object().then(|| TokenUsage {
        input: count(&usage["input_tokens"]),
        output: count(&usage["output_tokens"]),
        cached: count(&usage["input_tokens_details"]["cached_tokens"]),
        reasoning: count(&usage["output_tokens_details"]["reasoning_tokens"]),
    })
}

/// Responses usage in Chat's names.
fn chat_usage(usage: &Value) -> Value {
    let count = |v: &Value| v.as_u64().unwrap_or(0);
    json!({
        "prompt_tokens": count(&usage["input_tokens"]),
        "completion_tokens": count(&usage["output_tokens"]),
        "total_tokens": count(&usage["total_tokens"]),
        "prompt_tokens_details": {"cached_tokens": count(&usage["input_tokens_details"]["cached_tokens"])},
        "completion_tokens_details": {"reasoning_tokens": count(&usage["output_tokens_details"]["reasoning_tokens"])}
    })
}

/// A failed response's error in OpenAI's shape, with the status OpenAI
/// would answer it with.
fn failure(error: &Value) -> ApiError {
    let code = error["code"].as_str().or(error["type"].as_str()).unwrap_or("server_error");
    let message = error["message"].as_str().unwrap_or("the Codex backend could not complete the response");
    let (status, kind) = match code {
        "usage_limit_reached" | "rate_limit_exceeded" => (429, "rate_limit_error"),
        "context_length_exceeded" | "invalid_prompt" | "invalid_request_error" => {
            (400, "invalid_request_error")
        }
        _ => (500, "server_error"),
    };
    let mut api =
        ApiError { status, message: message.to_owned(), kind: kind.into(), code: code.into(), param: None };
    if status == 429 && error["resets_in_seconds"].is_number() {
        api.message = format!("{message} (resets in {}s)", error["resets_in_seconds"]);
    }
    api
}

fn server_error(code: &str, message: &str) -> ApiError {
    ApiError {
        status: 502,
        message: message.into(),
        kind: "server_error".into(),
        code: code.into(),
        param: None,
    }
}

impl ApiError {
    fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
