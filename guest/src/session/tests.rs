//! The session against the in-memory platform.

use crate::error::AuthError;
use crate::fake::Fake;
use crate::oauth::jwt::tests::jwt;
use crate::session::{Config, Kind, Session, Source};
use crate::store::auth_file::{ChatGptTokens, Credential};
use serde_json::json;

pub(crate) const NOW: i64 = 1_795_381_200;

pub(crate) fn tokens(exp: i64, refresh: &str) -> ChatGptTokens {
    let claims = json!({
        "exp": exp,
        "email": "ada@example.com",
        "https://api.openai.com/auth": {"chatgpt_account_id": "acct-1", "chatgpt_plan_type": "plus", "chatgpt_user_id": "u-1"}
    });
    ChatGptTokens {
        id_token: jwt(&claims),
        access_token: jwt(&json!({"exp": exp, "n": refresh})),
        refresh_token: refresh.into(),
        account_id: None,
    }
}

pub(crate) fn session(fake: Fake) -> Session<Fake> {
    fake.now_ms.set(NOW * 1000);
    Session::new(fake, Config::default())
}

#[test]
fn nothing_stored_and_no_environment_key() {
    let s = session(Fake::default());
    assert!(!s.authenticated());
    assert_eq!(s.access_token(), Err(AuthError::NotLoggedIn));
    assert_eq!(s.status().unwrap().kind, Kind::None);
}

#[test]
fn environment_key_is_used_and_never_written() {
    let fake = Fake::default();
    fake.env.borrow_mut().insert("OPENAI_API_KEY".into(), "sk-env-0123456789".into());
    let s = session(fake);
    assert_eq!(s.access_token().unwrap(), "sk-env-0123456789");
    assert_eq!(
        s.request_headers().unwrap(),
        vec![("Authorization".into(), "Bearer sk-env-0123456789".into())]
    );
    let status = s.status().unwrap();
    assert_eq!((status.kind, status.source), (Kind::ApiKey, Source::Environment("OPENAI_API_KEY".into())));
    assert_eq!(status.api_key_hint.as_deref(), Some("6789"));
    assert_eq!(s.platform().saves.get(), 0);
    assert!(s.platform().file.borrow().is_none());
}

#[test]
fn stored_subscription_beats_environment_key() {
    let fake = Fake::default();
    fake.env.borrow_mut().insert("OPENAI_API_KEY".into(), "sk-env".into());
    let s = session(fake);
    s.set_credential(Credential::Chatgpt(tokens(NOW + 3600, "rt"))).unwrap();
    let headers = s.request_headers().unwrap();
    assert_eq!(headers[1], ("chatgpt-account-id".into(), "acct-1".into()));
    assert!(headers[0].1.starts_with("Bearer ey"));
    let status = s.status().unwrap();
    assert_eq!(status.kind, Kind::Subscription);
    assert_eq!(status.source, Source::Store("/fake/auth.json".into()));
    assert_eq!(status.plan.as_deref(), Some("plus"));
    assert_eq!(status.email.as_deref(), Some("ada@example.com"));
    assert_eq!(status.expires_at, Some(NOW + 3600));
    assert_eq!(status.last_refresh, Some(NOW));
    // The file holds the account id and never the environment key.
    let file = String::from_utf8(s.platform().file.borrow().clone().unwrap()).unwrap();
    assert!(file.contains("\"account_id\": \"acct-1\""));
    assert!(!file.contains("sk-env"));
}

