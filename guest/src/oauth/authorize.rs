//! The browser sign-in's URLs: building the authorize URL, and reading what
//! comes back to the loopback listener (or what a person pastes).

use crate::oauth::oauth_error::OAuthError;
use crate::oauth::query;
use subtle::ConstantTimeEq as _;

/// Scopes the Codex CLI asks for; the exchange fails without the connector ones.
pub const DEFAULT_SCOPE: &str =
    "openid profile email offline_access api.connectors.read api.connectors.invoke";
/// The path the issuer redirects the browser to.
pub const CALLBACK_PATH: &str = "/auth/callback";

/// Everything the authorize URL carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub issuer: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Option<String>,
    pub code_challenge: String,
    pub state: String,
    pub originator: String,
    pub allowed_workspace_id: Option<String>,
}

/// The authorize URL with the Codex CLI's parameters, in its order.
pub fn authorize_url(request: &AuthorizeRequest) -> Result<String, String> {
    let issuer = issuer_base(&request.issuer)?;
    let scope = request.scope.as_deref().unwrap_or(DEFAULT_SCOPE);
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", request.client_id.as_str()),
        ("redirect_uri", request.redirect_uri.as_str()),
        ("scope", scope),
        ("code_challenge", request.code_challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("id_token_add_organizations", "true"),
        ("codex_cli_simplified_flow", "true"),
        ("state", request.state.as_str()),
        ("originator", request.originator.as_str()),
    ];
    if let Some(workspace) = &request.allowed_workspace_id {
        pairs.push(("allowed_workspace_id", workspace));
    }
    Ok(format!("{issuer}/oauth/authorize?{}", query::build(pairs)))
}

/// The issuer without a trailing slash, after checking it is an HTTP(S) URL.
pub fn issuer_base(issuer: &str) -> Result<&str, String> {
    let base = issuer.trim_end_matches('/');
    let rest = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .ok_or_else(|| format!("the issuer must be an http(s):// URL, not {issuer:?}"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!("the issuer must be a base URL, not {issuer:?}"));
    }
    Ok(base)
}

/// The redirect URI registered for a loopback port.
pub fn redirect_uri(port: u16) -> String {
    format!("http://localhost:{port}{CALLBACK_PATH}")
}

/// What a request to the loopback listener (or a paste) means.
#[derive(Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The code, with the expected state. Secret.
    Code(String),
    StateMismatch,
    MissingCode,
    Denied(OAuthError),
    Cancel,
    NotFound,
}

impl std::fmt::Debug for CallbackOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(_) => f.write_str("Code(<redacted>)"),
            Self::StateMismatch => f.write_str("StateMismatch"),
            Self::MissingCode => f.write_str("MissingCode"),
            Self::Denied(e) => f.debug_tuple("Denied").field(e).finish(),
            Self::Cancel => f.write_str("Cancel"),
            Self::NotFound => f.write_str("NotFound"),
        }
    }
}

/// Classifies a listener request target (path and query).
pub fn parse_callback(target: &str, expected_state: &str) -> CallbackOutcome {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match path {
        CALLBACK_PATH => classify_query(query, expected_state),
        "/cancel" => CallbackOutcome::Cancel,
        _ => CallbackOutcome::NotFound,
    }
}

/// Classifies what a person pasted: the redirect URL, its query, or `code#state`.
pub fn parse_pasted(input: &str, expected_state: &str) -> CallbackOutcome {
    let input = input.trim();
    if let Some((_, query)) = input.split_once('?') {
        let query = query.split('#').next().unwrap_or_default();
        return classify_query(query, expected_state);
    }
    if input.contains("code=") || input.contains("error=") {
        return classify_query(input, expected_state);
    }
    match input.split_once('#') {
        Some((code, state)) => {
            classify_query(&query::build([("code", code), ("state", state)]), expected_state)
        }
        None => CallbackOutcome::StateMismatch,
    }
}

fn classify_query(query: &str, expected_state: &str) -> CallbackOutcome {
    let pairs = query::parse(query);
    let state = query::get(&pairs, "state").unwrap_or_default();
    if expected_state.is_empty() || !bool::from(state.as_bytes().ct_eq(expected_state.as_bytes())) {
        return CallbackOutcome::StateMismatch;
    }
    if let Some(code) = query::get(&pairs, "error") {
        return CallbackOutcome::Denied(OAuthError {
            code: code.to_owned(),
            description: query::get(&pairs, "error_description").map(str::to_owned),
        });
    }
    match query::get(&pairs, "code") {
        Some(code) if !code.is_empty() => CallbackOutcome::Code(code.to_owned()),
        _ => CallbackOutcome::MissingCode,
    }
}

/// An HTTP answer for the listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// The page that answers `outcome`.
pub fn callback_reply(outcome: &CallbackOutcome) -> Reply {
    let (status, title, text) = match outcome {
        CallbackOutcome::Code(_) => {
            (200, "Signed in to codex-auth", "You can close this tab and go back to the terminal.".to_owned())
        }
        CallbackOutcome::StateMismatch => (
            400,
            "State mismatch",
            "This request does not belong to the sign-in in progress; it was ignored.".to_owned(),
        ),
        CallbackOutcome::MissingCode => (
            400,
            "Missing authorization code",
            "The redirect carried no code; the sign-in is still waiting.".to_owned(),
        ),
        CallbackOutcome::Denied(error) => (400, "Sign-in failed", describe_denial(error)),
        CallbackOutcome::Cancel => (200, "Sign-in cancelled", "Another sign-in took over.".to_owned()),
        CallbackOutcome::NotFound => (404, "Not found", "Nothing here.".to_owned()),
    };
    Reply {
        status,
        content_type: "text/html; charset=utf-8".into(),
        body: format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{}</p></body></html>",
            escape_html(&text)
        ),
    }
}

