//! Sharing a Codex home with a running Codex CLI (issue #25). The peer here
//! refreshes the way the Codex CLI 0.171 does (PROTOCOL.md, Refresh,
//! measured with strace): it reads `auth.json` without a lock, sends its
//! refresh token, and only then takes `auth.lock`, re-reads and writes its
//! answer (a temp file renamed over `auth.json`). No lock codex-auth takes
//! can stop that peer from presenting a token codex-auth already spent, so
//! codex-auth must leave Codex's window alone.

use crate::mock_issuer::MockIssuer;
use crate::support::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// How many rounds the peer and codex-auth run side by side.
const ROUNDS: u32 = 12;

/// A Codex home the Codex CLI has used: its own `config.toml` (which
/// codex-auth must never read as its own settings) and its sessions.
fn codex_home(dir: &Dir) -> PathBuf {
    let home = dir.root.path().join("codex-home");
    fs::create_dir_all(home.join("sessions")).unwrap();
    fs::write(home.join("config.toml"), "model = \"gpt-5\"\napproval_policy = \"never\"\n").unwrap();
    home
}

fn write_login(home: &Path, login: &Value) {
    fs::write(home.join("auth.json"), serde_json::to_vec(login).unwrap()).unwrap();
}

fn stored(home: &Path) -> Value {
    serde_json::from_slice(&fs::read(home.join("auth.json")).unwrap()).unwrap()
}

/// What the Codex CLI does when its token is inside its 5-minute window.
/// `answered` hears when the issuer's answer is in hand; the write waits
/// for `go` (a closed channel: at once).
fn codex_like_refresh(home: &Path, issuer: &str, answered: mpsc::Sender<()>, go: mpsc::Receiver<()>) {
    // 1. The refresh token as read at start, no lock.
    let read = stored(home);
    let body = serde_json::json!({
        "client_id": crate::mock_issuer::CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": read["tokens"]["refresh_token"],
    });
    // 2. Sent before any lock is taken.
    let answer = http()
        .post(format!("{issuer}/oauth/token"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    let status = answer.status();
    let grant: Value = serde_json::from_str(&answer.text().unwrap()).unwrap();
    let _ = answered.send(());
    assert!(status.is_success(), "the Codex-like peer's refresh was refused: {grant}");
    let _ = go.recv();
    // 3. Then auth.lock, a re-read, and the answer written over it.
    let lock =
        fs::OpenOptions::new().create(true).write(true).truncate(false).open(home.join("auth.lock")).unwrap();
    lock.lock().unwrap();
    let mut login = stored(home);
    for field in ["id_token", "access_token", "refresh_token"] {
        login["tokens"][field] = grant[field].clone();
    }
    let temp = home.join(".auth-peer");
    fs::write(&temp, serde_json::to_vec(&login).unwrap()).unwrap();
    fs::rename(&temp, home.join("auth.json")).unwrap();
    lock.unlock().unwrap();
}

/// The peer on a thread of its own: it says when it has its answer, and
/// stores it once `go` is sent or dropped.
struct Peer {
    thread: std::thread::JoinHandle<()>,
    answered: mpsc::Receiver<()>,
    go: mpsc::Sender<()>,
}

fn spawn_peer(home: &Path, issuer: &str) -> Peer {
    let (home, issuer) = (home.to_owned(), issuer.to_owned());
    let (answered_tx, answered) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    Peer {
        thread: std::thread::spawn(move || codex_like_refresh(&home, &issuer, answered_tx, go_rx)),
        answered,
        go,
    }
}

#[test]
fn codex_auth_beside_a_codex_like_peer_never_presents_a_refresh_token_twice() {
    let issuer = MockIssuer::start(&[]);
    let dir = Dir::new();
    let home = codex_home(&dir);
    write_login(&home, &issuer.codex_file(now() + 3600));
    let o = run(dir.cli().env("CODEX_AUTH_ISSUER", &issuer.url).arg("import").arg(&home));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("The Codex CLI keeps refreshing"), "import says so once:\n{}", stderr(&o));
    assert!(stderr(&o).contains("import --move --name codex"), "{}", stderr(&o));
    // A long-lived host (a library Auth kept open, as `serve` keeps one).
    let mut options = codex_auth::Options::new(dir.home());
    options.issuer = Some(issuer.url.clone());
    let library = codex_auth::Auth::open(options).unwrap();

    for round in 1..=ROUNDS {
        // A new login inside the Codex CLI's window (5 min), before the final minute.
        write_login(&home, &issuer.codex_file(now() + 180));
        issuer.stall_next();
        let peer = spawn_peer(&home, &issuer.url);
        drop(peer.go);
        issuer.wait_for_stalled(1);
        // The peer's refresh is in flight, sent without a lock. Meanwhile:
        let token = stored(&home)["tokens"]["access_token"].as_str().unwrap().to_owned();
        for args in [&["token"][..], &["headers"], &["refresh"], &["status"]] {
            let o = run(dir.cli().env("CODEX_AUTH_ISSUER", &issuer.url).args(args));
            assert_eq!(code(&o), 0, "round {round}, {args:?}: {}", stderr(&o));
            if args == ["token"] {
                assert_eq!(stdout(&o).trim(), token, "round {round}: the stored token is served");
            }
        }
        // Its cached token is still valid: served, nothing sent.
        library.request_headers().unwrap();
        issuer.release_stall(crate::mock_issuer::StallEnd::Proceed);
        peer.thread.join().expect("the peer's refresh went through");
        let state = issuer.state();
        assert_eq!(state.reuse_errors, 0, "round {round}: a refresh token was presented twice");
        assert_eq!(state.refresh_requests, round, "round {round}: only the peer refreshed");
    }
    // What the peer wrote last is what codex-auth hands out now.
    let o = run(dir.cli().env("CODEX_AUTH_ISSUER", &issuer.url).arg("token"));
    assert_eq!(stdout(&o).trim(), stored(&home)["tokens"]["access_token"].as_str().unwrap());
}

#[test]
fn a_reuse_the_codex_cli_caused_is_recovered_from_what_it_stores() {
    let issuer = MockIssuer::start(&[]);
    let dir = Dir::new();
    let home = codex_home(&dir);
    write_login(&home, &issuer.codex_file(now() + 180));
    let o = run(dir.cli().arg("import").arg(&home));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // The peer's refresh is answered, but it has not stored the answer yet...
    let peer = spawn_peer(&home, &issuer.url);
    peer.answered.recv().unwrap();
    // ...when codex-auth is asked to refresh: the issuer calls its token
    // used. The peer stores its answer after that, once it has auth.lock.
    let refresh = std::thread::spawn({
        let mut cmd = dir.cli();
        cmd.env("CODEX_AUTH_ISSUER", &issuer.url).args(["refresh", "--force"]);
        move || run(&mut cmd)
    });
    issuer.wait_for_reuse(1);
    drop(peer.go);
    peer.thread.join().expect("the peer stored its login");
    let o = refresh.join().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("refreshed by another program"),
        "an event says what happened:\n{}",
        stderr(&o)
    );
    let login = stored(&home);
    assert!(login.get("codex_auth_login_required").is_none(), "not disabled: {login}");
    let o = run(dir.cli().args(["status", "--json"]));
    let status: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (status["logged_in"].as_bool(), status["login_required"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(
        run(dir.cli().arg("token")).stdout,
        format!("{}\n", login["tokens"]["access_token"].as_str().unwrap()).into_bytes(),
        "the login the peer stored is the one used"
    );
}
