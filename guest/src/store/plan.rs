//! Where a vault keeps its credentials: files in Codex homes (the default),
//! the Codex CLI's keyring entry per Codex home, or a PostgreSQL database
//! for the whole vault (a fleet of machines sharing one pool). Decided here
//! from the flag, the environment and the config file; the host opens what
//! the plan says and decides nothing.

use crate::platform::Platform;
use crate::store::codex_config::CodexConfig;
use crate::store::config_file::{ConfigFile, Origin, given_store};
use crate::store::kinds::{AccountStore, Store};

/// The vault's stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorePlan {
    /// Every account is a row of this database (a `postgres://` URL); the
    /// rest of the plan is then unused.
    pub database: Option<String>,
    /// The store of an account the config file does not name.
    pub default_store: AccountStore,
    /// `[accounts.NAME] store = ...` of the config file.
    pub accounts: Vec<(String, AccountStore)>,
    /// An imported Codex home can stay where it is, linked; a database
    /// holds every account itself, so an import moves the login in.
    pub links_in_place: bool,
}

/// The plan: `given` `store` (the flag, then the environment), then a given
/// `database_url` (its own variable), then the file's `store`, then files.
/// A database holds the whole vault, so it cannot be set for one account.
/// On disk, an account whose Codex home sets `cli_auth_credentials_store`
/// (`homes`) is kept where the Codex CLI keeps it, whatever codex-auth's own
/// settings say: the home belongs to the Codex CLI, and both must read and
/// refresh the same login.
pub fn plan(
    given: &[(String, String, Origin)],
    file: Option<&ConfigFile>,
    homes: &[CodexConfigOf],
) -> Result<StorePlan, String> {
    let vault_wide = match (given_store(given), file.and_then(|f| f.store.as_ref())) {
        (Some((_, value, _)), _) => crate::store::kinds::parse(value)?,
        (None, Some(from_file)) => from_file.clone(),
        (None, None) => Store::Account(AccountStore::File),
    };
    let accounts: Vec<(String, AccountStore)> = file
        .map(|f| f.accounts.iter().filter_map(|(name, s)| Some((name.clone(), s.store?))).collect())
        .unwrap_or_default();
    match vault_wide {
        Store::Database(url) => {
            if let Some((name, _)) = accounts.first() {
                return Err(format!(
                    "`accounts.{name}.store` cannot be used: the vault is in a database, which holds every account"
                ));
            }
            Ok(StorePlan {
                database: Some(url),
                default_store: AccountStore::File,
                accounts,
                links_in_place: false,
            })
        }
        Store::Account(default_store) => {
            let mut accounts = accounts;
            for (name, codex) in homes {
                if let Some(mode) = codex.store {
                    accounts.retain(|(n, _)| n != name);
                    accounts.push((name.clone(), mode));
                }
            }
            Ok(StorePlan { database: None, default_store, accounts, links_in_place: true })
        }
    }
}

/// The plan for the vault the platform holds: a database holds every
/// account; otherwise each account's Codex home is read for its own store
/// mode. A home that cannot be read keeps the vault's store; its error is
/// shown where it matters (`config show`, a sign-in).
pub fn plan_on<P: Platform>(
    platform: &P,
    given: &[(String, String, Origin)],
    file: Option<&ConfigFile>,
) -> Result<StorePlan, String> {
    let plan = plan(given, file, &[])?;
    if plan.database.is_some() {
        return Ok(plan);
    }
    let homes: Vec<_> =
        read_homes(platform).into_iter().filter_map(|(name, read)| Some((name, read.ok()?))).collect();
    self::plan(given, file, &homes)
}

/// Every setting `config show` lists: codex-auth's own in effect
/// ([`crate::store::config_file::effective`]), then what each account's Codex
/// home sets of sign-in (`codex.<key>` for the home's own account,
/// `accounts.<name>.codex.<key>` for the others), origin `codex`.
pub fn settings_on<P: Platform>(
    platform: &P,
    given: &[(String, String, Origin)],
    file: Option<&ConfigFile>,
) -> Vec<crate::store::config_file::Setting> {
    let mut settings = crate::store::config_file::effective(given, file);
    let homes = read_homes(platform);
    settings.extend(crate::store::codex_config::settings_of(&homes).into_iter().map(|(name, value)| {
        crate::store::config_file::Setting { name, value: Some(value), origin: Origin::Codex }
    }));
    settings
}

/// An account and its Codex home's `config.toml`.
pub type CodexConfigOf = (String, CodexConfig);

