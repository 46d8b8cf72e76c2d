//! `GET /metrics` as Prometheus reads it: the exposition is parsed by
//! Prometheus's own client library (`scripts/prometheus-parse.sh`), never
//! matched as strings.

use crate::mock_backend::MockBackend;
use crate::mock_issuer::{ACCOUNT, MockIssuer};
use crate::serve::{Served, env, put_issued};
use crate::support::*;
use serde_json::{Value, json};
use std::io::Write as _;
use std::process::{Command, Stdio};

/// The exposition, parsed: `{"families": {name: type}, "samples": [...]}`.
fn scrape(served: &Served) -> (String, Value) {
    let answer = served.get("/metrics").send().unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let kind = answer.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = answer.text().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/prometheus-parse.sh");
    let mut parser = Command::new("bash")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    parser.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let o = parser.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}\n{text}", stderr(&o));
    (text, serde_json::from_str(&stdout(&o)).unwrap())
}

/// The value of the sample `name` whose labels include `labels`.
fn sample(parsed: &Value, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    parsed["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .and_then(|s| s["value"].as_f64())
}

#[test]
fn metrics_count_requests_refreshes_limits_usage_and_tokens_as_prometheus_reads_them() {
    let issuer = MockIssuer::start(&[]);
    let backend = MockBackend::start();
    let dir = Dir::new();
    // Expired: the first request through the server refreshes it.
    put_issued(&dir, &issuer, "work", now() - 60);
    backend.state().usage.insert(ACCOUNT.into(), 37);
    let spark = "gpt-5.3-codex-spark";
    backend.state().spent_meters.push((ACCOUNT.into(), spark.into(), "codex_bengalfox".into()));
    let served = Served::start(&dir, &issuer, &backend, &[]);
    let bare = http().get(format!("{}/metrics", served.url)).send().unwrap();
    assert_eq!(bare.status().as_u16(), 401, "the metrics are behind the local key");

    let codex = served.post("/backend-api/codex/responses").body(CODEX_REQUEST).send().unwrap();
    assert_eq!(codex.status().as_u16(), 200);
    assert!(codex.text().unwrap().contains("response.completed"));
    let chat = json!({"model": "gpt-5.1-codex", "messages": [{"role": "user", "content": "hi"}]});
    let chat = served.post("/v1/chat/completions").body(chat.to_string()).send().unwrap();
    assert_eq!(chat.status().as_u16(), 200);
    let body = json!({"model": spark, "input": "hi", "store": false, "stream": true}).to_string();
    let limited = served.post("/backend-api/codex/responses").body(body).send().unwrap();
    assert_eq!(limited.status().as_u16(), 429);
    // The usage windows, as `codex-auth usage` fetched them into the pool state.
    let o = run(env(dir.cli(), &issuer, &backend).args(["usage", "--json"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let (text, m) = scrape(&served);
    for (family, kind) in [
        ("codex_auth_requests", "counter"),
        ("codex_auth_upstream_seconds", "histogram"),
        ("codex_auth_stream_first_byte_seconds", "histogram"),
        ("codex_auth_refreshes", "counter"),
        ("codex_auth_usage_limit_blocks", "counter"),
        ("codex_auth_usage_used_percent", "gauge"),
        ("codex_auth_usage_reset_seconds", "gauge"),
        ("codex_auth_tokens", "counter"),
        ("codex_auth_open_streams", "gauge"),
    ] {
        assert_eq!(m["families"][family], kind, "{family}: {text}");
    }
    let requests = |account: &str, route: &str, class: &str| {
        sample(
            &m,
            "codex_auth_requests_total",
            &[("account", account), ("route", route), ("status_class", class)],
        )
    };
    assert_eq!(requests("work", "codex", "2xx"), Some(1.0));
    assert_eq!(requests("work", "chat_completions", "2xx"), Some(1.0));
    assert_eq!(requests("none", "codex", "4xx"), Some(1.0), "no account was left for the spark request");
    assert_eq!(
        sample(&m, "codex_auth_refreshes_total", &[("account", "work"), ("outcome", "rotated")]),
        Some(1.0)
    );
    let blocks = sample(
        &m,
        "codex_auth_usage_limit_blocks_total",
        &[("account", "work"), ("meter", "codex_bengalfox")],
    );
    assert_eq!(blocks, Some(1.0));
    // Both answers' last events: 12 input (4 cached), 7 output (2 reasoning) each.
    let tokens = |kind: &str| sample(&m, "codex_auth_tokens_total", &[("account", "work"), ("kind", kind)]);
    assert_eq!((tokens("input"), tokens("cached")), (Some(24.0), Some(8.0)));
    assert_eq!((tokens("output"), tokens("reasoning")), (Some(14.0), Some(4.0)));
    let window = [("account", "work"), ("meter", "codex"), ("window", "primary")];
    assert_eq!(sample(&m, "codex_auth_usage_used_percent", &window), Some(37.0));
    let reset = sample(&m, "codex_auth_usage_reset_seconds", &window).unwrap();
    assert!((3000.0..=3600.0).contains(&reset), "{reset}");
    assert_eq!(sample(&m, "codex_auth_upstream_seconds_count", &[("api", "codex")]), Some(2.0));
    assert_eq!(sample(&m, "codex_auth_upstream_seconds_count", &[("api", "chat_completions")]), Some(1.0));
    assert_eq!(sample(&m, "codex_auth_stream_first_byte_seconds_count", &[("api", "codex")]), Some(1.0));
    assert!(sample(&m, "codex_auth_open_streams", &[]).is_some_and(|open| open <= 1.0));
    // Bounded labels: never a secret, a session or what a user wrote.
    let stored: Value =
        serde_json::from_slice(&std::fs::read(dir.home().join("accounts/work/auth.json")).unwrap()).unwrap();
    let tokens = &stored["tokens"];
    for secret in [&tokens["access_token"], &tokens["refresh_token"], &tokens["id_token"], &json!(served.key)]
    {
        assert!(!text.contains(secret.as_str().unwrap()), "a secret in the metrics");
    }
    assert!(!text.contains("hi\""), "no request text");

    // What the account served is kept with its pool state (written at the
    // latest when the server stops), where `usage` shows it.
    served.stop();
    let o = run(env(dir.cli(), &issuer, &backend).args(["usage", "--json"]));
    let reports: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let served = &reports[0]["served"];
    assert_eq!(served.as_array().map(Vec::len), Some(1), "{reports:#}");
    let today = &served[0];
    assert_eq!(today["requests"], 2, "the Codex request and the chat completion");
    assert_eq!((today["input_tokens"].as_u64(), today["cached_tokens"].as_u64()), (Some(24), Some(8)));
    assert_eq!(today["output_tokens"], 14);
    let plain = stdout(&run(env(dir.cli(), &issuer, &backend).arg("usage")));
    let day = today["day"].as_str().unwrap();
    assert!(plain.contains(&format!("served {day}: 2 requests, 24 tokens in (8 cached), 14 out")), "{plain}");
}
