//! The component under Node with real I/O (`node-host/`): the same
//! scenarios as the native host against the mock issuer, and one store
//! shared with the native CLI. Needs node and npm; `scripts/node-host.sh`
//! installs the pinned jco and WASI shim into .tools/node-host on first use.

use crate::mock_issuer::{ACCOUNT, MockIssuer, RefreshMode, StallEnd};
use crate::support::*;
use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The guest transpiled for the Node host, once per guest build: kept in a
/// folder named by its hash, made under another name and renamed into place,
/// so test processes running at once never see a half-written one.
fn transpiled_guest() -> &'static Path {
    use sha2::{Digest as _, Sha256};
    static GUEST: OnceLock<PathBuf> = OnceLock::new();
    GUEST.get_or_init(|| {
        let hash: String =
            Sha256::digest(codex_auth::GUEST_WASM).iter().take(8).map(|b| format!("{b:02x}")).collect();
        // Below .tools/node-host, whose node_modules holds the WASI shim.
        let tools = Path::new(ROOT).join(".tools/node-host");
        let done = tools.join(format!("guest-{hash}"));
        if !done.join("guest.js").exists() {
            std::fs::create_dir_all(&tools).unwrap();
            let work = tempfile::tempdir_in(&tools).unwrap();
            let wasm = work.path().join("codex_auth_guest.wasm");
            std::fs::write(&wasm, codex_auth::GUEST_WASM).unwrap();
            let out = work.path().join("guest");
            let o = Command::new("bash")
                .arg(Path::new(ROOT).join("scripts/node-host.sh"))
                .arg(&wasm)
                .arg(&out)
                .output()
                .expect("bash runs");
            assert!(o.status.success(), "transpiling for the Node host failed:\n{}", stderr(&o));
            // Another process may have won the race; its copy is as good.
            let _ = std::fs::rename(&out, &done);
        }
        done.join("guest.js")
    })
}

/// `node node-host/codex-auth.mjs` with `--home` set and nothing inherited
/// that could reach the real `~/.codex`, the real issuer or a real key.
fn node(dir: &Dir, issuer: &str) -> Command {
    let mut cmd = Command::new("node");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.root.path().join("user-home"))
        .arg(Path::new(ROOT).join("node-host/codex-auth.mjs"))
        .arg("--guest")
        .arg(transpiled_guest())
        .args(["--home".as_ref(), dir.home().as_os_str()])
        .args(["--issuer", issuer]);
    cmd
}

fn stored(dir: &Dir) -> Value {
    serde_json::from_slice(&std::fs::read(dir.auth_file()).unwrap()).unwrap()
}

fn assert_signed_in(dir: &Dir, (code, out, err): (i32, String, String)) {
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&status["account_id"], &status["plan"], &status["logged_in"]),
        (&ACCOUNT.into(), &"pro".into(), &true.into())
    );
    assert!(err.contains("Signed in with ChatGPT: pro, mock@example.com"), "{err}");
    assert_eq!(stored(dir)["tokens"]["account_id"], ACCOUNT);
    // The native host reads what the Node host wrote.
    let native = run(dir.cli().args(["status", "--json"]));
    assert_eq!(code_of(&native), 0, "{}", stderr(&native));
}

fn code_of(o: &std::process::Output) -> i32 {
    o.status.code().expect("exited")
}

#[test]
fn device_sign_in_under_node() {
    let mock = MockIssuer::start(&[]);
    mock.state().device_pending_polls = 1;
    let dir = Dir::new();
    let mut cmd = node(&dir, &mock.url);
    cmd.args(["login", "--device", "--json"]);
    let result = Running::spawn(cmd).finish();
    assert!(result.2.contains("MOCK-CODE") && result.2.contains("/codex/device"), "{}", result.2);
    assert_signed_in(&dir, result);
    let state = mock.state();
    assert_eq!(state.exchanges, 1);
    assert_eq!(state.device_polls.len(), 2, "one pending poll, then the approval");
}

