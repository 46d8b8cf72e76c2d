//! The keyring and PostgreSQL stores against the real services: a Secret
//! Service (gnome-keyring on a private D-Bus session bus) and a PostgreSQL
//! server in a temp dir, each started by the project's script
//! (`scripts/secret-service.sh`, `scripts/postgres.sh`), which installs the
//! Debian package when it is missing.

use crate::mock_issuer::{MockIssuer, RefreshMode, StallEnd};
use crate::support::*;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const SERVICE: &str = "Codex Auth";

fn script(name: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(Path::new(ROOT).join("scripts").join(name));
    cmd
}

/// Spawns `cmd` with piped stdio and returns it with the value of the
/// first stdout line `KEY=value`.
fn start_service(mut cmd: Command, key: &str) -> (Child, BufReader<ChildStdout>, String) {
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    lines.read_line(&mut line).unwrap();
    let value =
        line.trim().strip_prefix(&format!("{key}=")).unwrap_or_else(|| panic!("the script said {line:?}"));
    (child, lines, value.to_owned())
}

// ---- the keyring -----------------------------------------------------------

/// The session bus of a Secret Service shared by this process's tests; it
/// ends when the process does (its script's stdin closes).
pub(crate) fn bus() -> &'static str {
    static BUS: OnceLock<(Mutex<Child>, String)> = OnceLock::new();
    &BUS.get_or_init(|| {
        let (child, _, address) = start_service(script("secret-service.sh"), "DBUS_SESSION_BUS_ADDRESS");
        (Mutex::new(child), address)
    })
    .1
}

/// The Codex CLI's keyring account name for a Codex home.
pub(crate) fn codex_key(home: &Path) -> String {
    let canonical = std::fs::canonicalize(home).unwrap();
    let hex: String =
        Sha256::digest(canonical.to_string_lossy().as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    format!("cli|{}", &hex[..16])
}

/// Another keyring client (libsecret's `secret-tool`), as the Codex CLI
/// would see the entry.
fn secret_tool(args: &[&str], input: Option<&str>) -> Output {
    let mut child = Command::new("secret-tool")
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", bus())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    if let Some(input) = input {
        stdin.write_all(input.as_bytes()).unwrap();
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

pub(crate) fn keyring_entry(home: &Path) -> Option<Value> {
    let o = secret_tool(&["lookup", "service", SERVICE, "username", &codex_key(home)], None);
    o.status.success().then(|| serde_json::from_slice(&o.stdout).expect("the entry is auth.json's JSON"))
}

/// Writes the entry as a Codex CLI in keyring mode does (the keyring
/// crate's attributes).
pub(crate) fn codex_writes_keyring(home: &Path, value: &Value) {
    std::fs::create_dir_all(home).unwrap();
    let key = codex_key(home);
    let o = secret_tool(
        &[
            "store",
            "--label",
            SERVICE,
            "service",
            SERVICE,
            "username",
            &key,
            "target",
            "default",
            "application",
            "rust-keyring",
        ],
        Some(&value.to_string()),
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

fn keyring_cli(dir: &Dir, mock: &MockIssuer) -> Command {
    let mut cmd = dir.cli();
    cmd.env("DBUS_SESSION_BUS_ADDRESS", bus()).args(["--issuer", &mock.url]);
    cmd
}

#[test]
fn a_keyring_account_shares_the_codex_clis_entry_and_its_lock() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let codex = mock.codex_file(now() - 10);
    codex_writes_keyring(&dir.home(), &codex);
    // A file left from before the keyring: a second holder, to be cleared.
    std::fs::write(dir.auth_file(), codex.to_string()).unwrap();

    let children =
        (0..6).map(|_| spawn_piped(keyring_cli(&dir, &mock).args(["--store", "keyring", "token"]))).collect();
    let token = same_output_from_all(children);
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (1, 0), "auth.lock serializes refresh");
    drop(state);
    // The Codex CLI finds the rotated tokens in its own entry.
    let entry = keyring_entry(&dir.home()).expect("the entry is there");
    assert_eq!(entry["tokens"]["access_token"], token.trim());
    assert_ne!(entry["tokens"]["refresh_token"], codex["tokens"]["refresh_token"]);
    assert!(!dir.auth_file().exists(), "no copy of the token is left in a file");
    assert!(dir.home().join("auth.lock").exists());

    let status = run(keyring_cli(&dir, &mock).args(["--store", "keyring", "status", "--json"]));
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    let status: Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(status["logged_in"], true);
    assert!(status["source"].to_string().contains(&codex_key(&dir.home())), "{status}");
}

#[test]
fn keyring_per_account_from_the_config_file() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    std::fs::create_dir_all(dir.home()).unwrap();
    std::fs::write(dir.home().join("codex-auth.toml"), "[accounts.work]\nstore = \"keyring\"\n").unwrap();
    let login = run(keyring_cli(&dir, &mock).args(["login", "--device", "--name", "work", "--json"]));
    assert_eq!(code(&login), 0, "{}", stderr(&login));
    let work = dir.home().join("accounts/work");
    assert!(keyring_entry(&work).is_some_and(|e| e["tokens"]["account_id"] == crate::mock_issuer::ACCOUNT));
    assert!(!work.join("auth.json").exists(), "the keyring account has no file");

    // The other account stays a file, in the same home.
    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap());
    let accounts = run(keyring_cli(&dir, &mock).args(["accounts", "--json"]));
    assert_eq!(code(&accounts), 0, "{}", stderr(&accounts));
    let accounts: Value = serde_json::from_str(&stdout(&accounts)).unwrap();
    let names: Vec<_> =
        accounts.as_array().unwrap().iter().map(|a| (a["name"].clone(), a["state"].clone())).collect();
    assert_eq!(names, vec![("default".into(), "ok".into()), ("work".into(), "ok".into())]);
    assert!(keyring_entry(&dir.home()).is_none(), "`default` was never put in the keyring");

    // A config file asking for something else is refused by name.
    std::fs::write(dir.home().join("codex-auth.toml"), "[accounts.work]\nstore = \"postgres://db/x\"\n")
        .unwrap();
    let o = run(keyring_cli(&dir, &mock).arg("accounts"));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("accounts.work.store"), "{}", stderr(&o));
}

