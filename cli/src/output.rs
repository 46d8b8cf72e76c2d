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
        Kind::Command => "a command's token".to_owned(),
        Kind::None => "nothing".to_owned(),
    }
}

fn source(source: &Source) -> String {
    match source {
        Source::Store(path) => format!("from {}", path.display()),
        Source::Environment(name) => format!("from ${name}, not stored"),
        Source::Runtime => "a runtime override, not stored".to_owned(),
        Source::Config(path) => format!("`api_key` in {}", path.display()),
        Source::Command(line) => format!("printed by `{line}`, not stored"),
        Source::None => "no credential".to_owned(),
    }
}

/// "in 52 min", "in 3 h", "2 days ago": how far a Unix time is from now.
pub fn when(unix: i64) -> String {
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

/// `accounts`: a table on stdout (the listing is the data asked for), or
/// a JSON array. `current` is the account calls use.
pub fn accounts(accounts: &[codex_auth::Account], current: Option<&str>, json: bool) {
    use codex_auth::AccountState;
    if json {
        let list: Vec<serde_json::Value> = accounts
            .iter()
            .map(|a| {
                let mut value = serde_json::to_value(a).unwrap_or_default();
                value["in_use"] = (current == Some(a.name.as_str())).into();
                value
            })
            .collect();
        stdout_line(&serde_json::to_string_pretty(&list).unwrap_or_default());
        return;
    }
    if accounts.is_empty() {
        eprintln!("No accounts: sign in with `codex-auth login --name NAME`");
        return;
    }
    let rows: Vec<[String; 6]> = accounts
        .iter()
        .map(|a| {
            let state = match a.state {
                AccountState::Ok => "ok".to_owned(),
                AccountState::Blocked => match a.blocked_until {
                    Some(until) => format!("blocked until {}", when(until)),
                    None => "blocked".to_owned(),
                },
                AccountState::Disabled => {
                    format!("disabled: {}", a.problem.as_deref().unwrap_or("login required"))
                }
                AccountState::LoggedOut => "logged out".to_owned(),
                AccountState::Unreadable => {
                    format!("unreadable: {}", a.problem.as_deref().unwrap_or("unknown"))
                }
            };
            let state = a.blocks.iter().fold(state, |state, b| format!("{state}; {}", meter_block(b)));
            let state = if a.pinned { format!("{state}, pinned") } else { state };
            let state = match &a.linked {
                Some(home) => format!("{state}, linked to {}", home.display()),
                None => state,
            };
            let dash = || "-".to_owned();
            let kind = match a.kind {
                Kind::ApiKey => "API key".to_owned(),
                _ => a.plan.clone().unwrap_or_else(dash),
            };
            [
                format!("{} {}", if current == Some(a.name.as_str()) { "*" } else { " " }, a.name),
                a.email.clone().unwrap_or_else(dash),
                a.account_id.clone().unwrap_or_else(dash),
                kind,
                a.expires_at.map(when).unwrap_or_else(dash),
                state,
            ]
        })
        .collect();
    let header = ["  NAME", "EMAIL", "ACCOUNT ID", "PLAN", "EXPIRES", "STATE"].map(str::to_owned);
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().chain([&header]).map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let line = |r: &[String; 6]| {
        let cells: Vec<String> = (0..6).map(|c| format!("{:w$}", r[c], w = widths[c])).collect();
        cells.join("  ").trim_end().to_owned()
    };
    let mut text = vec![line(&header)];
    text.extend(rows.iter().map(line));
    stdout_line(&text.join("\n"));
}

/// `usage`: every account's windows, as bars on a terminal, plain lines in
/// a pipe, or JSON.
/// `main_meter`: the account's own meter, shown unnamed.
pub fn usage(reports: &[codex_auth::UsageReport], main_meter: &str, json: bool) {
    use std::io::IsTerminal as _;
    if json {
        stdout_line(&serde_json::to_string_pretty(reports).unwrap_or_default());
        return;
    }
    let tty = std::io::stdout().is_terminal();
    let mut lines = Vec::new();
    for report in reports {
        let mut head = report.account.clone();
        if let Some(plan) = report.usage.as_ref().and_then(|u| u.plan.as_ref()) {
            head.push_str(&format!(" ({plan})"));
        }
        if let Some(until) = report.blocked_until {
            head.push_str(&format!(": blocked until {}", when(until)));
        }
        lines.push(head);
        match &report.usage {
            Some(usage) if !usage.windows.is_empty() => {
                for w in &usage.windows {
                    let length = w.window_seconds.map(span).unwrap_or_else(|| w.name.clone());
                    let resets = w.resets_at.map(|t| format!(", resets {}", when(t))).unwrap_or_default();
                    let bar = if tty { format!("{} ", bar(w.used_percent)) } else { String::new() };
                    // The account's own meter is the plain one; another is named.
                    let name = if w.meter == main_meter {
                        w.name.clone()
                    } else {
                        format!("{} {}", w.meter, w.name)
                    };
                    lines.push(format!("  {name:<8} {bar}{:>3}% used of {length}{resets}", w.used_percent));
                }
            }
            _ => lines.push("  no usage known".to_owned()),
        }
        for block in &report.blocks {
            lines.push(format!("  {}", meter_block(block)));
        }
        // What gateways served with it, the last days first (UTC days).
        for day in report.served.iter().rev().take(SERVED_DAYS_SHOWN) {
            lines.push(format!(
                "  served {}: {} requests, {} tokens in ({} cached), {} out",
                day.day, day.requests, day.input_tokens, day.cached_tokens, day.output_tokens
            ));
        }
        if let Some(error) = &report.error {
            lines.push(format!("  ({error})"));
        }
    }
    stdout_line(&lines.join("\n"));
}

/// Days of served counts `usage` shows (`--json` has all it keeps).
const SERVED_DAYS_SHOWN: usize = 3;

/// "codex_bengalfox spent until ..., for gpt-5.3-codex-spark".
fn meter_block(block: &codex_auth::MeterBlock) -> String {
    let models =
        if block.models.is_empty() { String::new() } else { format!(" for {}", block.models.join(", ")) };
    format!("{} spent until {}{models}", block.meter, when(block.until))
}

/// A 20-cell bar for a percentage.
fn bar(percent: u32) -> String {
    let filled = (percent.min(100) as usize * 20).div_ceil(100);
    format!("[{}{}]", "█".repeat(filled), "·".repeat(20 - filled))
}

/// "5 h", "7 days": a window's length.
fn span(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 && s >= 86_400 => format!("{} days", s / 86_400),
        s if s % 3600 == 0 && s >= 3600 => format!("{} h", s / 3600),
        s => format!("{} min", (s + 59) / 60),
    }
}

