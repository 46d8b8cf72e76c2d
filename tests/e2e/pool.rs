//! The usage-aware pool through the real binary and the library, against
//! the mock ChatGPT backend (and the mock issuer where a refresh is needed).

use crate::mock_backend::{Answer, MockBackend};
use crate::mock_issuer::{MockIssuer, RefreshMode};
use crate::support::*;
use codex_auth::{AccountState, Attempt, Auth, Error, LoginEvent, Notifier, Options, Upstream, Verdict};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// An account `id` of the vault, signed in, its token expiring at `exp`.
fn put(dir: &Dir, id: &str, exp: i64, refresh_token: &str) {
    dir.put_account(id, &serde_json::to_vec(&account_file(id, exp, refresh_token)).unwrap());
}

fn cli(dir: &Dir, backend: &MockBackend) -> Command {
    let mut cmd = dir.cli();
    cmd.env("CODEX_AUTH_CHATGPT_BASE_URL", &backend.base);
    cmd
}

fn json_out(cmd: &mut Command) -> Value {
    let o = run(cmd);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)))
}

/// Collects the pool's events, as a library user's callback would.
#[derive(Default)]
struct Events(Mutex<Vec<LoginEvent>>);

impl Notifier for Events {
    fn notify(&self, event: LoginEvent) {
        self.0.lock().unwrap().push(event);
    }
}

fn library(dir: &Dir, backend: &MockBackend, events: Arc<Events>) -> Auth {
    let mut o = Options::new(dir.home());
    o.chatgpt_base_url = Some(backend.base.clone());
    o.notifier = events;
    Auth::open(o).unwrap()
}

/// Sends one Responses request with `headers`; returns status, headers, body.
fn respond(
    backend: &MockBackend,
    headers: &codex_auth::RequestHeaders,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut request = http().post(format!("{}/codex/responses", backend.base)).body(CODEX_REQUEST);
    for (name, value) in headers.iter() {
        request = request.header(name, value);
    }
    let answer = request.send().unwrap();
    let status = answer.status().as_u16();
    let headers = answer
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    (status, headers, answer.bytes().unwrap().to_vec())
}