#[test]
fn browser_sign_in_under_node_through_a_scripted_browser() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    // The "browser" follows the issuer's redirect to the loopback listener
    // and keeps the page it was shown.
    let page = dir.root.path().join("page.html");
    let browser = dir.root.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\nexec node -e 'fetch(process.argv[1]).then(r => r.text()).then(t => require(\"fs\").writeFileSync(process.argv[2], t))' \"$1\" {}\n",
            page.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let mut cmd = node(&dir, &mock.url);
    cmd.args(["login", "--browser", "--json", "--timeout", "60"])
        .args(["--port", &ports[0].to_string(), "--fallback-port", &ports[1].to_string()])
        .env("DISPLAY", ":0")
        .env("BROWSER", &browser);
    let mut login = Running::spawn(cmd);
    let url = login.authorize_url();
    assert!(
        url.contains(&format!("redirect_uri=http%3A%2F%2Flocalhost%3A{}%2Fauth%2Fcallback", ports[0])),
        "{url}"
    );
    // While it waits, a forged callback is refused and the sign-in goes on.
    let stray = http()
        .get(format!("http://127.0.0.1:{}/auth/callback?code=forged&state=wrong", ports[0]))
        .send()
        .unwrap();
    assert_eq!(stray.status().as_u16(), 400);
    let result = login.finish();
    assert_signed_in(&dir, result);
    assert!(std::fs::read_to_string(&page).unwrap().contains("Signed in"));
    assert_eq!(mock.state().exchanges, 1, "the forged code never reached the issuer");
}

#[test]
fn pasted_sign_in_under_node_reads_the_terminal() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    let mut cmd = node(&dir, &mock.url);
    cmd.args(["login", "--paste", "--json", "--port", &ports[0].to_string()]);
    let mut login = Running::spawn(cmd);
    let redirect = authorize_redirect(&login.authorize_url());
    let mut stdin = login.child.stdin.take().unwrap();
    // A URL of another sign-in is refused and the prompt comes again.
    writeln!(stdin, "{}", redirect.replace("state=", "state=x")).unwrap();
    login.line_where(|l| l.contains("does not belong to this sign-in"));
    writeln!(stdin, "{redirect}").unwrap();
    assert_signed_in(&dir, login.finish());
}

#[test]
fn refresh_under_node_rotates_and_persists() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let file = mock.codex_file(now() - 10);
    dir.write_store(&serde_json::to_vec(&file).unwrap());

    let token = run(node(&dir, &mock.url).arg("token"));
    assert_eq!(code_of(&token), 0, "{}", stderr(&token));
    let after = stored(&dir);
    assert_eq!(stdout(&token).trim(), after["tokens"]["access_token"]);
    assert_ne!(after["tokens"]["refresh_token"], file["tokens"]["refresh_token"]);
    assert_eq!(mock.state().refresh_requests, 1);

    // Fresh now: no request. Forced: one more rotation, never a reuse.
    assert_eq!(code_of(&run(node(&dir, &mock.url).arg("token"))), 0);
    assert_eq!(mock.state().refresh_requests, 1);
    let forced = run(node(&dir, &mock.url).args(["refresh", "--force"]));
    assert_eq!(code_of(&forced), 0, "{}", stderr(&forced));
    assert_ne!(stored(&dir)["tokens"]["refresh_token"], after["tokens"]["refresh_token"]);
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (2, 0));
    // Written as the native host writes it: 0600.
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.auth_file()).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn unauthorized_recovery_under_node() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap());
    let first = stdout(&run(node(&dir, &mock.url).arg("token"))).trim().to_owned();

    // Another writer rotated the store: reloading is enough.
    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() + 7200)).unwrap());
    let reloaded = run(node(&dir, &mock.url).args(["unauthorized", &first]));
    assert_eq!(code_of(&reloaded), 0, "{}", stderr(&reloaded));
    let reloaded = stdout(&reloaded).trim().to_owned();
    assert_ne!(reloaded, first);
    assert_eq!(mock.state().refresh_requests, 0);

    // Nothing newer on disk: a refresh, although the token is not due.
    let refreshed = run(node(&dir, &mock.url).args(["unauthorized", &reloaded]));
    assert_eq!(code_of(&refreshed), 0, "{}", stderr(&refreshed));
    assert_ne!(stdout(&refreshed).trim(), reloaded);
    assert_eq!(stdout(&refreshed).trim(), stored(&dir)["tokens"]["access_token"]);
    assert_eq!(mock.state().refresh_requests, 1);
}

