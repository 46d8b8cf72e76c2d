//! `codex-auth serve`: the broker and the gateway, through the real binary,
//! against the mock issuer and the mock ChatGPT backend.

use crate::mock_backend::{Answer, MockBackend};
use crate::mock_issuer::MockIssuer;
use crate::support::*;
use serde_json::{Value, json};
use std::io::{BufRead as _, Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Child, Command, Stdio};

/// A running `codex-auth serve`.
pub(crate) struct Served {
    child: Child,
    pub url: String,
    pub key: String,
    start: Value,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Served {
    pub fn start(dir: &Dir, issuer: &MockIssuer, backend: &MockBackend, extra: &[&str]) -> Self {
        let key =
            stdout(&run(env(dir.cli(), issuer, backend).args(["serve", "--print-key"]))).trim().to_owned();
        assert_eq!(key.len(), 64, "{key}");
        let mut child = env(dir.cli(), issuer, backend)
            .args(["serve", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let start: Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}: {first:?}"));
        let (tx, stderr) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let url = format!("http://{}", start["listening"].as_str().unwrap());
        Self { child, url, key, start, stderr }
    }

    /// A POST on a raw connection to `address`, read until `until` shows:
    /// the connection (still open) and what came so far.
    pub fn open_stream(
        &self,
        address: &str,
        path: &str,
        body: &str,
        until: &str,
    ) -> (std::net::TcpStream, Vec<u8>) {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.key,
            body.len()
        )
        .unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains(until) {
            let n = stream.read(&mut buf).expect("the first events arrive before the rest is released");
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        (stream, seen)
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        http().get(format!("{}{path}", self.url)).bearer_auth(&self.key)
    }

    pub fn post(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        http().post(format!("{}{path}", self.url)).bearer_auth(&self.key)
    }

    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// SIGTERM, then the exit code and every log line.
    pub fn stop(mut self) -> (i32, Vec<String>) {
        self.terminate();
        let status = self.child.wait().unwrap();
        (status.code().unwrap_or(-1), self.stderr.try_iter().collect())
    }
}

pub(crate) fn env(cmd: Command, issuer: &MockIssuer, backend: &MockBackend) -> Command {
    let mut cmd = cmd;
    cmd.env("CODEX_AUTH_ISSUER", &issuer.url).env("CODEX_AUTH_CHATGPT_BASE_URL", &backend.base);
    cmd
}

/// An account made by the mock issuer (so it can be refreshed), named `name`.
pub(crate) fn put_issued(dir: &Dir, issuer: &MockIssuer, name: &str, exp: i64) -> String {
    let file = issuer.codex_file(exp);
    dir.put_account(name, &serde_json::to_vec(&file).unwrap());
    file["tokens"]["refresh_token"].as_str().unwrap().to_owned()
}

/// An account with its own chatgpt account id (for the mock backend).
pub(crate) fn put_own(dir: &Dir, id: &str) {
    dir.put_account(
        id,
        &serde_json::to_vec(&account_file(id, now() + 3600, &format!("rt-own-{id}"))).unwrap(),
    );
}

fn refresh_tokens(dir: &Dir) -> Vec<String> {
    let mut tokens = Vec::new();
    for entry in std::fs::read_dir(dir.home().join("accounts")).unwrap() {
        let file = entry.unwrap().path().join("auth.json");
        if let Ok(bytes) = std::fs::read(file) {
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            if let Some(rt) = v["tokens"]["refresh_token"].as_str() {
                tokens.push(rt.to_owned());
            }
        }
    }
    tokens
}

#[test]
fn the_broker_hands_out_credentials_to_key_holders_on_loopback_only() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    let first_rt = put_issued(&dir, &issuer, "acct-a", now() + 3600);
    put_own(&dir, "acct-b");
    let socket_dir = dir.root.path().join("sockets");
    std::fs::create_dir(&socket_dir).unwrap();
    let socket = socket_dir.join("serve.sock");
    let served = Served::start(&dir, &issuer, &backend, &["--socket", socket.to_str().unwrap()]);
    assert_eq!(served.start["accounts"], json!(["acct-a", "acct-b"]));
    assert_eq!(served.start["socket"], json!(socket));
    assert!(served.start["listening"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert_eq!(std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(dir.home().join("serve.key")).unwrap().permissions().mode() & 0o777, 0o600);

    let mut bodies = Vec::new();
    let mut call = |request: reqwest::blocking::RequestBuilder, status: u16| {
        let answer = request.send().unwrap();
        assert_eq!(answer.status().as_u16(), status);
        let text = answer.text().unwrap();
        bodies.push(text.clone());
        serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };

    assert_eq!(call(http().get(format!("{}/healthz", served.url)), 200), json!({"ok": true, "status": "ok"}));
    let refused = call(http().get(format!("{}/v1/headers", served.url)), 401);
    assert_eq!(refused["error"]["code"], "unauthorized");
    call(http().get(format!("{}/v1/headers", served.url)).bearer_auth("0".repeat(64)), 401);
    call(http().get(format!("{}/backend-api/codex/responses", served.url)), 401);
    let rebound = call(served.get("/v1/headers").header("Host", "evil.example:80"), 421);
    assert_eq!(rebound["error"]["code"], "host_not_allowed");

    let headers = call(served.get("/v1/headers"), 200);
    assert_eq!(headers["account"], "acct-a");
    assert!(headers["headers"]["Authorization"].as_str().unwrap().starts_with("Bearer "));
    let named = call(served.get("/v1/headers?account=acct-b"), 200);
    assert_eq!(
        (named["account"].clone(), named["headers"]["chatgpt-account-id"].clone()),
        (json!("acct-b"), json!("acct-b"))
    );
    assert_eq!(call(served.get("/v1/headers?session=s1"), 200)["account"], "acct-a");
    let token = call(served.get("/v1/token?account=acct-b"), 200);
    assert_eq!(token["account"], "acct-b");
    assert_eq!(format!("Bearer {}", token["token"].as_str().unwrap()), named["headers"]["Authorization"]);
    let accounts = call(served.get("/v1/accounts"), 200);
    assert_eq!(accounts["accounts"].as_array().unwrap().len(), 2);
    let unknown = call(served.get("/v1/headers?account=nobody"), 404);
    assert_eq!(unknown["error"]["code"], "unknown_account");
    call(served.post("/v1/unauthorized").body("{nope"), 400);
    let large = call(served.post("/v1/unauthorized").body(vec![b' '; 65 << 10]), 413);
    assert_eq!(large["error"]["code"], "request_too_large");
    call(served.get("/v1/nothing"), 404);

    // A refresh on request, and 401 recovery with the rejected token.
    let refreshed = call(served.post("/v1/accounts/acct-a/refresh"), 200);
    assert_eq!(refreshed["status"]["account"], "acct-a");
    assert_eq!(issuer.state().refresh_requests, 1);
    let current = call(served.get("/v1/token?account=acct-a"), 200)["token"].as_str().unwrap().to_owned();
    let recovered = call(
        served.post("/v1/unauthorized").body(json!({"token": current, "account": "acct-a"}).to_string()),
        200,
    );
    assert_ne!(recovered["headers"]["Authorization"].as_str().unwrap(), format!("Bearer {current}"));
    assert_eq!(issuer.state().refresh_requests, 2);

    // The Unix socket serves the same, to this user.
    let mut stream = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    write!(stream, "GET /v1/headers HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n", served.key).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    bodies.push(answer);

    // Another user is refused even when the file mode would let it in: the
    // peer's uid is checked. (Needs root to act as `nobody`.)
    if Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n")) {
        for path in [dir.root.path(), socket_dir.as_path()] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o711)).unwrap();
        }
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
        let client = "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\ntry:\n    s.sendall(b'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n')\n    print(repr(s.recv(100)))\nexcept (ConnectionResetError, BrokenPipeError):\n    print('refused')";
        let o = run(Command::new("runuser")
            .args(["-u", "nobody", "--", "/usr/bin/python3", "-c", client])
            .arg(&socket));
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(
            ["b''", "refused"].contains(&stdout(&o).trim()),
            "a peer of another user gets nothing: {}",
            stdout(&o)
        );
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    // No answer ever carried a refresh token, old or new.
    let mut secrets = refresh_tokens(&dir);
    secrets.push(first_rt);
    for body in &bodies {
        for secret in &secrets {
            assert!(!body.contains(secret.as_str()), "a refresh token in {body}");
        }
    }
    let (code, logs) = served.stop();
    assert_eq!(code, 0);
    let logged: Vec<Value> = logs.iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let line = logged
        .iter()
        .find(|l| l["path"] == "/v1/headers" && l["account"] == "acct-b")
        .expect("a request log line");
    assert_eq!((line["method"].clone(), line["status"].clone()), (json!("GET"), json!(200)));
    assert!(line["ms"].as_f64().is_some());
    for log in &logs {
        assert!(!log.contains("Bearer") && !secrets.iter().any(|s| log.contains(s.as_str())), "{log}");
        assert!(!log.contains(&current), "{log}");
    }
    assert!(!socket.exists(), "the socket is removed at exit");
}