#[test]
fn no_reachable_keyring_is_an_error_and_nothing_falls_back_to_a_file() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let gone = dir.root.path().join("no-bus");
    for args in [&["token"][..], &["login", "--device"]] {
        let o = run(dir
            .cli()
            .env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", gone.display()))
            .args(["--issuer", &mock.url, "--store", "keyring"])
            .args(args));
        assert_eq!(code(&o), 1, "{args:?}");
        assert!(stderr(&o).contains("no keyring is reachable"), "{args:?}: {}", stderr(&o));
        assert!(!dir.auth_file().exists(), "{args:?}: no silent fallback to a file");
    }
    assert_eq!(mock.state().exchanges, 0, "no sign-in starts without a store to keep it");
}

// ---- PostgreSQL ----------------------------------------------------------

/// A PostgreSQL server of one test, stopped and removed when dropped.
struct Postgres {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: BufReader<ChildStdout>,
    url: String,
}

impl Postgres {
    fn start() -> Self {
        let mut cmd = script("postgres.sh");
        cmd.arg(free_ports()[0].to_string());
        let (mut child, lines, url) = start_service(cmd, "DATABASE_URL");
        let stdin = child.stdin.take();
        Self { child, stdin, lines, url }
    }

    /// A server that takes TCP connections only over TLS, and its
    /// certificate.
    fn start_tls() -> (Self, PathBuf) {
        let mut cmd = script("postgres.sh");
        cmd.args([free_ports()[0].to_string().as_str(), "tls"]);
        let (mut child, mut lines, url) = start_service(cmd, "DATABASE_URL");
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        let cert =
            line.trim().strip_prefix("TLS_CERT=").unwrap_or_else(|| panic!("the script said {line:?}"));
        let stdin = child.stdin.take();
        (Self { child, stdin, lines, url }, PathBuf::from(cert))
    }

    fn password(&self) -> &str {
        let rest = self.url.strip_prefix("postgres://postgres:").unwrap();
        &rest[..rest.find('@').unwrap()]
    }

    /// One value from `sql`, by the server's own client (`psql`).
    fn query(&self, sql: &str) -> String {
        let o = run(Command::new("psql").arg(&self.url).args(["-At", "-c", sql]));
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    }

