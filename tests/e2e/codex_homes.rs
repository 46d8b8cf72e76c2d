//! Codex homes as they are (issue #20): their own `config.toml` is the
//! Codex CLI's (read for sign-in keys only, never written), and their
//! `cli_auth_credentials_store` says where their login lives, against a
//! real Secret Service holding the Codex CLI's entry.

use crate::mock_issuer::MockIssuer;
use crate::stores::{bus, codex_writes_keyring, keyring_entry};
use crate::support::*;
use serde_json::Value;
use std::fs;
use std::path::PathBuf;

/// A Codex CLI's `config.toml` as people have them, with `extra` lines.
fn realistic_config(extra: &str) -> String {
    format!(
        "model = \"gpt-5-codex\"\nmodel_reasoning_effort = \"high\"\napproval_policy = \"on-request\"\n\
         sandbox_mode = \"workspace-write\"\n{extra}\n\
         [model_providers.azure]\nname = \"Azure\"\nbase_url = \"https://x.openai.azure.com/openai\"\nenv_key = \"AZURE_OPENAI_API_KEY\"\n\n\
         [mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"-y\", \"docs-mcp\"]\n\n\
         [projects.\"/home/ada/src\"]\ntrust_level = \"trusted\"\n"
    )
}

fn codex_home(dir: &Dir, config: &str) -> PathBuf {
    let home = dir.root.path().join("codex-home");
    fs::create_dir_all(&home).unwrap();
    fs::write(home.join("config.toml"), config).unwrap();
    home
}

fn status_json(o: &std::process::Output) -> Value {
    assert_eq!(code(o), 0, "{}", stderr(o));
    serde_json::from_str(&stdout(o)).unwrap()
}

/// `login --with-api-key` with a key on standard input.
fn login_with_key(mut cmd: std::process::Command) -> std::process::Output {
    cmd.args(["login", "--with-api-key"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"sk-proj-codex-home-0000\n").unwrap();
    child.wait_with_output().unwrap()
}

fn setting<'a>(settings: &'a Value, name: &str) -> Option<&'a Value> {
    settings.as_array().unwrap().iter().find(|s| s["name"] == name)
}

#[test]
fn a_codex_homes_own_config_toml_is_read_for_sign_in_only_and_never_claimed() {
    let dir = Dir::new();
    let config = realistic_config("cli_auth_credentials_store = \"file\"\nforced_login_method = \"chatgpt\"");
    let home = codex_home(&dir, &config);
    let login = codex_chatgpt_file(now() + 3600, "rt-home");
    fs::write(home.join("auth.json"), login.to_string()).unwrap();
    // `--home ~/.codex`, as the README offers it.
    let cli = || dir.cli_at(&home);
    let status = status_json(&run(cli().args(["status", "--json"])));
    assert_eq!(status["logged_in"], true);
    assert_eq!(stdout(&run(cli().arg("token"))).trim(), login["tokens"]["access_token"]);
    let o = run(cli().args(["config", "path"]));
    assert_eq!(stdout(&o).trim(), home.join("codex-auth.toml").display().to_string());
    let shown = run(cli().args(["config", "show"]));
    assert!(
        stderr(&shown).contains(&format!("{}", home.join("codex-auth.toml").display())),
        "{}",
        stderr(&shown)
    );
    let settings = status_json(&run(cli().args(["config", "show", "--json"])));
    let store = setting(&settings, "codex.cli_auth_credentials_store").expect("shown");
    assert_eq!((&store["value"], &store["origin"]), (&Value::from("file"), &Value::from("codex")));
    assert_eq!(setting(&settings, "codex.forced_login_method").unwrap()["value"], "chatgpt");
    assert_eq!(
        setting(&settings, "codex.config").unwrap()["value"],
        home.join("config.toml").display().to_string()
    );
    assert!(setting(&settings, "codex.model").is_none(), "the Codex CLI's other keys are its own");
    // The home's rule holds: no API key in a ChatGPT-only home.
    let o = login_with_key(cli());
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("forced_login_method = \"chatgpt\""), "{}", stderr(&o));
    // Linked into another vault, the same file is read for that account.
    let o = run(dir.cli().arg("import").arg(&home));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let settings = status_json(&run(dir.cli().args(["config", "show", "--json"])));
    assert_eq!(
        setting(&settings, "accounts.codex.codex.cli_auth_credentials_store").unwrap()["value"],
        "file"
    );
    assert_eq!(fs::read_to_string(home.join("config.toml")).unwrap(), config, "never written");
    assert_eq!(serde_json::from_slice::<Value>(&fs::read(home.join("auth.json")).unwrap()).unwrap(), login);
    // A value the Codex CLI refuses is named, with the file.
    fs::write(home.join("config.toml"), realistic_config("cli_auth_credentials_store = \"vault\"")).unwrap();
    let o = login_with_key(cli());
    assert!(stderr(&o).contains("`cli_auth_credentials_store` is `vault`"), "{}", stderr(&o));
    let settings = status_json(&run(cli().args(["config", "show", "--json"])));
    assert!(setting(&settings, "codex.config").unwrap()["value"].to_string().contains("is `vault`"));
}

/// The CLI with `--home home` on the private Secret Service, against `mock`.
fn keyring_cli(dir: &Dir, home: &std::path::Path, mock: &MockIssuer) -> std::process::Command {
    let mut cmd = dir.cli_at(home);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", bus()).env("CODEX_AUTH_ISSUER", &mock.url);
    cmd
}

fn keyring_home(dir: &Dir, mode: &str) -> PathBuf {
    codex_home(dir, &realistic_config(&format!("cli_auth_credentials_store = \"{mode}\"")))
}