#[test]
fn stored_key_beats_environment_key() {
    let fake = Fake::with_file(br#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-stored"}"#);
    fake.env.borrow_mut().insert("OPENAI_API_KEY".into(), "sk-env".into());
    let s = session(fake);
    assert_eq!(s.access_token().unwrap(), "sk-stored");
}

#[test]
fn corrupt_store_is_reported_and_kept() {
    let garbage = b"{\"tokens\": ".to_vec();
    let s = session(Fake::with_file(&garbage));
    let err = s.access_token().unwrap_err();
    assert!(matches!(&err, AuthError::CorruptStore(c) if c.path == "/fake/auth.json"), "{err:?}");
    assert!(s.set_credential(Credential::ApiKey("sk-new".into())).is_err());
    assert_eq!(s.platform().file.borrow().as_deref(), Some(&garbage[..]));
    // logout is how a person clears it.
    assert!(s.logout().unwrap().removed);
    assert!(!s.authenticated());
}

#[test]
fn bad_credentials_are_refused() {
    let s = session(Fake::default());
    assert!(matches!(s.set_credential(Credential::ApiKey(" ".into())), Err(AuthError::InvalidInput(_))));
    let mut t = tokens(NOW, "rt");
    t.id_token = "not-a-jwt".into();
    assert!(matches!(s.set_credential(Credential::Chatgpt(t)), Err(AuthError::InvalidInput(_))));
    assert_eq!(s.platform().saves.get(), 0);
}

#[test]
fn lock_timeout_is_an_error_not_a_write() {
    let fake = Fake::default();
    fake.lock_error.replace(Some(crate::platform::StorageError::LockTimeout(5)));
    let s = session(fake);
    assert_eq!(s.set_credential(Credential::ApiKey("sk-1".into())), Err(AuthError::LockTimeout(5)));
    assert!(s.platform().file.borrow().is_none());
}

#[test]
fn reload_sees_another_writer() {
    let s = session(Fake::default());
    assert!(!s.authenticated());
    s.platform().file.replace(Some(br#"{"OPENAI_API_KEY":"sk-other"}"#.to_vec()));
    assert!(!s.authenticated(), "cached until reload");
    s.reload().unwrap();
    assert_eq!(s.access_token().unwrap(), "sk-other");
}

#[test]
fn a_codex_homes_forced_workspace_and_login_method_refuse_other_credentials() {
    let fake = Fake::default();
    fake.codex_configs.borrow_mut().insert(
        "default".into(),
        json!({"forced_chatgpt_workspace_id": "ws-other", "model": "x"}).to_string(),
    );
    let s = session(fake);
    let e = s.set_credential(Credential::Chatgpt(tokens(NOW + 3600, "rt"))).unwrap_err();
    assert!(
        matches!(&e, AuthError::InvalidInput(why) if why.contains("`acct-1`") && why.contains("only `ws-other`")),
        "{e:?}"
    );
    assert!(s.platform().file.borrow().is_none(), "nothing stored");

    let fake = Fake::default();
    fake.codex_configs
        .borrow_mut()
        .insert("default".into(), json!({"forced_login_method": "chatgpt"}).to_string());
    let s = session(fake);
    assert!(s.set_credential(Credential::ApiKey("sk-proj-0123456789".into())).is_err());
    s.set_credential(Credential::Chatgpt(tokens(NOW + 3600, "rt"))).unwrap();
}

#[test]
fn headers_are_reusable_until_the_refresh_policy_would_act() {
    let s = session(Fake::default());
    s.set_credential(Credential::Chatgpt(tokens(NOW + 3600, "rt"))).unwrap();
    let verdict = s.headers_verdict().unwrap();
    assert_eq!(verdict.headers, s.request_headers().unwrap());
    let skew = i64::from(crate::defaults::REFRESH_SKEW_SECONDS);
    assert_eq!(verdict.valid_until, (NOW + 3600 - skew) * 1000, "the refresh point");
    assert!(!format!("{verdict:?}").contains("Bearer"), "no token in Debug");

    let key = session(Fake::default());
    key.set_credential(Credential::ApiKey("sk-stored-1234".into())).unwrap();
    assert_eq!(key.headers_verdict().unwrap().valid_until, i64::MAX, "a key until a 401");

    let spec = crate::store::command::CommandSpec {
        program: "print-token".into(),
        args: Vec::new(),
        timeout_ms: None,
        refresh_interval_ms: Some(60_000),
    };
    let command = session(Fake::default());
    command.platform().outputs.borrow_mut().push_back(Ok(crate::platform::ProcessOutput {
        status: Some(0),
        stdout: b"tok-1\n".to_vec(),
        stderr: Vec::new(),
    }));
    command.set_credential(Credential::Command(spec)).unwrap();
    assert_eq!(command.headers_verdict().unwrap().valid_until, NOW * 1000 + 60_000, "the command's interval");
    assert_eq!(
        session(Fake::default()).headers_verdict().map(|v| v.valid_until),
        Err(AuthError::NotLoggedIn)
    );
}
