//! Refresh through the real binary and library against the mock issuer:
//! single-flight in a process, one refresh across processes, crash safety,
//! failure classes and 401 recovery.

use crate::mock_issuer::{MockIssuer, RefreshMode, StallEnd};
use crate::support::*;
use codex_auth::{Auth, Error, Options};
use serde_json::Value;
use std::process::Stdio;

fn store_with(dir: &Dir, mock: &MockIssuer, exp: i64) -> Value {
    let file = mock.codex_file(exp);
    dir.write_store(&serde_json::to_vec_pretty(&file).unwrap());
    file
}

fn library(dir: &Dir, mock: &MockIssuer) -> Auth {
    let mut o = Options::new(dir.home());
    o.issuer = Some(mock.url.clone());
    Auth::open(o).unwrap()
}

fn stored_refresh_token(dir: &Dir) -> String {
    let v: Value = serde_json::from_slice(&std::fs::read(dir.auth_file()).unwrap()).unwrap();
    v["tokens"]["refresh_token"].as_str().unwrap().to_owned()
}

#[test]
fn a_thousand_callers_share_one_refresh() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    store_with(&dir, &mock, now() - 10);
    let auth = library(&dir, &mock);
    let tokens: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..1000).map(|_| s.spawn(|| auth.access_token().unwrap().expose().to_owned())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(mock.state().refresh_requests, 1);
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_ne!(tokens[0], crate::mock_issuer::access_token(now() - 10, 0));
}

#[test]
fn sixteen_processes_share_one_refresh() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    store_with(&dir, &mock, now() - 10);
    let children = (0..16).map(|_| spawn_piped(dir.cli().args(["--issuer", &mock.url, "token"]))).collect();
    same_output_from_all(children);
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (1, 0));
}

#[test]
fn a_process_killed_mid_refresh_leaves_a_valid_store() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    store_with(&dir, &mock, now() - 10);
    let before = std::fs::read(dir.auth_file()).unwrap();
    mock.state().refresh_mode = RefreshMode::Stall;
    let mut victim = dir.cli().args(["--issuer", &mock.url, "token"]).stdout(Stdio::null()).spawn().unwrap();
    mock.wait_for_stalled(1);
    // It holds the lock and waits for the issuer: kill it there.
    victim.kill().unwrap();
    victim.wait().unwrap();
    mock.release_stall(StallEnd::Abandon);
    assert_eq!(std::fs::read(dir.auth_file()).unwrap(), before, "the store is untouched");

    let o = run(dir.cli().args(["--issuer", &mock.url, "token"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let status = run(dir.cli().args(["status", "--json"]));
    let v: Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(v["logged_in"], true);
    assert!(v["expires_at"].as_i64().unwrap() > now());
}

#[test]
fn transient_failures_keep_the_credential() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    // Due (within the 5-minute skew) but still valid: the old token is served.
    let file = store_with(&dir, &mock, now() + 120);
    let before = std::fs::read(dir.auth_file()).unwrap();
    mock.state().refresh_mode = RefreshMode::Fail(503, b"upstream unavailable".to_vec());
    let o = run(dir.cli().args(["--issuer", &mock.url, "token"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), file["tokens"]["access_token"].as_str().unwrap());
    assert_eq!(std::fs::read(dir.auth_file()).unwrap(), before);

    // Expired: retried with backoff, then a clear error; nothing lost.
    store_with(&dir, &mock, now() - 10);
    let before = std::fs::read(dir.auth_file()).unwrap();
    let requests = mock.state().refresh_requests;
    let o = run(dir.cli().args(["--issuer", &mock.url, "token"]));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("expired") && stderr(&o).contains("503"), "{}", stderr(&o));
    assert_eq!(mock.state().refresh_requests - requests, 3);
    assert_eq!(std::fs::read(dir.auth_file()).unwrap(), before);
    let status = run(dir.cli().args(["status", "--json"]));
    let v: Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(v["login_required"], false);
}

#[test]
fn a_permanent_failure_marks_login_required_without_deleting() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    store_with(&dir, &mock, now() - 10);
    let rt = stored_refresh_token(&dir);
    // Someone else used this refresh token: presenting it again is reuse.
    let spent = crate::support::http()
        .post(format!("{}/oauth/token", mock.url))
        .header("Content-Type", "application/json")
        .body(
            serde_json::json!({"client_id": crate::mock_issuer::CLIENT_ID, "grant_type": "refresh_token", "refresh_token": rt})
                .to_string(),
        )
        .send()
        .unwrap();
    assert_eq!(spent.status().as_u16(), 200);

    let o = run(dir.cli().args(["--issuer", &mock.url, "token"]));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("refresh_token_reused") && stderr(&o).contains("login"), "{}", stderr(&o));
    let status = run(dir.cli().args(["status", "--json"]));
    assert_eq!(code(&status), 1);
    let v: Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(
        (v["login_required"].clone(), v["kind"].clone()),
        (Value::Bool(true), Value::from("subscription"))
    );
    assert_eq!(stored_refresh_token(&dir), rt, "the credential is kept");

    // The dead token is never sent again.
    let requests = mock.state().refresh_requests;
    let o = run(dir.cli().args(["--issuer", &mock.url, "refresh", "--force"]));
    assert_eq!(code(&o), 1);
    assert_eq!(mock.state().refresh_requests, requests);
}

