use crate::bindings::http::{Host, Method, Request, Response, TransportError};
use crate::state::HostState;
use std::io::Read as _;
use std::time::Duration;

/// The largest answer read: no issuer answer comes near it. A larger one
/// is a transport error, and is not read further.
pub(crate) const MAX_BODY_BYTES: u64 = 1 << 20;

impl Host for HostState {
    fn send(&mut self, request: Request) -> Result<Response, TransportError> {
        let client = match self.shared.http.get_or_init(client) {
            Ok(client) => client,
            Err(why) => return Err(TransportError::Other(why.clone())),
        };
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let mut builder = client
            .request(method, &request.url)
            .timeout(Duration::from_millis(u64::from(request.timeout_ms)))
            .body(request.body);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let response = builder.send().map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        response
            .take(MAX_BODY_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| TransportError::Other(e.to_string()))?;
        if body.len() as u64 > MAX_BODY_BYTES {
            return Err(too_large());
        }
        Ok(Response { status, headers, body })
    }
}

fn too_large() -> TransportError {
    TransportError::Other(format!("the answer is larger than {MAX_BODY_BYTES} bytes; it was not read"))
}

/// One client per `Auth`: redirects are the guest's business, so none are
/// followed; TLS is always verified.
fn client() -> Result<reqwest::blocking::Client, String> {
    let tls = crate::tls::client_config().map_err(|e| format!("cannot set up HTTPS: {e}"))?;
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("codex-auth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up HTTPS: {e}"))
}

fn transport_error(e: reqwest::Error) -> TransportError {
    // The chain's innermost cause says what went wrong (refused, DNS...).
    let (timeout, connect) = (e.is_timeout(), e.is_connect());
    let why = crate::error::with_causes(&e.without_url());
    if timeout {
        TransportError::Timeout
    } else if connect {
        TransportError::Connect(why)
    } else {
        TransportError::Other(why)
    }
}