/// Every account on disk (and the home's own, which may live in a keyring
/// only) with its Codex home's `config.toml`, or why that cannot be read.
pub fn read_homes<P: Platform>(platform: &P) -> Vec<(String, Result<CodexConfig, String>)> {
    let mut names = platform.accounts().unwrap_or_default();
    names.retain(|n| crate::store::names::check_name(n).is_ok());
    names.push(crate::defaults::DEFAULT_ACCOUNT.to_owned());
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let read = match platform.codex_config(&name) {
                Ok(None) => return None,
                Ok(Some((path, json))) => crate::store::codex_config::parse(&json, &path),
                Err(e) => Err(crate::error::AuthError::from(e).to_string()),
            };
            Some((name, read))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codex_config::CodexConfig;
    use crate::store::config_file::AccountSettings;
    use crate::store::kinds::AccountStore;

    fn given(value: &str, origin: Origin) -> (String, String, Origin) {
        ("store".into(), value.into(), origin)
    }

    #[test]
    fn flag_beats_environment_beats_file_beats_files() {
        let mut file =
            ConfigFile { store: Some(Store::Account(AccountStore::Keyring)), ..Default::default() };
        file.accounts
            .insert("ci".into(), AccountSettings { store: Some(AccountStore::File), ..Default::default() });
        assert_eq!(plan(&[], None, &[]).unwrap().default_store, AccountStore::File);
        let from_file = plan(&[], Some(&file), &[]).unwrap();
        assert_eq!(
            (from_file.default_store, from_file.accounts),
            (AccountStore::Keyring, vec![("ci".into(), AccountStore::File)])
        );
        let env = [("database_url".into(), "postgres://db/x".into(), Origin::Environment)];
        file.accounts.clear();
        assert_eq!(plan(&env, Some(&file), &[]).unwrap().database.as_deref(), Some("postgres://db/x"));
        let both = [env[0].clone(), given("file", Origin::Environment)];
        assert_eq!(
            plan(&both, Some(&file), &[]).unwrap().database,
            None,
            "CODEX_AUTH_STORE beats the URL variable"
        );
        let flagged = [env[0].clone(), given("keyring", Origin::Flag)];
        let flagged = plan(&flagged, Some(&file), &[]).unwrap();
        assert_eq!((flagged.database, flagged.default_store), (None, AccountStore::Keyring));
    }

    #[test]
    fn a_database_holds_every_account_and_bad_stores_are_named() {
        let mut file = ConfigFile::default();
        file.accounts
            .insert("a".into(), AccountSettings { store: Some(AccountStore::Keyring), ..Default::default() });
        let e = plan(&[given("postgresql://h/db", Origin::Flag)], Some(&file), &[]).unwrap_err();
        assert!(e.contains("accounts.a.store"), "{e}");
        let e = plan(&[given("mysql://u:hunter2@h/db", Origin::Flag)], None, &[]).unwrap_err();
        assert!(e.contains("not a store") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn a_codex_homes_own_store_mode_beats_codex_auths_settings() {
        let mut file = ConfigFile::default();
        file.accounts
            .insert("work".into(), AccountSettings { store: Some(AccountStore::File), ..Default::default() });
        let home = |mode| CodexConfig { store: Some(mode), ..Default::default() };
        let homes = [
            ("default".to_owned(), home(AccountStore::Keyring)),
            ("work".to_owned(), home(AccountStore::Auto)),
            ("plain".to_owned(), CodexConfig::default()),
        ];
        let plan = plan(&[given("file", Origin::Flag)], Some(&file), &homes).unwrap();
        assert_eq!(plan.default_store, AccountStore::File);
        let mut accounts = plan.accounts;
        accounts.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            accounts,
            [("default".to_owned(), AccountStore::Keyring), ("work".to_owned(), AccountStore::Auto)]
        );
        // A database vault has no Codex homes.
        let db = super::plan(&[given("postgres://h/db", Origin::Flag)], None, &homes).unwrap();
        assert!(db.accounts.is_empty());
    }

    #[test]
    fn on_disk_each_home_is_read_and_a_database_reads_none() {
        let fake = crate::fake::Fake::default();
        fake.named.borrow_mut().insert("work".into(), None);
        fake.named.borrow_mut().insert("broken".into(), None);
        fake.codex_configs
            .borrow_mut()
            .insert("work".into(), r#"{"cli_auth_credentials_store": "keyring"}"#.into());
        fake.codex_configs
            .borrow_mut()
            .insert("broken".into(), r#"{"cli_auth_credentials_store": 7}"#.into());
        let plan = plan_on(&fake, &[], None).unwrap();
        assert_eq!(
            plan.accounts,
            [("work".to_owned(), AccountStore::Keyring)],
            "the broken home keeps the default"
        );
        assert!(plan.links_in_place);
        let db = plan_on(&fake, &[given("postgres://h/db", Origin::Flag)], None).unwrap();
        assert!(db.database.is_some() && db.accounts.is_empty());
        assert!(!db.links_in_place, "a database cannot hold a Codex home in place: imports move");
    }

    #[test]
    fn config_show_lists_codex_auths_settings_then_each_codex_homes_sign_in_keys() {
        let fake = crate::fake::Fake::default();
        fake.named.borrow_mut().insert("work".into(), None);
        fake.codex_configs
            .borrow_mut()
            .insert("work".into(), r#"{"forced_chatgpt_workspace_id": "ws-1"}"#.into());
        let settings = settings_on(&fake, &[given("keyring", Origin::Flag)], None);
        let get = |name: &str| settings.iter().find(|s| s.name == name);
        assert_eq!(get("store").map(|s| s.origin), Some(Origin::Flag));
        let forced = get("accounts.work.codex.forced_chatgpt_workspace_id").unwrap();
        assert_eq!((forced.value.as_deref(), forced.origin), (Some("ws-1"), Origin::Codex));
    }
}
