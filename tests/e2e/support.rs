//! Shared helpers: a temporary home per test, the real CLI binary with a
//! clean environment, and unsigned JWTs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh directory for one test; `home` is the store inside it.
pub struct Dir {
    pub root: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Self { root: tempfile::tempdir().expect("temp dir") }
    }

    /// The store directory (not created).
    pub fn home(&self) -> PathBuf {
        self.root.path().join("store")
    }

    pub fn auth_file(&self) -> PathBuf {
        self.home().join("auth.json")
    }

    /// The CLI with `--home` set and nothing inherited that could reach the
    /// real `~/.codex`, the real issuer, or a real API key.
    pub fn cli(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codex-auth"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.path().join("user-home"))
            .env("CODEX_AUTH_CACHE_DIR", cache_dir())
            .env("CODEX_AUTH_ISSUER", "http://127.0.0.1:9")
            .arg("--home")
            .arg(self.home());
        cmd
    }

    /// Writes `bytes` as the store file, creating the directory.
    pub fn write_store(&self, bytes: &[u8]) {
        std::fs::create_dir_all(self.home()).unwrap();
        std::fs::write(self.auth_file(), bytes).unwrap();
    }
}

/// Compiled code shared by every test process.
pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("codex-auth-cache")
}

/// Runs `cmd` and returns its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the CLI runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

/// An unsigned JWT carrying `claims`.
pub fn jwt(claims: &Value) -> String {
    format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The id token of a ChatGPT account `acct-e2e` on the plus plan.
pub fn id_token(exp: i64) -> String {
    jwt(&json!({
        "iss": "https://auth.openai.com",
        "aud": ["app_EMoamEEZ73f0CkXaXp7hrann"],
        "sub": "user-e2e",
        "exp": exp,
        "iat": exp - 3600,
        "email": "ada@example.com",
        "email_verified": true,
        "https://api.openai.com/auth": {
            "chatgpt_account_id": "acct-e2e",
            "chatgpt_plan_type": "plus",
            "chatgpt_user_id": "user-e2e"
        }
    }))
}

/// An access token expiring at `exp`, distinguishable by `tag`.
pub fn access_token(exp: i64, tag: &str) -> String {
    jwt(&json!({
        "exp": exp,
        "tag": tag,
        "https://api.openai.com/auth": {"chatgpt_account_id": "acct-e2e"}
    }))
}

/// An auth.json as `codex login` writes it in ChatGPT mode.
pub fn codex_chatgpt_file(exp: i64, refresh_token: &str) -> Value {
    json!({
        "OPENAI_API_KEY": null,
        "tokens": {
            "id_token": id_token(exp),
            "access_token": access_token(exp, refresh_token),
            "refresh_token": refresh_token,
            "account_id": "acct-e2e"
        },
        "last_refresh": "2026-11-22T21:00:00.123456Z"
    })
}
