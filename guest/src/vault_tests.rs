//! The vault and per-account sessions against the in-memory platform.

use crate::auth_file::{self, Credential, StoredAuth};
use crate::error::AuthError;
use crate::fake::Fake;
use crate::platform::HttpResponse;
use crate::session::{Config, Revocation, Session};
use crate::session_tests::{NOW, tokens};
use crate::vault::{AccountState, Vault};

fn file(rt: &str, exp: i64) -> Vec<u8> {
    let auth = StoredAuth {
        credential: Some(Credential::ChatGpt(tokens(exp, rt))),
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
    Ok(HttpResponse { status: 200, body: b"{}".to_vec() })
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
    assert!(matches!(s.access_token(), Err(AuthError::CorruptStore { path, .. }) if path.contains("/work/")));
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
