//! 401 recovery: send a request; if the API answers 401, ask codex-auth for
//! a token to retry with (one another process stored meanwhile, else a
//! refreshed one) and retry once.
//!
//! ```sh
//! cargo run --example unauthorized -- https://chatgpt.com/backend-api/codex/models
//! ```

use codex_auth::{Auth, Options, Secret};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).ok_or("usage: unauthorized URL")?;
    let auth = Auth::open(Options::from_env())?;
    let client = reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(codex_auth::tls::client_config()?)
        .build()?;
    let send = |token: &Secret| {
        let mut request = client.get(&url).bearer_auth(token.expose());
        if let Ok(status) = auth.status()
            && let Some(account) = status.account_id
        {
            request = request.header("chatgpt-account-id", account);
        }
        request.send()
    };

    let token = auth.access_token()?;
    let mut response = send(&token)?;
    if response.status() == reqwest::StatusCode::UNAUTHORIZED {
        let retry_with = auth.unauthorized(&token)?; // Err(LoginRequired) when nothing helps
        response = send(&retry_with)?;
    }
    println!("{} {}", response.status(), url);
    Ok(())
}