#[test]
fn the_gateway_injects_auth_recovers_a_401_and_rotates_on_a_usage_limit() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    put_issued(&dir, &issuer, "acct-a", now() + 3600);
    put_own(&dir, "acct-b");
    let served = Served::start(&dir, &issuer, &backend, &[]);
    let send = |path: &str, body: &str| {
        let answer = served
            .post(path)
            .header("session_id", "conv-1")
            .header("OpenAI-Beta", "responses=experimental")
            .body(body.to_owned())
            .send()
            .unwrap();
        (answer.status().as_u16(), answer.text().unwrap())
    };

    // Forwarded with the account's headers; the client's key never leaves.
    let (status, text) =
        send("/backend-api/codex/responses", r#"{"model":"gpt-5","store":false,"stream":true}"#);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("response.completed"));
    let seen = backend.state().seen_headers.last().unwrap().clone();
    let get = |name: &str| seen.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(get("chatgpt-account-id").as_deref(), Some(crate::mock_issuer::ACCOUNT));
    assert!(get("authorization").unwrap().starts_with("Bearer ey"));
    assert!(!seen.iter().any(|(_, v)| v.contains(&served.key)), "the local key is not forwarded");
    assert_eq!(get("openai-beta").as_deref(), Some("responses=experimental"));
    assert_eq!(backend.state().bodies.last().unwrap(), br#"{"model":"gpt-5","store":false,"stream":true}"#);
    // The OpenAI SDK form: base_url = <gateway>/v1, POST /v1/responses.
    assert_eq!(send("/v1/responses", r#"{"model":"gpt-5","stream":true}"#).0, 200);

    // The access token was revoked upstream: recovered once, replayed once.
    let bearer = get("authorization").unwrap().trim_start_matches("Bearer ").to_owned();
    backend.state().refused_tokens.push(bearer);
    let (status, text) = send("/backend-api/codex/responses", CODEX_REQUEST);
    assert_eq!(status, 200, "{text}");
    assert_eq!(issuer.state().refresh_requests, 1);

    // A usage limit: the account is blocked and the request goes to a sibling.
    backend.state().answers.insert(crate::mock_issuer::ACCOUNT.into(), Answer::Limit { resets_in: 600 });
    let (status, text) = send("/backend-api/codex/responses", CODEX_REQUEST);
    assert_eq!(status, 200, "{text}");
    assert_eq!(backend.state().responses_requests["acct-b"], 1);
    let accounts: Value =
        serde_json::from_str(&served.get("/v1/accounts").send().unwrap().text().unwrap()).unwrap();
    assert_eq!(accounts["accounts"][0]["state"], "blocked");
    // The rate-limit headers of the answers fed the pool.
    assert_eq!(accounts["accounts"][1]["usage"]["windows"][0]["used_percent"], 10);

    // A response.failed usage limit before any output (after the events
    // that open the stream, which came in pieces of their own): the same.
    backend.state().answers.insert("acct-b".into(), Answer::FailedEvent { resets_at: now() + 60 });
    let (status, text) = send("/backend-api/codex/responses", CODEX_REQUEST);
    assert_eq!(status, 429, "every account blocked now: {}", &text[..text.len().min(200)]);
    let error: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error["error"]["code"], "usage_limit_reached");
    assert!(error["error"]["resets_at"].as_i64().unwrap() > now());
    served.stop();
}

#[test]
fn a_request_moves_through_every_limited_account_and_then_names_the_first_reset() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    for id in ["acct-a", "acct-b", "acct-c"] {
        put_own(&dir, id);
    }
    backend.state().answers.insert("acct-a".into(), Answer::Limit { resets_in: 900 });
    backend.state().answers.insert("acct-b".into(), Answer::Limit { resets_in: 300 });
    let served = Served::start(&dir, &issuer, &backend, &[]);
    let send = || {
        let answer = served.post("/backend-api/codex/responses").body(CODEX_REQUEST).send().unwrap();
        (answer.status().as_u16(), answer.text().unwrap())
    };
    let requests = |id: &str| backend.state().responses_requests.get(id).copied().unwrap_or(0);

    // Two accounts at their limit: the first request still succeeds, on the
    // third, each account tried once.
    let (status, text) = send();
    assert_eq!(status, 200, "{text}");
    assert_eq!((requests("acct-a"), requests("acct-b"), requests("acct-c")), (1, 1, 1));

    // All three at their limit: one 429, naming the first reset (b's), in
    // OpenAI's error shape, in seconds too and in `Retry-After`.
    backend.state().answers.insert("acct-c".into(), Answer::Limit { resets_in: 600 });
    let answer = served.post("/backend-api/codex/responses").body(CODEX_REQUEST).send().unwrap();
    let status = answer.status().as_u16();
    let retry_after = answer.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse::<i64>().ok());
    let text = answer.text().unwrap();
    assert_eq!(status, 429, "{text}");
    let error: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error["error"]["code"], "usage_limit_reached");
    assert_eq!(error["error"]["type"], "rate_limit_error");
    assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains("usage limit")), "{error}");
    let resets_at = error["error"]["resets_at"].as_i64().unwrap();
    assert!((now() + 290..=now() + 300).contains(&resets_at), "{resets_at}");
    let wait = error["error"]["resets_in_seconds"].as_i64().unwrap();
    assert!((290..=300).contains(&wait), "{wait}");
    assert_eq!(retry_after, Some(wait));
    assert_eq!(
        (requests("acct-a"), requests("acct-b"), requests("acct-c")),
        (1, 1, 2),
        "blocked ones skipped"
    );
    served.stop();
}

