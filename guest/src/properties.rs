//! Properties of every parser and decision, checked on arbitrary input.
//!
//! The fuzz targets in `fuzz/` call these; the unit tests below run them
//! on the seed corpus and on generated input, so they hold on stable too.
//! Each panics when its property fails.

use crate::oauth::authorize::{self, AuthorizeRequest, CallbackOutcome};
use crate::oauth::jwt;
use crate::oauth::pkce;
use crate::oauth::query;
use crate::oauth::responses::{self, PollOutcome, RefreshFailure};
use crate::session::policy::{self, RefreshDecision, StoredKind};
use crate::store::auth_file;

/// Splits fuzz input into a small header and the rest.
fn split(data: &[u8]) -> (u16, &[u8]) {
    match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]), rest),
        _ => (0, data),
    }
}

/// JWT parsing is total; claims written into a token read back the same.
pub fn jwt_claims(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = jwt::parse(&text);
    let value = serde_json::json!({
        "exp": i64::from(split(data).0),
        "email": text,
        "https://api.openai.com/auth": {"chatgpt_account_id": text, "chatgpt_plan_type": "plus"},
    });
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = format!("h.{}.s", b64.encode(value.to_string()));
    let claims = jwt::parse(&token).expect("a well-formed token parses");
    assert_eq!(claims.account_id.as_deref(), Some(text.as_ref()));
    assert_eq!(claims.email.as_deref(), Some(text.as_ref()));
    assert_eq!(claims.expires_at, Some(i64::from(split(data).0)));
}

/// A callback is accepted only with exactly the expected state.
pub fn callback(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (target, expected) = text.split_once('\u{1}').unwrap_or((&text, "expected-state"));
    // A paste is trimmed first: stray whitespace around a URL is not part of it.
    let cases = [
        (authorize::parse_callback(target, expected), target),
        (authorize::parse_pasted(target, expected), target.trim()),
    ];
    for (outcome, seen) in cases {
        if let CallbackOutcome::Code(_) | CallbackOutcome::Denied(_) = outcome {
            assert!(!expected.is_empty());
            let received = state_of(seen);
            assert!(received.iter().any(|s| s == expected), "accepted state {received:?} != {expected:?}");
        }
        let reply = authorize::callback_reply(&outcome);
        assert!(!reply.body.contains("<script"), "a reply echoes markup");
    }
}

/// Every `state` value a target or paste carries, decoded.
fn state_of(target: &str) -> Vec<String> {
    let query_part = target.split_once('?').map_or(target, |(_, q)| q);
    let first_state = |q: &str| query::parse(q).into_iter().find(|(k, _)| k == "state").map(|(_, v)| v);
    let mut states: Vec<String> = [query_part, query_part.split('#').next().unwrap_or_default()]
        .into_iter()
        .filter_map(first_state)
        .collect();
    if let Some((_, state)) = target.trim().split_once('#') {
        states.push(state.to_owned());
    }
    states
}

/// Token responses: total; a grant only from a 2xx answer.
pub fn token_response(data: &[u8]) {
    let (status, body) = split(data);
    if responses::parse_token_response(status, body).is_ok() {
        assert!((200..300).contains(&status));
    }
}

/// Device answers: total; intervals within bounds; approval only on 2xx.
pub fn device(data: &[u8]) {
    let (status, body) = split(data);
    if let Ok(code) = responses::parse_device_code(status, body) {
        assert!(code.interval_seconds <= 60, "an interval is bounded (0: poll at once)");
        assert!(!code.device_auth_id.is_empty() && !code.user_code.is_empty());
    }
    if let PollOutcome::Approved(a) = responses::parse_device_poll(status, body) {
        assert!((200..300).contains(&status));
        assert!(!a.authorization_code.is_empty() && !a.code_verifier.is_empty());
    }
}

/// Refresh errors: total; a 401 is always permanent.
pub fn refresh_error(data: &[u8]) {
    let (status, body) = split(data);
    let failure = responses::classify_refresh_error(status, body);
    if status == 401 {
        assert!(matches!(failure, RefreshFailure::Permanent(_)));
    }
}