#[test]
fn refresh_command_rotates_and_persists() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    store_with(&dir, &mock, now() + 3600);
    let rt = stored_refresh_token(&dir);
    let o = run(dir.cli().args(["--issuer", &mock.url, "refresh"]));
    assert_eq!(code(&o), 0);
    assert_eq!(mock.state().refresh_requests, 0, "fresh tokens are not refreshed without --force");
    let o = run(dir.cli().args(["--issuer", &mock.url, "refresh", "--force", "--json"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(mock.state().refresh_requests, 1);
    assert_ne!(stored_refresh_token(&dir), rt);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["logged_in"], true);
}

#[test]
fn unauthorized_recovery_steps() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    store_with(&dir, &mock, now() + 3600);
    let auth = library(&dir, &mock);
    let first = auth.access_token().unwrap();

    // 1. Another writer (say the Codex CLI sharing the store) rotated it.
    store_with(&dir, &mock, now() + 7200);
    let from_store = auth.unauthorized(&first).unwrap();
    assert_ne!(from_store, first);
    assert_eq!(mock.state().refresh_requests, 0);

    // 2. Nothing newer on disk: refresh, although the token is not due.
    let refreshed = auth.unauthorized(&from_store).unwrap();
    assert_ne!(refreshed, from_store);
    assert_eq!(mock.state().refresh_requests, 1);

    // 3. The refresh is refused: login required, credential kept.
    mock.state().refresh_mode =
        RefreshMode::Fail(401, br#"{"error":{"code":"refresh_token_invalidated"}}"#.to_vec());
    let err = auth.unauthorized(&refreshed).unwrap_err();
    assert!(
        matches!(err, Error::LoginRequired { ref code, .. } if code == "refresh_token_invalidated"),
        "{err:?}"
    );
    assert!(err.needs_login());
    assert!(dir.auth_file().exists());
}

#[test]
fn a_store_rotated_by_another_writer_is_used_without_a_request() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    store_with(&dir, &mock, now() + 60);
    let auth = library(&dir, &mock);
    auth.status().unwrap(); // the session has read the due tokens
    // Another writer refreshes in between (as `--home ~/.codex` sharing allows).
    let peer = store_with(&dir, &mock, now() + 3600);
    let token = auth.access_token().unwrap();
    assert_eq!(token.expose(), peer["tokens"]["access_token"].as_str().unwrap());
    assert_eq!(mock.state().refresh_requests, 0);
}

#[test]
fn a_held_auth_lock_bounds_the_wait_with_a_clear_error() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    store_with(&dir, &mock, now() - 10);
    // Another process (say the Codex CLI writing) holds flock on auth.lock.
    let holder = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.home().join(codex_auth::LOCK_FILE))
        .unwrap();
    holder.lock().unwrap();
    let mut o = Options::new(dir.home());
    o.issuer = Some(mock.url.clone());
    o.lock_timeout = Some(std::time::Duration::from_millis(200));
    let auth = Auth::open(o).unwrap();
    let err = auth.access_token().unwrap_err();
    assert_eq!(err, Error::LockTimeout(200));
    assert!(err.to_string().contains("lock"), "{err}");
    assert_eq!(mock.state().refresh_requests, 0, "nothing is sent without the lock");
    holder.unlock().unwrap();
    assert!(auth.access_token().is_ok());
    assert_eq!(mock.state().refresh_requests, 1);
}
