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
    let (spent, id) = ("acct-a-spent", "acct-codex");
    let mut file = codex_chatgpt_file(now() + 3600, "rt-gw");
    for account in [spent, id] {
        let path = dir.home().join("accounts").join(account).join("auth.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        file["tokens"]["account_id"] = account.into();
        std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    }
    // The first account's streams open, then fail at its usage limit: the
    // gateway moves Codex's request on before Codex sees a byte of them.
    let failed = crate::mock_backend::Answer::FailedEvent { resets_at: now() + 600 };
    backend.state().answers.insert(spent.into(), failed);
    let key = stdout(&run(dir.cli().args(["serve", "--print-key"]))).trim().to_owned();
    let mut serve = dir
        .cli()
        .env("CODEX_AUTH_ISSUER", &issuer.url)
        .env("CODEX_AUTH_CHATGPT_BASE_URL", &backend.base)
        .args(["serve", "--port", "0", "--strategy", "round-robin"])
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
    assert!(
        state.responses_requests.get(spent).is_some_and(|n| *n >= 1),
        "the spent account was tried first"
    );
    assert!(text.contains(&format!("Hello from {id}.")), "Codex got the sibling's answer:\n{text}");
    // Codex saw nothing of the spent account's stream: had the failure
    // reached it, it would have said so and connected again.
    assert!(!text.contains("Reconnecting"), "{text}");
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

/// Rounds of the real Codex CLI and codex-auth on one home.
const SHARED_ROUNDS: u32 = 10;

#[test]
#[ignore = "needs the real Codex CLI: run scripts/codex-peer.sh"]
fn codex_exec_and_codex_auth_on_one_home_never_reuse_a_refresh_token() {
    use crate::mock_issuer::{MockIssuer, StallEnd};
    use std::time::Duration;
    let issuer = MockIssuer::start(&[]);
    let backend = crate::mock_backend::MockBackend::start();
    let dir = Dir::new();
    let home = dir.root.path().join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    let config = format!("model = \"gpt-5\"\nchatgpt_base_url = \"{}\"\n", backend.base);
    std::fs::write(home.join("config.toml"), config).unwrap();
    std::fs::write(home.join("auth.json"), issuer.codex_file(now() + 3600).to_string()).unwrap();
    let o = run(dir.cli().env("CODEX_AUTH_ISSUER", &issuer.url).arg("import").arg(&home));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (mut refreshed_by_codex, mut reused) = (0, 0);
    for round in 1..=SHARED_ROUNDS {
        // A login inside the Codex CLI's 5-minute window.
        std::fs::write(home.join("auth.json"), issuer.codex_file(now() + 180).to_string()).unwrap();
        let before = issuer.state().reuse_errors;
        issuer.stall_next();
        let mut codex = Command::new(codex_bin())
            .args(["exec", "--skip-git-repo-check", "say hi"])
            .env("CODEX_HOME", &home)
            .env("HOME", dir.root.path())
            .env("CODEX_REFRESH_TOKEN_URL_OVERRIDE", format!("{}/oauth/token", issuer.url))
            .current_dir(dir.root.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stalled = issuer.wait_for_stalled_within(1, Duration::from_secs(60));
        // Codex's refresh (if it sent one) is in flight, unlocked. Meanwhile:
        for args in [&["token"][..], &["refresh"], &["status"], &["token"]] {
            let o = run(dir.cli().env("CODEX_AUTH_ISSUER", &issuer.url).args(args));
            assert_eq!(code(&o), 0, "round {round}, {args:?}: {}", stderr(&o));
        }
        issuer.release_stall(StallEnd::Proceed);
        if stalled {
            refreshed_by_codex += 1;
            // Codex stores its answer; then it is stopped (the mock backend
            // is not what this is about).
            let sent =
                serde_json::from_slice::<serde_json::Value>(&std::fs::read(home.join("auth.json")).unwrap())
                    .unwrap()["tokens"]["refresh_token"]
                    .clone();
            for _ in 0..600 {
                let now_stored: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(home.join("auth.json")).unwrap()).unwrap();
                if now_stored["tokens"]["refresh_token"] != sent || codex.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // npm's `codex` is a Node wrapper that runs the native binary as its
        // child: that child goes first, or it outlives the test.
        let _ = Command::new("pkill").args(["-KILL", "-P", &codex.id().to_string()]).status();
        let _ = codex.kill();
        let _ = codex.wait();
        reused += issuer.state().reuse_errors - before;
    }
    // Who presented what: codex-auth must never have refreshed this home
    // inside Codex's window, so every refresh is the Codex CLI's.
    let log = issuer.state().refresh_log.clone();
    let by_codex_auth = log.iter().filter(|(agent, _)| agent.starts_with("codex-auth/")).count();
    let mut distinct: Vec<&String> = log.iter().map(|(_, token)| token).collect();
    distinct.sort();
    distinct.dedup();
    let presented_twice = log.len() - distinct.len();
    eprintln!(
        "{SHARED_ROUNDS} rounds with the real Codex CLI: it refreshed in {refreshed_by_codex}; refresh requests \
         {} (by codex-auth: {by_codex_auth}); reused refresh tokens seen: {reused} ({presented_twice} presented \
         a second time)",
        log.len()
    );
    assert!(refreshed_by_codex > 0, "the Codex CLI never refreshed inside its window");
    assert_eq!(by_codex_auth, 0, "codex-auth refreshed inside the Codex CLI's window: {log:?}");
    // What reuse is left is the Codex CLI presenting its own token twice
    // (two refreshes of one `codex exec` while the first is held).
    assert_eq!(reused, presented_twice as u32, "{log:?}");
}

#[test]
#[ignore = "needs the real Codex CLI: run scripts/codex-peer.sh"]
fn the_provider_block_import_prints_makes_codex_auth_the_codex_clis_one_refresher() {
    let backend = crate::mock_backend::MockBackend::start();
    let dir = Dir::new();
    let home = dir.root.path().join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut login = codex_chatgpt_file(now() + 3600, "rt-block");
    login["tokens"]["account_id"] = "acct-block".into();
    std::fs::write(home.join("auth.json"), login.to_string()).unwrap();
    let cli = || {
        let mut cmd = dir.cli();
        cmd.env("CODEX_AUTH_CHATGPT_BASE_URL", &backend.base);
        cmd
    };
    let o = run(cli().arg("import").arg(&home));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stderr(&o);
    let block = &text[text.find("model_provider = ").expect("the block is printed")..];
    // The commands the note gives, then the block as the Codex CLI's config.
    assert_eq!(code(&run(cli().args(["remove", "codex"]))), 0);
    let o = run(cli().args(["import", "--move", "--name", "codex"]).arg(&home));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let config = block
        .replace("model_provider = \"codex-auth\"", "model_provider = \"codex-auth\"\nmodel = \"gpt-5\"");
    let text = codex_exec(&dir, &config, &[]);
    let bearers = backend.state().bearers.get("acct-block").cloned().unwrap_or_default();
    assert!(!bearers.is_empty(), "no request carried the account id header:\n{text}\n{config}");
    assert!(bearers.iter().all(|b| *b == login["tokens"]["access_token"]), "codex-auth's token");
    assert!(!home.join("auth.json").exists(), "one holder: the vault");
}
