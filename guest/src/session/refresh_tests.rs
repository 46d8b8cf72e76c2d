//! Refresh and 401 recovery against the in-memory platform.

use crate::error::AuthError;
use crate::fake::Fake;
use crate::platform::{HttpResponse, TransportError};
use crate::session::tests::{NOW, session, tokens};
use crate::store::auth_file::{self, Credential};
use serde_json::json;

fn ok(body: serde_json::Value) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse { status: 200, headers: Vec::new(), body: body.to_string().into_bytes() })
}

fn answer(status: u16, body: &str) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse { status, headers: Vec::new(), body: body.as_bytes().to_vec() })
}

/// A session whose store holds tokens expiring at `exp` with refresh token `rt-0`.
fn stored(exp: i64) -> crate::session::Session<Fake> {
    let s = session(Fake::default());
    s.set_credential(Credential::Chatgpt(tokens(exp, "rt-0"))).unwrap();
    s
}

/// The store as a peer leaves it after refreshing to `rt-peer`.
fn peer_file() -> Vec<u8> {
    let auth = auth_file::StoredAuth {
        credential: Some(Credential::Chatgpt(tokens(NOW + 3600, "rt-peer"))),
        last_refresh: Some(NOW),
        login_required: None,
    };
    auth_file::write(None, &auth).unwrap()
}

fn rotated(exp: i64, rt: &str) -> serde_json::Value {
    let t = tokens(exp, rt);
    json!({"id_token": t.id_token, "access_token": t.access_token, "refresh_token": rt})
}

#[test]
fn fresh_tokens_send_nothing() {
    let s = stored(NOW + 3600);
    s.access_token().unwrap();
    assert!(s.platform().requests.borrow().is_empty());
}

#[test]
fn due_tokens_are_refreshed_and_persisted_first() {
    let s = stored(NOW + 60);
    s.platform().responses.borrow_mut().push_back(ok(rotated(NOW + 3600, "rt-1")));
    let token = s.access_token().unwrap();
    assert_eq!(token, tokens(NOW + 3600, "rt-1").access_token);
    let requests = s.platform().requests.borrow();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].url.ends_with("/oauth/token"));
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        body,
        json!({"client_id": "app_EMoamEEZ73f0CkXaXp7hrann", "grant_type": "refresh_token", "refresh_token": "rt-0"})
    );
    let file = auth_file::read(s.platform().file.borrow().as_ref().unwrap()).unwrap();
    let Some(Credential::Chatgpt(t)) = file.credential else { panic!() };
    assert_eq!(t.refresh_token, "rt-1");
    assert!(!s.platform().locked.get(), "lock released");
}

#[test]
fn fields_the_answer_omits_are_kept() {
    let s = stored(NOW + 60);
    let new_access = tokens(NOW + 3600, "x").access_token;
    s.platform().responses.borrow_mut().push_back(ok(json!({"access_token": new_access})));
    assert_eq!(s.access_token().unwrap(), new_access);
    let file = auth_file::read(s.platform().file.borrow().as_ref().unwrap()).unwrap();
    let Some(Credential::Chatgpt(t)) = file.credential else { panic!() };
    assert_eq!((t.refresh_token.as_str(), t.id_token), ("rt-0", tokens(NOW + 60, "rt-0").id_token));
}

#[test]
fn a_peer_that_rotated_already_saves_the_request() {
    let s = stored(NOW + 60);
    s.status().unwrap(); // loads the due tokens into the session
    s.platform().file.replace(Some(peer_file()));
    // Under the lock the store shows fresh tokens: nothing is sent (an
    // unscripted request would panic).
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 3600, "rt-peer").access_token);
    assert!(s.platform().requests.borrow().is_empty());
}

#[test]
fn a_transient_failure_keeps_the_still_valid_token() {
    let s = stored(NOW + 60);
    s.platform().requests.borrow_mut().clear();
    s.platform().responses.borrow_mut().push_back(answer(503, "busy"));
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 60, "rt-0").access_token);
    assert_eq!(s.platform().requests.borrow().len(), 1, "one attempt while the token is valid");
    assert!(!s.status().unwrap().login_required);
}

