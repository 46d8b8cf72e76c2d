//! One refresher per home: on a store the Codex CLI also uses, codex-auth
//! leaves Codex's window to it, and a reuse that Codex caused is not the end.

use crate::error::AuthError;
use crate::fake::Fake;
use crate::platform::HomeSigns;
use crate::platform::{HttpResponse, Notice, TransportError};
use crate::session::Session;
use crate::session::refresh::PEER_WRITE_GRACE_MS;
use crate::session::tests::{NOW, session, tokens};
use crate::store::auth_file::{self, Credential};
use serde_json::json;

const REUSED: &str = r#"{"error":{"code":"refresh_token_reused","message":"already used"}}"#;

/// A session of the home's own account holding tokens that expire at `exp`
/// (refresh token `rt-0`), in a directory that is the Codex CLI's home.
fn shared(exp: i64) -> Session<Fake> {
    let fake = Fake::default();
    fake.signs.borrow_mut().insert("default".into(), HomeSigns { is_codex_home: true, present: vec![] });
    let s = session(fake);
    s.set_credential(Credential::Chatgpt(tokens(exp, "rt-0"))).unwrap();
    s
}

fn ok(rt: &str) -> Result<HttpResponse, TransportError> {
    let t = tokens(NOW + 3600, rt);
    let body = json!({"id_token": t.id_token, "access_token": t.access_token, "refresh_token": rt});
    Ok(HttpResponse { status: 200, headers: Vec::new(), body: body.to_string().into_bytes() })
}

fn refused(body: &str) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse { status: 401, headers: Vec::new(), body: body.as_bytes().to_vec() })
}

/// What the Codex CLI leaves after refreshing to `rt`.
fn codex_wrote(rt: &str) -> Vec<u8> {
    let auth = auth_file::StoredAuth {
        credential: Some(Credential::Chatgpt(tokens(NOW + 3600, rt))),
        last_refresh: Some(NOW),
        login_required: None,
    };
    auth_file::write(None, &auth).unwrap()
}

fn stored_refresh_token(s: &Session<Fake>) -> String {
    let file = auth_file::read(s.platform().file.borrow().as_ref().unwrap()).unwrap();
    let Some(Credential::Chatgpt(t)) = file.credential else { panic!("no login stored") };
    t.refresh_token
}

#[test]
fn inside_codexs_window_the_stored_token_is_served_and_nothing_sent() {
    // Four minutes left: the Codex CLI's window (5 min), not the final one (60 s).
    let s = shared(NOW + 240);
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 240, "rt-0").access_token);
    s.request_headers().unwrap();
    assert!(s.platform().requests.borrow().is_empty(), "Codex refreshes this window");
    assert!(s.status().unwrap().shared_with_codex);
}

#[test]
fn the_same_token_is_refreshed_when_no_codex_shares_the_store() {
    let s = session(Fake::default());
    s.set_credential(Credential::Chatgpt(tokens(NOW + 240, "rt-0"))).unwrap();
    s.platform().responses.borrow_mut().push_back(ok("rt-1"));
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 3600, "rt-1").access_token);
    assert!(!s.status().unwrap().shared_with_codex);
}

#[test]
fn in_the_final_window_the_store_is_reread_and_what_codex_wrote_wins() {
    let s = shared(NOW + 30);
    // Codex refreshed before this session looked again.
    s.platform().file.replace(Some(codex_wrote("rt-codex")));
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 3600, "rt-codex").access_token);
    assert!(s.platform().requests.borrow().is_empty(), "read under the lock, nothing sent");
}

#[test]
fn in_the_final_window_expiry_a_401_or_force_codex_auth_refreshes() {
    let s = shared(NOW + 30);
    s.platform().responses.borrow_mut().push_back(ok("rt-1"));
    s.access_token().unwrap();
    assert_eq!(stored_refresh_token(&s), "rt-1");

    let s = shared(NOW + 240);
    s.platform().responses.borrow_mut().push_back(ok("rt-1"));
    s.refresh(true).unwrap();
    assert_eq!(stored_refresh_token(&s), "rt-1", "forced");

    let s = shared(NOW + 240);
    let rejected = s.access_token().unwrap();
    s.platform().responses.borrow_mut().push_back(ok("rt-1"));
    assert_ne!(s.unauthorized(&rejected).unwrap(), rejected, "a 401");
    assert_eq!(s.platform().requests.borrow().len(), 1);
}

