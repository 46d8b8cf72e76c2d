//! An error answer of the backend in OpenAI's shape, for clients that read
//! only that: its own `{"error": {...}}` kept, a `{"detail": ...}` turned
//! into one, and a usage limit said so that an agent waits
//! (`resets_in_seconds` and `Retry-After`).

use super::ApiError;
use serde_json::Value;

/// The answer a client gets for a backend's error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorAnswer {
    pub status: u16,
    pub body: Vec<u8>,
    /// Seconds for `Retry-After`, when the backend said when to come back.
    pub retry_after: Option<u64>,
}

/// The longest stretch of a non-JSON answer quoted in the message.
const QUOTED: usize = 200;

pub fn translate(status: u16, body: &[u8], now: i64) -> ErrorAnswer {
    let answer: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = &answer["error"];
    let kind = if status == 401 {
        "authentication_error"
    } else if status == 429 {
        "rate_limit_error"
    } else if (400..500).contains(&status) {
        "invalid_request_error"
    } else {
        "server_error"
    };
    let message = error["message"]
        .as_str()
        .or(answer["detail"].as_str())
        .or(answer["error"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let quoted: String = text.chars().take(QUOTED).collect();
            format!("the Codex backend answered {status}: {}", quoted.trim())
        });
    let code = error["code"].as_str().or(error["type"].as_str()).unwrap_or("upstream_error");
    let mut api = ApiError { status, message, kind: kind.into(), code: code.into(), param: None };
    if let Some(param) = error["param"].as_str() {
        api.param = Some(param.to_owned());
    }
    let mut json = api.to_json();
    let resets_at = error["resets_at"].as_i64();
    let resets_in = error["resets_in_seconds"].as_i64().or(resets_at.map(|at| at - now)).map(|s| s.max(0));
    let mut retry_after = None;
    if code == "usage_limit_reached"
        && let Some(wait) = resets_in
    {
        json["error"]["resets_in_seconds"] = wait.into();
        json["error"]["resets_at"] = resets_at.unwrap_or(now + wait).into();
        retry_after = u64::try_from(wait).ok();
    }
    ErrorAnswer { status, body: json.to_string().into_bytes(), retry_after }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: &str) -> (ErrorAnswer, Value) {
        let answer = translate(status, body.as_bytes(), 1_000);
        let json = serde_json::from_slice(&answer.body).unwrap();
        (answer, json)
    }

    #[test]
    fn a_usage_limit_says_when_to_come_back() {
        let (limit, json) = answer(
            429,
            r#"{"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached", "resets_at": 1600}}"#,
        );
        assert_eq!(limit.retry_after, Some(600));
        assert_eq!(
            json,
            json!({"error": {"message": "The usage limit has been reached", "type": "rate_limit_error", "code": "usage_limit_reached",
                             "param": null, "resets_in_seconds": 600, "resets_at": 1600}})
        );
    }

    #[test]
    fn details_and_plain_text_become_openai_errors() {
        let (refused, json) = answer(400, r#"{"detail": "Store must be set to false"}"#);
        assert_eq!((refused.status, refused.retry_after), (400, None));
        assert_eq!(json["error"]["message"], "Store must be set to false");
        assert_eq!(
            (json["error"]["type"].as_str(), json["error"]["code"].as_str()),
            (Some("invalid_request_error"), Some("upstream_error"))
        );
        let (_, json) = answer(502, "<html>bad gateway</html>");
        assert_eq!(json["error"]["message"], "the Codex backend answered 502: <html>bad gateway</html>");
        assert_eq!(json["error"]["type"], "server_error");
        let (_, json) = answer(
            400,
            r#"{"error": {"message": "bad", "type": "invalid_request_error", "code": "x", "param": "input"}}"#,
        );
        assert_eq!(json["error"]["param"], "input");
    }
}
