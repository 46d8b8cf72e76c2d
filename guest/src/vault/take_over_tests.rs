//! The take-over's order of I/O against the in-memory platform.

use super::*;
use crate::fake::Fake;
use crate::platform::StorageError;
use crate::session::Config;
use crate::session::tests::{NOW, tokens};
use crate::store::auth_file::{Credential, StoredAuth};

const HOME: &str = "/home/ada/.codex";

fn login(rt: &str) -> Vec<u8> {
    let auth = StoredAuth {
        credential: Some(Credential::Chatgpt(tokens(NOW + 3600, rt))),
        last_refresh: Some(NOW),
        login_required: None,
    };
    auth_file::write(None, &auth).unwrap()
}

/// A vault and a Codex home at [`HOME`] holding `rt-home`.
fn vault_beside_a_home(one_file_system: bool) -> Vault<Fake> {
    let fake = Fake::default();
    fake.now_ms.set(NOW * 1000);
    fake.homes.borrow_mut().insert(HOME.into(), login("rt-home"));
    fake.one_file_system.set(one_file_system);
    Vault::new(fake, Config::default())
}

fn holders(v: &Vault<Fake>) -> (bool, bool) {
    let fake = &v.platform;
    (fake.homes.borrow().contains_key(HOME), fake.named.borrow().get("m").is_some_and(Option::is_some))
}

fn no_lock_left(v: &Vault<Fake>) -> bool {
    v.platform.place_locks.borrow().is_empty() && v.platform.named_locks.borrow().is_empty()
}

#[test]
fn on_one_file_system_the_login_is_renamed_in_with_no_journal() {
    let v = vault_beside_a_home(true);
    let status = v.take_over("m", HOME).unwrap();
    assert_eq!((status.account.as_deref(), status.kind), (Some("m"), crate::session::Kind::Subscription));
    assert_eq!(holders(&v), (false, true));
    assert!(v.platform.journal.borrow().is_empty());
    assert!(no_lock_left(&v));
}

#[test]
fn elsewhere_a_journal_covers_the_copy_and_is_gone_when_it_is_done() {
    for keyring in [false, true] {
        // A keyring entry is never renamed, even on one file system.
        let v = vault_beside_a_home(keyring);
        if keyring {
            let config = r#"{"cli_auth_credentials_store": "keyring"}"#;
            v.platform.home_configs.borrow_mut().insert(HOME.into(), config.into());
        }
        v.take_over("m", HOME).unwrap();
        assert_eq!(holders(&v), (false, true), "keyring: {keyring}");
        assert_eq!(v.platform.named.borrow()["m"].as_deref(), Some(&login("rt-home")[..]), "moved as it is");
        assert!(v.platform.journal.borrow().is_empty());
        assert!(no_lock_left(&v));
    }
}

#[test]
fn a_home_with_nothing_or_an_unreadable_file_is_refused_and_left_as_it_is() {
    let v = vault_beside_a_home(true);
    v.platform.homes.borrow_mut().clear();
    let err = v.take_over("m", HOME).unwrap_err();
    assert!(matches!(&err, AuthError::InvalidInput(why) if why.contains("holds no credential")), "{err:?}");
    v.platform.homes.borrow_mut().insert(HOME.into(), b"{not json".to_vec());
    let err = v.take_over("m", HOME).unwrap_err();
    assert!(matches!(&err, AuthError::CorruptStore(c) if c.path == "/home/ada/.codex/auth.json"), "{err:?}");
    assert_eq!(v.platform.homes.borrow()[HOME], b"{not json");
    assert!(v.platform.named.borrow().is_empty() && no_lock_left(&v));
}

#[test]
fn a_busy_home_or_a_taken_name_moves_nothing() {
    let v = vault_beside_a_home(true);
    let home = Place::CodexHome(HomePlace { directory: HOME.into(), kept_in: AccountStore::File });
    v.platform.places_busy.borrow_mut().push(home);
    assert_eq!(v.take_over("m", HOME), Err(AuthError::LockTimeout(Config::default().lock_timeout_ms)));
    v.platform.places_busy.borrow_mut().clear();
    v.platform.named.borrow_mut().insert("m".into(), Some(login("rt-m")));
    assert!(
        matches!(v.take_over("m", HOME), Err(AuthError::InvalidInput(why)) if why.contains("exists already"))
    );
    assert_eq!(holders(&v), (true, true));
    assert_eq!(v.platform.named.borrow()["m"].as_deref(), Some(&login("rt-m")[..]));
}

#[test]
fn an_interrupted_move_is_finished_when_the_vault_holds_the_login_else_rolled_back() {
    // Interrupted before the vault's store was written: the home keeps it.
    let v = vault_beside_a_home(false);
    v.platform.save_errors.borrow_mut().push_back(StorageError::Io("disk full".into()));
    assert!(v.take_over("m", HOME).is_err());
    assert_eq!(holders(&v), (true, false));
    assert_eq!(v.platform.journal.borrow().len(), 1, "the journal is left for the next command");
    let said = v.finish_moves();
    assert!(said[0].starts_with("rolled back an interrupted move into account `m`"), "{said:?}");
    assert_eq!(holders(&v), (true, false));

    // Interrupted after it: the home's copy goes.
    let entry = journal_entry(HOME, AccountStore::File, "m");
    v.platform.journal.borrow_mut().insert("m".into(), entry);
    v.platform.named.borrow_mut().insert("m".into(), Some(login("rt-home")));
    let said = v.finish_moves();
    assert!(said[0].starts_with("finished moving the login of /home/ada/.codex"), "{said:?}");
    assert_eq!(holders(&v), (false, true));
    assert!(v.platform.journal.borrow().is_empty() && no_lock_left(&v));
    assert!(v.finish_moves().is_empty(), "nothing left to do");
}

#[test]
fn a_journal_is_read_leniently_and_a_busy_one_waits_for_the_next_command() {
    let v = vault_beside_a_home(false);
    v.platform.journal.borrow_mut().insert("m".into(), b"{broken".to_vec());
    let said = v.finish_moves();
    assert_eq!(said, ["dropped an unreadable journal of a move into account `m`"]);
    assert_eq!(holders(&v), (true, false), "an unreadable entry touches no login");

    // The first release's entries name no mode: a file.
    let old = serde_json::json!({ "source": HOME, "account": "m" }).to_string().into_bytes();
    assert_eq!(
        read_journal_entry(&old),
        Some(HomePlace { directory: HOME.into(), kept_in: AccountStore::File })
    );
    let keyring = journal_entry(HOME, AccountStore::Keyring, "m");
    assert_eq!(read_journal_entry(&keyring).map(|h| h.kept_in), Some(AccountStore::Keyring));
    assert_eq!(read_journal_entry(br#"{"source": "/x", "kept_in": "cloud"}"#), None);

    v.platform.journal.borrow_mut().insert("m".into(), keyring);
    v.platform.places_busy.borrow_mut().push(Place::Journal("m".into()));
    assert!(v.finish_moves().is_empty(), "a move still running is left alone");
    assert_eq!(v.platform.journal.borrow().len(), 1);
}
