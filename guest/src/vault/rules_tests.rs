//! The vault's pure rules: selection, sign-in targets, listing order,
//! settings, and what a move may take.

use super::*;

#[test]
fn a_move_takes_a_readable_login_and_nothing_else() {
    use crate::store::kinds::AccountStore;
    let (dir, file) = ("/c", "/c/auth.json");
    let key = br#"{"OPENAI_API_KEY": "sk-1234"}"#;
    assert_eq!(check_move_source(dir, file, AccountStore::File, Some(key)), Ok(()));
    let none = check_move_source(dir, file, AccountStore::Keyring, None).unwrap_err().to_string();
    assert!(none.contains("/c holds no credential") && none.contains("keyring"), "{none}");
    let empty = check_move_source(dir, file, AccountStore::File, Some(b"{}")).unwrap_err();
    assert!(matches!(empty, AuthError::InvalidInput(_)), "{empty:?}");
    let bad = check_move_source(dir, file, AccountStore::File, Some(b"not json")).unwrap_err();
    assert!(matches!(bad, AuthError::CorruptStore(ref c) if c.path == file), "{bad:?}");
}

fn info(name: &str, state: AccountState) -> AccountInfo {
    AccountInfo {
        name: name.into(),
        location: format!("/v/{name}/auth.json"),
        linked: None,
        pinned: false,
        kind: Kind::Subscription,
        email: None,
        account_id: None,
        plan: None,
        expires_at: None,
        state,
        problem: None,
        blocked_until: None,
        blocks: Vec::new(),
        usage: None,
        label: None,
    }
}

#[test]
fn selection_is_explicit_then_pinned_then_first_usable() {
    let accounts = [
        info("default", AccountState::Disabled),
        info("alpha", AccountState::Unreadable),
        info("beta", AccountState::Ok),
        info("gamma", AccountState::Ok),
    ];
    assert_eq!(select(Some("gamma"), Some("beta"), &accounts), Ok("gamma".into()));
    assert_eq!(select(Some("alpha"), None, &accounts), Ok("alpha".into()), "explicit even if unusable");
    assert_eq!(select(None, Some("gamma"), &accounts), Ok("gamma".into()));
    assert_eq!(select(None, Some("gone"), &accounts), Ok("beta".into()), "a stale pin is ignored");
    assert_eq!(select(None, None, &accounts), Ok("beta".into()));
    assert_eq!(select(Some("nope"), None, &accounts), Err(AuthError::UnknownAccount("nope".into())));
    assert!(matches!(select(Some("../x"), None, &accounts), Err(AuthError::InvalidInput(_))));
    let dead = [info("a", AccountState::Disabled), info("b", AccountState::LoggedOut)];
    assert_eq!(select(None, None, &dead), Ok("a".into()), "none usable: the first, to report on");
    assert_eq!(select(None, None, &[]), Ok(DEFAULT_ACCOUNT.into()));
    assert_eq!(select(Some(DEFAULT_ACCOUNT), None, &[]), Ok(DEFAULT_ACCOUNT.into()));
}

#[test]
fn sign_ins_go_to_the_named_then_pinned_then_home_account() {
    assert_eq!(target(Some("a"), Some("b")), Ok("a".into()));
    assert_eq!(target(None, Some("b")), Ok("b".into()));
    assert_eq!(target(None, None), Ok(DEFAULT_ACCOUNT.into()));
    assert!(target(Some("a/b"), None).is_err());
}

#[test]
fn listing_order_puts_the_home_account_first_and_drops_bad_names() {
    let mut names = vec!["zeta".into(), "default".into(), "alpha".into(), ".tmp".into(), "alpha".into()];
    order(&mut names);
    assert_eq!(names, ["default", "alpha", "zeta"]);
}

#[test]
fn settings_round_trip_and_survive_garbage() {
    let s = Settings { pinned: Some("work".into()) };
    assert_eq!(Settings::read(Some(&s.write())), s);
    assert_eq!(Settings::read(Some(b"{not json")), Settings::default());
    assert_eq!(Settings::read(Some(br#"{"pinned":"../etc"}"#)), Settings::default());
    assert_eq!(Settings::read(None), Settings::default());
}
