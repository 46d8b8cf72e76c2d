//! The issuer's answers: token grants, device-code starts and polls, and the
//! classification of failed refreshes.

use crate::oauth::oauth_error::{self, IssuerError, OAuthError};
use serde_json::{Map, Value};
use std::fmt;

/// A token endpoint answer. Every field is optional: a refresh may omit any.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TokenGrant {
    pub id_token: Option<String>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: Option<u64>,
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |t: &Option<String>| t.as_ref().map(|_| "<redacted>");
        f.debug_struct("TokenGrant")
            .field("id_token", &shown(&self.id_token))
            .field("access_token", &shown(&self.access_token))
            .field("refresh_token", &shown(&self.refresh_token))
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Parses a token endpoint answer.
pub fn parse_token_response(status: u16, body: &[u8]) -> Result<TokenGrant, IssuerError> {
    let root = success_object(status, body)?;
    let text = |key: &str| root.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(TokenGrant {
        id_token: text("id_token"),
        access_token: text("access_token"),
        refresh_token: text("refresh_token"),
        expires_in: root.get("expires_in").and_then(number),
    })
}

/// The start of a device sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCode {
    pub device_auth_id: String,
    pub user_code: String,
    pub interval_seconds: u32,
}

/// Why a device sign-in could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceStartError {
    NotEnabled,
    Issuer(IssuerError),
}

/// The interval when the issuer names none (RFC 8628 section 3.2).
pub const DEFAULT_INTERVAL: u32 = 5;
/// An issuer that names 0 is polled at once, as the Codex CLI does; one
/// that wants fewer polls says `slow_down`.
const MIN_INTERVAL: u32 = 0;
/// An interval beyond this is a broken answer, not a request to wait.
const MAX_INTERVAL: u32 = 60;

/// Parses the user-code endpoint's answer.
pub fn parse_device_code(status: u16, body: &[u8]) -> Result<DeviceCode, DeviceStartError> {
    if status == 404 {
        return Err(DeviceStartError::NotEnabled);
    }
    let root = success_object(status, body).map_err(DeviceStartError::Issuer)?;
    let malformed = |what: &str| {
        DeviceStartError::Issuer(IssuerError {
            status,
            error: Some(OAuthError { code: "invalid_response".into(), description: Some(what.into()) }),
        })
    };
    let text = |key: &str| root.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let device_auth_id = text("device_auth_id").ok_or_else(|| malformed("no device_auth_id"))?;
    let user_code =
        text("user_code").or_else(|| text("usercode")).ok_or_else(|| malformed("no user_code"))?;
    let interval = root.get("interval").and_then(number).unwrap_or(u64::from(DEFAULT_INTERVAL));
    Ok(DeviceCode {
        device_auth_id: device_auth_id.to_owned(),
        user_code: user_code.to_owned(),
        interval_seconds: u32::try_from(interval).unwrap_or(MAX_INTERVAL).clamp(MIN_INTERVAL, MAX_INTERVAL),
    })
}

/// What a successful device poll returns. Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceApproval {
    pub authorization_code: String,
    pub code_verifier: String,
}

impl fmt::Debug for DeviceApproval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceApproval(<redacted>)")
    }
}

/// What one device poll means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PollOutcome {
    Pending,
    SlowDown,
    Approved(DeviceApproval),
    Denied,
    Expired,
    Failed(IssuerError),
}

/// Classifies a device poll answer.
pub fn parse_device_poll(status: u16, body: &[u8]) -> PollOutcome {
    let error = oauth_error::parse(body);
    match error.as_ref().map(|e| e.code.as_str()) {
        Some("slow_down") => return PollOutcome::SlowDown,
        Some("access_denied") => return PollOutcome::Denied,
        Some("expired_token") => return PollOutcome::Expired,
        Some("authorization_pending" | "deviceauth_authorization_pending") => {
            return PollOutcome::Pending;
        }
        _ => {}
    }
    if matches!(status, 403 | 404) {
        return PollOutcome::Pending;
    }
    match success_object(status, body) {
        Ok(root) => {
            let text = |key: &str| root.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
            match (text("authorization_code"), text("code_verifier")) {
                (Some(code), Some(verifier)) => PollOutcome::Approved(DeviceApproval {
                    authorization_code: code.to_owned(),
                    code_verifier: verifier.to_owned(),
                }),
                _ => PollOutcome::Failed(IssuerError {
                    status,
                    error: Some(OAuthError {
                        code: "invalid_response".into(),
                        description: Some("no authorization_code or code_verifier".into()),
                    }),
                }),
            }
        }
        Err(e) => PollOutcome::Failed(e),
    }
}

/// How a failed refresh must be handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshFailure {
    /// The refresh token is dead: never send it again.
    Permanent(OAuthError),
    /// Worth retrying; keep the credential.
    Transient(String),
}

/// Error codes that mean the refresh token can never work again.
const PERMANENT_CODES: [&str; 4] =
    ["refresh_token_expired", "refresh_token_reused", "refresh_token_invalidated", "invalid_grant"];

