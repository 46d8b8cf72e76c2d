//! `codex-auth serve` against the same local mock backend it forwards to:
//! what the gateway adds per request and to the first SSE byte, 500 open
//! streams at once, a refresh storm through it, and its peak memory. Every
//! ratio is against the direct call measured in the same run.
//!
//! ```sh
//! cargo bench -p codex-auth-cli --bench serve
//! ```

#[path = "../../tests/e2e/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../../tests/e2e/mock_issuer.rs"]
#[allow(dead_code)]
mod mock_issuer;

#[path = "../../tests/e2e/mock_backend.rs"]
#[allow(dead_code)]
mod mock_backend;

use mock_backend::{Answer, MockBackend};
use mock_issuer::MockIssuer;
use serde_json::Value;
use std::io::{BufRead as _, Read as _};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::*;

struct Served {
    child: Child,
    url: String,
    key: String,
}

fn serve(dir: &Dir, issuer: &MockIssuer, backend: &MockBackend) -> Served {
    let env = |mut c: std::process::Command| {
        c.env("CODEX_AUTH_ISSUER", &issuer.url).env("CODEX_AUTH_CHATGPT_BASE_URL", &backend.base);
        c
    };
    let key = stdout(&run(env(dir.cli()).args(["serve", "--print-key"]))).trim().to_owned();
    let mut child = env(dir.cli())
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        // Its log (a line per request, and any error) stays for a look afterwards.
        .stderr(std::fs::File::create(log_path()).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let start: Value = serde_json::from_str(&line).unwrap();
    Served { child, url: format!("http://{}", start["listening"].as_str().unwrap()), key }
}

/// Where the gateway under test writes its log.
fn log_path() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"), Into::into);
    target.join("serve-bench.log")
}

impl Served {
    /// Peak resident memory so far, KiB.
    fn peak_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn us(d: Duration) -> String {
    format!("{:.0} us", d.as_secs_f64() * 1e6)
}

/// One request; the time to the whole answer, or to its first body byte.
fn request(
    client: &reqwest::blocking::Client,
    url: &str,
    headers: &[(String, String)],
    first_byte: bool,
) -> Duration {
    send(client, url, headers, CODEX_REQUEST, first_byte)
}

/// Sends `body` with `headers`: when it was sent, and its (200) answer.
fn post(
    client: &reqwest::blocking::Client,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> (Instant, reqwest::blocking::Response) {
    let mut builder = client.post(url).body(body.to_owned());
    for (n, v) in headers {
        builder = builder.header(n, v);
    }
    let start = Instant::now();
    let answer = builder.send().unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    (start, answer)
}

/// One request with `body`; the time to the whole answer, or to its first
/// body byte.
fn send(
    client: &reqwest::blocking::Client,
    url: &str,
    headers: &[(String, String)],
    body: &str,
    first_byte: bool,
) -> Duration {
    let (start, mut answer) = post(client, url, headers, body);
    if first_byte {
        let mut one = [0u8; 1];
        answer.read_exact(&mut one).unwrap();
        let elapsed = start.elapsed();
        let _ = answer.bytes();
        elapsed
    } else {
        answer.bytes().unwrap();
        start.elapsed()
    }
}

/// One streamed request: the time until `marker` (the first token's
/// event) has arrived.
fn first_token(
    client: &reqwest::blocking::Client,
    url: &str,
    headers: &[(String, String)],
    body: &str,
    marker: &str,
) -> Duration {
    let (start, mut answer) = post(client, url, headers, body);
    let (mut seen, mut buf) = (Vec::new(), [0u8; 4096]);
    while !String::from_utf8_lossy(&seen).contains(marker) {
        let n = answer.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended without {marker}");
        seen.extend_from_slice(&buf[..n]);
    }
    let elapsed = start.elapsed();
    let _ = answer.bytes();
    elapsed
}

/// A row comparing two p-th percentiles: the baseline's and ours.
fn ratio_row(what: &str, baseline: Duration, ours: Duration) -> String {
    format!(
        "| {what} | {} | {} | {:.2}x | added {} |",
        us(baseline),
        us(ours),
        ours.as_secs_f64() / baseline.as_secs_f64(),
        us(ours.saturating_sub(baseline))
    )
}

fn sample(n: usize, mut f: impl FnMut() -> Duration) -> Vec<Duration> {
    for _ in 0..50 {
        f();
    }
    let mut all: Vec<Duration> = (0..n).map(|_| f()).collect();
    all.sort();
    all
}

/// Opens `n` held streams at once, waits until every one had its first
/// event, lets them go on, reads a little more of each, hangs up.
/// Opens `n` streams through the gateway one after another (each waits for
/// the one before it to get its first event), holds them all open, then
/// lets them go on. Opened all at once, tiny_http's task pool (0.12, the
/// mock's server) can leave a connection unserved for as long as the others
/// are held: `spawn` queues a task whenever a thread is idle, and several
/// accepts in a row all see the same idle thread.
fn open_streams(n: usize, url: &str, headers: &[(String, String)], backend: &MockBackend) -> Duration {
    let start = Instant::now();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n + 1));
    let (opened, first_events) = std::sync::mpsc::channel();
    let mut threads = Vec::with_capacity(n);
    for got in 0..n {
        let (url, headers, barrier, opened) =
            (url.to_owned(), headers.to_vec(), barrier.clone(), opened.clone());
        threads.push(std::thread::spawn(move || {
            // No overall timeout: the stream stays open across the barrier.
            let client = reqwest::blocking::Client::builder()
                .tls_backend_preconfigured(codex_auth::tls::client_config().unwrap())
                .timeout(None)
                .build()
                .unwrap();
            let mut builder = client.post(&url).body(CODEX_REQUEST);
            for (k, v) in &headers {
                builder = builder.header(k, v);
            }
            let mut answer = builder.send().unwrap();
            let mut buf = vec![0u8; 1024];
            answer.read_exact(&mut buf).unwrap();
            let _ = opened.send(());
            barrier.wait();
            answer.read_exact(&mut buf).unwrap();
        }));
        if first_events.recv_timeout(Duration::from_secs(60)).is_err() {
            panic!("{got} of {n} streams got their first event; the next got none in 60 s");
        }
    }
    barrier.wait();
    backend.release();
    for t in threads {
        t.join().unwrap();
    }
    start.elapsed()
}