#[test]
fn a_corrupt_store_is_named_and_left_untouched_under_node() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let garbage = b"{\"tokens\": {\"access_token\": 42";
    dir.write_store(garbage);
    for args in [&["token"][..], &["status"], &["refresh", "--force"], &["login", "--device"]] {
        let o = run(node(&dir, &mock.url).args(args));
        assert_eq!(code_of(&o), 1, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(&dir.auth_file().display().to_string()), "{args:?}: {}", stderr(&o));
        assert_eq!(std::fs::read(dir.auth_file()).unwrap(), garbage, "{args:?}");
    }
    assert_eq!(mock.state().exchanges, 0);
}

/// Takes flock on `auth.lock` of `dir`'s home as another process would;
/// `None` when someone else holds it.
fn try_lock(dir: &Dir) -> Option<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.home().join(codex_auth::LOCK_FILE))
        .unwrap();
    match file.try_lock() {
        Ok(()) => Some(file),
        Err(std::fs::TryLockError::WouldBlock) => None,
        Err(e) => panic!("flock: {e}"),
    }
}

#[test]
fn node_waits_for_a_lock_held_elsewhere_and_sends_nothing() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() - 10)).unwrap());
    let holder = try_lock(&dir).expect("nobody holds it yet");
    let o = run(node(&dir, &mock.url).args(["--lock-timeout", "300", "token"]));
    assert_eq!(code_of(&o), 1);
    assert!(stderr(&o).contains("held the store lock for more than 300 ms"), "{}", stderr(&o));
    assert_eq!(mock.state().refresh_requests, 0, "nothing is sent without the lock");
    drop(holder);
    let o = run(node(&dir, &mock.url).args(["--lock-timeout", "300", "token"]));
    assert_eq!(code_of(&o), 0, "{}", stderr(&o));
    assert_eq!(mock.state().refresh_requests, 1);
}

#[test]
fn node_holds_the_lock_across_its_refresh() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() - 10)).unwrap());
    mock.state().refresh_mode = RefreshMode::Stall;
    let mut refresher = node(&dir, &mock.url);
    let refresher = refresher.arg("token").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    mock.wait_for_stalled(1);
    // Its request is in flight: the lock is the Node process's, so a
    // native process (or the Codex CLI) cannot write in between.
    assert!(try_lock(&dir).is_none(), "the Node host holds auth.lock while it refreshes");
    let native = dir.cli().args(["--issuer", &mock.url, "token"]).stdout(Stdio::piped()).spawn().unwrap();
    mock.release_stall(StallEnd::Proceed);
    let (node_out, native_out) = (refresher.wait_with_output().unwrap(), native.wait_with_output().unwrap());
    assert_eq!(code_of(&node_out), 0, "{}", stderr(&node_out));
    assert_eq!(code_of(&native_out), 0);
    assert_eq!(stdout(&node_out), stdout(&native_out));
    assert!(try_lock(&dir).is_some(), "released when done");
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (1, 0));
}

#[test]
fn native_and_node_processes_share_one_refresh() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() - 10)).unwrap());
    let guest = transpiled_guest();
    assert!(guest.exists());
    // The first refresh is held while the others start and meet the same
    // expired token; Node processes are spawned first (they start slower).
    mock.state().refresh_mode = RefreshMode::StallFirst;
    let children: Vec<_> = (0..16)
        .map(|i| {
            if i >= 8 {
                spawn_piped(dir.cli().args(["--issuer", &mock.url, "token"]))
            } else {
                spawn_piped(node(&dir, &mock.url).arg("token"))
            }
        })
        .collect();
    mock.wait_for_stalled(1);
    assert!(try_lock(&dir).is_none(), "the refreshing process holds auth.lock");
    mock.release_stall(StallEnd::Proceed);
    let token = same_output_from_all(children);
    assert_eq!(token.trim(), stored(&dir)["tokens"]["access_token"]);
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (1, 0));
}

