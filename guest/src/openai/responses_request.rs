//! A generic client's Responses request (the OpenAI SDKs'
//! `responses.create`) made into one the Codex backend takes: it must say
//! `"store": false` and `"stream": true`, and it refuses
//! `max_output_tokens` (PROTOCOL.md, "What the backend refuses"). A request
//! that already says so, as the Codex CLI's does, goes on as it came.

use super::{AnswerShape, ApiError, Translated, parse_object};
use serde_json::Value;

/// Fields the backend refuses and OpenAI documents as limits it may stop
/// short of anyway: left out.
pub const DROPPED: &[&str] = &["max_output_tokens"];

pub fn translate(body: &[u8]) -> Result<Translated, ApiError> {
    let mut request = parse_object(body)?;
    let model = match request.get("model") {
        Some(Value::String(model)) if !model.is_empty() => model.clone(),
        _ => {
            return Err(ApiError::invalid(
                "missing_required_parameter",
                Some("model"),
                "a model is required, e.g. `\"model\": \"gpt-5\"`",
            ));
        }
    };
    let stream = match request.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(stream)) => *stream,
        Some(_) => {
            return Err(ApiError::invalid("invalid_type", Some("stream"), "`stream` must be a boolean"));
        }
    };
    match request.get("store") {
        None | Some(Value::Null | Value::Bool(false)) => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "unsupported_value",
                Some("store"),
                "the Codex backend keeps no responses: send `\"store\": false` or leave `store` out",
            ));
        }
    }
    let untouched = stream
        && request.get("store") == Some(&Value::Bool(false))
        && !DROPPED.iter().any(|name| request.contains_key(*name));
    let body = if untouched {
        body.to_vec()
    } else {
        for name in DROPPED {
            request.remove(*name);
        }
        request.insert("store".into(), false.into());
        request.insert("stream".into(), true.into());
        serde_json::to_vec(&Value::Object(request)).unwrap_or_default()
    };
    let shape = if stream { AnswerShape::ResponsesStream } else { AnswerShape::ResponsesWhole };
    Ok(Translated { body, model: Some(model), shape })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_generic_request_gets_what_the_backend_requires_and_loses_what_it_refuses() {
        let sent = json!({"model": "gpt-5", "input": "hi", "max_output_tokens": 50, "instructions": "x"});
        let translated = translate(sent.to_string().as_bytes()).unwrap();
        assert_eq!(translated.shape, AnswerShape::ResponsesWhole);
        let body: Value = serde_json::from_slice(&translated.body).unwrap();
        assert_eq!(
            body,
            json!({"model": "gpt-5", "input": "hi", "instructions": "x", "store": false, "stream": true})
        );
        let streamed = translate(br#"{"model": "m", "input": "hi", "stream": true}"#).unwrap();
        assert_eq!(streamed.shape, AnswerShape::ResponsesStream);
    }

    #[test]
    fn the_codex_clis_own_request_goes_on_byte_for_byte() {
        let codex = br#"{"model":"gpt-5-codex","instructions":"...","input":[],"store":false,"stream":true,"include":[]}"#;
        let translated = translate(codex).unwrap();
        assert_eq!(
            (translated.body.as_slice(), translated.shape),
            (&codex[..], AnswerShape::ResponsesStream)
        );
    }

    #[test]
    fn a_stored_response_or_a_missing_model_is_refused_clearly() {
        let stored = translate(br#"{"model": "m", "input": "hi", "store": true}"#).unwrap_err();
        assert_eq!((stored.status, stored.param.as_deref()), (400, Some("store")));
        assert_eq!(translate(br#"{"input": "hi"}"#).unwrap_err().param.as_deref(), Some("model"));
        assert_eq!(translate(b"[]").unwrap_err().code, "invalid_json");
    }
}
