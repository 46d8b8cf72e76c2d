//! The CLI over the store: status, token, headers, logout, import, and
//! what happens to bad files.

use crate::support::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt as _;

#[test]
fn status_when_nothing_is_there_exits_1() {
    let dir = Dir::new();
    let o = run(dir.cli().arg("status"));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("Not logged in"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");

    let o = run(dir.cli().args(["status", "--json"]));
    assert_eq!(code(&o), 1);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["logged_in"], json!(false));
    assert_eq!(v["kind"], json!("none"));
    assert_eq!(v["source"], json!({"type": "none"}));

    let o = run(dir.cli().arg("token"));
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("not logged in"));
    assert!(!dir.home().exists(), "reading must not create the store");
}

#[test]
fn environment_key_is_used_and_never_written() {
    let dir = Dir::new();
    let key = "sk-proj-environment-0000ABCD";
    let o = run(dir.cli().env("OPENAI_API_KEY", key).args(["status", "--json"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["kind"], json!("api_key"));
    assert_eq!(v["source"], json!({"type": "environment", "at": "OPENAI_API_KEY"}));
    assert_eq!(v["api_key_hint"], json!("ABCD"));
    assert!(!stdout(&o).contains(key), "status shows no key");

    let o = run(dir.cli().env("OPENAI_API_KEY", key).arg("token"));
    assert_eq!((code(&o), stdout(&o)), (0, format!("{key}\n")));
    let o = run(dir.cli().env("OPENAI_API_KEY", key).arg("headers"));
    assert_eq!(stdout(&o), format!("Authorization: Bearer {key}\n"));
    let o = run(dir.cli().env("OPENAI_API_KEY", key).arg("logout"));
    assert_eq!(code(&o), 0);
    assert!(!dir.home().exists(), "the environment key is never written to disk");
}

#[test]
fn import_links_a_codex_home_in_place_and_uses_it() {
    let dir = Dir::new();
    let exp = now() + 3600;
    let source = dir.root.path().join("codex-home/auth.json");
    std::fs::create_dir_all(source.parent().unwrap()).unwrap();
    let original = serde_json::to_vec_pretty(&codex_chatgpt_file(exp, "rt-import")).unwrap();
    std::fs::write(&source, &original).unwrap();

    let o = run(dir.cli().env("CODEX_HOME", source.parent().unwrap()).arg("import"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("as account `codex` (ChatGPT: plus, ada@example.com, account acct-e2e"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&source).unwrap(), original, "nothing is copied or rewritten");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.home()), 0o700);
    assert!(!dir.auth_file().exists(), "no second holder in the vault");

    let o = run(dir.cli().args(["status", "--json"]));
    assert_eq!(code(&o), 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["account"], json!("codex"));
    assert_eq!(v["kind"], json!("subscription"));
    assert_eq!(v["account_id"], json!("acct-e2e"));
    assert_eq!(v["plan"], json!("plus"));
    assert_eq!(v["email"], json!("ada@example.com"));
    assert_eq!(v["user_id"], json!("user-e2e"));
    assert_eq!(v["expires_at"], json!(exp));
    let real = std::fs::canonicalize(&source).unwrap();
    assert_eq!(v["source"], json!({"type": "store", "at": real}), "named where the file really is");
    assert!(!stdout(&o).contains("rt-import") && !stdout(&o).contains(&access_token(exp, "rt-import")));

    let o = run(dir.cli().arg("status"));
    assert!(stderr(&o).starts_with("Logged in using ChatGPT"), "{}", stderr(&o));

    let o = run(dir.cli().arg("token"));
    assert_eq!(stdout(&o), format!("{}\n", access_token(exp, "rt-import")));
    let o = run(dir.cli().args(["headers", "--json"]));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v,
        json!({"Authorization": format!("Bearer {}", access_token(exp, "rt-import")), "chatgpt-account-id": "acct-e2e"})
    );

    // A second import of the same home is refused: one account per home.
    let o = run(dir.cli().args(["import", "--name", "again"]).arg(source.parent().unwrap()));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("already the account `codex`"), "{}", stderr(&o));
}