/// A sentence for a person about a failed authorization.
pub fn describe_denial(error: &OAuthError) -> String {
    let description = error.description.as_deref().unwrap_or_default();
    if error.code.contains("missing_codex_entitlement") || description.contains("missing_codex_entitlement") {
        return "Codex is not enabled for this ChatGPT workspace (missing_codex_entitlement): \
                ask its admin to enable Codex, or sign in to another workspace."
            .to_owned();
    }
    match (error.code.as_str(), description) {
        ("access_denied", "") => "Access was denied (access_denied).".to_owned(),
        (code, "") => format!("The issuer reported {code}."),
        (code, description) => format!("The issuer reported {code}: {description}"),
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> AuthorizeRequest {
        AuthorizeRequest {
            issuer: "https://auth.openai.com/".into(),
            client_id: "app_EMoamEEZ73f0CkXaXp7hrann".into(),
            redirect_uri: redirect_uri(1455),
            scope: None,
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            state: "st_ate".into(),
            originator: "codex_cli_rs".into(),
            allowed_workspace_id: None,
        }
    }

    #[test]
    fn authorize_url_matches_the_codex_cli() {
        assert_eq!(
            authorize_url(&request()).unwrap(),
            "https://auth.openai.com/oauth/authorize?response_type=code\
             &client_id=app_EMoamEEZ73f0CkXaXp7hrann\
             &redirect_uri=http%3A%2F%2Flocalhost%3A1455%2Fauth%2Fcallback\
             &scope=openid%20profile%20email%20offline_access%20api.connectors.read%20api.connectors.invoke\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256&id_token_add_organizations=true\
             &codex_cli_simplified_flow=true&state=st_ate&originator=codex_cli_rs"
        );
    }

    #[test]
    fn workspace_is_appended_and_encoded() {
        let mut req = request();
        req.allowed_workspace_id = Some("org a&b".into());
        assert!(
            authorize_url(&req)
                .unwrap()
                .ends_with("&originator=codex_cli_rs&allowed_workspace_id=org%20a%26b")
        );
    }

    #[test]
    fn issuer_must_be_http() {
        for bad in ["ftp://x", "auth.openai.com", "https://", "https://a?b"] {
            let mut req = request();
            req.issuer = bad.into();
            assert!(authorize_url(&req).is_err(), "{bad}");
        }
        let mut req = request();
        req.issuer = "http://127.0.0.1:9/base".into();
        assert!(authorize_url(&req).unwrap().starts_with("http://127.0.0.1:9/base/oauth/authorize?"));
    }

    #[test]
    fn callback_classification() {
        use CallbackOutcome::*;
        let s = "expected";
        assert_eq!(parse_callback("/auth/callback?code=c1&state=expected", s), Code("c1".into()));
        assert_eq!(parse_callback("/auth/callback?code=c1&state=wrong", s), StateMismatch);
        assert_eq!(parse_callback("/auth/callback?code=c1", s), StateMismatch);
        assert_eq!(parse_callback("/auth/callback?code=c1&state=", ""), StateMismatch);
        assert_eq!(parse_callback("/auth/callback?state=expected", s), MissingCode);
        assert_eq!(parse_callback("/auth/callback?error=access_denied&state=bad", s), StateMismatch);
        assert_eq!(
            parse_callback(
                "/auth/callback?error=access_denied&error_description=missing_codex_entitlement&state=expected",
                s
            ),
            Denied(OAuthError {
                code: "access_denied".into(),
                description: Some("missing_codex_entitlement".into())
            })
        );
        assert_eq!(parse_callback("/cancel", s), Cancel);
        assert_eq!(parse_callback("/favicon.ico", s), NotFound);
        assert_eq!(parse_callback("/auth/callbackx?code=c&state=expected", s), NotFound);
    }

    #[test]
    fn pasted_forms() {
        use CallbackOutcome::*;
        let s = "st";
        let url = "http://localhost:1455/auth/callback?code=abc&state=st#frag";
        assert_eq!(parse_pasted(url, s), Code("abc".into()));
        assert_eq!(parse_pasted("  code=abc&state=st\n", s), Code("abc".into()));
        assert_eq!(parse_pasted("abc#st", s), Code("abc".into()));
        assert_eq!(parse_pasted("abc#other", s), StateMismatch);
        assert_eq!(parse_pasted("abc", s), StateMismatch);
    }

    #[test]
    fn replies_escape_and_explain() {
        let denied = CallbackOutcome::Denied(OAuthError {
            code: "access_denied".into(),
            description: Some("<script>missing_codex_entitlement".into()),
        });
        let reply = callback_reply(&denied);
        assert_eq!(reply.status, 400);
        assert!(reply.body.contains("Codex is not enabled"));
        assert!(!reply.body.contains("<script>"));
        let odd = OAuthError { code: "x".into(), description: Some("<b>".into()) };
        assert!(callback_reply(&CallbackOutcome::Denied(odd)).body.contains("&lt;b&gt;"));
        assert_eq!(callback_reply(&CallbackOutcome::NotFound).status, 404);
        assert_eq!(callback_reply(&CallbackOutcome::StateMismatch).status, 400);
        assert_eq!(callback_reply(&CallbackOutcome::Code("c".into())).status, 200);
    }
}
