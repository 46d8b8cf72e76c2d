//! OpenAI's APIs through the gateway (`/v1/chat/completions`,
//! `/v1/responses`, `/v1/models`): the real OpenAI SDKs, rotation and
//! limits in OpenAI's shape, streaming as it arrives, the model list.

use crate::mock_backend::{Answer, MockBackend};
use crate::mock_issuer::MockIssuer;
use crate::serve::{Served, put_own};
use crate::support::*;
use serde_json::{Value, json};
use std::process::Command;

/// An issuer, a backend and a vault whose own accounts are `accounts`.
fn mocks_with(accounts: &[&str]) -> (MockIssuer, MockBackend, Dir) {
    let (issuer, backend, dir) = (MockIssuer::start(&[]), MockBackend::start(), Dir::new());
    for account in accounts {
        put_own(&dir, account);
    }
    (issuer, backend, dir)
}

/// An OpenAI SDK, as a user points it at the gateway (base URL `/v1`, the
/// local key as its API key), against a backend that refuses what the real
/// one refuses: Chat Completions whole and streamed, a tool call round
/// trip, a refused field, Responses whole and streamed.
fn an_openai_sdk_speaks_both_apis_through_the_gateway(language: &str) {
    let (issuer, backend, dir) = mocks_with(&["acct-a"]);
    let served = Served::start(&dir, &issuer, &backend, &[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/openai-sdk.sh");
    let o = run(Command::new("bash")
        .arg(script)
        .arg(language)
        .arg(format!("{}/v1", served.url))
        .arg(&served.key));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let hello = "Hello from acct-a.";

    let chat = &out["chat"];
    assert_eq!(
        (chat["object"].as_str(), chat["content"].as_str()),
        (Some("chat.completion"), Some(hello)),
        "{out:#}"
    );
    assert_eq!(chat["finish_reason"], "stop");
    let usage = &chat["usage"];
    assert_eq!((usage["prompt_tokens"].as_u64(), usage["completion_tokens"].as_u64()), (Some(12), Some(7)));
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 4);

    let stream = &out["chat_stream"];
    assert_eq!((stream["roles"].clone(), stream["content"].as_str()), (json!(["assistant"]), Some(hello)));
    assert_eq!(stream["finish_reasons"], json!(["stop"]));
    assert_eq!(stream["usage"]["total_tokens"], 19);

    let round_trip = &out["tool_round_trip"];
    let call = &round_trip["call"];
    assert_eq!((call["id"].as_str(), call["name"].as_str()), (Some("call_mock1"), Some("get_weather")));
    assert_eq!(call["arguments"], json!({"city": "Paris", "unit": "celsius"}));
    assert_eq!(call["pieces"], 3, "the arguments came in the pieces the backend sent");
    assert_eq!(call["finish_reason"], "tool_calls");
    assert_eq!(
        (round_trip["answer"].as_str(), round_trip["finish_reason"].as_str()),
        (Some(hello), Some("stop"))
    );

    let refused = &out["refused"];
    assert_eq!(
        (refused["status"].as_u64(), refused["code"].as_str()),
        (Some(400), Some("unsupported_parameter"))
    );
    assert_eq!(refused["param"], "stop");

    let response = &out["responses"];
    assert_eq!(
        (response["object"].as_str(), response["status"].as_str()),
        (Some("response"), Some("completed"))
    );
    assert_eq!(
        (response["output_text"].as_str(), response["usage"]["total_tokens"].as_u64()),
        (Some(hello), Some(19))
    );
    let events = &out["responses_stream"];
    let types = events["types"].as_array().unwrap();
    assert_eq!(
        (types.first().unwrap().as_str(), types.last().unwrap().as_str()),
        (Some("response.created"), Some("response.completed"))
    );
    assert_eq!(events["text"], hello);

    // Every request reached the backend in a form it takes; the refused one never left.
    let state = backend.state();
    assert_eq!(state.refusals, vec![], "the backend refused nothing");
    assert_eq!(state.responses_requests.get("acct-a"), Some(&6));
    let bodies: Vec<Value> = state.bodies.iter().map(|b| serde_json::from_slice(b).unwrap()).collect();
    for body in &bodies {
        assert_eq!((body["store"].clone(), body["stream"].clone()), (json!(false), json!(true)));
        assert!(body.get("max_output_tokens").is_none());
    }
    assert_eq!(bodies[0]["instructions"], "Be brief.");
    assert_eq!(
        bodies[3]["input"][1],
        json!({"type": "function_call", "call_id": "call_mock1", "name": "get_weather",
                                             "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"})
    );
    assert_eq!(
        bodies[3]["input"][2],
        json!({"type": "function_call_output", "call_id": "call_mock1", "output": "18 degrees and sunny"})
    );
    let seen = state.seen_headers.last().unwrap();
    assert!(seen.contains(&("chatgpt-account-id".to_owned(), "acct-a".to_owned())));
    drop(state);
    served.stop();
}

/// The JavaScript SDK (npm `openai`, pinned in `scripts/openai-sdk.sh`).
#[test]
fn the_openai_javascript_sdk_speaks_chat_completions_and_responses_through_the_gateway() {
    an_openai_sdk_speaks_both_apis_through_the_gateway("js");
}

/// The Python SDK (PyPI `openai`, pinned in `scripts/openai-sdk.sh`).
#[test]
fn the_openai_python_sdk_speaks_chat_completions_and_responses_through_the_gateway() {
    an_openai_sdk_speaks_both_apis_through_the_gateway("python");
}

fn chat(served: &Served, body: &Value) -> (u16, reqwest::header::HeaderMap, Value) {
    let answer = served
        .post("/v1/chat/completions")
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    let (status, headers) = (answer.status().as_u16(), answer.headers().clone());
    (status, headers, serde_json::from_str(&answer.text().unwrap()).unwrap())
}

#[test]
fn chat_completions_rotate_on_a_limit_and_say_when_every_account_frees_up() {
    let (issuer, backend, dir) = mocks_with(&["acct-a", "acct-b"]);
    backend.state().answers.insert("acct-a".into(), Answer::Limit { resets_in: 600 });
    let served = Served::start(&dir, &issuer, &backend, &["--strategy", "round-robin"]);
    let request = json!({"model": "gpt-5.1-codex", "messages": [{"role": "user", "content": "hi"}]});

    // acct-a is at its limit: the request moves to acct-b, translated the same.
    let (status, _, answer) = chat(&served, &request);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["choices"][0]["message"]["content"], "Hello from acct-b.");
    let sent_twice: Vec<Value> =
        backend.state().bodies.iter().map(|b| serde_json::from_slice(b).unwrap()).collect();
    assert!(sent_twice.iter().all(|b| b["input"][0]["content"][0]["text"] == "hi"));

    // Both at their limits: a 429 an agent can wait on.
    backend.state().answers.insert("acct-b".into(), Answer::Limit { resets_in: 900 });
    let (status, headers, answer) = chat(&served, &request);
    assert_eq!(status, 429, "{answer}");
    let error = &answer["error"];
    assert_eq!(
        (error["code"].as_str(), error["type"].as_str()),
        (Some("usage_limit_reached"), Some("rate_limit_error"))
    );
    let wait = error["resets_in_seconds"].as_u64().unwrap();
    assert!((590..=600).contains(&wait), "acct-a frees up first: {wait}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(retry_after, wait);

    // A request the gateway cannot translate never leaves, and says why.
    let sent = backend.state().bodies.len();
    let (status, _, answer) =
        chat(&served, &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": 3}));
    assert_eq!(status, 400);
    assert_eq!(
        (answer["error"]["code"].as_str(), answer["error"]["param"].as_str()),
        (Some("unsupported_value"), Some("n"))
    );
    let bad = served.post("/v1/chat/completions").body("{nope").send().unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert_eq!(serde_json::from_str::<Value>(&bad.text().unwrap()).unwrap()["error"]["code"], "invalid_json");
    assert_eq!(backend.state().bodies.len(), sent);
    served.stop();
}

#[test]
fn a_whole_answer_moves_on_at_a_limit_that_comes_after_output() {
    let (issuer, backend, dir) = mocks_with(&["acct-a", "acct-b"]);
    let resets_at = now() + 600;
    backend.state().answers.insert("acct-a".into(), Answer::FailedAfterOutput { resets_at });
    let served = Served::start(&dir, &issuer, &backend, &["--strategy", "round-robin"]);
    let request = json!({"model": "gpt-5.1-codex", "messages": [{"role": "user", "content": "hi"}]});

    // acct-a's stream fails at its limit after half a megabyte of output,
    // none of which the client has seen: the request moves to acct-b.
    let (status, _, answer) = chat(&served, &request);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["choices"][0]["message"]["content"], "Hello from acct-b.");
    assert_eq!(backend.state().responses_requests["acct-a"], 1);
    let accounts: Value =
        serde_json::from_str(&served.get("/v1/accounts").send().unwrap().text().unwrap()).unwrap();
    let a = accounts["accounts"].as_array().unwrap().iter().find(|a| a["name"] == "acct-a").unwrap();
    // The event names no meter: the request's model is blocked there.
    assert_eq!(a["blocks"][0]["models"], json!(["gpt-5.1-codex"]), "{a}");
    assert_eq!(a["blocks"][0]["until"], resets_at);
    served.stop();
}

#[test]
fn a_streamed_answer_moves_on_at_a_limit_that_comes_after_the_opening_events() {
    let (issuer, backend, dir) = mocks_with(&["acct-a", "acct-b"]);
    backend.state().answers.insert("acct-a".into(), Answer::FailedEvent { resets_at: now() + 600 });
    let served = Served::start(&dir, &issuer, &backend, &["--strategy", "round-robin"]);
    let request =
        json!({"model": "gpt-5.1-codex", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let answer = served.post("/v1/chat/completions").body(request.to_string()).send().unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    // The client gets acct-b's stream, and nothing of acct-a's.
    let text = answer.text().unwrap();
    let said: String = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line.strip_prefix("data: ")?).ok())
        .filter_map(|chunk| Some(chunk["choices"][0]["delta"]["content"].as_str()?.to_owned()))
        .collect();
    assert_eq!(said, "Hello from acct-b.");
    assert_eq!(text.matches("\"role\":\"assistant\"").count(), 1, "one role chunk: {text}");
    assert_eq!(backend.state().responses_requests["acct-a"], 1);
    served.stop();
}

#[test]
fn a_chat_stream_is_sent_as_the_backend_sends_it() {
    let (issuer, backend, dir) = mocks_with(&["acct-a"]);
    backend.state().answers.insert("acct-a".into(), Answer::Held);
    let served = Served::start(&dir, &issuer, &backend, &[]);
    let body =
        json!({"model": "gpt-5.1-codex", "stream": true, "messages": [{"role": "user", "content": "hi"}]})
            .to_string();
    let address = served.url.trim_start_matches("http://").to_owned();
    // The backend has sent one event and holds the rest: its chunks arrive
    // now (the role chunk, then the event's own).
    let role = r#""delta":{"role":"assistant","content":"","refusal":null}"#;
    let (stream, seen) =
        served.open_stream(&address, "/v1/chat/completions", &body, r#""delta":{"content":""}"#);
    let seen = String::from_utf8_lossy(&seen);
    assert!(seen.contains("content-type: text/event-stream"), "{seen}");
    assert!(seen.contains(role), "{seen}");
    drop(stream);
    backend.release();
    assert!(backend.wait_dropped(1), "the client went away: the upstream stream is let go");
    served.stop();
}

#[test]
fn models_are_the_backends_list_kept_and_served_in_openais_shape() {
    let (issuer, backend, dir) = mocks_with(&["acct-a"]);
    let served = Served::start(&dir, &issuer, &backend, &[]);
    let get = |path: &str| {
        let answer = served.get(path).send().unwrap();
        (answer.status().as_u16(), serde_json::from_str::<Value>(&answer.text().unwrap()).unwrap())
    };
    let (status, list) = get("/v1/models");
    assert_eq!(status, 200);
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["gpt-5.2-codex", "gpt-5.1-codex-mini"], "the hidden model is left out");
    assert_eq!(list["data"][0]["object"], "model");
    let (status, one) = get("/v1/models/gpt-5.1-codex-mini");
    assert_eq!(
        (status, one["id"].as_str(), one["object"].as_str()),
        (200, Some("gpt-5.1-codex-mini"), Some("model"))
    );
    let (status, missing) = get("/v1/models/gpt-4o");
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("model_not_found")));
    assert_eq!(backend.state().models_requests.get("acct-a"), Some(&1), "asked once, then kept");
    served.stop();

    // Without an account that can ask, the built-in list stands in.
    let empty = Dir::new();
    let served = Served::start(&empty, &issuer, &backend, &[]);
    let answer = served.get("/v1/models").send().unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let list: Value = serde_json::from_str(&answer.text().unwrap()).unwrap();
    assert!(list["data"].as_array().unwrap().iter().any(|m| m["id"] == "gpt-5-codex"), "{list}");
    served.stop();
}