#[test]
fn moves_a_crash_left_half_done_are_settled_under_node_as_natively() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let login = serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap();
    // Two journal entries: `done` after the vault's store was written, `undone` before.
    for (name, vault_holds_it) in [("done", true), ("undone", false)] {
        let codex = dir.root.path().join(format!("codex-{name}"));
        std::fs::create_dir_all(&codex).unwrap();
        std::fs::write(codex.join("auth.json"), &login).unwrap();
        let moves = dir.home().join("moves");
        std::fs::create_dir_all(&moves).unwrap();
        let entry = serde_json::json!({ "source": codex, "kept_in": "file", "account": name });
        std::fs::write(moves.join(format!("{name}.json")), entry.to_string()).unwrap();
        if vault_holds_it {
            let account = dir.home().join("accounts").join(name);
            std::fs::create_dir_all(&account).unwrap();
            std::fs::write(account.join("auth.json"), &login).unwrap();
        }
    }
    let o = run(node(&dir, &mock.url).arg("accounts"));
    assert_eq!(code_of(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("finished moving the login of") && err.contains("into account `done`"), "{err}");
    assert!(err.contains("rolled back an interrupted move into account `undone`"), "{err}");
    assert!(!dir.root.path().join("codex-done/auth.json").exists(), "one holder: the vault");
    assert!(dir.root.path().join("codex-undone/auth.json").exists(), "one holder: the Codex home");
    assert!(!dir.home().join("moves/done.json").exists() && !dir.home().join("moves/undone.json").exists());
    assert_eq!(mock.state().refresh_requests, 0);
}

#[test]
fn a_codex_home_is_linked_or_moved_in_under_node_as_natively() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let login = serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap();
    let home = |name: &str| {
        let home = dir.root.path().join(name);
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join("auth.json"), &login).unwrap();
        std::fs::set_permissions(home.join("auth.json"), std::fs::Permissions::from_mode(0o644)).unwrap();
        home
    };
    let (moved, linked) = (home("codex-moved"), home("codex-linked"));

    // Moved: renamed into the vault (one file system), so one holder at every instant.
    let inode = std::fs::metadata(moved.join("auth.json")).unwrap().ino();
    let o = run(node(&dir, &mock.url).args(["import", "moved"]).arg(&moved).arg("--move"));
    assert_eq!(code_of(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Moved the login of") && stderr(&o).contains("into account `moved`"),
        "{}",
        stderr(&o)
    );
    assert!(!moved.join("auth.json").exists(), "one holder: the vault");
    let into = dir.home().join("accounts/moved/auth.json");
    assert_eq!(std::fs::metadata(&into).unwrap().ino(), inode, "the same file, renamed");
    assert_eq!(std::fs::read(&into).unwrap(), login);
    assert_eq!(std::fs::metadata(&into).unwrap().permissions().mode() & 0o777, 0o600);
    let journals = std::fs::read_dir(dir.home().join("moves")).map_or(0, |d| d.count());
    assert_eq!(journals, 0, "a rename needs no journal");

    // Linked: left where it is.
    let o = run(node(&dir, &mock.url).args(["import", "linked"]).arg(&linked));
    assert_eq!(code_of(&o), 0, "{}", stderr(&o));
    assert!(linked.join("auth.json").exists());

    // The native CLI sees both, as the Node host left them.
    let o = run(dir.cli().args(["accounts", "--json"]));
    assert_eq!(code_of(&o), 0, "{}", stderr(&o));
    let accounts: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let named =
        |name: &str| accounts.as_array().unwrap().iter().find(|a| a["name"] == name).cloned().unwrap();
    assert_eq!(named("moved")["linked"], Value::Null);
    assert_eq!(named("linked")["linked"], linked.to_str().unwrap());
    assert_eq!(
        (named("moved")["state"].as_str(), named("linked")["state"].as_str()),
        (Some("ok"), Some("ok"))
    );

    // A second move of the same name is refused, and nothing is lost.
    let o = run(node(&dir, &mock.url).args(["import", "moved"]).arg(&linked).arg("--move"));
    assert_eq!(code_of(&o), 1, "{}", stderr(&o));
    assert!(linked.join("auth.json").exists() && into.exists());
    assert_eq!(mock.state().refresh_requests, 0);
}