#[test]
fn import_move_takes_the_login_over_and_logs_the_source_out() {
    let dir = Dir::new();
    let codex_home = dir.root.path().join("codex-home");
    std::fs::create_dir_all(&codex_home).unwrap();
    let original = br#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-proj-stored-key-WXYZ","future_field":1}"#;
    std::fs::write(codex_home.join("auth.json"), original).unwrap();
    let o = run(dir
        .cli()
        .args(["import", "--move", "--name", "moved", "--json"])
        .arg(codex_home.join("auth.json")));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("logged out now (nothing was revoked)"), "{}", stderr(&o));
    let status: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((status["kind"].clone(), status["api_key_hint"].clone()), (json!("api_key"), json!("WXYZ")));
    assert!(!codex_home.join("auth.json").exists(), "the source is logged out");
    let moved = dir.home().join("accounts/moved/auth.json");
    assert_eq!(std::fs::read(&moved).unwrap(), original, "moved as it was, every field kept");
    assert_eq!(std::fs::metadata(&moved).unwrap().permissions().mode() & 0o777, 0o600);
    let o = run(dir.cli().arg("status"));
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).contains("Logged in using an API key - ***WXYZ"), "{}", stderr(&o));
}

#[test]
fn rewriting_the_store_keeps_unknown_fields() {
    let dir = Dir::new();
    let mut existing = codex_chatgpt_file(now() + 60, "rt-old");
    existing["future_codex_field"] = json!({"keep": [1, "two"]});
    existing["tokens"]["future_token_field"] = json!("kept");
    dir.write_store(&serde_json::to_vec(&existing).unwrap());

    let options = codex_auth::Options::new(dir.home());
    let auth = codex_auth::Auth::open(options).unwrap();
    let new = codex_chatgpt_file(now() + 7200, "rt-new");
    let token = |name: &str| new["tokens"][name].as_str().unwrap().to_owned();
    let credential = codex_auth::Credential::ChatGpt {
        id_token: token("id_token"),
        access_token: token("access_token"),
        refresh_token: token("refresh_token"),
        account_id: None,
    };
    assert_eq!(auth.set_credential(credential).unwrap().account.as_deref(), Some("default"));

    let stored: Value = serde_json::from_slice(&std::fs::read(dir.auth_file()).unwrap()).unwrap();
    assert_eq!(stored["future_codex_field"], json!({"keep": [1, "two"]}));
    assert_eq!(stored["tokens"]["future_token_field"], json!("kept"));
    assert_eq!(stored["tokens"]["refresh_token"], json!("rt-new"));
    assert_eq!(stored["auth_mode"], json!("chatgpt"));
}