#[test]
fn the_final_window_is_a_setting() {
    let fake = Fake::default();
    fake.signs.borrow_mut().insert("default".into(), HomeSigns { is_codex_home: true, present: vec![] });
    fake.now_ms.set(NOW * 1000);
    let config = crate::session::Config { shared_refresh_seconds: 250, ..Default::default() };
    let s = Session::new(fake, config);
    s.set_credential(Credential::Chatgpt(tokens(NOW + 240, "rt-0"))).unwrap();
    s.platform().responses.borrow_mut().push_back(ok("rt-1"));
    s.access_token().unwrap();
    assert_eq!(stored_refresh_token(&s), "rt-1");
}

#[test]
fn links_and_codexs_own_files_make_a_store_shared_and_the_codex_home_comes_from_the_environment() {
    let fake = Fake::default();
    fake.env.borrow_mut().insert("HOME".into(), "/home/ada".into());
    fake.links.borrow_mut().insert("default".into(), "/home/ada/.codex".into());
    let s = session(fake);
    assert!(s.shared());
    assert_eq!(
        s.platform().signs_asked.borrow().as_slice(),
        [("default".to_owned(), Some("/home/ada/.codex".to_owned()))]
    );

    let fake = Fake::default();
    fake.env.borrow_mut().insert("CODEX_HOME".into(), "/srv/codex".into());
    fake.signs
        .borrow_mut()
        .insert("default".into(), HomeSigns { is_codex_home: false, present: vec!["sessions".into()] });
    let s = session(fake);
    assert!(s.shared());
    assert_eq!(s.platform().signs_asked.borrow()[0].1.as_deref(), Some("/srv/codex"));
}

#[test]
fn a_reuse_codex_caused_waits_unlocked_for_its_write_and_uses_its_login() {
    let s = shared(NOW - 1);
    s.platform().responses.borrow_mut().push_back(refused(REUSED));
    // Codex stores its answer once the lock is free, during the first pause.
    s.platform().peer_write_on_sleep.replace(Some(codex_wrote("rt-codex")));
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 3600, "rt-codex").access_token);
    assert_eq!(stored_refresh_token(&s), "rt-codex", "Codex's login stands");
    let status = s.status().unwrap();
    assert!(!status.login_required, "not disabled");
    let notices = s.platform().notices.borrow();
    assert!(notices.contains(&Notice::PeerRefreshed("default".into())), "{notices:?}");
    assert!(!notices.iter().any(|n| matches!(n, Notice::AccountDisabled(_))), "{notices:?}");
    assert_eq!(s.platform().requests.borrow().len(), 1, "the spent token is never sent again");
}

#[test]
fn a_reuse_with_the_rejected_token_still_stored_disables_after_the_grace() {
    let s = shared(NOW - 1);
    s.platform().responses.borrow_mut().push_back(refused(REUSED));
    let err = s.access_token().unwrap_err();
    assert!(matches!(&err, AuthError::LoginRequired(e) if e.code == "refresh_token_reused"), "{err:?}");
    assert!(s.status().unwrap().login_required);
    let waited: u64 = s.platform().slept_ms.borrow().iter().sum();
    assert!(waited >= PEER_WRITE_GRACE_MS as u64, "waited {waited} ms for a peer's write");
    assert!(s.platform().notices.borrow().iter().any(|n| matches!(n, Notice::AccountDisabled(_))));
    assert_eq!(stored_refresh_token(&s), "rt-0", "the credential is kept");
}

#[test]
fn a_reuse_on_a_store_of_codex_auths_own_does_not_wait() {
    let s = session(Fake::default());
    s.set_credential(Credential::Chatgpt(tokens(NOW - 1, "rt-0"))).unwrap();
    s.platform().responses.borrow_mut().push_back(refused(REUSED));
    assert!(matches!(s.access_token(), Err(AuthError::LoginRequired(_))));
    assert!(s.platform().slept_ms.borrow().is_empty(), "no other program writes there");
}