    fn command(&mut self, command: &str) {
        writeln!(self.stdin.as_mut().unwrap(), "{command}").unwrap();
        let mut line = String::new();
        self.lines.read_line(&mut line).unwrap();
        assert!(line.trim().ends_with("ed"), "{command}: {line:?}");
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn db_cli(dir: &Dir, mock: &MockIssuer, db: &Postgres) -> Command {
    let mut cmd = dir.cli();
    cmd.env("CODEX_AUTH_DATABASE_URL", &db.url).args(["--issuer", &mock.url]);
    cmd
}

fn assert_no_password(db: &Postgres, o: &Output) {
    for text in [stdout(o), stderr(o)] {
        assert!(!text.contains(db.password()), "the database password leaked: {text}");
    }
}

/// A Codex home holding a login of `mock` that expires at `exp`.
fn codex_home(mock: &MockIssuer, exp: i64) -> Dir {
    let codex = Dir::new();
    codex.write_store(&serde_json::to_vec(&mock.codex_file(exp)).unwrap());
    codex
}

#[test]
fn login_import_and_refresh_against_postgres() {
    let mock = MockIssuer::start(&[]);
    let db = Postgres::start();
    let dir = Dir::new();
    let login = run(db_cli(&dir, &mock, &db).args(["login", "--device", "--name", "work", "--json"]));
    assert_eq!(code(&login), 0, "{}", stderr(&login));
    assert_no_password(&db, &login);

    // Import moves the login in: a database cannot hold a directory in place.
    let codex = codex_home(&mock, now() - 10);
    let import = run(db_cli(&dir, &mock, &db).args(["import", "--name", "team"]).arg(codex.home()));
    assert_eq!(code(&import), 0, "{}", stderr(&import));
    assert!(!codex.auth_file().exists(), "one holder: the Codex home is logged out");

    // A second machine (another home) sees both accounts and refreshes the
    // expired one; the first then reads what it wrote.
    let other = Dir::new();
    let accounts = run(db_cli(&other, &mock, &db).args(["accounts", "--json"]));
    assert_eq!(code(&accounts), 0, "{}", stderr(&accounts));
    assert_no_password(&db, &accounts);
    let names: Vec<Value> = serde_json::from_str::<Value>(&stdout(&accounts))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, ["team", "work"]);
    let refreshed = run(db_cli(&other, &mock, &db).args(["--account", "team", "token"]));
    assert_eq!(code(&refreshed), 0, "{}", stderr(&refreshed));
    let again = run(db_cli(&dir, &mock, &db).args(["--account", "team", "token"]));
    assert_eq!(stdout(&again), stdout(&refreshed));
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (1, 0));
    drop(state);

    // Status names the row, never the password; a flag beats the variable.
    let status = run(db_cli(&dir, &mock, &db).args(["--account", "team", "status", "--json"]));
    assert!(stdout(&status).contains("codex_auth_accounts"), "{}", stdout(&status));
    assert_no_password(&db, &status);
    let files = run(db_cli(&dir, &mock, &db).args(["--store", "file", "accounts", "--json"]));
    assert_eq!(stdout(&files).trim(), "[]", "{}", stderr(&files));
    let show = run(db_cli(&dir, &mock, &db).args(["config", "show"]));
    assert!(stdout(&show).contains("postgres://postgres:***@127.0.0.1"), "{}", stdout(&show));
    assert_no_password(&db, &show);