#[test]
fn precedence_stored_beats_environment() {
    let key = "sk-from-environment-1111";
    let dir = Dir::new();
    dir.write_store(br#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-stored-2222"}"#);
    let o = run(dir.cli().env("OPENAI_API_KEY", key).arg("token"));
    assert_eq!(stdout(&o), "sk-stored-2222\n");

    let dir = Dir::new();
    let exp = now() + 3600;
    dir.write_store(&serde_json::to_vec(&codex_chatgpt_file(exp, "rt")).unwrap());
    let o = run(dir.cli().env("OPENAI_API_KEY", key).arg("token"));
    assert_eq!(stdout(&o), format!("{}\n", access_token(exp, "rt")));
    let stored = std::fs::read_to_string(dir.auth_file()).unwrap();
    assert!(!stored.contains(key));
}

#[test]
fn corrupt_store_files_are_reported_and_left_byte_identical() {
    let cases: [(&str, &[u8], &str); 6] = [
        ("empty", b"", "empty"),
        ("truncated", br#"{"tokens": {"id_token": "eyJhbGciOi"#, "not valid JSON"),
        (
            "wrong type",
            br#"{"tokens": {"id_token": 42, "access_token": "a", "refresh_token": "r"}}"#,
            "`tokens.id_token` must be a string",
        ),
        ("array", b"[]", "must hold a JSON object"),
        ("garbage", b"\x00\xff\xfe\x9c binary \x01", "not UTF-8"),
        ("bad mode", br#"{"auth_mode":"apikey"}"#, "OPENAI_API_KEY"),
    ];
    for (name, bytes, reason) in cases {
        let dir = Dir::new();
        dir.write_store(bytes);
        for args in [&["status"][..], &["status", "--json"], &["token"], &["headers"]] {
            let o = run(dir.cli().env("OPENAI_API_KEY", "sk-env").args(args));
            assert_eq!(code(&o), 1, "{name} {args:?}");
            let err = stderr(&o);
            assert!(err.contains(&dir.auth_file().display().to_string()), "{name}: {err}");
            assert!(err.contains(reason), "{name}: {err} lacks {reason}");
            assert!(!err.contains("eyJhbGciOi"), "{name}: the error quotes the file");
        }
        let source = dir.root.path().join("import.json");
        std::fs::write(&source, br#"{"OPENAI_API_KEY":"sk-new"}"#).unwrap();
        let o = run(dir.cli().arg("import").arg(&source));
        assert_eq!(code(&o), 1, "{name}: import over a corrupt store");
        assert_eq!(std::fs::read(dir.auth_file()).unwrap(), bytes, "{name}: file changed");
    }
}

#[test]
fn a_directory_in_place_of_the_store_file() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.auth_file()).unwrap();
    let o = run(dir.cli().arg("status"));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("auth.json") && stderr(&o).contains("directory"), "{}", stderr(&o));
    assert!(dir.auth_file().is_dir());
}

#[test]
fn a_corrupt_import_source_is_named_and_nothing_is_added() {
    let dir = Dir::new();
    let home = dir.root.path().join("broken-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("auth.json"), b"{nope").unwrap();
    for extra in [&[][..], &["--move"][..]] {
        let o = run(dir.cli().arg("import").args(extra).arg(&home));
        assert_eq!(code(&o), 1);
        assert!(
            stderr(&o).contains("broken-home/auth.json") && stderr(&o).contains("not valid JSON"),
            "{}",
            stderr(&o)
        );
        assert_eq!(std::fs::read(home.join("auth.json")).unwrap(), b"{nope", "left untouched");
        let o = run(dir.cli().args(["accounts", "--json"]));
        assert_eq!(stdout(&o).trim(), "[]", "{extra:?}: nothing linked or moved");
    }
    let o = run(dir.cli().arg("import").arg(dir.root.path().join("missing.json")));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("missing.json"), "{}", stderr(&o));
    let o = run(dir.cli().arg("import").arg(dir.root.path().join("missing-home")));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("missing-home"), "{}", stderr(&o));
}

#[test]
fn logout_removes_the_credential() {
    let dir = Dir::new();
    dir.write_store(br#"{"OPENAI_API_KEY":"sk-stored-2222"}"#);
    let o = run(dir.cli().arg("logout"));
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).contains("Logged out"));
    assert!(!dir.auth_file().exists());
    assert_eq!(code(&run(dir.cli().arg("status"))), 1);
    let o = run(dir.cli().arg("logout"));
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).contains("Not logged in"));
}

#[test]
fn every_command_has_help_with_an_example() {
    let dir = Dir::new();
    let o = run(dir.cli().arg("--help"));
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("Exit codes"));
    for command in ["login", "refresh", "status", "token", "headers", "logout", "import"] {
        let o = run(dir.cli().args([command, "--help"]));
        assert_eq!(code(&o), 0, "{command}");
        assert!(stdout(&o).contains("Example"), "{command} --help has no example");
    }
    let o = run(dir.cli().arg("no-such-command"));
    assert_eq!(code(&o), 2);
}

#[test]
fn every_start_loads_the_component_compiled_at_build_time() {
    let dir = Dir::new();
    // No cache directory is involved: not even a writable HOME is needed.
    let o = run(dir.cli().env("HOME", "/nonexistent").args(["--verbose", "status"]));
    assert_eq!(code(&o), 1, "not logged in");
    assert!(stderr(&o).contains("component compiled at build time, loaded in"), "{}", stderr(&o));
    assert!(!dir.root.path().join("user-home").exists(), "nothing written beside the home");
}
