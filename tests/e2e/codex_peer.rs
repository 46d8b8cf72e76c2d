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

/// What `codex login status` prints for the store of `dir`.
fn codex_login_status(dir: &Dir) -> String {
    let o = Command::new(codex_bin())
        .args(["login", "status"])
        .env("CODEX_HOME", dir.home())
        .env("HOME", dir.root.path())
        .output()
        .unwrap();
    format!("{}{}", stdout(&o), stderr(&o))
}

#[test]
#[ignore = "needs the real Codex CLI: run scripts/codex-peer.sh"]
fn codex_login_status_accepts_our_chatgpt_file() {
    let dir = Dir::new();
    let source = dir.root.path().join("source.json");
    std::fs::write(&source, serde_json::to_vec(&codex_chatgpt_file(now() + 3600, "rt-peer")).unwrap())
        .unwrap();
    let o = run(dir.cli().arg("import").arg(&source));
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let text = codex_login_status(&dir);
    assert!(text.contains("Logged in using ChatGPT"), "{text}");
}

#[test]
#[ignore = "needs the real Codex CLI: run scripts/codex-peer.sh"]
fn codex_login_status_accepts_our_api_key_file() {
    let dir = Dir::new();
    let source = dir.root.path().join("source.json");
    std::fs::write(&source, br#"{"OPENAI_API_KEY":"sk-proj-peer-test-ABCDE"}"#).unwrap();
    assert_eq!(code(&run(dir.cli().arg("import").arg(&source))), 0);
    let text = codex_login_status(&dir);
    // 0.169 words it "API key configured - sk-proj-***ABCDE".
    assert!(text.contains("API key") && text.contains("***ABCDE"), "{text}");
}