fn refresh_token(login: &Value) -> &str {
    login["tokens"]["refresh_token"].as_str().unwrap()
}

#[test]
fn a_keyring_mode_codex_home_is_followed_without_store_flags() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let home = keyring_home(&dir, "keyring");
    let login = mock.codex_file(now() - 10);
    codex_writes_keyring(&home, &login);

    // import finds the login in the home's keyring entry: no --store needed.
    let vault = dir.home();
    let o = run(keyring_cli(&dir, &vault, &mock).arg("import").arg(&home));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let token = stdout(&run(keyring_cli(&dir, &vault, &mock).arg("token"))).trim().to_owned();
    let entry = keyring_entry(&home).expect("still in the keyring");
    assert_eq!(entry["tokens"]["access_token"], token.as_str(), "the rotated login went back to the entry");
    assert_ne!(refresh_token(&entry), refresh_token(&login));
    assert!(!home.join("auth.json").exists(), "never a file in keyring mode");
    assert_eq!(mock.state().refresh_requests, 1);

    // `--home` on that Codex home reads the same entry.
    let status = status_json(&run(keyring_cli(&dir, &home, &mock).args(["status", "--json"])));
    assert_eq!(status["logged_in"], true);
    assert!(status["source"].to_string().contains("keyring entry"), "{status}");
    assert!(!home.join("auth.json").exists());
}

#[test]
fn an_auto_mode_codex_home_uses_the_keyring_when_it_answers_else_the_file() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let home = keyring_home(&dir, "auto");
    let in_keyring = mock.codex_file(now() + 3600);
    codex_writes_keyring(&home, &in_keyring);
    let in_file = mock.codex_file(now() + 3600);
    fs::write(home.join("auth.json"), in_file.to_string()).unwrap();
    let token = |cmd: &mut std::process::Command| {
        let o = run(cmd.arg("token"));
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        stdout(&o).trim().to_owned()
    };
    assert_eq!(
        token(&mut keyring_cli(&dir, &home, &mock)),
        in_keyring["tokens"]["access_token"].as_str().unwrap()
    );
    // No keyring reachable: the Codex CLI falls back to auth.json, and so does codex-auth.
    let mut no_keyring = dir.cli_at(&home);
    no_keyring.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    assert_eq!(token(&mut no_keyring), in_file["tokens"]["access_token"].as_str().unwrap());
}

#[test]
fn an_ephemeral_codex_home_holds_nothing_and_takes_nothing() {
    let dir = Dir::new();
    let home = keyring_home(&dir, "ephemeral");
    let o = run(dir.cli_at(&home).args(["status", "--json"]));
    assert_eq!(code(&o), 1, "not logged in: {}", stderr(&o));
    let o = login_with_key(dir.cli_at(&home));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("ephemeral"), "{}", stderr(&o));
    assert!(!home.join("auth.json").exists());
}

/// A login as newer Codex CLIs write it: fields codex-auth does not know.
fn with_newer_fields(mut login: Value) -> Value {
    login["agent_identity"] = jwt(&serde_json::json!({"sub": "agent-1", "exp": now() + 86_400})).into();
    login["personal_access_token"] = "pat-0123456789".into();
    login["tokens"]["some_future_token_field"] = serde_json::json!({"kept": [1, 2]});
    login["a_future_field"] = serde_json::json!({"nested": true});
    login
}

fn assert_newer_fields_kept(path: &std::path::Path, original: &Value) {
    let now_stored: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    for key in ["agent_identity", "personal_access_token", "a_future_field"] {
        assert_eq!(now_stored[key], original[key], "{key} in {}", path.display());
    }
    assert_eq!(
        now_stored["tokens"]["some_future_token_field"],
        original["tokens"]["some_future_token_field"]
    );
}

#[test]
fn newer_codex_fields_survive_link_refresh_and_move() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let home = codex_home(&dir, &realistic_config(""));
    let login = with_newer_fields(mock.codex_file(now() - 10));
    fs::write(home.join("auth.json"), login.to_string()).unwrap();
    let cli = || {
        let mut cmd = dir.cli();
        cmd.env("CODEX_AUTH_ISSUER", &mock.url);
        cmd
    };
    // Linked, then refreshed in place (the token has expired).
    assert_eq!(code(&run(cli().arg("import").arg(&home))), 0);
    let o = run(cli().arg("token"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(mock.state().refresh_requests, 1);
    assert_newer_fields_kept(&home.join("auth.json"), &login);
    // Moved into the vault.
    assert_eq!(code(&run(cli().args(["remove", "codex"]))), 0);
    let o = run(cli().args(["import", "--move", "--name", "moved"]).arg(&home));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let moved = dir.home().join("accounts/moved/auth.json");
    assert_newer_fields_kept(&moved, &login);
    // And refreshed there again.
    let o = run(cli().args(["--account", "moved", "refresh", "--force"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_newer_fields_kept(&moved, &login);
}

#[test]
fn import_move_takes_a_keyring_mode_homes_login_from_its_entry() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let home = keyring_home(&dir, "keyring");
    let login = with_newer_fields(mock.codex_file(now() + 3600));
    codex_writes_keyring(&home, &login);
    let vault = dir.home();
    let o = run(keyring_cli(&dir, &vault, &mock).args(["import", "--move", "--name", "moved"]).arg(&home));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(keyring_entry(&home).is_none(), "one holder: the entry is gone");
    let moved = vault.join("accounts/moved/auth.json");
    assert_eq!(
        refresh_token(&serde_json::from_slice(&fs::read(&moved).unwrap()).unwrap()),
        refresh_token(&login)
    );
    assert_newer_fields_kept(&moved, &login);
    assert!(!vault.join("moves/moved.json").exists(), "the journal is gone once the move is done");
}