/// `check`: a line per account, or JSON. Whether any failed.
/// `main_meter`: the account's own meter; others are named apart.
pub fn check(outcomes: &[(String, codex_auth::CheckOutcome)], main_meter: &str, json: bool) -> bool {
    use codex_auth::CheckOutcome as C;
    let failed = outcomes.iter().any(|(_, o)| matches!(o, C::Failed(_)));
    if json {
        let list: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|(name, outcome)| {
                let mut value = serde_json::to_value(outcome).unwrap_or_default();
                value["account"] = name.clone().into();
                value
            })
            .collect();
        stdout_line(&serde_json::to_string_pretty(&list).unwrap_or_default());
        return failed;
    }
    let lines: Vec<String> = outcomes
        .iter()
        .map(|(name, outcome)| match outcome {
            C::Ok(usage) => {
                let windows = usage.as_ref().map(|u| u.windows.as_slice()).unwrap_or_default();
                let most =
                    |meter: &str| windows.iter().filter(|w| w.meter == meter).map(|w| w.used_percent).max();
                let mut meters: Vec<&str> = windows.iter().map(|w| w.meter.as_str()).collect();
                meters.dedup();
                let others: Vec<String> = meters
                    .iter()
                    .filter(|m| **m != main_meter)
                    .filter_map(|m| Some(format!("{m} {}%", most(m)?)))
                    .collect();
                let others =
                    if others.is_empty() { String::new() } else { format!("; {}", others.join(", ")) };
                match most(main_meter) {
                    Some(p) => format!("ok            {name} ({p}% of its binding window used{others})"),
                    None if !others.is_empty() => format!("ok            {name} ({})", &others[2..]),
                    None => format!("ok            {name}"),
                }
            }
            C::Failed(why) => format!("FAILED        {name}: {why}"),
            C::Unverifiable(why) => format!("unverifiable  {name}: {why}"),
            C::Skipped(why) => format!("skipped       {name}: {why}"),
        })
        .collect();
    if lines.is_empty() {
        eprintln!("No accounts to check");
    } else {
        stdout_line(&lines.join("\n"));
    }
    failed
}

/// `config show`: each setting, its value and where it came from.
pub fn settings(settings: &[codex_auth::Setting], path: &std::path::Path, json: bool) {
    use codex_auth::Origin;
    if json {
        stdout_line(&serde_json::to_string_pretty(settings).unwrap_or_default());
        return;
    }
    let there = if path.exists() {
        "read"
    } else {
        "not present: every value below is a flag, a variable or a default"
    };
    eprintln!("codex-auth's settings file: {} ({there})", path.display());
    let width = settings.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let lines: Vec<String> = settings
        .iter()
        .map(|s| {
            let origin = match s.origin {
                Origin::Flag => "flag".to_owned(),
                Origin::Environment => "environment".to_owned(),
                Origin::File => format!("{}", path.display()),
                Origin::Default => "default".to_owned(),
                Origin::Unset => "not set".to_owned(),
                Origin::Codex => "the Codex CLI's config.toml, sign-in keys only".to_owned(),
            };
            format!("{:width$}  {}  ({origin})", s.name, s.value.as_deref().unwrap_or("-"))
        })
        .collect();
    stdout_line(&lines.join("\n"));
}