#[test]
fn usage_is_read_per_account_shared_by_processes_and_shown() {
    let backend = MockBackend::start();
    let dir = Dir::new();
    put(&dir, "acct-a", now() + 3600, "rt-a");
    put(&dir, "acct-b", now() + 3600, "rt-b");
    backend.state().usage.extend([("acct-a".to_owned(), 42), ("acct-b".to_owned(), 7)]);

    // Eight processes at once: one usage request per account, no more.
    let children: Vec<_> = (0..8)
        .map(|_| {
            cli(&dir, &backend)
                .args(["usage", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    assert_eq!((backend.usage_requests("acct-a"), backend.usage_requests("acct-b")), (1, 1));

    let reports = json_out(cli(&dir, &backend).args(["usage", "--json"]));
    assert_eq!((backend.usage_requests("acct-a"), backend.usage_requests("acct-b")), (1, 1), "cached");
    let a = &reports[0];
    assert_eq!(a["account"], "acct-a");
    assert_eq!(a["usage"]["windows"][0]["used_percent"], 42);
    assert_eq!(a["usage"]["windows"][0]["window_seconds"], 18000);
    assert_eq!(a["usage"]["windows"][1]["used_percent"], 21);
    assert!(a["usage"]["windows"][0]["resets_at"].as_i64().unwrap() > now());
    let bearers = &backend.state().bearers["acct-a"];
    assert!(bearers.iter().all(|b| b.contains('.')), "the account's own access token was sent");

    // In a pipe: plain lines; on a terminal: bars.
    let plain = stdout(&run(cli(&dir, &backend).arg("usage")));
    assert!(
        plain.contains("acct-a (pro)") && plain.contains("primary   42% used of 5 h, resets in"),
        "{plain}"
    );
    assert!(plain.contains("secondary  21% used of 7 days"), "{plain}");
    assert!(!plain.contains('█'), "{plain}");
    let line = format!("{} --home {} usage", dir.cli().get_program().to_string_lossy(), dir.home().display());
    let mut on_tty = Command::new("script");
    on_tty.args(["-qefc", &line, "/dev/null"]);
    for (k, v) in cli(&dir, &backend).get_envs() {
        if let Some(v) = v {
            on_tty.env(k, v);
        }
    }
    let screen = stdout(&run(&mut on_tty));
    assert!(screen.contains("[█████████") && screen.contains("·]"), "{screen:?}");
}

#[test]
fn a_usage_limit_blocks_the_account_for_every_process_and_the_pool_rotates() {
    let backend = MockBackend::start();
    let dir = Dir::new();
    put(&dir, "acct-a", now() + 3600, "rt-a");
    put(&dir, "acct-b", now() + 3600, "rt-b");
    put(&dir, "acct-c", now() + 3600, "rt-c");
    backend.state().answers.insert("acct-a".into(), Answer::Limit { resets_in: 900 });
    let events = Arc::new(Events::default());
    let auth = library(&dir, &backend, events.clone());

    let (first, headers) = auth.headers_for(Some("conv-1")).unwrap();
    assert_eq!(first, "acct-a", "drain-first: listing order while nothing is known");
    let (status, answer_headers, body) = respond(&backend, &headers);
    assert_eq!(status, 429);
    let learned = auth
        .report(&first, Upstream::Answer { status, headers: &answer_headers, body: &body }, Attempt::FIRST)
        .unwrap();
    let until = learned.blocked_until.expect("blocked");
    assert!((now() + 890..=now() + 900).contains(&until), "{until}");
    assert_eq!(learned.verdict, Verdict::RotateAndReplay, "the library gets the gateway's rule");
    assert_eq!(learned.next.tried, ["acct-a"]);
    assert!(
        events.0.lock().unwrap().contains(&LoginEvent::AccountBlocked { account: "acct-a".into(), until })
    );

    // The same conversation moves to a sibling and stays there.
    let (second, headers) = auth.headers_for(Some("conv-1")).unwrap();
    assert_eq!(second, "acct-b");
    let (status, answer_headers, body) = respond(&backend, &headers);
    assert_eq!(status, 200);
    auth.report(&second, Upstream::Answer { status, headers: &answer_headers, body: &body }, Attempt::FIRST)
        .unwrap();
    assert_eq!(auth.headers_for(Some("conv-1")).unwrap().0, "acct-b");

    // Another process sees the block, and skips the account.
    let listed = json_out(cli(&dir, &backend).args(["accounts", "--json"]));
    assert_eq!(listed[0]["state"], "blocked");
    assert_eq!(listed[0]["blocked_until"], until);
    let table = stdout(&run(cli(&dir, &backend).arg("accounts")));
    assert!(table.contains("blocked until in 1"), "{table}");
    let token = stdout(&run(cli(&dir, &backend).arg("token")));
    assert!(backend.state().bearers["acct-b"].contains(&token.trim().to_owned()), "the sibling's token");

    // A stream's response.failed blocks too.
    let resets_at = now() + 60;
    backend.state().answers.insert("acct-b".into(), Answer::FailedEvent { resets_at });
    let (status, _, body) = respond(&backend, &headers);
    assert_eq!(status, 200);
    let event = String::from_utf8(body).unwrap();
    let learned = auth.report(&second, Upstream::Event(event.as_bytes()), Attempt::FIRST).unwrap();
    assert_eq!(learned.blocked_until, Some(resets_at));
    assert_eq!(auth.headers_for(Some("conv-1")).unwrap().0, "acct-c");

    // Every account blocked: the error says when the first frees up.
    backend.state().answers.insert("acct-c".into(), Answer::Limit { resets_in: 3600 });
    let (_, headers) = auth.headers_for(None).unwrap();
    let (status, answer_headers, body) = respond(&backend, &headers);
    auth.report("acct-c", Upstream::Answer { status, headers: &answer_headers, body: &body }, Attempt::FIRST)
        .unwrap();
    let err = auth.headers_for(None).unwrap_err();
    assert_eq!(err, Error::AllBlocked { first_free: resets_at });
    let o = run(cli(&dir, &backend).arg("token"));
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("every account has reached its usage limit; the first frees up at"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn rate_limit_headers_feed_least_used_and_round_robin_takes_turns_across_processes() {
    let backend = MockBackend::start();
    let dir = Dir::new();
    for id in ["acct-a", "acct-b", "acct-c"] {
        put(&dir, id, now() + 3600, &format!("rt-{id}"));
    }
    let auth = library(&dir, &backend, Arc::default());
    for (id, used) in [("acct-a", "80"), ("acct-b", "15"), ("acct-c", "60")] {
        let headers = [("x-codex-primary-used-percent".to_owned(), used.to_owned())];
        let learned = auth
            .report(id, Upstream::Answer { status: 200, headers: &headers, body: b"" }, Attempt::FIRST)
            .unwrap();
        assert!(learned.usage_updated);
    }
    let listed = json_out(cli(&dir, &backend).args(["accounts", "--json"]));
    assert_eq!(listed[1]["usage"]["windows"][0]["used_percent"], 15);
    let chosen = |strategy: &str| {
        let o = run(cli(&dir, &backend).args(["--strategy", strategy, "headers", "--json"]));
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        serde_json::from_str::<Value>(&stdout(&o)).unwrap()["chatgpt-account-id"].as_str().unwrap().to_owned()
    };
    assert_eq!(chosen("least-used"), "acct-b");
    assert_eq!(chosen("drain-first"), "acct-a");
    let turns: Vec<String> = (0..4).map(|_| chosen("round-robin")).collect();
    assert_eq!(turns[..3].iter().collect::<std::collections::BTreeSet<_>>().len(), 3, "{turns:?}");
    assert_eq!(turns[3], turns[0], "{turns:?}");
    // So does the config file, below the flag and the environment.
    std::fs::write(dir.home().join("codex-auth.toml"), "strategy = \"least-used\"\n").unwrap();
    let o = run(cli(&dir, &backend).args(["headers", "--json"]));
    assert!(stdout(&o).contains("acct-b"), "the file's strategy is used: {}", stdout(&o));
    assert_eq!(chosen("drain-first"), "acct-a");
    std::fs::remove_file(dir.home().join("codex-auth.toml")).unwrap();
    // The environment names the strategy too, and a wrong name is refused.
    let o = run(cli(&dir, &backend).env("CODEX_AUTH_STRATEGY", "least-used").args(["headers", "--json"]));
    assert!(stdout(&o).contains("acct-b"), "{}", stdout(&o));
    let o = run(cli(&dir, &backend).env("CODEX_AUTH_STRATEGY", "random").arg("token"));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("CODEX_AUTH_STRATEGY is `random`"), "{}", stderr(&o));
    assert_eq!(code(&run(cli(&dir, &backend).args(["--strategy", "random", "token"]))), 2);
}

#[test]
fn a_definitive_refresh_failure_disables_the_account_until_it_signs_in_again() {
    let backend = MockBackend::start();
    let issuer = MockIssuer::start(&[]);
    let dir = Dir::new();
    put(&dir, "acct-a", now() - 10, "rt-dead");
    put(&dir, "acct-b", now() + 3600, "rt-b");
    issuer.state().refresh_mode =
        RefreshMode::Fail(401, br#"{"error":{"code":"refresh_token_reused","message":"used"}}"#.to_vec());
    let o = run(cli(&dir, &backend).args(["--issuer", &issuer.url, "token"]));
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    let disabled: Vec<&str> = err.lines().filter(|l| l.contains("disabled")).collect();
    assert_eq!(disabled.len(), 1, "{}", stderr(&o));
    assert!(disabled[0].contains("account `acct-a` disabled (refresh_token_reused"), "{}", disabled[0]);
    let path = dir.home().join("accounts/acct-a/auth.json");
    assert!(path.exists(), "never deleted");

    let listed = json_out(cli(&dir, &backend).args(["accounts", "--json"]));
    assert_eq!(listed[0]["state"], "disabled");
    assert!(listed[0]["problem"].as_str().unwrap().contains("refresh_token_reused"));
    let o = run(cli(&dir, &backend).args(["--issuer", &issuer.url, "headers", "--json"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("acct-b"), "skipped: {}", stdout(&o));

    // The library user hears of it through its notifier.
    put(&dir, "acct-c", now() - 10, "rt-dead-too");
    let events = Arc::new(Events::default());
    let mut o = Options::new(dir.home());
    o.issuer = Some(issuer.url.clone());
    o.account = Some("acct-c".into());
    o.notifier = events.clone();
    assert!(Auth::open(o).unwrap().access_token().unwrap_err().needs_login());
    assert!(
        events
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, LoginEvent::AccountDisabled { account, .. } if account == "acct-c"))
    );

    // Signing it in again enables it.
    issuer.state().refresh_mode = RefreshMode::Normal;
    let o = run(cli(&dir, &backend).args(["--issuer", &issuer.url, "login", "--device", "--name", "acct-a"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let library = {
        let o = Options::new(dir.home());
        Auth::open(o).unwrap()
    };
    let a = library.accounts().unwrap().into_iter().find(|a| a.name == "acct-a").unwrap();
    assert_eq!(a.state, AccountState::Ok);
}

#[test]
fn check_probes_each_account_and_fails_when_one_does() {
    let backend = MockBackend::start();
    let issuer = MockIssuer::start(&[]);
    let dir = Dir::new();
    put(&dir, "acct-good", now() + 3600, "rt-good");
    put(&dir, "acct-refused", now() + 3600, "rt-refused");
    backend.state().refused.push("acct-refused".into());
    backend.state().usage.insert("acct-good".into(), 33);
    let key = dir.home().join("accounts/key/auth.json");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::write(&key, br#"{"OPENAI_API_KEY":"sk-check-key-00000000"}"#).unwrap();

    let o = run(cli(&dir, &backend).args(["--issuer", &issuer.url, "check", "--json"]));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let outcomes: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let by_name =
        |name: &str| outcomes.as_array().unwrap().iter().find(|o| o["account"] == name).unwrap().clone();
    assert_eq!(by_name("acct-good")["result"], "ok");
    assert_eq!(by_name("acct-good")["detail"]["windows"][0]["used_percent"], 33);
    assert_eq!(by_name("acct-refused")["result"], "failed");
    assert!(by_name("acct-refused")["detail"].as_str().unwrap().contains("401"));
    assert_eq!(by_name("key")["result"], "unverifiable");
    // One after another, one usage request each.
    assert_eq!((backend.usage_requests("acct-good"), backend.usage_requests("acct-refused")), (1, 1));

    let text = stdout(&run(cli(&dir, &backend).args(["--issuer", &issuer.url, "check"])));
    assert!(text.contains("ok            acct-good (33% of its binding window used)"), "{text}");
    assert!(text.contains("FAILED        acct-refused"), "{text}");

    // An expired token is refreshed first; all good is exit 0.
    backend.state().refused.clear();
    std::fs::remove_file(&key).unwrap();
    std::fs::remove_dir(key.parent().unwrap()).unwrap();
    let file = issuer.codex_file(now() - 10);
    let path = dir.home().join("accounts/acct-refused/auth.json");
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    let o = run(cli(&dir, &backend).args(["--issuer", &issuer.url, "check"]));
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(issuer.state().refresh_requests, 1);
}