/// `serve --print-config`: a block or environment a person pastes, naming
/// the stable default port, and reading the key from where it lives when
/// used (never holding it).
#[test]
fn print_config_points_codex_and_openai_clients_at_the_gateway_and_the_key() {
    let dir = Dir::new();
    let key = stdout(&run(dir.cli().args(["serve", "--print-key"]))).trim().to_owned();

    let codex = stdout(&run(dir.cli().args(["serve", "--print-config", "codex"])));
    assert!(!codex.contains(&key), "the key is read when used, not written down");
    let value = |name: &str| -> Value {
        let line =
            codex.lines().find(|l| l.starts_with(&format!("{name} = "))).unwrap_or_else(|| panic!("{codex}"));
        serde_json::from_str(line.split_once(" = ").unwrap().1).unwrap()
    };
    assert_eq!(value("model_provider"), "codex-auth");
    assert_eq!(value("base_url"), "http://127.0.0.1:8765/backend-api/codex", "the stable default port");
    assert_eq!(value("wire_api"), "responses");
    assert!(codex.contains("[model_providers.codex-auth.auth]"));
    let args: Vec<String> = serde_json::from_value(value("args")).unwrap();
    let o = run(Command::new(value("command").as_str().unwrap()).args(&args).env("HOME", dir.home()));
    assert_eq!(stdout(&o).trim(), key, "the Codex CLI's auth command prints the key");

    let script = r#"eval "$("$@" serve --print-config openai)"; printf '%s\n%s\n' "$OPENAI_BASE_URL" "$OPENAI_API_KEY""#;
    let program = env!("CARGO_BIN_EXE_codex-auth");
    let home = dir.home();
    let o = run(Command::new("bash").args(["-c", script, "sh", program, "--home"]).arg(&home));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("http://127.0.0.1:8765/v1\n{key}\n"));
    let printed = stdout(&run(dir.cli().args(["serve", "--print-config", "openai", "--port", "9100"])));
    assert!(
        printed.contains("OPENAI_BASE_URL=http://127.0.0.1:9100/v1") && !printed.contains(&key),
        "{printed}"
    );

    let o = run(dir.cli().args(["serve", "--print-config", "codex", "--port", "0"]));
    assert_ne!(code(&o), 0);
    assert!(stderr(&o).contains("set a port with --port"), "{}", stderr(&o));
}