    // Logout and remove work on rows too; a logged-out row is listed as such.
    let out = run(db_cli(&dir, &mock, &db).args(["--account", "team", "logout"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let listed: Value =
        serde_json::from_str(&stdout(&run(db_cli(&other, &mock, &db).args(["accounts", "--json"])))).unwrap();
    let team = listed.as_array().unwrap().iter().find(|a| a["name"] == "team").expect("still listed");
    assert_eq!(team["state"], "logged_out", "{listed}");
    let removed = run(db_cli(&dir, &mock, &db).args(["remove", "work"]));
    assert_eq!(code(&removed), 0, "{}", stderr(&removed));
    let left = run(db_cli(&other, &mock, &db).args(["accounts", "--json"]));
    assert_eq!(serde_json::from_str::<Value>(&stdout(&left)).unwrap().as_array().unwrap().len(), 1);
    assert_eq!(code(&run(db_cli(&dir, &mock, &db).args(["remove", "team"]))), 0);
    assert_eq!(stdout(&run(db_cli(&other, &mock, &db).args(["accounts", "--json"]))).trim(), "[]");
}

/// Machines (each a home of its own) running `token` at once.
fn storm(mock: &MockIssuer, db: &Postgres, homes: &[Dir]) -> Vec<Child> {
    homes
        .iter()
        .map(|home| spawn_piped(db_cli(home, mock, db).args(["--account", "team", "token"])))
        .collect()
}

fn seed_expired_team(mock: &MockIssuer, db: &Postgres) {
    seed_team(mock, db, now() - 10);
}

/// Moves a login of `mock` expiring at `exp` into `db` as the account
/// `team`; the home it was moved from.
fn seed_team(mock: &MockIssuer, db: &Postgres, exp: i64) -> Dir {
    let seed = Dir::new();
    let codex = codex_home(mock, exp);
    let o = run(db_cli(&seed, mock, db).args(["import", "--move", "--name", "team"]).arg(codex.home()));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    seed
}

#[test]
fn a_fleet_of_32_machines_refreshes_one_expired_token_once() {
    let mock = MockIssuer::start(&[]);
    let db = Postgres::start();
    seed_expired_team(&mock, &db);
    let homes: Vec<Dir> = (0..32).map(|_| Dir::new()).collect();
    same_output_from_all(storm(&mock, &db, &homes));
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (1, 0));
}

#[test]
fn the_database_stopped_mid_storm_loses_nothing() {
    let mock = MockIssuer::start(&[]);
    let mut db = Postgres::start();
    seed_expired_team(&mock, &db);
    // The first refresh is held at the issuer while the others wait for
    // the row's lock; then the server goes away under all of them.
    mock.state().refresh_mode = RefreshMode::StallFirst;
    let homes: Vec<Dir> = (0..32).map(|_| Dir::new()).collect();
    let children = storm(&mock, &db, &homes);
    mock.wait_for_stalled(1);
    db.command("stop");
    // The request in flight never took effect (its connection dropped).
    mock.release_stall(StallEnd::Abandon);
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    for o in &outputs {
        assert_eq!(code(o), 1, "nothing to serve: the token has expired");
        assert!(stderr(o).contains("the database postgres://postgres@127.0.0.1"), "{}", stderr(o));
        assert_no_password(&db, o);
    }

    // Back up: the row is as it was, and the fleet shares one refresh.
    db.command("start");
    same_output_from_all(storm(&mock, &db, &homes));
    let state = mock.state();
    assert_eq!(state.reuse_errors, 0, "no refresh token was presented twice");
    assert_eq!(state.refresh_requests, 2, "the abandoned one, then one for the fleet");
}

#[test]
fn rotated_tokens_survive_the_database_stopping_mid_refresh() {
    let mock = MockIssuer::start(&[]);
    let mut db = Postgres::start();
    seed_expired_team(&mock, &db);
    mock.state().refresh_mode = RefreshMode::StallFirst;
    let homes: Vec<Dir> = (0..32).map(|_| Dir::new()).collect();
    let mut children = storm(&mock, &db, &homes);
    mock.wait_for_stalled(1);
    db.command("stop");
    // The issuer rotates: the token sent is spent, and the refresher's
    // write finds no database.
    mock.release_stall(StallEnd::Proceed);
    // Every other machine fails at once (its connection dropped, or none
    // could be made); the refresher keeps the new tokens and waits.
    let mut failed = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while failed.len() < homes.len() - 1 {
        assert!(std::time::Instant::now() < deadline, "{} of the others ended", failed.len());
        let mut i = 0;
        while i < children.len() {
            if children[i].try_wait().unwrap().is_some() {
                failed.push(children.swap_remove(i).wait_with_output().unwrap());
            } else {
                i += 1;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for o in &failed {
        assert_eq!(code(o), 1, "{}", stdout(o));
        assert_no_password(&db, o);
    }
    db.command("start");
    let refresher = children.pop().unwrap().wait_with_output().unwrap();
    assert_eq!(code(&refresher), 0, "{}", stderr(&refresher));
    // Nothing was lost: the fleet uses what the refresher wrote back.
    let token = same_output_from_all(storm(&mock, &db, &homes));
    assert_eq!(token, stdout(&refresher));
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (1, 0));
}

/// Runs SQL on the test's database with the server's own client.
#[test]
fn the_database_connection_is_tls_and_verified() {
    let mock = MockIssuer::start(&[]);
    let (db, cert) = Postgres::start_tls();
    let dir = Dir::new();
    let (other, _) = crate::tls::certificate(dir.root.path(), "other");
    let accounts = |trusted: &Path, url: &str| {
        let o = run(db_cli(&dir, &mock, &db)
            .env("SSL_CERT_FILE", trusted)
            .env("CODEX_AUTH_DATABASE_URL", url)
            .args(["accounts", "--json"]));
        assert_no_password(&db, &o);
        o
    };

    // The server takes TCP connections only over TLS, so this answer came
    // over TLS, its certificate checked against SSL_CERT_FILE.
    let listed = accounts(&cert, &db.url);
    assert_eq!((code(&listed), stdout(&listed).trim()), (0, "[]"), "{}", stderr(&listed));

    // A certificate nobody vouches for stops the connection.
    let untrusted = accounts(&other, &db.url);
    assert_ne!(code(&untrusted), 0);
    assert!(stderr(&untrusted).contains("certificate"), "{}", stderr(&untrusted));

    // And the server does refuse plaintext: `sslmode=disable` gets nowhere.
    let plain = accounts(&cert, &format!("{}?sslmode=disable", db.url));
    assert_ne!(code(&plain), 0);
    assert!(stderr(&plain).contains("no encryption"), "{}", stderr(&plain));
}

fn psql(db: &Postgres, sql: &str) -> String {
    let psql = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .map(|e| e.unwrap().path().join("bin/psql"))
        .find(|p| p.exists())
        .expect("psql is installed with the server");
    let o = Command::new(psql).args(["-At", &db.url, "-c", sql]).output().unwrap();
    assert!(o.status.success(), "{sql}: {}", stderr(&o));
    stdout(&o)
}

#[test]
fn a_refused_refresh_disables_the_row_and_a_sign_in_enables_it() {
    let mock = MockIssuer::start(&[]);
    let db = Postgres::start();
    seed_expired_team(&mock, &db);
    mock.state().refresh_mode =
        RefreshMode::Fail(401, br#"{"error":{"code":"refresh_token_invalidated"}}"#.to_vec());
    let dir = Dir::new();
    let o = run(db_cli(&dir, &mock, &db).args(["--account", "team", "token"]));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("disabled"), "{}", stderr(&o));
    // Kept, marked, and every machine sees it disabled.
    let row = psql(&db, "SELECT convert_from(auth, 'UTF8') FROM codex_auth_accounts WHERE name = 'team'");
    let row: Value = serde_json::from_str(row.trim()).unwrap();
    assert!(row["tokens"]["refresh_token"].is_string(), "the credential is kept");
    let other = Dir::new();
    let listed = run(db_cli(&other, &mock, &db).args(["accounts", "--json"]));
    assert_eq!(serde_json::from_str::<Value>(&stdout(&listed)).unwrap()[0]["state"], "disabled");
    // A new sign-in of it enables it again.
    mock.state().refresh_mode = RefreshMode::Normal;
    let login = run(db_cli(&other, &mock, &db).args(["login", "--device", "--name", "team"]));
    assert_eq!(code(&login), 0, "{}", stderr(&login));
    let listed = run(db_cli(&dir, &mock, &db).args(["accounts", "--json"]));
    assert_eq!(serde_json::from_str::<Value>(&stdout(&listed)).unwrap()[0]["state"], "ok");
}

#[test]
fn the_schema_is_made_once_and_a_newer_one_is_refused() {
    let mock = MockIssuer::start(&[]);
    let db = Postgres::start();
    // Many first starts at once migrate once.
    let homes: Vec<Dir> = (0..8).map(|_| Dir::new()).collect();
    let children =
        homes.iter().map(|h| spawn_piped(db_cli(h, &mock, &db).args(["accounts", "--json"]))).collect();
    assert_eq!(same_output_from_all(children).trim(), "[]");
    assert_eq!(psql(&db, "SELECT count(*), max(version) FROM codex_auth_schema").trim(), "1|1");
    // A database a newer codex-auth migrated is not written by this one.
    psql(&db, "UPDATE codex_auth_schema SET version = 99");
    let o = run(db_cli(&Dir::new(), &mock, &db).args(["accounts"]));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("schema version 99"), "{}", stderr(&o));
}

/// The system clock moved forward by `ahead` milliseconds.
struct Ahead(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl codex_auth::Clock for Ahead {
    fn now_ms(&self) -> i64 {
        codex_auth::SystemClock.now_ms() + self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn sleep(&self, duration: std::time::Duration) {
        std::thread::sleep(duration);
    }
}

#[test]
fn a_valid_token_is_served_while_the_database_is_down() {
    use codex_auth::{Auth, Options};
    let mock = MockIssuer::start(&[]);
    let mut db = Postgres::start();
    let seed = seed_team(&mock, &db, now() + 3600);

    // A long-lived process (a server, an agent) with the token in hand.
    let ahead = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let mut options = Options::new(seed.home());
    options.issuer = Some(mock.url.clone());
    options.store = Some(db.url.clone());
    options.account = Some("team".into());
    options.clock = std::sync::Arc::new(Ahead(ahead.clone()));
    let auth = Auth::open(options).unwrap();
    let first = auth.access_token().unwrap();
    db.command("stop");
    // Now within 5 minutes of expiry, so due for a refresh, but the row
    // cannot be locked: the still-valid token is served and nothing is sent.
    ahead.store((3600 - 100) * 1000, std::sync::atomic::Ordering::SeqCst);
    let during = auth.access_token().unwrap();
    assert_eq!(during.expose(), first.expose());
    assert_eq!(mock.state().refresh_requests, 0);
    // Back up: the next call (after the pause) refreshes as usual.
    db.command("start");
    ahead.store((3600 - 30) * 1000, std::sync::atomic::Ordering::SeqCst);
    let after = auth.access_token().unwrap();
    assert_ne!(after.expose(), first.expose());
    assert_eq!(mock.state().refresh_requests, 1);
}

/// `codex-auth serve` on `cli`'s store; returns the server, its URL and key.
fn serve(cli: impl Fn() -> Command) -> (Child, String, String) {
    let (child, url, key, _) = serve_logged(cli);
    (child, url, key)
}

/// Many callers of one server ask for the token of an expired account.
fn tokens_from(url: &str, key: &str) -> Vec<String> {
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let answer = http().get(format!("{url}/v1/token")).bearer_auth(key).send().unwrap();
                    assert_eq!(answer.status().as_u16(), 200);
                    serde_json::from_str::<Value>(&answer.text().unwrap()).unwrap()["token"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    })
}

#[test]
fn serve_hands_out_tokens_from_the_keyring_and_from_postgres() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    codex_writes_keyring(&dir.home(), &mock.codex_file(now() - 10));
    let (mut keyring_server, url, key) = serve(|| {
        let mut cmd = keyring_cli(&dir, &mock);
        cmd.args(["--store", "keyring"]);
        cmd
    });
    let tokens = tokens_from(&url, &key);
    keyring_server.kill().unwrap();
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(keyring_entry(&dir.home()).unwrap()["tokens"]["access_token"], tokens[0]);

    let db = Postgres::start();
    seed_expired_team(&mock, &db);
    let machine = Dir::new();
    let (mut db_server, url, key) = serve(|| db_cli(&machine, &mock, &db));
    let tokens = tokens_from(&url, &key);
    db_server.kill().unwrap();
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (2, 0), "one refresh for each store");
}

#[test]
fn serve_keeps_serving_the_token_in_hand_while_the_database_is_down() {
    let mock = MockIssuer::start(&[]);
    let mut db = Postgres::start();
    seed_team(&mock, &db, now() + 3600);
    let machine = Dir::new();
    let (mut server, url, key) = serve(|| db_cli(&machine, &mock, &db));
    let get = |path: &str| {
        let answer = http().get(format!("{url}{path}")).bearer_auth(&key).send().unwrap();
        (answer.status().as_u16(), serde_json::from_str::<Value>(&answer.text().unwrap()).unwrap())
    };
    let (status, first) = get("/v1/token");
    assert_eq!(status, 200, "{first}");
    assert_eq!(get("/healthz").1["status"], "ok");

    db.command("stop");
    // The pool cannot be read: the account in hand still serves its token.
    for path in ["/v1/token", "/v1/token?session=conv-1"] {
        let (status, during) = get(path);
        assert_eq!(status, 200, "{during}");
        assert_eq!(during["token"], first["token"]);
    }
    let (status, headers) = get("/v1/headers");
    assert_eq!(status, 200, "{headers}");
    let (status, health) = get("/healthz");
    assert_eq!((status, health["status"].as_str()), (200, Some("degraded")), "{health}");
    let reason = health["reason"].as_str().unwrap();
    assert!(reason.contains("the database postgres://postgres@127.0.0.1"), "{reason}");
    assert!(!reason.contains(db.password()), "{reason}");
    // What needs the store says so.
    assert_eq!(get("/v1/accounts").0, 500);

    db.command("start");
    // Found again once the next connection attempt is due (within 2 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while get("/healthz").1["status"] != "ok" {
        assert!(std::time::Instant::now() < deadline, "the database was not found again");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (status, after) = get("/v1/token");
    assert_eq!((status, &after["token"]), (200, &first["token"]));
    assert_eq!(get("/v1/accounts").0, 200);
    server.kill().unwrap();
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (0, 0), "nothing was refreshed or sent twice");
}

/// `codex-auth serve` on `cli`'s store, with its log lines as they come.
fn serve_logged(cli: impl Fn() -> Command) -> (Child, String, String, std::sync::mpsc::Receiver<Value>) {
    let key = stdout(&run(cli().args(["serve", "--print-key"]))).trim().to_owned();
    let mut child =
        cli().args(["serve", "--port", "0"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let start: Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}: {first:?}"));
    let (tx, lines) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Ok(line) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(line);
            }
        }
    });
    (child, format!("http://{}", start["listening"].as_str().unwrap()), key, lines)
}

