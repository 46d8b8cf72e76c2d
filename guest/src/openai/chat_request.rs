//! A Chat Completions request made into a Responses request the Codex
//! backend takes. What the backend cannot honour is refused with a 400
//! that names the field, as OpenAI's own API refuses it for the same
//! reasoning models; what OpenAI documents as a hint is dropped
//! ([`DROPPED_HINTS`]).

use super::{AnswerShape, ApiError, Translated, parse_object};
use serde_json::{Map, Value, json};

/// Fields dropped because OpenAI documents them as hints or bookkeeping
/// that changes no answer: `user` and `safety_identifier` (abuse
/// monitoring), `seed` (best-effort determinism), `metadata` and
/// `service_tier` (bookkeeping of a stored completion and its billing).
pub const DROPPED_HINTS: &[&str] = &["user", "safety_identifier", "seed", "metadata", "service_tier"];

/// Fields accepted only at their default, which is what the backend does:
/// (name, what the default is).
const ONLY_DEFAULT: &[(&str, &str)] = &[
    ("temperature", "1"),
    ("top_p", "1"),
    ("presence_penalty", "0"),
    ("frequency_penalty", "0"),
    ("n", "1"),
    ("logprobs", "false"),
    ("store", "false"),
];

/// Fields the backend has no way to honour at any value but none.
const REFUSED: &[(&str, &str)] = &[
    ("max_tokens", "the Codex backend sets no output limit"),
    ("max_completion_tokens", "the Codex backend sets no output limit"),
    ("stop", "the Codex backend takes no stop sequences"),
    ("top_logprobs", "the Codex backend returns no log probabilities"),
    ("logit_bias", "the Codex backend takes no logit bias"),
    ("audio", "the Codex backend answers in text"),
    ("prediction", "the Codex backend takes no predicted output"),
    ("web_search_options", "the Codex backend's web search is not offered through Chat Completions"),
    ("functions", "use `tools` (the deprecated `functions` is not translated)"),
    ("function_call", "use `tool_choice` (the deprecated `function_call` is not translated)"),
];

/// The Responses request for a Chat Completions request.
pub fn translate(body: &[u8]) -> Result<Translated, ApiError> {
    let mut request = parse_object(body)?;
    let model = match request.remove("model") {
        Some(Value::String(model)) if !model.is_empty() => model,
        _ => return Err(missing("model", "a model is required, e.g. `\"model\": \"gpt-5\"`")),
    };
    let Some(Value::Array(messages)) = request.remove("messages") else {
        return Err(missing("messages", "`messages` must be an array of messages"));
    };
    let stream = take_bool(&mut request, "stream")?.unwrap_or(false);
    let include_usage = match request.remove("stream_options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(options)) if stream => options.get("include_usage") == Some(&Value::Bool(true)),
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                Some("stream_options"),
                "`stream_options` is only allowed when `stream` is true",
            ));
        }
    };
    let (instructions, input) = messages_to_input(messages)?;
    let mut out = Map::new();
    out.insert("model".into(), model.clone().into());
    out.insert("instructions".into(), instructions.into());
    out.insert("input".into(), input.into());
    if let Some(tools) = non_null(request.remove("tools")) {
        out.insert("tools".into(), translate_tools(tools)?);
    }
    if let Some(choice) = non_null(request.remove("tool_choice")) {
        out.insert("tool_choice".into(), translate_tool_choice(choice)?);
    }
    if let Some(parallel) = take_bool(&mut request, "parallel_tool_calls")? {
        out.insert("parallel_tool_calls".into(), parallel.into());
    }
    if let Some(effort) = non_null(request.remove("reasoning_effort")) {
        let Value::String(effort) = effort else {
            return Err(ApiError::invalid(
                "invalid_type",
                Some("reasoning_effort"),
                "`reasoning_effort` must be a string",
            ));
        };
        out.insert("reasoning".into(), json!({"effort": effort}));
    }
    let mut text = Map::new();
    if let Some(format) = non_null(request.remove("response_format"))
        && let Some(format) = translate_format(format)?
    {
        text.insert("format".into(), format);
    }
    if let Some(verbosity) = non_null(request.remove("verbosity")) {
        text.insert("verbosity".into(), verbosity);
    }
    if !text.is_empty() {
        out.insert("text".into(), text.into());
    }
    if let Some(key) = non_null(request.remove("prompt_cache_key")) {
        out.insert("prompt_cache_key".into(), key);
    }
    check_rest(request)?;
    out.insert("store".into(), false.into());
    out.insert("stream".into(), true.into());
    let shape = match (stream, include_usage) {
        (false, _) => AnswerShape::ChatWhole,
        (true, false) => AnswerShape::ChatStream,
        (true, true) => AnswerShape::ChatStreamWithUsage,
    };
    let body = serde_json::to_vec(&Value::Object(out)).unwrap_or_default();
    Ok(Translated { body, model: Some(model), shape })
}