#[test]
fn a_body_over_the_replay_bound_streams_through_and_is_never_replayed() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    put_own(&dir, "acct-a");
    put_own(&dir, "acct-b");
    backend.state().answers.insert("acct-a".into(), Answer::Limit { resets_in: 600 });
    let served = Served::start(&dir, &issuer, &backend, &["--replay-limit", "1024"]);
    let big = format!("{{\"store\": false, \"stream\": true, \"input\": \"{}\"}}", "y".repeat(100_000));
    let answer = served.post("/backend-api/codex/responses").body(big.clone()).send().unwrap();
    assert_eq!(answer.status().as_u16(), 429, "passed on, not replayed");
    assert_eq!(backend.state().bodies, [big.into_bytes()], "streamed whole, once");
    assert_eq!(backend.state().responses_requests.get("acct-b"), None);
    served.stop();
}

#[test]
fn sse_is_passed_on_unbuffered_a_hang_up_frees_the_stream_and_sigterm_drains() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    put_own(&dir, "acct-a");
    backend.state().answers.insert("acct-a".into(), Answer::Held);
    let served = Served::start(&dir, &issuer, &backend, &["--drain-seconds", "60"]);

    // The first event arrives while the backend still holds the rest.
    let address = served.url.trim_start_matches("http://").to_owned();
    let open = |address: &str| {
        let (stream, seen) =
            served.open_stream(address, "/backend-api/codex/responses", CODEX_REQUEST, "\"n\": 1");
        (stream, seen)
    };
    let (hung_up, head) = open(&address);
    assert!(String::from_utf8_lossy(&head).starts_with("HTTP/1.1 200"));
    drop(hung_up);

    // SIGTERM with a stream open: the stream is drained, then the server exits.
    let (mut draining, _) = open(&address);
    served.terminate();
    backend.release();
    assert!(backend.wait_dropped(1), "the hung-up client's upstream stream was not freed");
    let mut buf = vec![0u8; 64 << 10];
    let n = draining.read(&mut buf).unwrap();
    assert!(n > 0, "the open stream goes on after SIGTERM");
    drop(draining);
    let (code, _) = served.stop_after_terminate();
    assert_eq!(code, 0);
    assert!(backend.wait_dropped(2));
}

