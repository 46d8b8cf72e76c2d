//! The vault and per-account sessions against the in-memory platform.

use crate::error::AuthError;
use crate::fake::Fake;
use crate::platform::HttpResponse;
use crate::session::tests::{NOW, tokens};
use crate::session::{Config, Revocation, Session};
use crate::store::auth_file::{self, Credential, StoredAuth};
use crate::vault::{AccountState, Vault};

fn file(rt: &str, exp: i64) -> Vec<u8> {
    let auth = StoredAuth {
        credential: Some(Credential::Chatgpt(tokens(exp, rt))),
        last_refresh: Some(NOW),
        login_required: None,
    };
    auth_file::write(None, &auth).unwrap()
}

fn vault(fake: Fake) -> Vault<Fake> {
    fake.now_ms.set(NOW * 1000);
    Vault::new(fake, Config::default())
}

fn ok() -> Result<HttpResponse, crate::platform::TransportError> {
    Ok(HttpResponse { status: 200, headers: Vec::new(), body: b"{}".to_vec() })
}

#[test]
fn accounts_are_listed_home_first_and_one_bad_store_marks_only_itself() {
    let fake = Fake::with_file(&file("rt-home", NOW + 3600));
    fake.named.borrow_mut().insert("work".into(), Some(b"{broken".to_vec()));
    fake.named.borrow_mut().insert("b-side".into(), Some(file("rt-b", NOW + 3600)));
    fake.named.borrow_mut().insert("empty".into(), None);
    let v = vault(fake);
    let accounts = v.accounts().unwrap();
    let names: Vec<_> = accounts.iter().map(|a| (a.name.as_str(), a.state)).collect();
    assert_eq!(
        names,
        [
            ("default", AccountState::Ok),
            ("b-side", AccountState::Ok),
            ("empty", AccountState::LoggedOut),
            ("work", AccountState::Unreadable),
        ]
    );
    assert!(accounts[3].problem.as_deref().is_some_and(|p| !p.is_empty()));
    assert_eq!(accounts[1].email.as_deref(), Some("ada@example.com"));
    assert_eq!(accounts[1].account_id.as_deref(), Some("acct-1"));
    assert_eq!(accounts[1].expires_at, Some(NOW + 3600));
    // The unreadable one is still selectable by name, and says why.
    let s = Session::new(v.platform(), Config { account: "work".into(), ..Config::default() });
    assert!(matches!(s.access_token(), Err(AuthError::CorruptStore(c)) if c.path.contains("/work/")));
    let s = Session::new(v.platform(), Config { account: "b-side".into(), ..Config::default() });
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 3600, "rt-b").access_token);
}

#[test]
fn pinning_selects_and_removing_the_pinned_account_says_what_is_used_now() {
    let fake = Fake::default();
    fake.named.borrow_mut().insert("alpha".into(), Some(file("rt-a", NOW + 3600)));
    fake.named.borrow_mut().insert("beta".into(), Some(file("rt-b", NOW + 3600)));
    let v = vault(fake);
    assert_eq!(v.select(None).unwrap(), "alpha");
    assert!(v.pin("beta").unwrap().pinned);
    assert_eq!(v.select(None).unwrap(), "beta");
    assert_eq!(v.target(None).unwrap(), "beta", "a sign-in without a name re-signs the pinned one");
    assert_eq!(v.pin("gone"), Err(AuthError::UnknownAccount("gone".into())));

    v.platform().responses.borrow_mut().push_back(ok());
    let removal = v.remove("beta").unwrap();
    assert_eq!(removal.revocation, Revocation::Revoked);
    assert!(removal.was_pinned);
    assert_eq!(removal.now_using.as_deref(), Some("alpha"));
    assert_eq!(*v.platform().sent_under_lock.borrow(), [true], "revoked under the account's lock");
    let body: serde_json::Value = serde_json::from_slice(&v.platform().requests.borrow()[0].body).unwrap();
    assert_eq!(body["token"], "rt-b");
    assert!(!v.platform().named.borrow().contains_key("beta"));
    assert_eq!(v.select(None).unwrap(), "alpha");
}

