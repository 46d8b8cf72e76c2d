//! What the commands print: text for people on stderr, data on stdout.

use codex_auth::{Auth, Error, Kind, RequestHeaders, Source, Status};
use std::io::Write as _;
use std::process::ExitCode;

/// `status`: exit 0 when logged in, 1 when not.
pub fn status(auth: &Auth, json: bool) -> Result<ExitCode, Error> {
    let result = auth.status();
    let logged_in = result.as_ref().is_ok_and(Status::logged_in);
    if json {
        match &result {
            Ok(status) => status_json(status),
            Err(e) => {
                let value = serde_json::json!({"logged_in": false, "error": e.to_string()});
                stdout_line(&serde_json::to_string_pretty(&value).unwrap_or_default());
                eprintln!("codex-auth: {e}");
            }
        }
    } else {
        match &result {
            Ok(status) => eprintln!("{}", sentence(status)),
            Err(e) => return Err(e.clone()),
        }
    }
    Ok(if logged_in { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A status as JSON on stdout, with `logged_in`.
pub fn status_json(status: &Status) {
    let mut value = serde_json::to_value(status).unwrap_or_default();
    value["logged_in"] = status.logged_in().into();
    stdout_line(&serde_json::to_string_pretty(&value).unwrap_or_default());
}

/// The human status line, worded like `codex login status`.
fn sentence(s: &Status) -> String {
    if s.login_required {
        return format!(
            "Login required: the stored sign-in was rejected; run `codex-auth login` ({})",
            source(&s.source)
        );
    }
    match s.kind {
        Kind::None => "Not logged in".to_owned(),
        _ => format!("Logged in using {} ({})", describe(s), source(&s.source)),
    }
}

/// "ChatGPT (plus, ada@example.com, account acct-1)" or "an API key - ***abcd".
pub fn describe(s: &Status) -> String {
    match s.kind {
        Kind::Subscription => {
            let details: Vec<String> = [
                s.plan.clone(),
                s.email.clone(),
                s.account_id.as_ref().map(|a| format!("account {a}")),
                s.expires_at.map(|t| format!("token expires {}", when(t))),
            ]
            .into_iter()
            .flatten()
            .collect();
            if details.is_empty() { "ChatGPT".to_owned() } else { format!("ChatGPT: {}", details.join(", ")) }
        }
        Kind::ApiKey => match &s.api_key_hint {
            Some(hint) => format!("an API key - ***{hint}"),
            None => "an API key".to_owned(),
        },
        Kind::None => "nothing".to_owned(),
    }
}

fn source(source: &Source) -> String {
    match source {
        Source::Store(path) => format!("from {}", path.display()),
        Source::Environment(name) => format!("from ${name}, not stored"),
        Source::None => "no credential".to_owned(),
    }
}

/// "in 52 min", "in 3 h", "2 days ago": how far a Unix time is from now.
fn when(unix: i64) -> String {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let delta = unix - now;
    let span = match delta.unsigned_abs() {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    };
    if delta >= 0 { format!("in {span}") } else { format!("{span} ago") }
}

/// `headers`: `Name: value` lines, or a JSON object.
pub fn headers(headers: &RequestHeaders, json: bool) {
    if json {
        let map: serde_json::Map<String, serde_json::Value> =
            headers.iter().map(|(n, v)| (n.to_owned(), v.into())).collect();
        stdout_line(&serde_json::to_string_pretty(&map).unwrap_or_default());
    } else {
        let lines: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        stdout_line(&lines.join("\n"));
    }
}

/// Prints a line on stdout; a closed pipe (`| head`) ends the program quietly.
pub fn stdout_line(text: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}
