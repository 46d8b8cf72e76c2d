//! Answers the server writes itself: JSON bodies and clear JSON errors.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, combinators::BoxBody};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{HeaderMap, Response};

/// Every response body: whole, or streamed from upstream.
pub type Body = BoxBody<Bytes, std::io::Error>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

pub fn json(status: u16, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(full(format!("{value}\n")));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `{"error": {"message": .., "type": .., "code": ..}}`: OpenAI's error
/// shape, so OpenAI clients read it as they read OpenAI's own.
pub fn error(status: u16, code: &str, message: &str) -> Response<Body> {
    json(status, &error_value(status, code, message))
}

fn error_value(status: u16, code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({"error": {"message": message, "type": error_type(status), "code": code}})
}

/// OpenAI's error `type` for a status.
fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    }
}

/// An error of the library as an answer: what went wrong, never a secret.
pub fn auth_error(e: &codex_auth::Error) -> Response<Body> {
    use codex_auth::Error as E;
    let (status, code) = match e {
        E::UnknownAccount(_) => (404, "unknown_account"),
        E::AllBlocked { .. } => (429, "usage_limit_reached"),
        E::NotLoggedIn => (503, "not_logged_in"),
        E::LoginRequired { .. } => (503, "login_required"),
        E::Transport(_) => (502, "issuer_unreachable"),
        E::LockTimeout(_) => (503, "store_busy"),
        E::InvalidInput(_) => (400, "invalid_input"),
        E::CorruptStore { .. } | E::Storage(_) => (500, "store_error"),
        _ => (500, "internal"),
    };
    let mut value = error_value(status, code, &e.to_string());
    let E::AllBlocked { first_free } = e else { return json(status, &value) };
    // Every account is at its limit: say when the first frees up, in
    // seconds too, and in `Retry-After`, so an agent waits instead of failing.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let wait = u64::try_from(*first_free).unwrap_or(0).saturating_sub(now);
    value["error"]["resets_at"] = (*first_free).into();
    value["error"]["resets_in_seconds"] = wait.into();
    let mut response = json(status, &value);
    response.headers_mut().insert(hyper::header::RETRY_AFTER, HeaderValue::from(wait));
    response
}

/// Whether a `Host` header names the loopback interface (no DNS
/// rebinding, no drive-by use from a web page's origin).
pub fn loopback_host(host: Option<&HeaderValue>) -> bool {
    let Some(host) = host.and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host
            .rsplit_once(':')
            .map_or(host, |(name, port)| if port.chars().all(|c| c.is_ascii_digit()) { name } else { host }),
    };
    matches!(name.to_ascii_lowercase().as_str(), "127.0.0.1" | "localhost" | "::1")
}

/// A whole request body of at most `limit` bytes, or the answer that says
/// why not (413 past the limit, 400 when it cannot be read).
pub async fn read_body(body: hyper::body::Incoming, limit: usize) -> Result<Bytes, Response<Body>> {
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(error(413, "request_too_large", &format!("a request body is at most {limit} bytes")))
        }
        Err(e) => Err(error(400, "bad_request_body", &format!("cannot read the request body: {e}"))),
    }
}

/// Headers never forwarded: per connection, or replaced by the gateway.
pub(crate) const DROPPED: [&str; 12] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "authorization",
    "chatgpt-account-id",
];

/// The upstream answer's status and headers, with `body`.
pub(crate) fn passed_on(status: reqwest::StatusCode, headers: &HeaderMap, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() =
        hyper::StatusCode::from_u16(status.as_u16()).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    // reqwest and hyper share the `http` types: no parsing again.
    for (name, value) in headers.iter().filter(|(n, _)| !DROPPED.contains(&n.as_str())) {
        response.headers_mut().append(name.clone(), value.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_pass() {
        for good in ["127.0.0.1", "127.0.0.1:8080", "localhost:1", "LOCALHOST", "[::1]:9", "[::1]"] {
            assert!(loopback_host(Some(&HeaderValue::from_static(good))), "{good}");
        }
        for bad in ["evil.example", "evil.example:80", "127.0.0.1.nip.io", "10.0.0.1", "localhost.evil", ""] {
            assert!(!loopback_host(Some(&HeaderValue::from_static(bad))), "{bad}");
        }
        assert!(!loopback_host(None));
    }
}