impl Served {
    pub fn stop_after_terminate(mut self) -> (i32, Vec<String>) {
        let status = self.child.wait().unwrap();
        (status.code().unwrap_or(-1), self.stderr.try_iter().collect())
    }
}

#[test]
fn a_spent_model_meter_moves_only_that_models_requests() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    put_own(&dir, "acct-a");
    put_own(&dir, "acct-b");
    let spark = "gpt-5.3-codex-spark";
    backend.state().spent_meters.push(("acct-a".into(), spark.into(), "codex_bengalfox".into()));
    // Least-used: acct-a, whose own meter is unused, stays the natural
    // choice; only the block can move a request off it.
    let served = Served::start(&dir, &issuer, &backend, &["--strategy", "least-used"]);
    let send = |model: &str| {
        let body = json!({"model": model, "input": "hi", "store": false, "stream": true}).to_string();
        let answer = served.post("/backend-api/codex/responses").body(body).send().unwrap();
        (answer.status().as_u16(), answer.text().unwrap())
    };
    let requests = |id: &str| backend.state().responses_requests.get(id).copied().unwrap_or(0);

    // A spark request meets acct-a's spent spark meter and moves on to b.
    let (status, text) = send(spark);
    assert_eq!(status, 200, "{text}");
    assert_eq!((requests("acct-a"), requests("acct-b")), (1, 1));
    // Another model still uses acct-a; spark goes straight to b.
    assert_eq!(send("gpt-5.1-codex").0, 200);
    assert_eq!((requests("acct-a"), requests("acct-b")), (2, 1), "acct-a serves other models");
    assert_eq!(send(spark).0, 200);
    assert_eq!((requests("acct-a"), requests("acct-b")), (2, 2), "spark skips acct-a");

    // The accounts and their usage show the meter's block and windows apart.
    let listed: Value =
        serde_json::from_str(&served.get("/v1/accounts").send().unwrap().text().unwrap()).unwrap();
    let a = &listed["accounts"].as_array().unwrap().iter().find(|x| x["name"] == "acct-a").unwrap().clone();
    assert_eq!(a["state"], "ok", "not blocked as a whole: {a}");
    assert_eq!(a["blocks"][0]["meter"], "codex_bengalfox");
    assert_eq!(a["blocks"][0]["models"], json!([spark]));
    let meters: Vec<&str> =
        a["usage"]["windows"].as_array().unwrap().iter().map(|w| w["meter"].as_str().unwrap()).collect();
    assert_eq!(meters, ["codex", "codex_bengalfox"], "{a}");
    let usage = run(env(dir.cli(), &issuer, &backend).args(["usage", "--json"]));
    assert_eq!(code(&usage), 0, "{}", stderr(&usage));
    let usage: Value = serde_json::from_str(&stdout(&usage)).unwrap();
    assert!(usage.to_string().contains("codex_bengalfox"), "{usage}");
    let checked = stdout(&run(env(dir.cli(), &issuer, &backend).args(["check"])));
    assert!(checked.contains("acct-a (") && checked.contains("codex_bengalfox 100%"), "{checked}");
    let shown = stdout(&run(env(dir.cli(), &issuer, &backend).args(["usage"])));
    assert!(
        shown.contains("codex_bengalfox spent until") && shown.contains(&format!("for {spark}")),
        "{shown}"
    );
    served.stop();
}