/// Waits (a minute at most) for a log line that `matches`.
fn wait_for_line(lines: &std::sync::mpsc::Receiver<Value>, matches: impl Fn(&Value) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if matches(&line) => return,
            Ok(_) => {}
            Err(e) => panic!("no such log line: {e}"),
        }
    }
}

#[test]
fn a_fleet_of_gateways_with_cached_routes_sends_one_429_for_a_limit() {
    use crate::mock_backend::{Answer, MockBackend};
    let mock = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let db = Postgres::start();
    let seed = Dir::new();
    for id in ["acct-a", "acct-b"] {
        let codex = Dir::new();
        codex.write_store(&serde_json::to_vec(&account_file(id, now() + 3600, &format!("rt-{id}"))).unwrap());
        let o = run(db_cli(&seed, &mock, &db).args(["import", "--move", "--name", id]).arg(codex.home()));
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let machines = [Dir::new(), Dir::new()];
    let gateway = |machine: &Dir| {
        serve_logged(|| {
            let mut cmd = db_cli(machine, &mock, &db);
            cmd.env("CODEX_AUTH_CHATGPT_BASE_URL", &backend.base);
            cmd
        })
    };
    let (mut first, first_url, first_key, first_log) = gateway(&machines[0]);
    let (mut second, second_url, second_key, second_log) = gateway(&machines[1]);
    for log in [&first_log, &second_log] {
        wait_for_line(log, |l| l.get("pool_changed").is_some_and(Value::is_null));
    }
    let send = |url: &str, key: &str| {
        let body =
            serde_json::json!({"model": "gpt-5.1-codex", "input": "hi", "store": false, "stream": true})
                .to_string();
        let answer = http()
            .post(format!("{url}/backend-api/codex/responses"))
            .bearer_auth(key)
            .header("session_id", "conv-1")
            .body(body)
            .send()
            .unwrap();
        answer.status().as_u16()
    };
    // Both gateways route the conversation to acct-a, and keep that route.
    assert_eq!(send(&first_url, &first_key), 200);
    assert_eq!(send(&second_url, &second_key), 200);
    // acct-a meets its limit through the first; the second hears of it.
    backend.state().answers.insert("acct-a".into(), Answer::Limit { resets_in: 600 });
    assert_eq!(send(&first_url, &first_key), 200, "moved on to acct-b");
    wait_for_line(&second_log, |l| l["pool_changed"] == "acct-a");
    assert_eq!(send(&second_url, &second_key), 200);
    let requests = |id: &str| backend.state().responses_requests.get(id).copied().unwrap_or(0);
    assert_eq!((requests("acct-a"), requests("acct-b")), (3, 2), "one 429 for the pair");
    // Stopped, each adds what it served to the pool state in the database:
    // the fleet's one total per account and day, whichever gateway served.
    for server in [&mut first, &mut second] {
        assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
        assert!(server.wait().unwrap().success());
    }
    let mut usage = db_cli(&seed, &mock, &db);
    usage.env("CODEX_AUTH_CHATGPT_BASE_URL", &backend.base).args(["usage", "--json"]);
    let reports: Value = serde_json::from_str(&stdout(&run(&mut usage))).unwrap();
    let served = |id: &str| {
        let report = reports.as_array().unwrap().iter().find(|r| r["account"] == id).unwrap();
        (report["served"][0]["requests"].as_u64(), report["served"][0]["input_tokens"].as_u64())
    };
    assert_eq!(served("acct-a"), (Some(2), Some(24)), "one request through each gateway: {reports:#}");
    assert_eq!(served("acct-b"), (Some(2), Some(24)));
}

/// `serve` is killed (-9) while its refresh is held at the issuer; the
/// issuer then drops the request (it never took effect). Nothing is lost:
/// the store still holds the login it had, no lock or temp file is left,
/// and the next process refreshes it once, with no token presented twice.
fn serve_killed_mid_refresh(mock: &MockIssuer, cli: impl Fn() -> Command, stored: impl Fn() -> Value) {
    let before = stored();
    mock.state().refresh_mode = RefreshMode::StallFirst;
    let (mut server, url, key) = serve(&cli);
    let asking = {
        let (url, key) = (url.clone(), key.clone());
        std::thread::spawn(move || http().get(format!("{url}/v1/token")).bearer_auth(key).send().is_err())
    };
    mock.wait_for_stalled(1);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(asking.join().unwrap(), "the caller saw the server go");
    mock.release_stall(StallEnd::Abandon);
    assert_eq!(stored(), before, "the store holds what it held");

    let o = run(cli().args(["token"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let after = stored();
    assert_ne!(after["tokens"]["refresh_token"], before["tokens"]["refresh_token"], "refreshed");
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (2, 0), "the dropped one, then one");
}

#[test]
fn serve_killed_during_a_refresh_loses_nothing_in_files() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() - 10)).unwrap());
    let cli = || {
        let mut cmd = dir.cli();
        cmd.env("CODEX_AUTH_ISSUER", &mock.url);
        cmd
    };
    let stored = || serde_json::from_slice::<Value>(&std::fs::read(dir.auth_file()).unwrap()).unwrap();
    serve_killed_mid_refresh(&mock, cli, stored);
    let names: Vec<String> = std::fs::read_dir(dir.home())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.') || n == ".codex-auth"), "no temp file left: {names:?}");
}