/// What is left once every translated field is taken: hints dropped,
/// defaults allowed, everything else refused by name.
fn check_rest(rest: Map<String, Value>) -> Result<(), ApiError> {
    for (name, value) in rest {
        if DROPPED_HINTS.contains(&name.as_str()) || value.is_null() {
            continue;
        }
        if let Some((_, default)) = ONLY_DEFAULT.iter().find(|(n, _)| *n == name) {
            let given = value.to_string();
            let same = given == *default || value.as_f64().is_some_and(|v| Some(v) == default.parse().ok());
            if same {
                continue;
            }
            return Err(ApiError::invalid(
                "unsupported_value",
                Some(&name),
                format!(
                    "Unsupported value: `{name}` does not support {given} with the Codex backend; only the default ({default}) is supported"
                ),
            ));
        }
        if name == "modalities" && value == json!(["text"]) {
            continue;
        }
        let empty = matches!(&value, Value::Array(a) if a.is_empty())
            || matches!(&value, Value::Object(o) if o.is_empty());
        if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == name) {
            if empty {
                continue;
            }
            return Err(ApiError::invalid(
                "unsupported_parameter",
                Some(&name),
                format!("Unsupported parameter: `{name}`: {why}; leave it out"),
            ));
        }
        return Err(ApiError::invalid(
            "unknown_parameter",
            Some(&name),
            format!("Unrecognized request argument supplied: {name}"),
        ));
    }
    Ok(())
}

/// Leading system and developer messages become `instructions`; every
/// other message an input item, in order (a later system message stays in
/// its place as a `developer` message).
fn messages_to_input(messages: Vec<Value>) -> Result<(String, Vec<Value>), ApiError> {
    if messages.is_empty() {
        return Err(missing("messages", "`messages` must hold at least one message"));
    }
    let mut instructions: Vec<String> = Vec::new();
    let mut input = Vec::new();
    for (i, message) in messages.into_iter().enumerate() {
        let at = |field: &str| format!("messages[{i}]{field}");
        let Value::Object(mut message) = message else {
            return Err(ApiError::invalid("invalid_type", Some(&at("")), "each message must be an object"));
        };
        let role = match message.remove("role") {
            Some(Value::String(role)) => role,
            _ => return Err(missing(&at(".role"), "each message needs a `role`")),
        };
        let content = message.remove("content").filter(|c| !c.is_null());
        match role.as_str() {
            "system" | "developer" => {
                let text = plain_text(content, &at(".content"))?;
                if input.is_empty() {
                    instructions.push(text);
                } else {
                    input.push(json!({"type": "message", "role": "developer",
                                      "content": [{"type": "input_text", "text": text}]}));
                }
            }
            "user" => {
                let content = user_content(content, &at(".content"))?;
                input.push(json!({"type": "message", "role": "user", "content": content}));
            }
            "assistant" => {
                let content = assistant_content(content, &at(".content"))?;
                if !content.is_empty() {
                    input.push(json!({"type": "message", "role": "assistant", "content": content}));
                }
                if let Some(calls) = non_null(message.remove("tool_calls")) {
                    input.extend(assistant_calls(calls, &at(".tool_calls"))?);
                }
            }
            "tool" => {
                let Some(Value::String(call_id)) = message.remove("tool_call_id") else {
                    return Err(missing(
                        &at(".tool_call_id"),
                        "a tool message needs the `tool_call_id` it answers",
                    ));
                };
                let output = plain_text(content, &at(".content"))?;
                input.push(json!({"type": "function_call_output", "call_id": call_id, "output": output}));
            }
            "function" => {
                return Err(ApiError::invalid(
                    "unsupported_value",
                    Some(&at(".role")),
                    "the deprecated `function` role is not translated; use `tool` messages",
                ));
            }
            other => {
                return Err(ApiError::invalid(
                    "invalid_value",
                    Some(&at(".role")),
                    format!("unknown role `{other}`: expected system, developer, user, assistant or tool"),
                ));
            }
        }
    }
    Ok((instructions.join("\n\n"), input))
}

