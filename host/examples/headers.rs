//! Ready request headers in a few lines.
//!
//! ```sh
//! cargo run --example headers            # uses ~/.codex-auth, or $OPENAI_API_KEY
//! CODEX_AUTH_HOME=~/.codex cargo run --example headers
//! ```

use codex_auth::{Auth, Options};

fn main() -> Result<(), codex_auth::Error> {
    let auth = Auth::open(Options::from_env())?;
    let headers = auth.request_headers()?; // refreshes first when the token is due
    for (name, value) in headers.iter() {
        // A real client would send these; the example shows only their shape.
        println!("{name}: {} characters", value.len());
    }
    Ok(())
}