#[test]
fn a_linked_home_is_read_in_place_and_unlinking_never_revokes() {
    let v = vault(Fake::default());
    // The fake's link makes an empty store: nothing to import.
    let err = v.link("codex", "/home/ada/.codex").unwrap_err();
    assert!(matches!(err, AuthError::InvalidInput(ref why) if why.contains("no credential")), "{err:?}");
    assert!(v.platform().links.borrow().is_empty(), "a refused link is undone");

    let info = {
        // Link, then the linked directory turns out to hold a login.
        v.platform().named.borrow_mut().insert("codex".into(), Some(file("rt-codex", NOW + 3600)));
        v.platform().links.borrow_mut().insert("codex".into(), "/home/ada/.codex".into());
        v.accounts().unwrap().into_iter().find(|a| a.name == "codex").unwrap()
    };
    assert_eq!(info.linked.as_deref(), Some("/home/ada/.codex"));
    assert_eq!(info.state, AccountState::Ok);
    let removal = v.remove("codex").unwrap();
    assert_eq!(removal.revocation, Revocation::NotNeeded);
    assert_eq!(removal.unlinked.as_deref(), Some("/home/ada/.codex"));
    assert!(v.platform().requests.borrow().is_empty(), "nothing revoked");
    assert_eq!(removal.now_using, None);
}

#[test]
fn a_name_must_be_new_and_safe_to_link() {
    let fake = Fake::default();
    fake.named.borrow_mut().insert("work".into(), Some(file("rt-w", NOW + 3600)));
    let v = vault(fake);
    assert!(matches!(v.link("work", "/x"), Err(AuthError::InvalidInput(why)) if why.contains("exists")));
    assert!(matches!(v.link("../x", "/x"), Err(AuthError::InvalidInput(_))));
    assert!(matches!(v.select(Some("a b")), Err(AuthError::InvalidInput(_))));
    assert_eq!(v.select(Some("nope")), Err(AuthError::UnknownAccount("nope".into())));
}

#[test]
fn every_request_under_a_lock_ends_well_before_a_waiter_gives_up() {
    let fake = Fake::default();
    fake.named.borrow_mut().insert("slow".into(), Some(file("rt-s", NOW - 10)));
    fake.now_ms.set(NOW * 1000);
    let config = Config {
        account: "slow".into(),
        lock_timeout_ms: 3000,
        http_timeout_ms: 60_000,
        ..Config::default()
    };
    let s = Session::new(fake, config);
    for _ in 0..3 {
        s.platform().responses.borrow_mut().push_back(Err(crate::platform::TransportError::Timeout));
    }
    s.platform().responses.borrow_mut().push_back(ok());
    let _ = s.refresh(true);
    let _ = s.logout();
    let requests = s.platform().requests.borrow();
    assert_eq!(requests.len(), 4, "three refresh attempts and a revocation: {requests:?}");
    assert_eq!(*s.platform().slept_ms.borrow(), [500, 1000], "paused between attempts, lock released");
    assert!(requests.iter().all(|r| r.timeout_ms <= 2000), "{requests:?}");
    assert!(s.platform().sent_under_lock.borrow().iter().all(|&held| held));
}

// ---- the pool ----------------------------------------------------------------

use crate::defaults::Strategy;
use crate::platform::{AccountBlocked, Notice, StorageError};
use crate::vault::learning::{CheckOutcome, Upstream};
use crate::vault::replay::{Attempt, Verdict};
use serde_json::json;

fn pool_vault(names: &[&str], strategy: Strategy) -> Vault<Fake> {
    let fake = Fake::default();
    for name in names {
        fake.named.borrow_mut().insert((*name).into(), Some(file(&format!("rt-{name}"), NOW + 3600)));
    }
    fake.now_ms.set(NOW * 1000);
    Vault::new(fake, Config { strategy, ..Config::default() })
}

fn usage_answer(primary: u32) -> Result<HttpResponse, crate::platform::TransportError> {
    let body = json!({"plan_type": "pro", "rate_limit": {"primary_window": {"used_percent": primary, "limit_window_seconds": 18000, "reset_at": NOW + 1800}}});
    Ok(HttpResponse { status: 200, headers: Vec::new(), body: body.to_string().into_bytes() })
}