#[test]
fn the_guests_route_is_reused_until_an_answer_of_its_account_teaches_something() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    put_own(&dir, "acct-a");
    put_own(&dir, "acct-b");
    let served = Served::start(&dir, &issuer, &backend, &[]);
    let send = || {
        let body =
            json!({"model": "gpt-5.1-codex", "input": "hi", "store": false, "stream": true}).to_string();
        let answer = served
            .post("/backend-api/codex/responses")
            .header("session_id", "conv-1")
            .body(body)
            .send()
            .unwrap();
        answer.status().as_u16()
    };
    for _ in 0..3 {
        assert_eq!(send(), 200);
    }
    // acct-a meets its limit: the cached route is used once more, the 429
    // teaches the pool, and the guest is asked again (it gives acct-b).
    backend.state().answers.insert("acct-a".into(), Answer::Limit { resets_in: 600 });
    assert_eq!(send(), 200);
    assert_eq!(send(), 200);
    let requests = |id: &str| backend.state().responses_requests.get(id).copied().unwrap_or(0);
    assert_eq!((requests("acct-a"), requests("acct-b")), (4, 2));
    let (_, lines) = served.stop();
    let routes: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["path"] == "/backend-api/codex/responses")
        .map(|l| l["routes"].clone())
        .collect();
    assert_eq!(
        routes,
        [
            json!(["asked"]),
            json!(["cached"]),
            json!(["cached"]),
            json!(["cached", "asked"]),
            json!(["cached"])
        ],
        "{lines:#?}"
    );
}

