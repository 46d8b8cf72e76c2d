//! The account vault through the real binary and the library: several
//! accounts in one home, one holder per refresh token, per-account locks,
//! and bad input that harms only what it touches.

use crate::mock_issuer::{MockIssuer, RefreshMode, StallEnd};
use crate::support::*;
use codex_auth::{AccountState, Auth, Error, Options, Revocation};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The CLI of `dir` talking to `mock`.
fn cli(dir: &Dir, mock: &MockIssuer) -> Command {
    let mut cmd = dir.cli();
    cmd.args(["--issuer", &mock.url]);
    cmd
}

/// `login --device` of a new account `name`; returns its stderr.
fn device_login(dir: &Dir, mock: &MockIssuer, extra: &[&str]) -> String {
    let o = run(cli(dir, mock).args(["login", "--device", "--timeout", "60"]).args(extra));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    stderr(&o)
}

fn refresh_token_in(path: &Path) -> String {
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["tokens"]["refresh_token"].as_str().unwrap().to_owned()
}

fn accounts_json(dir: &Dir, mock: &MockIssuer, extra: &[&str]) -> Vec<Value> {
    let o = run(cli(dir, mock).args(extra).args(["accounts", "--json"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn names(list: &[Value]) -> Vec<&str> {
    list.iter().map(|a| a["name"].as_str().unwrap()).collect()
}

fn library(dir: &Dir, mock: &MockIssuer, account: Option<&str>) -> Auth {
    let mut o = Options::new(dir.home());
    o.issuer = Some(mock.url.clone());
    o.account = account.map(str::to_owned);
    Auth::open(o).unwrap()
}

#[test]
fn several_accounts_sign_in_side_by_side_and_none_replaces_another() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let err = device_login(&dir, &mock, &["--name", "work"]);
    assert!(err.contains("stored as account `work`"), "{err}");
    device_login(&dir, &mock, &["--name", "home"]);
    let work_file = dir.home().join("accounts/work/auth.json");
    let home_file = dir.home().join("accounts/home/auth.json");
    let home_token = refresh_token_in(&home_file);

    // Each account is a Codex home: auth.json in the Codex CLI's format, 0600.
    let stored: Value = serde_json::from_slice(&std::fs::read(&work_file).unwrap()).unwrap();
    assert_eq!(stored["auth_mode"], "chatgpt");
    assert_eq!(stored["OPENAI_API_KEY"], Value::Null);
    assert!(stored["tokens"]["id_token"].is_string() && stored["last_refresh"].is_string());
    assert!(dir.home().join("accounts/work/auth.lock").exists(), "the Codex CLI's lock beside it");

    // Signing `work` in again touches nothing of `home` and revokes nothing.
    device_login(&dir, &mock, &["--name", "work"]);
    assert_eq!(refresh_token_in(&home_file), home_token);
    assert!(mock.state().revoked.is_empty());

    let list = accounts_json(&dir, &mock, &[]);
    assert_eq!(names(&list), ["home", "work"]);
    for account in &list {
        assert_eq!(account["email"], "mock@example.com");
        assert_eq!(account["account_id"], crate::mock_issuer::ACCOUNT);
        assert_eq!(account["plan"], "pro");
        assert_eq!(account["state"], "ok");
        assert!(account["expires_at"].as_i64().unwrap() > now());
        assert!(!account.to_string().contains("rt-"), "no token in the listing");
    }
    assert_eq!(list[0]["in_use"], true, "the first usable one, nothing pinned");

    // Pin, then override per call by flag and by environment.
    let o = run(cli(&dir, &mock).args(["use", "work"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let status = |extra: &[&str], env: Option<&str>| {
        let mut cmd = cli(&dir, &mock);
        if let Some(name) = env {
            cmd.env("CODEX_AUTH_ACCOUNT", name);
        }
        let o = run(cmd.args(extra).args(["status", "--json"]));
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        serde_json::from_str::<Value>(&stdout(&o)).unwrap()["account"].clone()
    };
    assert_eq!(status(&[], None), "work");
    assert_eq!(status(&["--account", "home"], None), "home");
    assert_eq!(status(&[], Some("home")), "home");
    assert_eq!(status(&["--account", "work"], Some("home")), "work", "the flag beats the environment");
    let list = accounts_json(&dir, &mock, &[]);
    assert_eq!(list[1]["pinned"], true);
    let table = stdout(&run(cli(&dir, &mock).arg("accounts")));
    assert!(table.contains("* work") && table.contains("ok, pinned"), "{table}");

    // The token of each account is its own.
    let token = |name: &str| stdout(&run(cli(&dir, &mock).args(["--account", name, "token"])));
    assert_ne!(token("work"), token("home"));

    // Removing the pinned account revokes its token and says what is used now.
    let work_token = refresh_token_in(&work_file);
    let o = run(cli(&dir, &mock).args(["remove", "work", "--json"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("`work` was pinned; calls now use `home`"), "{}", stderr(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["revocation"]["result"], "revoked");
    assert_eq!(report["now_using"], "home");
    assert_eq!(mock.state().revoked, [work_token]);
    assert!(!dir.home().join("accounts/work").exists());
    assert_eq!(names(&accounts_json(&dir, &mock, &[])), ["home"]);
    let o = run(cli(&dir, &mock).args(["--account", "work", "token"]));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no account named `work`"), "{}", stderr(&o));
}

#[test]
fn an_api_key_account_comes_from_stdin_never_from_argv() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let key = "sk-proj-account-key-0000WXYZ";
    let mut child = cli(&dir, &mock)
        .args(["login", "--name", "ci", "--with-api-key", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    writeln!(child.stdin.take().unwrap(), "{key}").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let status: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((status["account"].clone(), status["kind"].clone()), (json!("ci"), json!("api_key")));
    assert!(!stdout(&o).contains(key) && !stderr(&o).contains(key));
    let stored: Value =
        serde_json::from_slice(&std::fs::read(dir.home().join("accounts/ci/auth.json")).unwrap()).unwrap();
    assert_eq!(
        (stored["auth_mode"].clone(), stored["OPENAI_API_KEY"].clone()),
        (json!("apikey"), json!(key))
    );
    assert_eq!(stdout(&run(cli(&dir, &mock).args(["--account", "ci", "token"]))), format!("{key}\n"));

    // A key on the command line is refused outright, and empty input too.
    let o = run(cli(&dir, &mock).args(["login", "--name", "x", "--with-api-key", key]));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = run(cli(&dir, &mock).args(["login", "--name", "x", "--with-api-key"]).stdin(Stdio::null()));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no API key on standard input"), "{}", stderr(&o));
    assert_eq!(names(&accounts_json(&dir, &mock, &[])), ["ci"]);
}

#[test]
fn a_home_of_the_first_release_is_the_first_account_without_migration() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let file = serde_json::to_vec_pretty(&mock.codex_file(now() + 3600)).unwrap();
    dir.write_store(&file);
    dir.put_account("second", &serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap());
    let list = accounts_json(&dir, &mock, &[]);
    assert_eq!(names(&list), ["default", "second"]);
    assert_eq!(list[0]["location"], json!(dir.auth_file()));
    assert_eq!(list[0]["in_use"], true);
    let o = run(cli(&dir, &mock).arg("token"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(dir.auth_file()).unwrap(), file, "read where it is, not moved");
    assert!(!dir.home().join("vault.json").exists(), "no migration step writes anything");
}

/// The scenario of the issue: log in to Codex home A, import it into
/// codex-auth home B, refresh in B, then in A, many times over.
#[test]
fn an_imported_codex_home_keeps_one_holder_through_refreshes_from_either_side() {
    let mock = MockIssuer::start(&[]);
    let a = Dir::new();
    let b = Dir::new();
    device_login(&a, &mock, &[]);
    let o = run(cli(&b, &mock).arg("import").arg(a.auth_file()));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for round in 0..4 {
        for (side, dir) in [("B", &b), ("A", &a)] {
            let o = run(cli(dir, &mock).args(["refresh", "--force", "--json"]));
            assert_eq!(code(&o), 0, "round {round}, side {side}: {}", stderr(&o));
        }
    }
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (8, 0));
    drop(state);
    // One store holds the token: A's own file, rotated eight times.
    assert!(!b.auth_file().exists());
    assert!(std::fs::symlink_metadata(b.home().join("accounts/codex")).unwrap().file_type().is_symlink());
    let a_token = stdout(&run(cli(&a, &mock).arg("token")));
    assert_eq!(stdout(&run(cli(&b, &mock).arg("token"))), a_token);

    // Removing the linked account leaves A logged in and revokes nothing.
    let o = run(cli(&b, &mock).args(["remove", "codex"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("keeps its login"), "{}", stderr(&o));
    assert!(mock.state().revoked.is_empty());
    assert_eq!(code(&run(cli(&a, &mock).args(["refresh", "--force"]))), 0);
}

#[test]
fn a_waiter_gets_the_lock_before_it_gives_up_on_a_slow_holder() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    dir.put_account("slow", &serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap());
    let options = || {
        let mut o = Options::new(dir.home());
        o.issuer = Some(mock.url.clone());
        o.lock_timeout = Some(Duration::from_millis(3000));
        o.http_timeout = Some(Duration::from_secs(60));
        o
    };
    let (holder, waiter) = (Auth::open(options()).unwrap(), Auth::open(options()).unwrap());
    mock.state().refresh_mode = RefreshMode::StallFirst;
    std::thread::scope(|s| {
        // The holder's request hangs at the issuer; its lock is held at most
        // two thirds of the lock timeout, however long HTTP may take.
        let held = s.spawn(|| holder.refresh(true));
        mock.wait_for_stalled(1);
        let waited = s.spawn(|| waiter.refresh(true));
        assert!(matches!(held.join().unwrap(), Err(Error::Transport(_))));
        let status = waited.join().unwrap().expect("the waiter got the lock in time");
        assert_eq!(status.account.as_deref(), Some("slow"));
    });
    mock.release_stall(StallEnd::Abandon);
    assert_eq!(mock.state().reuse_errors, 0);
}

#[test]
fn logout_and_remove_hold_the_lock_before_they_revoke() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let path = dir.put_account("held", &serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap());
    let holder = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_file_name(codex_auth::LOCK_FILE))
        .unwrap();
    holder.lock().unwrap();
    let mut o = Options::new(dir.home());
    o.issuer = Some(mock.url.clone());
    o.account = Some("held".into());
    o.lock_timeout = Some(Duration::from_millis(200));
    let auth = Auth::open(o).unwrap();
    assert_eq!(auth.logout().unwrap_err(), Error::LockTimeout(200));
    assert_eq!(auth.remove_account("held").unwrap_err(), Error::LockTimeout(200));
    assert!(mock.state().revoked.is_empty(), "nothing revoked without the lock");
    assert!(path.exists());
    holder.unlock().unwrap();
    let removal = auth.remove_account("held").unwrap();
    assert_eq!(removal.revocation, Revocation::Revoked);
    assert_eq!(mock.state().revoked.len(), 1);
}

#[test]
fn a_refresh_in_flight_delays_neither_other_accounts_nor_listing() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    dir.put_account("busy", &serde_json::to_vec(&mock.codex_file(now() - 10)).unwrap());
    dir.put_account("idle", &serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap());
    let auth = library(&dir, &mock, None);
    auth.use_account("busy").unwrap();
    mock.state().refresh_mode = RefreshMode::Stall;
    std::thread::scope(|s| {
        let pending = s.spawn(|| auth.access_token());
        mock.wait_for_stalled(1);
        // In this process: listing and status go around the busy account's
        // instance, and another account has its own.
        let listed = auth.accounts().unwrap();
        assert_eq!(listed.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["busy", "idle"]);
        assert_eq!(auth.status().unwrap().account.as_deref(), Some("busy"));
        auth.use_account("idle").unwrap();
        assert!(auth.request_headers().is_ok());
        // In other processes: the busy account's auth.lock is held meanwhile.
        for args in
            [&["accounts", "--json"][..], &["--account", "busy", "status"], &["--account", "idle", "token"]]
        {
            let o = run(cli(&dir, &mock).args(args));
            assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        }
        mock.release_stall(StallEnd::Proceed);
        assert!(pending.join().unwrap().is_ok());
    });
    assert_eq!(mock.state().refresh_requests, 1);
}

#[test]
fn a_corrupt_account_blocks_only_itself() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let bad = dir.put_account("bad", b"{\"tokens\": [");
    dir.put_account("good", &serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap());
    let list = accounts_json(&dir, &mock, &[]);
    assert_eq!(names(&list), ["bad", "good"]);
    assert_eq!(list[0]["state"], "unreadable");
    assert!(list[0]["problem"].as_str().unwrap().contains("JSON"), "{}", list[0]);
    assert_eq!(list[1]["in_use"], true, "the first usable one");
    assert_eq!(code(&run(cli(&dir, &mock).arg("token"))), 0);
    let o = run(cli(&dir, &mock).args(["--account", "bad", "token"]));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains(&bad.display().to_string()), "{}", stderr(&o));
    assert_eq!(std::fs::read(&bad).unwrap(), b"{\"tokens\": [", "left untouched");
    let library = library(&dir, &mock, None);
    let bad_one = library.accounts().unwrap().into_iter().next().unwrap();
    assert_eq!(bad_one.state, AccountState::Unreadable);
}

#[test]
fn unsafe_names_are_refused_everywhere() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    for name in ["../escape", "a/b", "..", "with space", "tab\tname", "bell\u{7}"] {
        for args in [
            vec!["login", "--name", name, "--with-api-key"],
            vec!["use", name],
            vec!["remove", name],
            vec!["--account", name, "token"],
            vec!["import", "--name", name, "."],
        ] {
            let o = run(cli(&dir, &mock).args(&args).stdin(Stdio::null()));
            assert_eq!(code(&o), 1, "{args:?}");
            assert!(stderr(&o).contains("cannot name an account"), "{args:?}: {}", stderr(&o));
        }
    }
    assert!(!dir.root.path().join("escape").exists());
    assert!(!dir.home().exists(), "nothing was created");
}

#[test]
fn processes_adding_accounts_at_once_lose_none() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut child = cli(&dir, &mock)
                .args(["login", "--name", &format!("k{i}"), "--with-api-key"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write as _;
            writeln!(child.stdin.take().unwrap(), "sk-parallel-key-{i:04}-abcdef").unwrap();
            child
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let list = accounts_json(&dir, &mock, &[]);
    assert_eq!(names(&list), (0..8).map(|i| format!("k{i}")).collect::<Vec<_>>());
}

#[test]
fn an_oversized_issuer_answer_is_a_transport_error_and_keeps_the_login() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let path = dir.put_account("big", &serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap());
    let before = std::fs::read(&path).unwrap();
    mock.state().refresh_mode = RefreshMode::Fail(200, vec![b' '; 2 << 20]);
    let o = run(cli(&dir, &mock).args(["refresh", "--force"]));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("larger than 1048576 bytes"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
