//! Shared helpers: a temporary home per test, the real CLI binary with a
//! clean environment, and unsigned JWTs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::path::PathBuf;
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
        self.cli_at(&self.home())
    }

    /// The same, with `--home home` (a Codex home, say).
    pub fn cli_at(&self, home: &std::path::Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codex-auth"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.path().join("user-home"))
            .env("CODEX_AUTH_ISSUER", "http://127.0.0.1:9")
            .arg("--home")
            .arg(home);
        cmd
    }

    /// Writes `bytes` as account `name`'s store, in the vault's layout
    /// (`accounts/<name>/auth.json`); returns its path.
    pub fn put_account(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.home().join("accounts").join(name).join("auth.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Writes `bytes` as the store file, creating the directory.
    pub fn write_store(&self, bytes: &[u8]) {
        std::fs::create_dir_all(self.home()).unwrap();
        std::fs::write(self.auth_file(), bytes).unwrap();
    }
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

/// A signed-in store of ChatGPT account `id` (its own account id, email
/// `<id>@example.com`, plan pro), the access token expiring at `exp`.
pub fn account_file(id: &str, exp: i64, refresh_token: &str) -> Value {
    let auth = json!({"chatgpt_account_id": id, "chatgpt_plan_type": "pro"});
    json!({
        "OPENAI_API_KEY": null,
        "tokens": {
            "id_token": jwt(&json!({"exp": exp, "email": format!("{id}@example.com"), "https://api.openai.com/auth": auth})),
            "access_token": jwt(&json!({"exp": exp, "tag": refresh_token, "https://api.openai.com/auth": auth})),
            "refresh_token": refresh_token,
            "account_id": id
        },
        "last_refresh": "2026-11-22T21:00:00Z"
    })
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

/// Two distinct loopback ports that were free a moment ago.
pub fn free_ports() -> [u16; 2] {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    [a.local_addr().unwrap().port(), b.local_addr().unwrap().port()]
}

/// A browser that follows the issuer's redirect to the loopback listener
/// and returns what the listener answered.
pub fn browse(authorize_url: &str) -> (u16, String) {
    let location = authorize_redirect(authorize_url);
    let answer = http().get(&location).send().expect("the loopback listener answers");
    (answer.status().as_u16(), answer.text().unwrap_or_default())
}

/// Where the issuer redirects the browser after sign-in.
pub fn authorize_redirect(authorize_url: &str) -> String {
    let answer = http().get(authorize_url).send().expect("the mock issuer answers");
    assert_eq!(answer.status().as_u16(), 302, "authorize: {}", answer.text().unwrap_or_default());
    answer.headers()["location"].to_str().unwrap().to_owned()
}

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(codex_auth::tls::client_config().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A running CLI whose stderr lines arrive on a channel.
pub struct Running {
    pub child: std::process::Child,
    pub lines: std::sync::mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Self {
        use std::io::BufRead as _;
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn the CLI");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines, seen: Vec::new() }
    }

    /// The first stderr line (from now on) that satisfies `wanted`; panics
    /// with everything seen if the process ends first.
    pub fn line_where(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            match self.lines.recv_timeout(std::time::Duration::from_secs(60)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("no such line; stderr so far:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// The authorize URL the CLI printed.
    pub fn authorize_url(&mut self) -> String {
        self.line_where(|l| l.contains("/oauth/authorize?")).trim().to_owned()
    }

    /// Waits for the exit; returns the code, stdout and all of stderr.
    pub fn finish(mut self) -> (i32, String, String) {
        use std::io::Read as _;
        let mut out = String::new();
        self.child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        let status = self.child.wait().unwrap();
        self.seen.extend(self.lines.iter());
        (status.code().unwrap_or(-1), out, self.seen.join("\n"))
    }
}

/// Starts `cmd` with stdout and stderr captured.
pub fn spawn_piped(cmd: &mut Command) -> std::process::Child {
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("spawn")
}

/// Waits for every process of a storm; each must succeed and print the
/// same, which is returned.
pub fn same_output_from_all(children: Vec<std::process::Child>) -> String {
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    for o in &outputs {
        assert_eq!(code(o), 0, "{}", stderr(o));
        assert_eq!(stdout(o), stdout(&outputs[0]), "every process prints the same");
    }
    stdout(&outputs[0])
}

/// A Responses request as the Codex CLI sends one (the backend refuses one
/// without `store: false` and `stream: true`).
#[allow(dead_code, reason = "not every test binary that includes this module sends one")]
pub const CODEX_REQUEST: &str = r#"{"model":"gpt-5.1-codex","input":"hi","store":false,"stream":true}"#;