#[test]
fn an_expired_token_is_retried_with_backoff_then_explained() {
    let s = stored(NOW - 1);
    for _ in 0..3 {
        s.platform().responses.borrow_mut().push_back(Err(TransportError::Connect("refused".into())));
    }
    let err = s.access_token().unwrap_err();
    assert!(matches!(&err, AuthError::Transport(why) if why.contains("expired")), "{err:?}");
    assert_eq!(*s.platform().slept_ms.borrow(), vec![500, 1000]);
    // An expired token has nothing to fall back on: the full timeout applies.
    assert!(s.platform().requests.borrow().iter().all(|r| r.timeout_ms == 30_000));
    assert!(s.platform().file.borrow().is_some(), "credential kept");
}

#[test]
fn a_permanent_failure_marks_login_required_and_never_resends() {
    let s = stored(NOW - 1);
    s.platform()
        .responses
        .borrow_mut()
        .push_back(answer(401, r#"{"error":{"code":"refresh_token_reused"}}"#));
    let err = s.access_token().unwrap_err();
    assert!(matches!(&err, AuthError::LoginRequired(e) if e.code == "refresh_token_reused"), "{err:?}");
    assert!(s.status().unwrap().login_required);
    // Kept, marked, and never sent again (nothing is scripted: a send would panic).
    s.reload().unwrap();
    assert!(matches!(s.access_token(), Err(AuthError::LoginRequired(_))));
    assert!(matches!(s.refresh(true), Err(AuthError::LoginRequired(_))));
    assert_eq!(s.platform().requests.borrow().len(), 1);
    let file = auth_file::read(s.platform().file.borrow().as_ref().unwrap()).unwrap();
    assert!(matches!(file.credential, Some(Credential::Chatgpt(_))));
}

#[test]
fn force_refreshes_fresh_tokens() {
    let s = stored(NOW + 3600);
    s.platform().responses.borrow_mut().push_back(ok(rotated(NOW + 7200, "rt-1")));
    let status = s.refresh(true).unwrap();
    assert_eq!(status.expires_at, Some(NOW + 7200));
}

#[test]
fn unauthorized_prefers_the_store_then_refreshes_then_gives_up() {
    let s = stored(NOW + 3600);
    let first = s.access_token().unwrap();
    // 1. A peer wrote new tokens: they are returned without a request.
    s.platform().file.replace(Some(peer_file()));
    let second = s.unauthorized(&first).unwrap();
    assert_eq!(second, tokens(NOW + 3600, "rt-peer").access_token);
    assert!(s.platform().requests.borrow().is_empty());
    // 2. Nothing new on disk: refresh, even though the token is not due.
    s.platform().responses.borrow_mut().push_back(ok(rotated(NOW + 3601, "rt-2")));
    let third = s.unauthorized(&second).unwrap();
    assert_eq!(third, tokens(NOW + 3601, "rt-2").access_token);
    let sent: serde_json::Value = serde_json::from_slice(&s.platform().requests.borrow()[0].body).unwrap();
    assert_eq!(sent["refresh_token"], "rt-peer");
    // 3. The refresh is refused: login required.
    s.platform().responses.borrow_mut().push_back(answer(400, r#"{"error":"invalid_grant"}"#));
    assert!(matches!(s.unauthorized(&third), Err(AuthError::LoginRequired(_))));
}

#[test]
fn a_permanent_failure_after_a_peer_rotated_uses_the_peer_tokens() {
    let s = stored(NOW - 1);
    // The request races a peer without our lock (say the Codex CLI): the
    // issuer calls our token reused, but the store already holds new tokens.
    s.platform().peer_write_on_send.replace(Some(peer_file()));
    s.platform()
        .responses
        .borrow_mut()
        .push_back(answer(401, r#"{"error":{"code":"refresh_token_reused"}}"#));
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 3600, "rt-peer").access_token);
    assert!(!s.status().unwrap().login_required);
}

#[test]
fn a_failed_proactive_refresh_pauses_before_trying_again() {
    let s = stored(NOW + 200);
    s.platform().requests.borrow_mut().clear();
    s.platform().responses.borrow_mut().push_back(Err(TransportError::Timeout));
    let old = tokens(NOW + 200, "rt-0").access_token;
    assert_eq!(s.access_token().unwrap(), old);
    // The token still works: the issuer is given 10 s, not the full 30 s.
    assert_eq!(s.platform().requests.borrow()[0].timeout_ms, crate::session::PROACTIVE_TIMEOUT_MS);
    // Calls right after do not wait on the issuer again (nothing is scripted).
    assert_eq!(s.access_token().unwrap(), old);
    assert_eq!(s.request_headers().unwrap()[0].1, format!("Bearer {old}"));
    assert_eq!(s.platform().requests.borrow().len(), 1);
    // After the pause it is tried again, and a success ends the pause.
    s.platform().now_ms.set(s.platform().now_ms.get() + crate::session::PROACTIVE_RETRY_PAUSE_MS + 1);
    s.platform().responses.borrow_mut().push_back(ok(rotated(NOW + 3600, "rt-1")));
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 3600, "rt-1").access_token);
    assert_eq!(s.platform().requests.borrow().len(), 2);
}

#[test]
fn an_unreachable_store_keeps_serving_a_still_valid_token() {
    // A database that went down: the lock cannot be had.
    let s = stored(NOW + 200);
    let old = tokens(NOW + 200, "rt-0").access_token;
    *s.platform().lock_error.borrow_mut() =
        Some(crate::platform::StorageError::Io("cannot reach the database postgres://h/db".into()));
    assert_eq!(s.access_token().unwrap(), old, "due, not expired: the token is served");
    assert!(s.platform().requests.borrow().is_empty(), "nothing is sent without the lock");
    // Once it has expired there is nothing to serve: the error says why.
    s.platform().now_ms.set((NOW + 300) * 1000);
    let err = s.access_token().unwrap_err();
    assert!(matches!(&err, AuthError::Storage(why) if why.contains("cannot reach the database")), "{err:?}");
}

#[test]
fn rotated_tokens_the_store_could_not_take_are_written_once_it_is_back() {
    use crate::platform::StorageError;
    let s = stored(NOW - 10);
    let gone =
        || StorageError::Io("cannot write to the database postgres://h/db: the connection closed".into());
    // The database goes away after the issuer has answered: the write
    // fails, and so do the next two tries to lock.
    s.platform().save_errors.borrow_mut().push_back(gone());
    s.platform().lock_errors_after_failed_save.borrow_mut().extend([gone(), gone()]);
    s.platform().responses.borrow_mut().push_back(ok(rotated(NOW + 3600, "rt-1")));
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 3600, "rt-1").access_token);
    assert_eq!(s.platform().requests.borrow().len(), 1, "the spent token is never sent again");
    let stored = auth_file::read(s.platform().file.borrow().as_deref().unwrap()).unwrap();
    let Some(Credential::Chatgpt(written)) = stored.credential else { panic!("{stored:?}") };
    assert_eq!(written.refresh_token, "rt-1", "written once the store was back");
    assert_eq!(s.platform().slept_ms.borrow().len(), 3, "paused with the lock released");
}