/// A string, or text parts joined: the content of system, developer and
/// tool messages.
fn plain_text(content: Option<Value>, at: &str) -> Result<String, ApiError> {
    match content {
        None => Ok(String::new()),
        Some(Value::String(text)) => Ok(text),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for (i, part) in parts.iter().enumerate() {
                match (part["type"].as_str(), part["text"].as_str()) {
                    (Some("text"), Some(piece)) => text.push_str(piece),
                    _ => {
                        return Err(ApiError::invalid(
                            "invalid_value",
                            Some(&format!("{at}[{i}]")),
                            "only text parts are allowed here",
                        ));
                    }
                }
            }
            Ok(text)
        }
        Some(_) => {
            Err(ApiError::invalid("invalid_type", Some(at), "content must be a string or an array of parts"))
        }
    }
}

/// A user message's content as input parts: text, images and files.
fn user_content(content: Option<Value>, at: &str) -> Result<Vec<Value>, ApiError> {
    let parts = match content {
        None => return Err(missing(at, "a user message needs `content`")),
        Some(Value::String(text)) => return Ok(vec![json!({"type": "input_text", "text": text})]),
        Some(Value::Array(parts)) => parts,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_type",
                Some(at),
                "content must be a string or an array of parts",
            ));
        }
    };
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        let at = format!("{at}[{i}]");
        let kind = part["type"].as_str().unwrap_or_default();
        let translated = match kind {
            "text" => part["text"].as_str().map(|text| json!({"type": "input_text", "text": text})),
            "image_url" => {
                let image = &part["image_url"];
                let url = image.as_str().or_else(|| image["url"].as_str());
                let detail = image["detail"].as_str().unwrap_or("auto");
                url.map(|url| json!({"type": "input_image", "image_url": url, "detail": detail}))
            }
            "file" => {
                let file = &part["file"];
                if file.get("file_id").is_some_and(|id| !id.is_null()) {
                    return Err(ApiError::invalid(
                        "unsupported_value",
                        Some(&at),
                        "files by `file_id` are not available through the Codex backend; send `file_data`",
                    ));
                }
                file["file_data"].as_str().map(|data| {
                    let mut item = json!({"type": "input_file", "file_data": data});
                    if let Some(name) = file["filename"].as_str() {
                        item["filename"] = name.into();
                    }
                    item
                })
            }
            "input_audio" => {
                return Err(ApiError::invalid(
                    "unsupported_value",
                    Some(&at),
                    "audio input is not available through the Codex backend",
                ));
            }
            other => {
                return Err(ApiError::invalid(
                    "invalid_value",
                    Some(&at),
                    format!("unknown content part type `{other}`"),
                ));
            }
        };
        out.push(translated.ok_or_else(|| missing(&at, &format!("a `{kind}` part is missing its value")))?);
    }
    Ok(out)
}

/// An assistant message's earlier text (and refusals) as output parts.
fn assistant_content(content: Option<Value>, at: &str) -> Result<Vec<Value>, ApiError> {
    match content {
        None => Ok(Vec::new()),
        Some(Value::String(text)) if text.is_empty() => Ok(Vec::new()),
        Some(Value::String(text)) => {
            Ok(vec![json!({"type": "output_text", "text": text, "annotations": []})])
        }
        Some(Value::Array(parts)) => parts
            .iter()
            .enumerate()
            .map(|(i, part)| match (part["type"].as_str(), part["text"].as_str(), part["refusal"].as_str()) {
                (Some("text"), Some(text), _) => {
                    Ok(json!({"type": "output_text", "text": text, "annotations": []}))
                }
                (Some("refusal"), _, Some(refusal)) => Ok(json!({"type": "refusal", "refusal": refusal})),
                _ => Err(ApiError::invalid(
                    "invalid_value",
                    Some(&format!("{at}[{i}]")),
                    "an assistant message holds text or refusal parts",
                )),
            })
            .collect(),
        Some(_) => {
            Err(ApiError::invalid("invalid_type", Some(at), "content must be a string or an array of parts"))
        }
    }
}

