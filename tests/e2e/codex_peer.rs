//! The real Codex CLI reads what codex-auth writes. Opt-in: it needs the
//! npm package `@openai/codex`; `scripts/codex-peer.sh` installs it and runs
//! these with `--ignored`.

use crate::support::*;
use std::path::PathBuf;
use std::process::Command;

fn codex_bin() -> PathBuf {
    std::env::var_os("CODEX_AUTH_CODEX_BIN")
        .map(PathBuf::from)
        .expect("set CODEX_AUTH_CODEX_BIN (scripts/codex-peer.sh does)")
}

/// What `codex login status` prints for the Codex home `home`.
fn codex_login_status(home: &std::path::Path, user_home: &std::path::Path) -> String {
    let o = Command::new(codex_bin())
        .args(["login", "status"])
        .env("CODEX_HOME", home)
        .env("HOME", user_home)
        .output()
        .unwrap();
    format!("{}{}", stdout(&o), stderr(&o))
}

#[test]
#[ignore = "needs the real Codex CLI: run scripts/codex-peer.sh"]
fn codex_login_status_accepts_our_chatgpt_account() {
    let dir = Dir::new();
    let file = codex_chatgpt_file(now() + 3600, "rt-peer");
    let token = |name: &str| file["tokens"][name].as_str().unwrap().to_owned();
    let options = codex_auth::Options::new(dir.home());
    let auth = codex_auth::Auth::open(options).unwrap();
    let credential = codex_auth::Credential::ChatGpt {
        id_token: token("id_token"),
        access_token: token("access_token"),
        refresh_token: token("refresh_token"),
        account_id: None,
    };
    auth.store_credential(Some("work"), credential).unwrap();
    // Each account is a Codex home of its own.
    let text = codex_login_status(&dir.home().join("accounts/work"), dir.root.path());
    assert!(text.contains("Logged in using ChatGPT"), "{text}");
}

#[test]
#[ignore = "needs the real Codex CLI: run scripts/codex-peer.sh"]
fn codex_login_status_accepts_our_api_key_account() {
    let dir = Dir::new();
    let mut child = dir
        .cli()
        .args(["login", "--name", "ci", "--with-api-key"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    writeln!(child.stdin.take().unwrap(), "sk-proj-peer-test-ABCDE").unwrap();
    assert!(child.wait().unwrap().success());
    let text = codex_login_status(&dir.home().join("accounts/ci"), dir.root.path());
    // 0.169 words it "API key configured - sk-proj-***ABCDE".
    assert!(text.contains("API key") && text.contains("***ABCDE"), "{text}");
}

/// `codex exec` once with `config` as its config.toml; returns its output.
fn codex_exec(dir: &Dir, config: &str, env: &[(&str, &str)]) -> String {
    let home = dir.root.path().join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("config.toml"), config).unwrap();
    let mut cmd = Command::new(codex_bin());
    cmd.args(["exec", "--skip-git-repo-check", "say hi"])
        .env("CODEX_HOME", &home)
        .env("HOME", dir.root.path())
        .current_dir(dir.root.path())
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    format!("{}{}", stdout(&o), stderr(&o))
}

#[test]
#[ignore = "needs the real Codex CLI: run scripts/codex-peer.sh"]
fn codex_uses_the_gateway_as_a_model_provider() {
    let issuer = crate::mock_issuer::MockIssuer::start(&[]);
    let backend = crate::mock_backend::MockBackend::start();
    let dir = Dir::new();
    let id = "acct-codex";
    let path = dir.home().join("accounts").join(id).join("auth.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = codex_chatgpt_file(now() + 3600, "rt-gw");
    file["tokens"]["account_id"] = id.into();
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    let key = stdout(&run(dir.cli().args(["serve", "--print-key"]))).trim().to_owned();
    let mut serve = dir
        .cli()
        .env("CODEX_AUTH_ISSUER", &issuer.url)
        .env("CODEX_AUTH_CHATGPT_BASE_URL", &backend.base)
        .args(["serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(serve.stdout.take().unwrap()), &mut line)
        .unwrap();
    let start: serde_json::Value = serde_json::from_str(&line).unwrap();
    let config = format!(
        "model_provider = \"codex-auth\"\nmodel = \"gpt-5\"\n\n[model_providers.codex-auth]\nname = \"codex-auth gateway\"\nbase_url = \"http://{}/backend-api/codex\"\nwire_api = \"responses\"\nenv_key = \"CODEX_AUTH_KEY\"\n",
        start["listening"].as_str().unwrap()
    );
    let text = codex_exec(&dir, &config, &[("CODEX_AUTH_KEY", &key)]);
    let _ = Command::new("kill").args(["-TERM", &serve.id().to_string()]).status();
    let _ = serve.wait();
    let state = backend.state();
    let bearers = state.bearers.get(id).cloned().unwrap_or_default();
    assert!(!bearers.is_empty(), "no request reached the backend through the gateway:\n{text}");
    assert!(
        bearers.iter().all(|b| *b == file["tokens"]["access_token"]),
        "the account's token, not the local key"
    );
}

#[test]
#[ignore = "needs the real Codex CLI: run scripts/codex-peer.sh"]
fn codex_uses_codex_auth_token_as_its_provider_auth_command() {
    let backend = crate::mock_backend::MockBackend::start();
    let dir = Dir::new();
    let o = run(dir
        .cli()
        .args(["login", "--name", "key", "--with-api-key"])
        .stdin(std::fs::File::open(write_key(&dir)).unwrap()));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // The provider auth command runs `codex-auth token` with this home.
    let wrapper = dir.root.path().join("codex-auth-token.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec '{}' --home '{}' token\n",
            env!("CARGO_BIN_EXE_codex-auth"),
            dir.home().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config = format!(
        "model_provider = \"pool\"\nmodel = \"gpt-5\"\n\n[model_providers.pool]\nname = \"ChatGPT via codex-auth\"\nbase_url = \"{}/codex\"\nwire_api = \"responses\"\n\n[model_providers.pool.auth]\ncommand = \"{}\"\nargs = []\n",
        backend.base,
        wrapper.display()
    );
    let text = codex_exec(&dir, &config, &[]);
    let bearers: Vec<String> = backend.state().bearers.values().flatten().cloned().collect();
    assert!(bearers.contains(&"sk-proj-command-provider-0000".to_owned()), "{bearers:?}\n{text}");
}

fn write_key(dir: &Dir) -> PathBuf {
    let path = dir.root.path().join("key.txt");
    std::fs::write(&path, "sk-proj-command-provider-0000\n").unwrap();
    path
}