fn limit_429(resets_in: i64) -> Vec<u8> {
    json!({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached", "resets_in_seconds": resets_in}})
        .to_string()
        .into_bytes()
}

#[test]
fn a_request_moves_through_every_limited_account_until_one_is_free() {
    let v = pool_vault(&["a", "b", "c"], Strategy::DrainFirst);
    let mut attempt = Attempt::FIRST;
    let mut sent = Vec::new();
    let last = loop {
        let account = v.choose(None, Some("conv"), None).unwrap();
        sent.push(account.clone());
        if account == "c" {
            break account;
        }
        let answer = Upstream::Answer { status: 429, headers: &[], body: &limit_429(600) };
        let learned = v.report(&account, answer, attempt).unwrap();
        assert_eq!(learned.verdict, Verdict::RotateAndReplay, "{account}");
        attempt = learned.next;
    };
    assert_eq!((sent, last), (vec!["a".to_owned(), "b".to_owned(), "c".to_owned()], "c".to_owned()));
    assert_eq!(attempt.tried, ["a", "b"]);
    // c is limited too: the request moves on, and the pool has none left.
    let answer = Upstream::Answer { status: 429, headers: &[], body: &limit_429(60) };
    let learned = v.report("c", answer, attempt).unwrap();
    assert_eq!(learned.verdict, Verdict::RotateAndReplay);
    assert_eq!(
        v.choose(None, Some("conv"), None),
        Err(AuthError::AllBlocked(NOW + 60)),
        "the first to free up"
    );
}

#[test]
fn a_spent_meter_blocks_the_models_that_met_it_and_not_the_account() {
    let v = pool_vault(&["a", "b"], Strategy::DrainFirst);
    let spark = Some("gpt-5.3-codex-spark");
    assert_eq!(v.choose(None, None, spark).unwrap(), "a");
    let spent = [("x-codex-active-limit".to_owned(), "codex_bengalfox".to_owned())];
    let attempt = Attempt { model: spark.map(str::to_owned), ..Attempt::FIRST };
    let answer = Upstream::Answer { status: 429, headers: &spent, body: &limit_429(600) };
    let learned = v.report("a", answer, attempt).unwrap();
    assert_eq!((learned.verdict, learned.blocked_until), (Verdict::RotateAndReplay, Some(NOW + 600)));
    assert!(learned.reroute, "routes a host cached to `a` no longer hold");
    let fine = Upstream::Answer { status: 200, headers: &[], body: &[] };
    assert!(!v.report("b", fine, Attempt::FIRST).unwrap().reroute, "a good answer changes no route");
    // The spark request moves on; any other model, or a token, still gets `a`.
    assert_eq!(v.choose(None, None, spark).unwrap(), "b");
    assert_eq!(v.choose(None, None, Some("gpt-5.1-codex")).unwrap(), "a");
    assert_eq!(v.choose(None, None, None).unwrap(), "a");
    let listed = v.accounts().unwrap();
    assert_eq!(listed[0].state, AccountState::Ok, "not blocked as a whole");
    assert_eq!(listed[0].blocks[0].meter, "codex_bengalfox");
    assert_eq!(listed[0].blocks[0].models, ["gpt-5.3-codex-spark"]);
    v.platform().responses.borrow_mut().push_back(usage_answer(10));
    assert_eq!(v.usage("a").unwrap().blocks, listed[0].blocks);
    // The account's own meter blocks it for every model.
    let own = [("x-codex-active-limit".to_owned(), "codex".to_owned())];
    let attempt = Attempt { model: Some("gpt-5.1-codex".into()), ..Attempt::FIRST };
    v.report("a", Upstream::Answer { status: 429, headers: &own, body: &limit_429(60) }, attempt).unwrap();
    assert_eq!(v.choose(None, None, None).unwrap(), "b");
    assert_eq!(v.accounts().unwrap()[0].state, AccountState::Blocked);
}

#[test]
fn a_store_that_cannot_be_listed_keeps_the_choice_in_hand() {
    let v = pool_vault(&["a", "b"], Strategy::RoundRobin);
    let down = StorageError::Io("cannot reach the database".into());
    v.platform().accounts_error.replace(Some(down.clone()));
    // Nothing chosen yet: nothing in hand, and the error says why.
    assert_eq!(v.choose(None, None, None), Err(AuthError::from(down.clone())));
    v.platform().accounts_error.replace(None);
    let first = v.choose(None, None, None).unwrap();
    let other = v.choose(None, Some("conv"), None).unwrap();
    assert_ne!(first, other, "round-robin takes turns while the store answers");
    v.platform().accounts_error.replace(Some(down));
    assert_eq!(v.choose(None, Some("conv"), None), Ok(other.clone()), "the session keeps its account");
    assert_eq!(v.choose(None, None, None), Ok(other.clone()), "else the last choice stands");
    assert_eq!(v.select(None), Ok(other), "a look without use sees the same");
    assert!(v.platform().pool_locks.borrow().is_empty());
}

#[test]
fn a_usage_limit_blocks_persists_and_rotates_to_a_sibling() {
    let v = pool_vault(&["a", "b"], Strategy::DrainFirst);
    assert_eq!(v.choose(None, None, None).unwrap(), "a");
    let learned = v
        .report("a", Upstream::Answer { status: 429, headers: &[], body: &limit_429(600) }, Attempt::FIRST)
        .unwrap();
    assert_eq!(learned.blocked_until, Some(NOW + 600));
    assert_eq!(learned.verdict, Verdict::RotateAndReplay);
    assert!(
        v.platform()
            .notices
            .borrow()
            .contains(&Notice::AccountBlocked(AccountBlocked { account: "a".into(), until: NOW + 600 }))
    );
    assert!(v.platform().pool.borrow().contains_key("a"), "persisted for other processes");
    assert_eq!(v.choose(None, None, None).unwrap(), "b");
    let listed = v.accounts().unwrap();
    assert_eq!((listed[0].state, listed[0].blocked_until), (AccountState::Blocked, Some(NOW + 600)));

    // A stream's response.failed blocks just the same; then every account is.
    let event = json!({"type": "response.failed", "response": {"error": {"code": "usage_limit_reached", "resets_at": NOW + 60}}});
    v.report("b", Upstream::Event(event.to_string().as_bytes()), Attempt::FIRST).unwrap();
    assert_eq!(v.choose(None, None, None), Err(AuthError::AllBlocked(NOW + 60)));
    assert!(AuthError::AllBlocked(NOW + 60).to_string().contains("frees up at"));
    assert_eq!(v.select(None).unwrap(), "a", "a look without use still names one");
    v.platform().now_ms.set((NOW + 60) * 1000);
    assert_eq!(v.choose(None, None, None).unwrap(), "b", "free again at its reset");
}

#[test]
fn rate_limit_headers_feed_least_used_and_sessions_stay_put() {
    let v = pool_vault(&["a", "b", "c"], Strategy::LeastUsed);
    let seen = |percent: &str| vec![("x-codex-primary-used-percent".to_owned(), percent.to_owned())];
    v.report("a", Upstream::Answer { status: 200, headers: &seen("70"), body: b"" }, Attempt::FIRST).unwrap();
    v.report("b", Upstream::Answer { status: 200, headers: &seen("20"), body: b"" }, Attempt::FIRST).unwrap();
    v.report("c", Upstream::Answer { status: 200, headers: &seen("50"), body: b"" }, Attempt::FIRST).unwrap();
    assert_eq!(v.choose(None, Some("conv-1"), None).unwrap(), "b");
    v.report("b", Upstream::Answer { status: 200, headers: &seen("90"), body: b"" }, Attempt::FIRST).unwrap();
    assert_eq!(
        v.choose(None, Some("conv-1"), None).unwrap(),
        "b",
        "the session keeps its account while usable"
    );
    assert_eq!(v.choose(None, Some("conv-2"), None).unwrap(), "c", "a new one gets the least used");
    v.report("b", Upstream::Answer { status: 429, headers: &[], body: &limit_429(60) }, Attempt::FIRST)
        .unwrap();
    assert_eq!(v.choose(None, Some("conv-1"), None).unwrap(), "c", "moved on once blocked");
    let learned =
        v.report("b", Upstream::Answer { status: 401, headers: &[], body: b"" }, Attempt::FIRST).unwrap();
    assert!(learned.unauthorized);
    assert_eq!(learned.verdict, Verdict::RecoverAndReplay);
}

#[test]
fn round_robin_takes_turns_and_a_pin_wins_while_usable() {
    let v = pool_vault(&["a", "b", "c"], Strategy::RoundRobin);
    let mut turns = Vec::new();
    for step in 0..6 {
        v.platform().now_ms.set(NOW * 1000 + step);
        turns.push(v.choose(None, None, None).unwrap());
    }
    assert_eq!(turns, ["a", "b", "c", "a", "b", "c"]);
    v.pin("c").unwrap();
    assert_eq!(v.choose(None, None, None).unwrap(), "c");
    v.report("c", Upstream::Answer { status: 429, headers: &[], body: &limit_429(60) }, Attempt::FIRST)
        .unwrap();
    assert_ne!(v.choose(None, None, None).unwrap(), "c", "a blocked pin rotates to a sibling");
}

#[test]
fn usage_is_fetched_at_most_once_per_interval_and_the_last_good_value_kept() {
    let v = pool_vault(&["a"], Strategy::DrainFirst);
    v.platform().responses.borrow_mut().push_back(usage_answer(42));
    let report = v.usage("a").unwrap();
    assert_eq!(report.usage.unwrap().binding_percent(), Some(42));
    let request = v.platform().requests.borrow()[0].clone();
    assert_eq!(request.url, "https://chatgpt.com/backend-api/wham/usage");
    assert!(request.headers.iter().any(|(n, v)| n == "chatgpt-account-id" && v == "acct-1"));
    assert!(request.headers.iter().any(|(n, v)| n == "Authorization" && v.starts_with("Bearer ")));

    // Within the interval: served from the state, nothing sent.
    v.platform().now_ms.set((NOW + 200) * 1000);
    assert_eq!(v.usage("a").unwrap().fetched_at, Some(NOW));
    assert_eq!(v.platform().requests.borrow().len(), 1);

    // After it: fetched again; a failure keeps the last good value.
    v.platform().now_ms.set((NOW + 400) * 1000);
    v.platform().responses.borrow_mut().push_back(Ok(HttpResponse {
        status: 502,
        headers: Vec::new(),
        body: Vec::new(),
    }));
    let report = v.usage("a").unwrap();
    assert_eq!(report.usage.unwrap().binding_percent(), Some(42));
    assert!(report.error.unwrap().contains("HTTP 502"));

    // Another process is polling (its lock is held): nothing is sent.
    v.platform().now_ms.set((NOW + 800) * 1000);
    v.platform().pool_busy.borrow_mut().insert("a".into());
    v.usage("a").unwrap();
    assert_eq!(v.platform().requests.borrow().len(), 2);
}

#[test]
fn check_tells_ok_failed_and_unverifiable() {
    let v = pool_vault(&["good", "refused", "down"], Strategy::DrainFirst);
    v.platform()
        .named
        .borrow_mut()
        .insert("key".into(), Some(br#"{"OPENAI_API_KEY":"sk-check-0000000000"}"#.to_vec()));
    v.platform().responses.borrow_mut().push_back(usage_answer(10));
    assert!(matches!(v.check("good").unwrap(), CheckOutcome::Ok(Some(_))));
    v.platform().responses.borrow_mut().push_back(Ok(HttpResponse {
        status: 401,
        headers: Vec::new(),
        body: Vec::new(),
    }));
    assert!(matches!(v.check("refused").unwrap(), CheckOutcome::Failed(why) if why.contains("401")));
    v.platform().responses.borrow_mut().push_back(Err(crate::platform::TransportError::Timeout));
    assert!(matches!(v.check("down").unwrap(), CheckOutcome::Unverifiable(_)));
    assert!(matches!(v.check("key").unwrap(), CheckOutcome::Unverifiable(_)));
    assert!(
        v.platform()
            .requests
            .borrow()
            .iter()
            .all(|r| r.timeout_ms <= crate::vault::learning::CHECK_TIMEOUT_MS)
    );
}

#[test]
fn a_definitive_refresh_failure_disables_the_account_and_says_so() {
    let v = pool_vault(&["a", "b"], Strategy::DrainFirst);
    v.platform().named.borrow_mut().insert("a".into(), Some(file("rt-a", NOW - 10)));
    v.platform().responses.borrow_mut().push_back(Ok(HttpResponse {
        status: 401,
        headers: Vec::new(),
        body: br#"{"error":{"code":"refresh_token_reused","message":"used"}}"#.to_vec(),
    }));
    assert!(
        matches!(v.check("a").unwrap(), CheckOutcome::Failed(why) if why.contains("refresh_token_reused"))
    );
    let notices = v.platform().notices.borrow().clone();
    assert!(notices.iter().any(|n| matches!(n, Notice::AccountDisabled(d) if d.account == "a" && d.reason.contains("refresh_token_reused"))));
    let listed = v.accounts().unwrap();
    assert_eq!(listed[0].state, AccountState::Disabled);
    assert!(listed[0].problem.as_deref().unwrap().contains("sign it in again"));
    assert!(v.platform().named.borrow()["a"].is_some(), "kept, never deleted");
    assert_eq!(v.choose(None, None, None).unwrap(), "b");
}

// ---- credential sources ----------------------------------------------------------

use crate::platform::ProcessOutput;
use crate::session::policy::Tier;
use crate::session::{Kind, Source};
use crate::store::command::CommandSpec;

fn command_session(interval_ms: Option<u64>) -> Session<Fake> {
    let spec = CommandSpec {
        program: "/bin/tok".into(),
        args: vec!["a".into()],
        timeout_ms: Some(2000),
        refresh_interval_ms: interval_ms,
    };
    let fake = Fake::default();
    let auth =
        StoredAuth { credential: Some(Credential::Command(spec)), last_refresh: None, login_required: None };
    fake.named.borrow_mut().insert("cmd".into(), Some(auth_file::write(None, &auth).unwrap()));
    fake.now_ms.set(NOW * 1000);
    Session::new(fake, Config { account: "cmd".into(), ..Config::default() })
}

fn printed(token: &str) -> Result<ProcessOutput, String> {
    Ok(ProcessOutput { status: Some(0), stdout: format!("{token}\n").into_bytes(), stderr: Vec::new() })
}

#[test]
fn a_command_runs_once_for_many_callers_and_once_more_after_a_401() {
    let s = command_session(None);
    s.platform().outputs.borrow_mut().extend([printed("tok-1"), printed("tok-2")]);
    for _ in 0..5 {
        assert_eq!(s.access_token().unwrap(), "tok-1");
    }
    assert_eq!(s.request_headers().unwrap(), vec![("Authorization".to_owned(), "Bearer tok-1".to_owned())]);
    assert_eq!(*s.platform().runs.borrow(), [("/bin/tok".to_owned(), vec!["a".to_owned()], 2000)]);
    assert_eq!(s.unauthorized("tok-1").unwrap(), "tok-2");
    assert_eq!(s.unauthorized("tok-1").unwrap(), "tok-2", "a second caller with the old token: no new run");
    assert_eq!(s.platform().runs.borrow().len(), 2);
    let status = s.status().unwrap();
    assert_eq!((status.kind, status.tier), (Kind::Command, Tier::Command));
    assert_eq!(status.source, Source::Command("/bin/tok a".into()));
    let stored = String::from_utf8(s.platform().named.borrow()["cmd"].clone().unwrap()).unwrap();
    assert!(!stored.contains("tok-"), "the token is never written");
}

#[test]
fn a_command_token_is_reused_for_its_interval_and_failures_are_explained() {
    let s = command_session(Some(60_000));
    s.platform().outputs.borrow_mut().extend([printed("tok-1"), printed("tok-2")]);
    assert_eq!(s.access_token().unwrap(), "tok-1");
    s.platform().now_ms.set((NOW + 59) * 1000);
    assert_eq!(s.access_token().unwrap(), "tok-1");
    s.platform().now_ms.set((NOW + 60) * 1000);
    assert_eq!(s.access_token().unwrap(), "tok-2");
    s.platform().now_ms.set((NOW + 200) * 1000);
    s.platform().outputs.borrow_mut().push_back(Ok(ProcessOutput {
        status: Some(2),
        stdout: b"tok-leak".to_vec(),
        stderr: b"vault sealed\n".to_vec(),
    }));
    let e = s.access_token().unwrap_err().to_string();
    assert!(
        e.contains("`/bin/tok a` failed (exit status 2):\nvault sealed") && !e.contains("tok-leak"),
        "{e}"
    );
    s.platform().outputs.borrow_mut().push_back(printed("tok-2"));
    assert!(
        matches!(s.unauthorized("tok-2"), Err(AuthError::LoginRequired(_))),
        "the same rejected token again"
    );
}

#[test]
fn a_runtime_key_beats_the_config_key_beats_the_store_beats_the_environment() {
    let fake = Fake::with_file(&file("rt-home", NOW + 3600));
    fake.env.borrow_mut().insert("OPENAI_API_KEY".into(), "sk-env-000000000000".into());
    fake.now_ms.set(NOW * 1000);
    let file = crate::store::config_file::ConfigFile {
        api_key: Some("sk-config-00000000".into()),
        ..Default::default()
    };
    let base = Config { file: Some(file), file_path: "/h/config.toml".into(), ..Config::default() };
    let runtime =
        Session::new(&fake, Config { runtime_key: Some("sk-runtime-000000".into()), ..base.clone() });
    assert_eq!(runtime.access_token().unwrap(), "sk-runtime-000000");
    assert_eq!(
        (runtime.status().unwrap().tier, runtime.status().unwrap().source),
        (Tier::Runtime, Source::Runtime)
    );
    let config = Session::new(&fake, base);
    assert_eq!(config.access_token().unwrap(), "sk-config-00000000");
    assert_eq!(config.status().unwrap().source, Source::Config("/h/config.toml".into()));
    let store = Session::new(&fake, Config::default());
    assert_eq!(store.status().unwrap().tier, Tier::Store);
    fake.file.replace(None);
    let environment = Session::new(&fake, Config::default());
    assert_eq!(environment.status().unwrap().tier, Tier::Environment);
    let bad = Session::new(&fake, Config { runtime_key: Some("two words".into()), ..Config::default() });
    assert!(matches!(bad.access_token(), Err(AuthError::InvalidInput(_))));
}

#[test]
fn config_file_accounts_are_listed_labelled_and_chosen_by_default() {
    let json = serde_json::json!({
        "account": "cmd",
        "accounts": {"cmd": {"command": "/bin/tok", "label": "From a vault"}, "a": {"label": "Alpha"}}
    });
    let file = crate::store::config_file::parse(&json.to_string(), "/h/config.toml").unwrap();
    let fake = Fake::default();
    fake.named.borrow_mut().insert("a".into(), Some(file_for("rt-a")));
    fake.now_ms.set(NOW * 1000);
    let v = Vault::new(
        fake,
        Config { file: Some(file), file_path: "/h/config.toml".into(), ..Config::default() },
    );
    let listed = v.accounts().unwrap();
    let summary: Vec<_> = listed.iter().map(|a| (a.name.as_str(), a.kind, a.label.as_deref())).collect();
    assert_eq!(
        summary,
        [("a", Kind::Subscription, Some("Alpha")), ("cmd", Kind::Command, Some("From a vault"))]
    );
    assert_eq!(listed[1].location, "/h/config.toml");
    assert_eq!(v.select(None).unwrap(), "cmd", "the config file's default account");
    assert_eq!(v.select(Some("a")).unwrap(), "a", "a flag or the environment beats the file");
}

fn file_for(rt: &str) -> Vec<u8> {
    file(rt, NOW + 3600)
}

#[test]
fn a_move_may_take_an_empty_account_of_the_vaults_own_but_never_a_held_or_linked_one() {
    let fake = Fake::default();
    fake.named.borrow_mut().insert("empty".into(), None);
    fake.named
        .borrow_mut()
        .insert("held".into(), Some(br#"{"OPENAI_API_KEY":"sk-proj-0123456789"}"#.to_vec()));
    fake.named.borrow_mut().insert("linked".into(), None);
    fake.links.borrow_mut().insert("linked".into(), "/home/ada/.codex".into());
    let v = Vault::new(fake, Config::default());
    assert_eq!(v.check_move_target("new"), Ok(()));
    assert_eq!(v.check_move_target("empty"), Ok(()), "what an interrupted move leaves");
    for name in ["held", "linked"] {
        assert!(
            matches!(v.check_move_target(name), Err(AuthError::InvalidInput(why)) if why.contains("exists already"))
        );
    }
    assert!(v.check_move_target("../x").is_err());
}
