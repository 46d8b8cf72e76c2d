//! The issuer's error answers: `{"error": "code", "error_description": ".."}`
//! or `{"error": {"code": "..", "message": ".."}}`.

use serde_json::Value;
use std::fmt;

/// An OAuth error code and its description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: String,
    pub description: Option<String>,
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.description {
            Some(d) => write!(f, "{}: {d}", self.code),
            None => f.write_str(&self.code),
        }
    }
}

/// An error answer: its status and, when the body had one, its OAuth error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerError {
    pub status: u16,
    pub error: Option<OAuthError>,
}

impl fmt::Display for IssuerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            Some(e) => write!(f, "the issuer answered HTTP {} ({e})", self.status),
            None => write!(f, "the issuer answered HTTP {}", self.status),
        }
    }
}

/// The longest description kept: error texts end up in terminals and logs.
const MAX_DESCRIPTION: usize = 500;

/// Reads the OAuth error of an error body, if it has one.
pub fn parse(body: &[u8]) -> Option<OAuthError> {
    let Value::Object(root) = serde_json::from_slice::<Value>(body).ok()? else {
        return None;
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(short);
    let (code, description) = match root.get("error") {
        Some(Value::String(code)) => (short(code), text(root.get("error_description"))),
        Some(Value::Object(inner)) => (
            text(inner.get("code")).or_else(|| text(inner.get("type")))?,
            text(inner.get("message")).or_else(|| text(root.get("error_description"))),
        ),
        _ => (text(root.get("code"))?, text(root.get("message"))),
    };
    Some(OAuthError { code, description })
}

fn short(text: &str) -> String {
    match text.char_indices().nth(MAX_DESCRIPTION) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, description: Option<&str>) -> Option<OAuthError> {
        Some(OAuthError { code: code.into(), description: description.map(Into::into) })
    }

    #[test]
    fn both_shapes() {
        assert_eq!(
            parse(br#"{"error":"invalid_grant","error_description":"gone"}"#),
            err("invalid_grant", Some("gone"))
        );
        assert_eq!(
            parse(br#"{"error":{"code":"refresh_token_reused","message":"used"}}"#),
            err("refresh_token_reused", Some("used"))
        );
        assert_eq!(parse(br#"{"error":{"message":"no code"}}"#), None);
        assert_eq!(parse(b"<html>"), None);
        assert_eq!(parse(br#"{"error":5}"#), None);
    }

    #[test]
    fn long_descriptions_are_cut() {
        let body = serde_json::json!({"error": "x", "error_description": "é".repeat(2000)});
        let e = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(e.description.unwrap().chars().count(), MAX_DESCRIPTION + 3);
    }
}
