//! JWT claims, read without verification: codex-auth is not the tokens'
//! audience, it only needs the account, plan, email and expiry they carry.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use std::fmt;

/// The namespace of OpenAI's ChatGPT claims.
const AUTH_NAMESPACE: &str = "https://api.openai.com/auth";
/// The namespace of OpenAI's profile claims (fallback for `email`).
const PROFILE_NAMESPACE: &str = "https://api.openai.com/profile";

/// The claims codex-auth reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claims {
    pub account_id: Option<String>,
    pub plan: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
    /// `exp`, Unix seconds.
    pub expires_at: Option<i64>,
}

/// Why a string is not a JWT whose claims can be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwtError {
    WrongPartCount(u32),
    EmptyPart,
    BadBase64,
    BadJson(String),
    BadClaim(String),
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongPartCount(n) => write!(f, "a JWT has 3 dot-separated parts, this has {n}"),
            Self::EmptyPart => f.write_str("a JWT part is empty"),
            Self::BadBase64 => f.write_str("the JWT payload is not base64url"),
            Self::BadJson(why) => write!(f, "the JWT payload is not a JSON object: {why}"),
            Self::BadClaim(name) => write!(f, "the JWT claim `{name}` has the wrong type"),
        }
    }
}

/// Reads the claims of `token`.
pub fn parse(token: &str) -> Result<Claims, JwtError> {
    let payload = payload(token)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).map_err(|_| JwtError::BadBase64)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| JwtError::BadJson(e.to_string()))?;
    let Value::Object(root) = value else {
        return Err(JwtError::BadJson("not an object".into()));
    };
    let auth = object(&root, AUTH_NAMESPACE)?;
    let profile = object(&root, PROFILE_NAMESPACE)?;
    let email = match string(&root, "email", "email")? {
        Some(email) => Some(email),
        None => {
            profile.map(|p| string(p, "email", "https://api.openai.com/profile.email")).transpose()?.flatten()
        }
    };
    let from_auth = |key: &str| -> Result<Option<String>, JwtError> {
        auth.map(|a| string(a, key, key)).transpose().map(Option::flatten)
    };
    Ok(Claims {
        account_id: from_auth("chatgpt_account_id")?,
        plan: from_auth("chatgpt_plan_type")?,
        user_id: from_auth("chatgpt_user_id")?,
        email,
        expires_at: expiry(&root)?,
    })
}

fn payload(token: &str) -> Result<&str, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::WrongPartCount(u32::try_from(token.split('.').count()).unwrap_or(u32::MAX)));
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(JwtError::EmptyPart);
    }
    Ok(payload)
}

fn object<'a>(root: &'a Map<String, Value>, key: &str) -> Result<Option<&'a Map<String, Value>>, JwtError> {
    match root.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(JwtError::BadClaim(key.into())),
    }
}

fn string(map: &Map<String, Value>, key: &str, name: &str) -> Result<Option<String>, JwtError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwtError::BadClaim(name.into())),
    }
}

/// `exp` is a NumericDate: seconds, possibly fractional; fractions are cut.
fn expiry(root: &Map<String, Value>) -> Result<Option<i64>, JwtError> {
    match root.get("exp") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| JwtError::BadClaim("exp".into())),
        Some(_) => Err(JwtError::BadClaim("exp".into())),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An unsigned JWT with `payload` as its claims.
    pub(crate) fn jwt(payload: &Value) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        )
    }

    #[test]
    fn reads_every_claim() {
        let token = jwt(&serde_json::json!({
            "exp": 1_800_000_000,
            "email": "ada@example.com",
            AUTH_NAMESPACE: {
                "chatgpt_account_id": "acct-1",
                "chatgpt_plan_type": "pro",
                "chatgpt_user_id": "user-1"
            }
        }));
        assert_eq!(
            parse(&token).unwrap(),
            Claims {
                account_id: Some("acct-1".into()),
                plan: Some("pro".into()),
                user_id: Some("user-1".into()),
                email: Some("ada@example.com".into()),
                expires_at: Some(1_800_000_000),
            }
        );
    }

    #[test]
    fn email_falls_back_to_the_profile_namespace() {
        let token = jwt(&serde_json::json!({PROFILE_NAMESPACE: {"email": "b@example.com"}}));
        assert_eq!(parse(&token).unwrap().email.as_deref(), Some("b@example.com"));
    }

    #[test]
    fn fractional_exp_is_truncated() {
        let token = jwt(&serde_json::json!({"exp": 12.9}));
        assert_eq!(parse(&token).unwrap().expires_at, Some(12));
    }

    #[test]
    fn malformed_tokens_are_typed_errors() {
        assert_eq!(parse(""), Err(JwtError::WrongPartCount(1)));
        assert_eq!(parse("a.b"), Err(JwtError::WrongPartCount(2)));
        assert_eq!(parse("a.b.c.d"), Err(JwtError::WrongPartCount(4)));
        assert_eq!(parse("a..c"), Err(JwtError::EmptyPart));
        assert_eq!(parse("a.!!!.c"), Err(JwtError::BadBase64));
        let not_json = format!("a.{}.c", URL_SAFE_NO_PAD.encode("nope"));
        assert!(matches!(parse(&not_json), Err(JwtError::BadJson(_))));
        let array = format!("a.{}.c", URL_SAFE_NO_PAD.encode("[1]"));
        assert!(matches!(parse(&array), Err(JwtError::BadJson(_))));
        let bad_exp = jwt(&serde_json::json!({"exp": "soon"}));
        assert_eq!(parse(&bad_exp), Err(JwtError::BadClaim("exp".into())));
        let bad_ns = jwt(&serde_json::json!({AUTH_NAMESPACE: 5}));
        assert_eq!(parse(&bad_ns), Err(JwtError::BadClaim(AUTH_NAMESPACE.into())));
        let huge_exp = jwt(&serde_json::json!({"exp": 1e300}));
        assert_eq!(parse(&huge_exp), Err(JwtError::BadClaim("exp".into())));
    }
}