/// The table's rows, each also printed on stderr as it is made: a run cut
/// short keeps what it measured.
#[derive(Default)]
struct Rows(Vec<String>);

impl Rows {
    fn push(&mut self, row: String) {
        eprintln!("serve bench: {row}");
        self.0.push(row);
    }
}

/// Streams held open at once through the gateway.
const STREAMS: usize = 500;

fn main() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    dir.put_account(
        "acct-a",
        &serde_json::to_vec(&account_file("acct-a", now() + 24 * 3600, "rt-a")).unwrap(),
    );
    let served = serve(&dir, &issuer, &backend);
    let direct_url = format!("{}/codex/responses", backend.base);
    let gateway_url = format!("{}/backend-api/codex/responses", served.url);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(dir.home().join("accounts/acct-a/auth.json")).unwrap())
            .unwrap();
    let direct_headers = vec![
        (
            "Authorization".to_owned(),
            format!("Bearer {}", stored["tokens"]["access_token"].as_str().unwrap()),
        ),
        ("chatgpt-account-id".to_owned(), "acct-a".to_owned()),
    ];
    let gateway_headers = vec![("Authorization".to_owned(), format!("Bearer {}", served.key))];
    let client = http();
    let mut rows = Rows::default();
    // `cargo bench --bench serve -- streams` runs only the last rows.
    let only_streams = std::env::args().skip(1).any(|a| a == "streams");

    if !only_streams {
        latency_rows(
            &mut rows,
            &served,
            &client,
            (&direct_url, &direct_headers),
            (&gateway_url, &gateway_headers),
        );
    }

    eprintln!("serve bench: 500 streams");
    // 500 streams held open at once through the gateway, each its first
    // event, then more: every one must complete (`open_streams` panics on
    // any error), and the gateway's memory is read before and after.
    let before_streams = served.peak_kib();
    backend.state().answers.insert("acct-a".into(), Answer::Held);
    let gateway = open_streams(STREAMS, &gateway_url, &gateway_headers, &backend);
    let peak = served.peak_kib();
    rows.push(format!(
        "| {STREAMS} streams held open at once (opened one after another, first event each, then more), through the gateway | | {:.1} ms | | all {STREAMS} completed; peak RSS {:.1} MiB before, {:.1} MiB after |",
        gateway.as_secs_f64() * 1e3,
        before_streams as f64 / 1024.0,
        peak as f64 / 1024.0,
    ));
    drop(served);

    eprintln!("serve bench: refresh storm");
    // A refresh storm through the gateway: 50 requests at once on an expired token.
    let storm_dir = Dir::new();
    storm_dir.put_account("acct-mock", &serde_json::to_vec(&issuer.codex_file(now() - 10)).unwrap());
    backend.state().answers.clear();
    let storm = serve(&storm_dir, &issuer, &backend);
    let before = issuer.state().refresh_requests;
    let url = format!("{}/backend-api/codex/responses", storm.url);
    let headers = vec![("Authorization".to_owned(), format!("Bearer {}", storm.key))];
    let start = Instant::now();
    let threads: Vec<_> = (0..50)
        .map(|_| {
            let (url, headers) = (url.clone(), headers.clone());
            std::thread::spawn(move || request(&http(), &url, &headers, false))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let storm_time = start.elapsed();
    let refreshes = issuer.state().refresh_requests - before;
    rows.push(format!(
        "| refresh storm: 50 requests at once on an expired token, through the gateway | | {:.1} ms | | refresh requests: {refreshes} |",
        storm_time.as_secs_f64() * 1e3
    ));
    rows.push(format!(
        "| gateway peak RSS after the runs above | | {:.1} MiB | | VmHWM |",
        peak as f64 / 1024.0
    ));
    println!("| benchmark | baseline | codex-auth serve | ratio | note |\n|---|---|---|---|---|");
    for row in rows.0 {
        println!("{row}");
    }
}

/// The latency rows: direct against gateway, and the Chat Completions
/// translation against the raw path.
fn latency_rows(
    rows: &mut Rows,
    served: &Served,
    client: &reqwest::blocking::Client,
    (direct_url, direct_headers): (&str, &[(String, String)]),
    (gateway_url, gateway_headers): (&str, &[(String, String)]),
) {
    eprintln!("serve bench: request latency");
    let direct = sample(2000, || request(client, direct_url, direct_headers, false));
    let gateway = sample(2000, || request(client, gateway_url, gateway_headers, false));
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        let (d, g) = (percentile(&direct, p), percentile(&gateway, p));
        rows.push(ratio_row(
            &format!("request {name}, direct to the mock (baseline) / through the gateway"),
            d,
            g,
        ));
    }
    eprintln!("serve bench: first SSE byte");
    let direct = sample(500, || request(client, direct_url, direct_headers, true));
    let gateway = sample(500, || request(client, gateway_url, gateway_headers, true));
    let (d, g) = (percentile(&direct, 0.5), percentile(&gateway, 0.5));
    rows.push(ratio_row("first SSE byte p50, direct / gateway", d, g));

    eprintln!("serve bench: Chat Completions, whole");
    // OpenAI's Chat Completions against the raw Responses path, both through
    // the gateway: what the translation adds.
    let chat_url = format!("{}/v1/chat/completions", served.url);
    let chat = r#"{"model":"gpt-5.1-codex","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}"#;
    let raw = sample(2000, || request(client, gateway_url, gateway_headers, false));
    eprintln!("serve bench: Chat Completions, whole: translated");
    let translated = sample(2000, || send(client, &chat_url, gateway_headers, chat, false));
    let (r, t) = (percentile(&raw, 0.5), percentile(&translated, 0.5));
    rows.push(ratio_row(
        "request p50, raw Responses path (baseline) / Chat Completions, whole answer, through the gateway",
        r,
        t,
    ));
    eprintln!("serve bench: first token");
    let streamed = r#"{"model":"gpt-5.1-codex","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let raw = sample(1000, || {
        first_token(client, gateway_url, gateway_headers, CODEX_REQUEST, "output_text.delta")
    });
    let translated =
        sample(1000, || first_token(client, &chat_url, gateway_headers, streamed, r#""content":"Hello""#));
    let (r, t) = (percentile(&raw, 0.5), percentile(&translated, 0.5));
    rows.push(ratio_row(
        "first token p50, raw Responses path (baseline) / Chat Completions stream, through the gateway",
        r,
        t,
    ));
}