#[test]
fn serve_killed_during_a_refresh_loses_nothing_in_postgres() {
    let mock = MockIssuer::start(&[]);
    let db = Postgres::start();
    seed_expired_team(&mock, &db);
    let machine = Dir::new();
    let cli = || db_cli(&machine, &mock, &db);
    let stored = || {
        let row = db.query("SELECT convert_from(auth, 'UTF8') FROM codex_auth_accounts WHERE name = 'team'");
        serde_json::from_str::<Value>(row.trim()).unwrap()
    };
    serve_killed_mid_refresh(&mock, cli, stored);
}

#[test]
fn a_fleet_of_gateways_with_cached_routes_refreshes_an_expired_token_once() {
    let mock = MockIssuer::start(&[]);
    let db = Postgres::start();
    seed_expired_team(&mock, &db);
    let machines = [Dir::new(), Dir::new()];
    let (mut first, first_url, first_key) = serve(|| db_cli(&machines[0], &mock, &db));
    let (mut second, second_url, second_key) = serve(|| db_cli(&machines[1], &mock, &db));
    // Both gateways at once, many callers each: one refresh for the fleet.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| tokens_from(&first_url, &first_key));
        let b = s.spawn(|| tokens_from(&second_url, &second_key));
        (a.join().unwrap(), b.join().unwrap())
    });
    first.kill().unwrap();
    second.kill().unwrap();
    assert!(a.iter().chain(&b).all(|t| *t == a[0]), "one token for all");
    let state = mock.state();
    assert_eq!((state.refresh_requests, state.reuse_errors), (1, 0));
}
