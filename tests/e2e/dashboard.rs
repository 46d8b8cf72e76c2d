//! The dashboard as a person sees it: headless Chromium (Debian's package,
//! driven by playwright-core; `scripts/chromium.sh`) against a running
//! `serve`, signed in through `codex-auth dashboard`'s single-use link.

use crate::mock_backend::{Answer, MockBackend};
use crate::mock_issuer::MockIssuer;
use crate::serve::{Served, env, put_own};
use crate::support::*;
use serde_json::{Value, json};
use std::process::Command;

#[test]
fn the_dashboard_shows_each_account_and_a_limit_as_it_arrives_only_to_its_session() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    put_own(&dir, "acct-a");
    put_own(&dir, "acct-b");
    backend.state().usage.insert("acct-a".into(), 37);
    backend.state().usage.insert("acct-b".into(), 62);
    let o = run(env(dir.cli(), &issuer, &backend).args(["usage", "--json"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    backend.state().answers.insert("acct-b".into(), Answer::Limit { resets_in: 900 });
    let served = Served::start(&dir, &issuer, &backend, &["--strategy", "round-robin"]);
    let port = served.url.rsplit(':').next().unwrap().to_owned();

    // No data without the session: the state and the live events refuse.
    for path in ["/dashboard/state", "/dashboard/events"] {
        let bare = http().get(format!("{}{path}", served.url)).send().unwrap();
        assert_eq!(bare.status().as_u16(), 401, "{path}");
        assert!(!bare.text().unwrap().contains("acct-a"));
    }
    // The link: single use, and it carries no key.
    let link = |dir: &Dir| {
        run(env(dir.cli(), &issuer, &backend).args(["dashboard", "--no-browser", "--port", &port]))
    };
    let o = link(&dir);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let url = stdout(&o).trim().to_owned();
    assert!(
        url.starts_with(&format!("{}/dashboard/login?code=", served.url)) && !url.contains(&served.key),
        "{url}"
    );

    let screenshot = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/dashboard.png");
    let _ = std::fs::remove_file(screenshot);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/chromium.sh");
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/dashboard/run.mjs");
    let o = run(Command::new("bash").args([script, page, &served.url, &url, &served.key, screenshot]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let seen: Value = serde_json::from_str(stdout(&o).trim()).unwrap();

    // Without the session the page shows no account.
    assert_eq!(seen["locked"]["cards"], 0);
    assert!(seen["locked"]["text"].as_str().unwrap().contains("codex-auth dashboard"));
    // The link set an HttpOnly, SameSite=Strict cookie and led to the page.
    assert_eq!(seen["landed"], "/");
    assert_eq!(
        seen["cookie"],
        json!([{"name": "codex_auth_dashboard", "httpOnly": true, "sameSite": "Strict"}])
    );
    // Every account, its state and usage as bars with a running countdown.
    let card = |when: &str, name: &str| -> Value {
        seen[when]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{seen:#}"))
    };
    for (name, percent) in [("acct-a", "37%"), ("acct-b", "62%")] {
        let before = card("before", name);
        assert_eq!(before["state"], "ok", "{before}");
        let primary =
            before["windows"].as_array().unwrap().iter().find(|w| w["name"] == "primary").unwrap().clone();
        assert_eq!(primary["percent"], percent);
        assert!(primary["reset"].as_str().unwrap().starts_with("resets in "), "{primary}");
    }
    assert_ne!(seen["countdown"]["first"], seen["countdown"]["then"], "the countdown runs");
    // The limit arrived while the page was open: shown, with the reason.
    let blocked = card("after", "acct-b");
    assert_eq!(blocked["state"], "blocked", "{blocked}");
    assert!(blocked["problems"][0].as_str().unwrap().starts_with("blocked for "), "{blocked}");
    assert_eq!(card("after", "acct-a")["state"], "ok");
    assert!(
        card("after", "acct-a")["served"].as_str().unwrap().starts_with("last hour: 2 requests"),
        "{seen:#}"
    );
    // It reads in a narrow window, and in dark mode.
    assert!(seen["narrow"]["width"].as_u64() <= seen["narrow"]["viewport"].as_u64(), "{}", seen["narrow"]);
    assert_ne!(seen["dark"], seen["light"]);
    assert!(std::fs::metadata(screenshot).is_ok_and(|m| m.len() > 10_000), "a screenshot under target/");

    // The link was spent by the browser.
    let again = http().get(&url).send().unwrap();
    assert_eq!(again.status().as_u16(), 403);
    served.stop();
    // No server for a home: said so.
    let o = link(&Dir::new());
    assert_ne!(code(&o), 0);
    assert!(stderr(&o).contains("start one with `codex-auth serve`"), "{}", stderr(&o));
}

/// An open dashboard does not hold a stopping server: its live stream ends
/// at SIGTERM, and the drain waits only for real answers.
#[test]
fn a_stopping_server_ends_open_dashboards_instead_of_waiting_on_them() {
    use std::io::Read as _;
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    put_own(&dir, "acct-a");
    let served = Served::start(&dir, &issuer, &backend, &["--drain-seconds", "60"]);
    let mut events =
        http().get(format!("{}/dashboard/events", served.url)).bearer_auth(&served.key).send().unwrap();
    assert_eq!(events.status().as_u16(), 200);
    let mut first = [0u8; 64];
    let n = events.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("event: state"));
    served.terminate();
    let mut rest = String::new();
    events.read_to_string(&mut rest).expect("the stream ends, well before the 60 s drain");
    assert!(rest.matches("event: state").count() <= 1, "no more events once stopping: {rest}");
    let (code, _) = served.stop_after_terminate();
    assert_eq!(code, 0);
}
