//! Credential sources beyond the store: command accounts, override tiers,
//! and the config file, through the real binary and the library.

use crate::support::*;
use codex_auth::{Auth, Options, Secret, Tier};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A script printing `tok-<n>` where n counts its runs (kept in `counter`).
fn counting_script(dir: &Dir) -> (PathBuf, PathBuf) {
    let counter = dir.root.path().join("runs");
    let script = dir.root.path().join("print-token.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> '{0}'\necho \"tok-$(wc -l < '{0}' | tr -d ' ')\"\n",
            counter.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, counter)
}

fn runs(counter: &Path) -> usize {
    std::fs::read_to_string(counter).map(|t| t.lines().count()).unwrap_or(0)
}

fn library(dir: &Dir, account: &str) -> Auth {
    let mut o = Options::new(dir.home());
    o.account = Some(account.into());
    Auth::open(o).unwrap()
}

#[test]
fn a_command_account_runs_once_for_a_storm_and_once_more_after_a_401() {
    let dir = Dir::new();
    let (script, counter) = counting_script(&dir);
    let o = run(dir
        .cli()
        .args(["accounts", "add-command", "corp", "--json", "--"])
        .arg(&script)
        .arg("--audience"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let status: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((status["kind"].clone(), status["tier"].clone()), (json!("command"), json!("command")));
    assert_eq!(runs(&counter), 0, "adding runs nothing");

    let auth = library(&dir, "corp");
    let tokens: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..32).map(|_| s.spawn(|| auth.access_token().unwrap().expose().to_owned())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(tokens.iter().all(|t| t == "tok-1"), "{tokens:?}");
    assert_eq!(runs(&counter), 1, "one run for the whole storm");
    let headers = auth.request_headers().unwrap();
    assert_eq!(headers.get("Authorization"), Some("Bearer tok-1"));

    // The API rejects tok-1: every caller recovers with one more run.
    let rejected = Secret::from("tok-1".to_owned());
    let recovered: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..8).map(|_| s.spawn(|| auth.unauthorized(&rejected).unwrap().expose().to_owned())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(recovered.iter().all(|t| t == "tok-2"), "{recovered:?}");
    assert_eq!(runs(&counter), 2);

    // The token is never written anywhere.
    let stored = std::fs::read_to_string(dir.home().join("accounts/corp/auth.json")).unwrap();
    assert!(!stored.contains("tok-"), "{stored}");
    assert!(stored.contains("--audience"));
    // Another process runs it again (nothing is shared through disk).
    let o = run(dir.cli().args(["--account", "corp", "token"]));
    assert_eq!(stdout(&o), "tok-3\n");
}

#[test]
fn a_failing_command_is_named_with_its_status_and_stderr_never_its_output() {
    let dir = Dir::new();
    let script = dir.root.path().join("broken.sh");
    std::fs::write(&script, "#!/bin/sh\necho tok-should-not-show\necho one >&2\necho two >&2\necho 'vault is sealed' >&2\nexit 3\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let slow = dir.root.path().join("slow.sh");
    std::fs::write(&slow, "#!/bin/sh\nexec sleep 30\n").unwrap();
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    run(dir.cli().args(["accounts", "add-command", "broken", "--"]).arg(&script));
    run(dir.cli().args(["accounts", "add-command", "slow", "--timeout-ms", "300", "--"]).arg(&slow));
    run(dir.cli().args(["accounts", "add-command", "missing", "--", "/nonexistent/token-tool"]));

    let o = run(dir.cli().args(["--account", "broken", "token"]));
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains(&format!("`{}` failed (exit status 3)", script.display())), "{err}");
    assert!(err.contains("vault is sealed") && !err.contains("tok-should-not-show"), "{err}");
    assert_eq!(stdout(&o), "");

    let o = run(dir.cli().args(["--account", "slow", "token"]));
    assert!(stderr(&o).contains("time limit"), "{}", stderr(&o));
    let o = run(dir.cli().args(["--account", "missing", "token"]));
    assert!(stderr(&o).contains("/nonexistent/token-tool` could not run"), "{}", stderr(&o));
    let o = run(dir.cli().args(["accounts", "add-command", "empty", "--", ""]));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let o = run(dir.cli().args(["accounts", "add-command", "x"]));
    assert_eq!(code(&o), 2, "the command is required");
}

#[test]
fn tiers_runtime_then_config_then_store_then_environment() {
    let dir = Dir::new();
    dir.write_store(br#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-stored-key-1111"}"#);
    std::fs::write(dir.home().join("codex-auth.toml"), "api_key = \"sk-config-key-2222\"\n").unwrap();
    let status = |stdin: Option<&str>| {
        let mut cmd = dir.cli();
        cmd.env("OPENAI_API_KEY", "sk-environment-3333");
        if stdin.is_some() {
            cmd.arg("--api-key-stdin");
        }
        let mut child = cmd
            .args(["status", "--json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(key) = stdin {
            use std::io::Write as _;
            writeln!(child.stdin.take().unwrap(), "{key}").unwrap();
        }
        drop(child.stdin.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        (v["tier"].as_str().unwrap().to_owned(), v["api_key_hint"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(status(Some("sk-runtime-key-0000")), ("runtime".to_owned(), "0000".to_owned()));
    assert_eq!(status(None), ("config".to_owned(), "2222".to_owned()));
    std::fs::remove_file(dir.home().join("codex-auth.toml")).unwrap();
    assert_eq!(status(None), ("store".to_owned(), "1111".to_owned()));
    std::fs::remove_file(dir.auth_file()).unwrap();
    assert_eq!(status(None), ("environment".to_owned(), "3333".to_owned()));

    // In words, and through the library's option.
    let o = run(dir.cli().env("OPENAI_API_KEY", "sk-environment-3333").arg("status"));
    assert!(stderr(&o).contains("from $OPENAI_API_KEY, not stored"), "{}", stderr(&o));
    let mut options = Options::new(dir.home());
    options.runtime_key = Some("sk-library-override-9999".into());
    let auth = Auth::open(options).unwrap();
    assert_eq!(auth.status().unwrap().tier, Tier::Runtime);
    assert_eq!(auth.access_token().unwrap().expose(), "sk-library-override-9999");
    assert!(!dir.home().join("auth.json").exists(), "never written");
}

#[test]
fn the_config_file_is_read_checked_shown_and_never_rewritten() {
    let dir = Dir::new();
    let (script, counter) = counting_script(&dir);
    let port = free_ports()[0];
    let text = format!(
        "# written by hand\nstrategy = \"least-used\"\naccount = \"corp\"\n\n[serve]\nport = {port}\n\n[accounts.corp]\nlabel = \"Corporate SSO\"\ncommand = \"{}\"\nargs = [\"--plain\"]\nrefresh_interval_ms = 600000\n",
        script.display()
    );
    std::fs::create_dir_all(dir.home()).unwrap();
    let path = dir.home().join("codex-auth.toml");
    std::fs::write(&path, &text).unwrap();

    assert_eq!(stdout(&run(dir.cli().args(["config", "path"]))), format!("{}\n", path.display()));
    let shown: Value = serde_json::from_str(&stdout(&run(dir
        .cli()
        .env("CODEX_AUTH_CHATGPT_BASE_URL", "http://127.0.0.1:9/backend-api")
        .args(["--issuer", "http://127.0.0.1:8/", "config", "show", "--json"]))))
    .unwrap();
    let origin = |name: &str| {
        let s = shown.as_array().unwrap().iter().find(|s| s["name"] == name).unwrap();
        (s["value"].clone(), s["origin"].as_str().unwrap().to_owned())
    };
    assert_eq!(origin("issuer"), (json!("http://127.0.0.1:8/"), "flag".to_owned()));
    assert_eq!(origin("chatgpt_base_url").1, "environment");
    assert_eq!(origin("strategy"), (json!("least-used"), "file".to_owned()));
    assert_eq!(origin("serve.port"), (json!(port.to_string()), "file".to_owned()));
    assert_eq!(origin("serve.drain_seconds").1, "default");
    assert_eq!(origin("serve.upstream").0, json!("http://127.0.0.1:9/backend-api/codex"));

    // A command account from the file, with its label, chosen by default.
    let listed: Value = serde_json::from_str(&stdout(&run(dir.cli().args(["accounts", "--json"])))).unwrap();
    assert_eq!(listed[0]["name"], "corp");
    assert_eq!(listed[0]["label"], "Corporate SSO");
    assert_eq!(listed[0]["kind"], "command");
    assert_eq!(stdout(&run(dir.cli().arg("token"))), "tok-1\n");
    assert_eq!(runs(&counter), 1);

    // serve takes its port from the file.
    let mut serve = dir.cli().arg("serve").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(serve.stdout.take().unwrap()), &mut line)
        .unwrap();
    std::process::Command::new("kill").args(["-TERM", &serve.id().to_string()]).status().unwrap();
    serve.wait().unwrap();
    let start: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(start["listening"], format!("127.0.0.1:{port}"));

    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "never rewritten");

    // Mistakes are named: where a syntax error is, and which key is unknown.
    std::fs::write(&path, "strategy = \"least-used\"\napi_key = \"sk-unterminated\n").unwrap();
    let o = run(dir.cli().arg("status"));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("codex-auth.toml: line 2, column"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("sk-unterminated"), "no line is quoted: {}", stderr(&o));
    std::fs::write(&path, "[serve]\nprot = 1\n").unwrap();
    let o = run(dir.cli().arg("token"));
    assert!(stderr(&o).contains("unknown key `serve.prot`"), "{}", stderr(&o));
    std::fs::write(&path, "strategy = \"random\"\n").unwrap();
    assert!(stderr(&run(dir.cli().arg("token"))).contains("`strategy` is wrong"));
}

#[test]
fn the_config_files_issuer_is_used_not_only_shown() {
    let mock = crate::mock_issuer::MockIssuer::start(&[]);
    let dir = Dir::new();
    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() - 10)).unwrap());
    std::fs::write(dir.home().join("codex-auth.toml"), format!("issuer = \"{}\"\n", mock.url)).unwrap();
    // No flag or variable names the issuer: the file's is the one used.
    let o = run(dir.cli().env_remove("CODEX_AUTH_ISSUER").arg("token"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(mock.state().refresh_requests, 1, "the refresh went to the file's issuer");
    // A flag still beats it.
    let o = run(dir.cli().args(["--issuer", "http://127.0.0.1:9", "refresh", "--force"]));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(mock.state().refresh_requests, 1);
}