/// An assistant message's tool calls as `function_call` items.
fn assistant_calls(calls: Value, at: &str) -> Result<Vec<Value>, ApiError> {
    let Value::Array(calls) = calls else {
        return Err(ApiError::invalid("invalid_type", Some(at), "`tool_calls` must be an array"));
    };
    calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            let (id, function) = (call["id"].as_str(), &call["function"]);
            match (id, function["name"].as_str()) {
                (Some(id), Some(name)) => {
                    let arguments = function["arguments"].as_str().unwrap_or("{}");
                    Ok(json!({"type": "function_call", "call_id": id, "name": name, "arguments": arguments}))
                }
                _ => Err(missing(&format!("{at}[{i}]"), "a tool call needs an `id` and a `function.name`")),
            }
        })
        .collect()
}

/// Chat's function tools in the Responses form. Chat's `strict` defaults to
/// false and the Responses API's to true, so it is always written out.
fn translate_tools(tools: Value) -> Result<Value, ApiError> {
    let Value::Array(tools) = tools else {
        return Err(ApiError::invalid("invalid_type", Some("tools"), "`tools` must be an array"));
    };
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let at = format!("tools[{i}]");
        if tool["type"].as_str() != Some("function") {
            return Err(ApiError::invalid(
                "unsupported_value",
                Some(&format!("{at}.type")),
                "only `function` tools are translated",
            ));
        }
        let function = &tool["function"];
        let Some(name) = function["name"].as_str() else {
            return Err(missing(&format!("{at}.function.name"), "a function tool needs a name"));
        };
        let mut item = json!({"type": "function", "name": name, "strict": function["strict"].as_bool().unwrap_or(false)});
        if let Some(description) = function["description"].as_str() {
            item["description"] = description.into();
        }
        item["parameters"] = match &function["parameters"] {
            Value::Null => json!({"type": "object", "properties": {}}),
            parameters => parameters.clone(),
        };
        out.push(item);
    }
    Ok(out.into())
}

fn translate_tool_choice(choice: Value) -> Result<Value, ApiError> {
    match &choice {
        Value::String(mode) if matches!(mode.as_str(), "none" | "auto" | "required") => Ok(choice),
        Value::Object(_) if choice["type"] == "function" => match choice["function"]["name"].as_str() {
            Some(name) => Ok(json!({"type": "function", "name": name})),
            None => Err(missing("tool_choice.function.name", "a function tool choice names the function")),
        },
        _ => Err(ApiError::invalid(
            "invalid_value",
            Some("tool_choice"),
            "`tool_choice` is none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}",
        )),
    }
}

/// `response_format` as the Responses text format (none for plain text).
fn translate_format(format: Value) -> Result<Option<Value>, ApiError> {
    match format["type"].as_str() {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            let schema = &format["json_schema"];
            let Some(name) = schema["name"].as_str() else {
                return Err(missing("response_format.json_schema.name", "a JSON schema format needs a name"));
            };
            let mut out = json!({"type": "json_schema", "name": name,
                                 "schema": schema.get("schema").cloned().unwrap_or_else(|| json!({})),
                                 "strict": schema["strict"].as_bool().unwrap_or(false)});
            if let Some(description) = schema["description"].as_str() {
                out["description"] = description.into();
            }
            Ok(Some(out))
        }
        _ => Err(ApiError::invalid(
            "invalid_value",
            Some("response_format.type"),
            "`response_format.type` is text, json_object or json_schema",
        )),
    }
}

fn take_bool(request: &mut Map<String, Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match request.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(_) => Err(ApiError::invalid("invalid_type", Some(name), format!("`{name}` must be a boolean"))),
    }
}

fn non_null(value: Option<Value>) -> Option<Value> {
    value.filter(|v| !v.is_null())
}