#[test]
fn rotated_tokens_never_overwrite_a_newer_sign_in() {
    use crate::platform::StorageError;
    let s = stored(NOW - 10);
    s.platform().save_errors.borrow_mut().push_back(StorageError::Io("gone".into()));
    s.platform().responses.borrow_mut().push_back(ok(rotated(NOW + 3600, "rt-1")));
    // Meanwhile someone signed in again: the store no longer holds rt-0.
    let newer = auth_file::write(
        None,
        &auth_file::StoredAuth {
            credential: Some(Credential::Chatgpt(tokens(NOW + 7200, "rt-new"))),
            ..Default::default()
        },
    )
    .unwrap();
    *s.platform().peer_write_on_send.borrow_mut() = Some(newer.clone());
    assert_eq!(s.access_token().unwrap(), tokens(NOW + 7200, "rt-new").access_token);
    assert_eq!(s.platform().file.borrow().as_deref(), Some(&newer[..]));
}

#[test]
fn a_store_that_stays_away_says_the_rotation_is_lost() {
    use crate::platform::StorageError;
    let s = stored(NOW - 10);
    s.platform().save_errors.borrow_mut().push_back(StorageError::Io("gone".into()));
    s.platform().responses.borrow_mut().push_back(ok(rotated(NOW + 3600, "rt-1")));
    s.platform()
        .lock_errors_after_failed_save
        .borrow_mut()
        .extend((0..100).map(|_| StorageError::Io("still gone".into())));
    let err = s.access_token().unwrap_err();
    assert!(
        matches!(&err, AuthError::Storage(why) if why.contains("still gone") && why.contains("sign in again")),
        "{err:?}"
    );
    assert_eq!(s.platform().requests.borrow().len(), 1);
}