/// auth.json: reading is total; what is read writes back to the same
/// credential, over the old file or alone.
pub fn auth_file(data: &[u8]) {
    let Ok(auth) = auth_file::read(data) else {
        return;
    };
    let over = auth_file::write(Some(data), &auth).expect("a readable file can be rewritten");
    assert_eq!(auth_file::read(&over).expect("what is written reads"), auth);
    let alone = auth_file::write(None, &auth).expect("writes");
    assert_eq!(auth_file::read(&alone).expect("what is written reads"), auth);
}

/// The authorize URL carries every field, decodable back to what was given.
pub fn authorize_url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1}').map(str::to_owned);
    let mut next = || parts.next().unwrap_or_default();
    let request = AuthorizeRequest {
        issuer: format!("https://{}", next().replace(['?', '#', ' ', '/'], "")),
        client_id: next(),
        redirect_uri: next(),
        scope: Some(next()),
        code_challenge: next(),
        state: next(),
        originator: next(),
        allowed_workspace_id: Some(next()),
    };
    let Ok(url) = authorize::authorize_url(&request) else {
        return;
    };
    let (_, q) = url.split_once("/oauth/authorize?").expect("the path is fixed");
    let pairs = query::parse(q);
    let get = |k| query::get(&pairs, k).map(str::to_owned);
    assert_eq!(get("client_id"), Some(request.client_id.clone()));
    assert_eq!(get("redirect_uri"), Some(request.redirect_uri.clone()));
    assert_eq!(get("scope"), request.scope.clone());
    assert_eq!(get("state"), Some(request.state.clone()));
    assert_eq!(get("code_challenge"), Some(request.code_challenge.clone()));
    assert_eq!(get("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(get("allowed_workspace_id"), request.allowed_workspace_id.clone());
}

/// Decisions are total and consistent: expired exactly when `exp` has
/// passed; precedence never skips a stored credential.
pub fn decisions(data: &[u8]) {
    let mut words = data.chunks(8).map(|c| {
        let mut b = [0u8; 8];
        b[..c.len()].copy_from_slice(c);
        i64::from_le_bytes(b)
    });
    let (exp, last, now) = (words.next(), words.next(), words.next().unwrap_or(0));
    let skew = split(data).0.into();
    let decision = policy::decide_refresh(exp, last, now, skew);
    if let Some(exp) = exp {
        assert_eq!(decision == RefreshDecision::Expired, exp <= now);
    } else {
        assert_ne!(decision, RefreshDecision::Expired);
    }
    let env = data.first().is_some_and(|b| b & 1 == 1);
    let (runtime, config) =
        (data.get(1).is_some_and(|b| b & 1 == 1), data.get(2).is_some_and(|b| b & 1 == 1));
    for stored in [StoredKind::None, StoredKind::Subscription, StoredKind::ApiKey, StoredKind::Command] {
        let tier = policy::choose_tier(runtime, config, stored, env);
        // The environment's key is used only when nothing above it is there.
        assert_eq!(
            tier == crate::session::policy::Tier::Environment,
            !runtime && !config && stored == StoredKind::None && env
        );
        assert_eq!(tier == crate::session::policy::Tier::Runtime, runtime);
    }
}

/// Every verifier made from valid entropy satisfies RFC 7636.
pub fn pkce_pair(data: &[u8]) {
    match pkce::from_entropy(data) {
        Ok(pair) => {
            pkce::check_verifier(&pair.verifier).expect("RFC 7636 verifier");
            assert_eq!(pkce::challenge(&pair.verifier).unwrap(), pair.challenge);
            assert_eq!(pair.challenge.len(), 43);
        }
        Err(_) => assert!(!pkce::ENTROPY_RANGE.contains(&data.len())),
    }
    let _ = pkce::challenge(&String::from_utf8_lossy(data));
}

/// Usage answers, rate-limit headers, 429 bodies and stream events: total;
/// a window's percent is at most 100 wherever it came from; a limit read
/// from a 429 or an event never resets before `now` unless it says so
/// itself (an absolute `resets_at`).
pub fn usage(data: &[u8]) {
    let (now, body) = split(data);
    let now = 1_700_000_000 + i64::from(now);
    if let Ok(usage) = crate::vault::usage::parse_usage(body, now) {
        assert!(usage.binding_percent().is_none_or(|p| p <= 100), "{usage:?}");
    }
    let text = String::from_utf8_lossy(body);
    let headers: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if let Some(seen) = crate::vault::usage::parse_rate_limit_headers(&headers) {
        assert!(seen.binding_percent().is_none_or(|p| p <= 100), "{seen:?}");
    }
    for limit in [
        crate::vault::usage::parse_limit_answer(429, &headers, body, now),
        crate::vault::usage::parse_limit_event(body, now),
    ] {
        let Some(limit) = limit else { continue };
        let absolute = text.contains("\"resets_at\"");
        assert!(absolute || limit.resets_at.is_none_or(|t| t >= now), "{limit:?}");
    }
    assert!(
        crate::vault::usage::parse_limit_answer(200, &headers, body, now).is_none(),
        "only a 429 is a usage limit answer"
    );
}

/// codex-auth's own settings file and a Codex home's `config.toml`, as the
/// host hands them over (JSON): parsing is total, every setting shown comes
/// from the file, and a Codex config shows only the sign-in keys it set.
/// The vault's own files (`vault.json`, an account's pool state, a move's
/// journal entry) read back what they say as the vault would write it.
pub fn config_files(data: &[u8]) {
    let pool = crate::vault::pool::PoolState::read(Some(data));
    assert_eq!(crate::vault::pool::PoolState::read(Some(&pool.write())), pool);
    let settings = crate::vault::Settings::read(Some(data));
    assert_eq!(crate::vault::Settings::read(Some(&settings.write())), settings);
    if let Some(home) = crate::vault::take_over::read_journal_entry(data) {
        let again = crate::vault::take_over::journal_entry(&home.directory, home.kept_in, "a");
        assert_eq!(crate::vault::take_over::read_journal_entry(&again), Some(home));
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(file) = crate::store::config_file::parse(&text, "/h/codex-auth.toml") {
        let shown = crate::store::config_file::effective(&[], Some(&file));
        assert!(shown.iter().all(|s| s.origin != crate::store::config_file::Origin::Flag));
        let _ = crate::store::plan::plan(&[], Some(&file), &[]);
    }
    if let Ok(codex) = crate::store::codex_config::parse(&text, "/c/config.toml") {
        for (key, value) in codex.settings() {
            assert!(text.contains(key), "{key} shown but not in the file");
            assert!(!value.is_empty() || key == "chatgpt_base_url", "{key} is empty");
        }
        let _ = codex.check_chatgpt_login(Some("ws"));
        let _ = codex.check_api_key();
    }
}

/// A command account's output: total; a token handed out is one word of
/// printable ASCII, printed with exit status 0, and never appears in an error.
pub fn command_output(data: &[u8]) {
    let (status, stdout) = split(data);
    let spec =
        crate::store::command::CommandSpec::from_json(&serde_json::json!({"program": "get-token"})).unwrap();
    let status = (status % 3 != 2).then_some(i32::from(status % 3));
    let output = crate::platform::ProcessOutput { status, stdout: stdout.to_vec(), stderr: b"why".to_vec() };
    match spec.token(Ok(output)) {
        Ok(token) => {
            assert_eq!(status, Some(0));
            assert!(crate::oauth::token_shaped(&token), "{token:?}");
        }
        Err(e) => {
            // No run of 12 letters and digits from the output (the fixed
            // texts have none that long) shows up in the error.
            let shown = e.to_string();
            let printed = String::from_utf8_lossy(stdout);
            for run in printed.split(|c: char| !c.is_ascii_alphanumeric()).filter(|r| r.len() >= 12) {
                assert!(!shown.contains(run), "the output leaked into the error: {shown}");
            }
        }
    }
}

/// OpenAI requests and the backend's error answers: translation is total;
/// a request sent on always says `store: false` and `stream: true` and
/// carries nothing the backend refuses; a refusal is a 400; every error
/// answer is OpenAI's `{"error": {"message": ...}}`; a model list is never
/// empty.
pub fn openai_requests(data: &[u8]) {
    use crate::openai::{chat_request, models, responses_request, upstream_error};
    use serde_json::Value;
    for translated in [chat_request::translate(data), responses_request::translate(data)] {
        match translated {
            Ok(t) => {
                let body: Value = serde_json::from_slice(&t.body).expect("a translated request is JSON");
                assert_eq!(
                    (&body["store"], &body["stream"]),
                    (&Value::Bool(false), &Value::Bool(true)),
                    "{body}"
                );
                assert!(body.get("max_output_tokens").is_none(), "{body}");
                assert!(t.model.is_some_and(|m| !m.is_empty()));
            }
            Err(e) => assert_eq!(e.status, 400, "{e:?}"),
        }
    }
    let (status, body) = split(data);
    let answer = upstream_error::translate(status, body, 1_700_000_000);
    let json: Value = serde_json::from_slice(&answer.body).expect("an error answer is JSON");
    assert!(json["error"]["message"].is_string(), "{json}");
    assert!(!models::from_answer(Some((status, body)), 0).ids.is_empty());
}

/// The backend's stream, whatever it holds and however it is cut, makes
/// the same answer: total; a Chat stream is JSON events with at most one
/// `[DONE]`, last; a whole answer is JSON.
pub fn openai_streams(data: &[u8]) {
    use crate::openai::AnswerShape;
    use crate::openai::answer::Answer;
    let (cut, stream) = split(data);
    let cut = usize::from(cut) % (stream.len() + 1);
    // The end of a stream read alone counts what the whole answer counts.
    if let Some(usage) = crate::openai::stream_usage::stream_usage(stream) {
        let mut answer = Answer::new(AnswerShape::ResponsesStream, "m", 0);
        answer.feed(stream);
        assert_eq!(answer.finish(None).usage, Some(usage));
    }
    for &shape in AnswerShape::ALL {
        let whole = {
            let mut answer = Answer::new(shape, "m", 0);
            let mut out = answer.feed(stream);
            let end = answer.finish(None);
            out.extend(end.body);
            (end.status, out)
        };
        let pieces = {
            let mut answer = Answer::new(shape, "m", 0);
            let mut out = answer.feed(&stream[..cut]);
            out.extend(answer.feed(&stream[cut..]));
            let end = answer.finish(None);
            out.extend(end.body);
            (end.status, out)
        };
        assert_eq!(whole, pieces, "{shape:?} cut at {cut}");
        match shape {
            AnswerShape::ResponsesStream => assert_eq!(whole.1, stream),
            AnswerShape::ChatStream | AnswerShape::ChatStreamWithUsage => {
                let events =
                    crate::openai::sse::Framer::default().push(&whole.1).expect("our own events are short");
                let done = events.iter().position(|e| e.data == "[DONE]");
                assert!(done.is_none_or(|at| at == events.len() - 1), "[DONE] comes last");
                for event in &events[..done.unwrap_or(events.len())] {
                    serde_json::from_str::<serde_json::Value>(&event.data).expect("each chunk is JSON");
                }
            }
            AnswerShape::ChatWhole | AnswerShape::ResponsesWhole => {
                serde_json::from_slice::<serde_json::Value>(&whole.1).expect("a whole answer is JSON");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random inputs (xorshift), biased toward the
    /// characters the parsers care about.
    fn inputs(seed: u64, count: usize) -> Vec<Vec<u8>> {
        let alphabet = b"{}[]\":,.=&?#%+-_~/ abcdefghijklmnopqrstuvwxyz0123456789ABCDEF\x01\xff\\";
        let mut x = seed;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..count)
            .map(|_| {
                let len = (next() % 200) as usize;
                (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect()
            })
            .collect()
    }

    fn seeds(target: &str) -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds").join(target);
        std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect()
    }

    fn check(target: &str, property: fn(&[u8])) {
        let seeds = seeds(target);
        assert!(!seeds.is_empty(), "{target} has no seeds");
        for input in seeds.iter().chain(&inputs(target.len() as u64 * 7919 + 1, 3000)) {
            property(input);
        }
    }

    #[test]
    fn properties_hold_on_seeds_and_generated_input() {
        check("jwt_claims", jwt_claims);
        check("callback", callback);
        check("token_response", token_response);
        check("device", device);
        check("refresh_error", refresh_error);
        check("auth_file", auth_file);
        check("authorize_url", authorize_url);
        check("decisions", decisions);
        check("pkce_pair", pkce_pair);
        check("usage", usage);
        check("config_files", config_files);
        check("command_output", command_output);
        check("openai_requests", openai_requests);
        check("openai_streams", openai_streams);
    }
}