fn missing(param: &str, message: &str) -> ApiError {
    ApiError::invalid("missing_required_parameter", Some(param), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(request: Value) -> (Value, Translated) {
        let translated = translate(request.to_string().as_bytes()).unwrap();
        (serde_json::from_slice(&translated.body).unwrap(), translated)
    }

    fn refused(request: Value) -> ApiError {
        translate(request.to_string().as_bytes()).unwrap_err()
    }

    #[test]
    fn messages_become_instructions_and_input_items_in_order() {
        let (body, translated) = sent(json!({
            "model": "gpt-5",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "look", "arguments": "{\"x\":1}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
                {"role": "system", "content": "Answer in French."},
                {"role": "assistant", "content": "Un chat."},
                {"role": "user", "content": "Merci"}
            ]
        }));
        assert_eq!(translated.shape, AnswerShape::ChatWhole);
        assert_eq!(translated.model.as_deref(), Some("gpt-5"));
        assert_eq!(body["instructions"], "Be brief.\n\nUse metric units.");
        assert_eq!((body["store"].clone(), body["stream"].clone()), (json!(false), json!(true)));
        assert_eq!(
            body["input"],
            json!([
                {"type": "message", "role": "user", "content": [
                    {"type": "input_text", "text": "What is in this image?"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"}
                ]},
                {"type": "function_call", "call_id": "call_1", "name": "look", "arguments": "{\"x\":1}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "a cat"},
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Answer in French."}]},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Un chat.", "annotations": []}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Merci"}]}
            ])
        );
    }

    #[test]
    fn tools_choices_formats_and_effort_take_their_responses_form() {
        let (body, translated) = sent(json!({
            "model": "gpt-5", "messages": [{"role": "user", "content": "hi"}],
            "stream": true, "stream_options": {"include_usage": true},
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                       "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "parallel_tool_calls": false,
            "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": true}},
            "reasoning_effort": "low", "verbosity": "low",
            "user": "u-1", "seed": 7, "temperature": 1, "n": 1, "max_tokens": null, "stop": []
        }));
        assert_eq!(translated.shape, AnswerShape::ChatStreamWithUsage);
        assert_eq!(
            body["tools"],
            json!([{"type": "function", "name": "get_weather", "strict": false, "description": "Weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}])
        );
        assert_eq!(body["tool_choice"], json!({"type": "function", "name": "get_weather"}));
        assert_eq!(body["parallel_tool_calls"], json!(false));
        assert_eq!(body["reasoning"], json!({"effort": "low"}));
        assert_eq!(
            body["text"],
            json!({"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": true}, "verbosity": "low"})
        );
        for dropped in ["user", "seed", "temperature", "n", "max_tokens", "stop"] {
            assert!(body.get(dropped).is_none(), "{dropped}");
        }
        assert_eq!(
            sent(json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": true}))
                .1
                .shape,
            AnswerShape::ChatStream
        );
    }

    #[test]
    fn what_the_backend_cannot_honour_is_refused_by_name() {
        let base = json!({"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]});
        for (field, value, code) in [
            ("max_tokens", json!(100), "unsupported_parameter"),
            ("max_completion_tokens", json!(100), "unsupported_parameter"),
            ("stop", json!(["\n"]), "unsupported_parameter"),
            ("n", json!(2), "unsupported_value"),
            ("logprobs", json!(true), "unsupported_value"),
            ("temperature", json!(0.2), "unsupported_value"),
            ("store", json!(true), "unsupported_value"),
            ("frobnicate", json!(1), "unknown_parameter"),
        ] {
            let mut request = base.clone();
            request[field] = value;
            let error = refused(request);
            assert_eq!((error.status, error.code.as_str(), error.param.as_deref()), (400, code, Some(field)));
            assert_eq!(error.to_json()["error"]["type"], "invalid_request_error");
        }
        assert_eq!(refused(json!({"messages": []})).param.as_deref(), Some("model"));
        assert_eq!(refused(json!({"model": "m", "messages": []})).param.as_deref(), Some("messages"));
        let audio = json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]});
        assert_eq!(refused(audio).param.as_deref(), Some("messages[0].content[0]"));
        let no_id = json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]});
        assert_eq!(refused(no_id).param.as_deref(), Some("messages[0].tool_call_id"));
        assert_eq!(translate(b"{not json").unwrap_err().code, "invalid_json");
    }
}