/// An upstream that answers every request with the head of a stream and
/// one event, then closes the connection short of the declared length.
fn dying_upstream() -> (String, std::sync::Arc<std::sync::atomic::AtomicU32>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/backend-api/codex", listener.local_addr().unwrap());
    let served = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let count = served.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            // The request: its head and a small body, whatever they hold.
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let event = "event: response.output_text.delta\ndata: {\"delta\": \"Hel\"}\n\n";
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100000\r\n\r\n";
            let _ = stream.write_all(format!("{head}{event}").as_bytes());
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    (url, served)
}

#[test]
fn an_upstream_that_dies_mid_stream_ends_the_stream_cleanly_and_teaches_the_pool_nothing() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    put_own(&dir, "acct-a");
    put_own(&dir, "acct-b");
    let (upstream, served_by_upstream) = dying_upstream();
    let served = Served::start(&dir, &issuer, &backend, &["--upstream", &upstream]);
    for _ in 0..2 {
        let answer = served.post("/backend-api/codex/responses").body(CODEX_REQUEST).send().unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        // The body ends properly: what came, then an error event that says why.
        let text = answer.text().expect("a clean end of the stream");
        assert!(text.starts_with("event: response.output_text.delta\n"), "{text}");
        let last = text.trim_end().lines().last().unwrap();
        let error: Value = serde_json::from_str(last.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str()),
            (Some("error"), Some("upstream_disconnected"))
        );
    }
    assert_eq!(served_by_upstream.load(std::sync::atomic::Ordering::SeqCst), 2, "never replayed");
    // Nothing false was learnt: acct-a is neither blocked nor disabled.
    let listed: Value =
        serde_json::from_str(&served.get("/v1/accounts").send().unwrap().text().unwrap()).unwrap();
    let a = listed["accounts"].as_array().unwrap().iter().find(|x| x["name"] == "acct-a").unwrap().clone();
    assert_eq!((a["state"].as_str(), a["blocks"].as_array().map(Vec::len)), (Some("ok"), Some(0)), "{a}");
    let (_, lines) = served.stop();
    let logged: Vec<Value> = lines.iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(
        logged.iter().any(|l| l["error"].as_str().is_some_and(|e| e.contains("stream broke off"))),
        "{lines:#?}"
    );
    let accounts: Vec<&str> = logged.iter().filter_map(|l| l["account"].as_str()).collect();
    assert_eq!(accounts, ["acct-a", "acct-a"], "the second request stays on acct-a");
}