/// Classifies a refresh answer that was not a success.
pub fn classify_refresh_error(status: u16, body: &[u8]) -> RefreshFailure {
    let error = oauth_error::parse(body);
    let permanent_code = error.as_ref().is_some_and(|e| PERMANENT_CODES.contains(&e.code.as_str()));
    if status == 401 || permanent_code {
        return RefreshFailure::Permanent(error.unwrap_or_else(|| OAuthError {
            code: "unauthorized".into(),
            description: Some(format!("HTTP {status}")),
        }));
    }
    RefreshFailure::Transient(IssuerError { status, error }.to_string())
}

/// The JSON object of a 2xx answer, or the issuer's error.
fn success_object(status: u16, body: &[u8]) -> Result<Map<String, Value>, IssuerError> {
    if !(200..300).contains(&status) {
        return Err(IssuerError { status, error: oauth_error::parse(body) });
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(root)) => Ok(root),
        _ => Err(IssuerError {
            status,
            error: Some(OAuthError {
                code: "invalid_response".into(),
                description: Some("the body is not a JSON object".into()),
            }),
        }),
    }
}

/// A non-negative integer given as a number or a string (`"5"`).
fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.is_finite()).map(|f| f as u64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_grant_fields_are_optional() {
        let grant =
            parse_token_response(200, br#"{"access_token":"a","expires_in":"3600","refresh_token":""}"#)
                .unwrap();
        assert_eq!(grant.access_token.as_deref(), Some("a"));
        assert_eq!(grant.refresh_token, None);
        assert_eq!(grant.id_token, None);
        assert_eq!(grant.expires_in, Some(3600));
        assert!(!format!("{grant:?}").contains("\"a\""));
    }

    #[test]
    fn token_errors_keep_status_and_code() {
        let e = parse_token_response(403, br#"{"error":"unknown_redirect_uri"}"#).unwrap_err();
        assert_eq!(e.status, 403);
        assert_eq!(e.error.unwrap().code, "unknown_redirect_uri");
        let e = parse_token_response(200, b"[]").unwrap_err();
        assert_eq!(e.error.unwrap().code, "invalid_response");
    }

    #[test]
    fn device_code_interval_forms() {
        let dc =
            parse_device_code(200, br#"{"device_auth_id":"d","usercode":"AB-CD","interval":"7"}"#).unwrap();
        assert_eq!((dc.user_code.as_str(), dc.interval_seconds), ("AB-CD", 7));
        let dc = parse_device_code(200, br#"{"device_auth_id":"d","user_code":"X","interval":3}"#).unwrap();
        assert_eq!(dc.interval_seconds, 3);
        let dc = parse_device_code(200, br#"{"device_auth_id":"d","user_code":"X","interval":0}"#).unwrap();
        assert_eq!(dc.interval_seconds, 0);
        let dc = parse_device_code(200, br#"{"device_auth_id":"d","user_code":"X"}"#).unwrap();
        assert_eq!(dc.interval_seconds, DEFAULT_INTERVAL);
        assert_eq!(parse_device_code(404, b""), Err(DeviceStartError::NotEnabled));
        assert!(matches!(parse_device_code(200, br#"{"user_code":"X"}"#), Err(DeviceStartError::Issuer(_))));
        assert!(matches!(
            parse_device_code(500, b""),
            Err(DeviceStartError::Issuer(IssuerError { status: 500, .. }))
        ));
    }

    #[test]
    fn device_poll_outcomes() {
        use PollOutcome::*;
        assert_eq!(parse_device_poll(403, br#"{"error":"authorization_pending"}"#), Pending);
        assert_eq!(parse_device_poll(404, b"not json"), Pending);
        assert_eq!(parse_device_poll(400, br#"{"error":"deviceauth_authorization_pending"}"#), Pending);
        assert_eq!(parse_device_poll(400, br#"{"error":"slow_down"}"#), SlowDown);
        assert_eq!(parse_device_poll(403, br#"{"error":{"code":"slow_down"}}"#), SlowDown);
        assert_eq!(parse_device_poll(400, br#"{"error":"access_denied"}"#), Denied);
        assert_eq!(parse_device_poll(400, br#"{"error":"expired_token"}"#), Expired);
        assert_eq!(
            parse_device_poll(200, br#"{"authorization_code":"c","code_challenge":"x","code_verifier":"v"}"#),
            Approved(DeviceApproval { authorization_code: "c".into(), code_verifier: "v".into() })
        );
        assert!(matches!(parse_device_poll(200, b"{}"), Failed(_)));
        assert!(matches!(parse_device_poll(500, b""), Failed(IssuerError { status: 500, .. })));
    }

    #[test]
    fn refresh_error_classes() {
        use RefreshFailure::*;
        for code in PERMANENT_CODES {
            let body = format!(r#"{{"error":{{"code":"{code}","message":"m"}}}}"#);
            assert!(matches!(classify_refresh_error(400, body.as_bytes()), Permanent(e) if e.code == code));
        }
        assert!(matches!(classify_refresh_error(401, b""), Permanent(e) if e.code == "unauthorized"));
        assert!(matches!(classify_refresh_error(500, br#"{"error":"server_error"}"#), Transient(_)));
        assert!(matches!(classify_refresh_error(429, b""), Transient(_)));
        assert!(matches!(classify_refresh_error(400, br#"{"error":"invalid_request"}"#), Transient(_)));
    }
}
