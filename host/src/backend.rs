/*!
The vault's stores as the guest's plan ([`StorePlan`]) says: accounts in
Codex homes on disk, each in its `auth.json` or in the Codex CLI's keyring
entry, or every account a row of a PostgreSQL database. The host opens what
the plan names and decides nothing else; the storage import goes through
here.
*/

use crate::bindings::vault::VaultLayout;
use crate::database::{Database, Row, Table};
use crate::file_store::{FileStore, StoreError};
use crate::keyring_store::KeyringStore;
use crate::layout::Layout;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

pub(crate) use crate::bindings::types::AccountStore;
/// The guest's plan of the vault's stores (the WIT record, used as it is).
pub(crate) use crate::bindings::vault::StorePlan;

/// Where one vault's accounts are.
pub(crate) struct Backend {
    /// The home: the settings (the pin, this machine's) and, on disk, the accounts.
    layout: Layout,
    /// Set once, from the guest's plan, right after the vault instance is
    /// made (its constructor reads no store), so no extra instance is needed
    /// to ask for the plan.
    stores: OnceLock<Stores>,
}

enum Stores {
    /// Accounts added later (a linked Codex home) join `accounts`.
    Disk {
        default_store: AccountStore,
        accounts: RwLock<HashMap<String, AccountStore>>,
    },
    Database(Arc<Database>),
}

/// One account's store (or pool state), and while held, its lock.
#[derive(Debug)]
pub(crate) enum Store {
    File(FileStore),
    Keyring(KeyringStore),
    Auto(AutoStore),
    Ephemeral(PathBuf),
    /// Boxed: a held row carries its connection.
    Row(Box<Row>),
}

/// The Codex CLI's `auto` mode for one Codex home: the keyring entry when a
/// keyring answers and holds one, else `auth.json`; a save the keyring
/// refuses goes to `auth.json` (as the Codex CLI's `AutoAuthStorage` does;
/// PROTOCOL.md, "The Codex CLI's other stores").
/// Both are locked by the home's `auth.lock`.
#[derive(Debug)]
pub(crate) struct AutoStore {
    keyring: KeyringStore,
    file: FileStore,
}

impl Backend {
    /// The vault at `home`, its stores still to be planned ([`Backend::plan`]).
    pub fn new(home: &Path, default_account: &str, names: &VaultLayout) -> Self {
        Self { layout: Layout::new(home, default_account, names), stores: OnceLock::new() }
    }

    /// Opens what `plan` names; a database is connected to on first use.
    pub fn plan(&self, plan: StorePlan) -> Result<(), StoreError> {
        let stores = match plan.database {
            Some(url) => Stores::Database(Arc::new(Database::open(&url)?)),
            None => Stores::Disk {
                default_store: plan.default_store,
                accounts: RwLock::new(plan.accounts.into_iter().collect()),
            },
        };
        self.stores.set(stores).map_err(|_| StoreError::Io("the vault's stores were planned twice".into()))
    }

    /// The journal of `import --move`s in progress.
    pub fn moves_dir(&self) -> PathBuf {
        self.layout.moves_dir()
    }

    /// A backend for calls that touch no store.
    pub fn none() -> Self {
        let nothing = VaultLayout {
            accounts_dir: String::new(),
            settings_file: String::new(),
            settings_lock: String::new(),
            pool_dir: String::new(),
            moves_dir: String::new(),
        };
        let none = Self::new(Path::new(""), "", &nothing);
        let _ = none.plan(StorePlan {
            database: None,
            default_store: AccountStore::File,
            accounts: Vec::new(),
            links_in_place: true,
        });
        none
    }

    fn stores(&self) -> Result<&Stores, StoreError> {
        self.stores.get().ok_or_else(|| StoreError::Io("the vault's stores are not planned yet".into()))
    }

    pub fn in_database(&self) -> bool {
        matches!(self.stores.get(), Some(Stores::Database(_)))
    }

    /// On a database, calls `changed` whenever any process writes a pool
    /// row (see [`Database::listen`]) while `alive`; `false` elsewhere.
    pub fn listen_pool(
        &self,
        alive: impl Fn() -> bool + Send + 'static,
        changed: impl Fn(crate::database::PoolChange) + Send + 'static,
    ) -> bool {
        match self.stores.get() {
            Some(Stores::Database(database)) => {
                database.listen(alive, changed);
                true
            }
            _ => false,
        }
    }

    /// The store of account `name`.
    pub fn store(&self, name: &str) -> Result<Store, StoreError> {
        match self.stores()? {
            Stores::Disk { default_store, accounts } => {
                let dir = self.layout.account_dir(name)?;
                let chosen = *accounts
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(name)
                    .unwrap_or(default_store);
                Ok(Self::home_store(&dir, chosen))
            }
            Stores::Database(database) => {
                self.layout.account_dir(name)?;
                Ok(Store::Row(Box::new(Row::new(database, Table::Accounts, name))))
            }
        }
    }

    /// The store of a Codex home that is not an account (the source of
    /// `import --move`), kept as `kind` says.
    pub fn home_store(dir: &Path, kind: AccountStore) -> Store {
        match kind {
            AccountStore::File => Store::File(FileStore::new(dir)),
            AccountStore::Keyring => Store::Keyring(KeyringStore::new(dir)),
            AccountStore::Auto => {
                Store::Auto(AutoStore { keyring: KeyringStore::new(dir), file: FileStore::new(dir) })
            }
            AccountStore::Ephemeral => Store::Ephemeral(dir.to_owned()),
        }
    }

    /// The pool state of account `name`.
    pub fn pool(&self, name: &str) -> Result<Store, StoreError> {
        match self.stores()? {
            Stores::Disk { .. } => self.layout.pool(name).map(Store::File),
            Stores::Database(database) => {
                self.layout.account_dir(name)?;
                Ok(Store::Row(Box::new(Row::new(database, Table::Pool, name))))
            }
        }
    }

    pub fn settings(&self) -> FileStore {
        self.layout.settings()
    }

    /// The accounts that have a store. Before the plan (the guest plans
    /// from the Codex homes on disk), the directories on disk.
    pub fn accounts(&self) -> Result<Vec<String>, StoreError> {
        match self.stores.get() {
            None => self.layout.accounts(),
            Some(Stores::Disk { .. }) => {
                let mut names = self.layout.accounts()?;
                // The home's own account exists when its store holds
                // something, wherever that store is.
                let default = self.layout.default_account();
                let mut store = self.store(default)?;
                if !names.iter().any(|n| n == default)
                    && matches!(store, Store::Keyring(_) | Store::Auto(_))
                    && store.load()?.is_some()
                {
                    names.insert(0, default.to_owned());
                }
                Ok(names)
            }
            Some(Stores::Database(database)) => database.names(Table::Accounts),
        }
    }

    /// The TOML file `file` of account `name`'s Codex home, as JSON with its
    /// path; none for a database row.
    pub fn codex_config(&self, name: &str, file: &str) -> Result<Option<(String, String)>, StoreError> {
        if self.in_database() {
            return Ok(None);
        }
        Self::home_config(&self.layout.account_dir(name)?, file)
    }

    /// The TOML file `file` of the Codex home `dir`, as JSON with its path.
    pub fn home_config(dir: &Path, file: &str) -> Result<Option<(String, String)>, StoreError> {
        if Path::new(file).components().count() != 1 {
            return Err(StoreError::Io(format!("`{}` is not a file name", file.escape_debug())));
        }
        let path = dir.join(file);
        let json = crate::toml_file::read_as_json(&path).map_err(|e| StoreError::Io(e.message()))?;
        Ok(json.map(|json| (path.display().to_string(), json)))
    }

    /// Keeps account `name` in `store` from now on, as the guest planned.
    pub fn use_store(&self, name: &str, store: AccountStore) {
        if let Some(Stores::Disk { accounts, .. }) = self.stores.get() {
            accounts.write().unwrap_or_else(PoisonError::into_inner).insert(name.to_owned(), store);
        }
    }

    /// Where an account's store is, for messages only.
    pub fn location(&self, name: &str) -> String {
        match self.store(name) {
            Ok(Store::File(file)) => match self.linked_to(name) {
                Some(home) => home.join(crate::AUTH_FILE).display().to_string(),
                None => file.file().display().to_string(),
            },
            Ok(Store::Keyring(keyring)) => keyring.location(),
            Ok(Store::Auto(auto)) => {
                format!("{}, else {}", auto.keyring.location(), auto.file.file().display())
            }
            Ok(Store::Ephemeral(dir)) => format!(
                "{} (cli_auth_credentials_store = \"ephemeral\": the Codex CLI keeps this login in memory)",
                dir.display()
            ),
            Ok(Store::Row(row)) => row.location(),
            Err(_) => format!("<no store for {}>", name.escape_debug()),
        }
    }

    pub fn linked_to(&self, name: &str) -> Option<PathBuf> {
        match self.stores.get()? {
            Stores::Disk { .. } => self.layout.linked_to(name),
            Stores::Database(_) => None,
        }
    }

    /// Whether account `name`'s directory is `codex_home`, and which of
    /// `names` it holds; nothing for a database row, which has no directory.
    pub fn home_signs(&self, name: &str, codex_home: Option<&str>, names: &[String]) -> (bool, Vec<String>) {
        match self.stores.get() {
            Some(Stores::Disk { .. }) => self.layout.home_signs(name, codex_home.map(Path::new), names),
            _ => (false, Vec::new()),
        }
    }

    pub fn link(&self, name: &str, target: &Path) -> Result<(), StoreError> {
        match self.stores()? {
            Stores::Disk { .. } => self.layout.link(name, target),
            Stores::Database(_) => Err(StoreError::Io(format!(
                "a database vault holds its accounts itself and cannot link {}; use `codex-auth import --move`",
                target.display()
            ))),
        }
    }

    pub fn forget(&self, name: &str) -> Result<(), StoreError> {
        match self.stores()? {
            Stores::Disk { .. } => self.layout.forget(name),
            Stores::Database(database) => database.forget(name),
        }
    }
}

impl Store {
    pub fn load(&mut self) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Store::File(s) => s.load(),
            Store::Keyring(s) => s.load(),
            Store::Auto(s) => match s.keyring.load() {
                Ok(Some(bytes)) => Ok(Some(bytes)),
                Ok(None) | Err(_) => s.file.load(),
            },
            Store::Ephemeral(_) => Ok(None),
            Store::Row(s) => s.load(),
        }
    }

    pub fn save(&mut self, contents: &[u8]) -> Result<(), StoreError> {
        match self {
            Store::File(s) => s.save(contents),
            Store::Keyring(s) => s.save(contents),
            Store::Auto(s) => s.keyring.save(contents).or_else(|_| s.file.save(contents)),
            Store::Ephemeral(dir) => Err(StoreError::Io(format!(
                "{} is in ephemeral mode (cli_auth_credentials_store = \"ephemeral\" in its config.toml): \
                 the Codex CLI keeps its login in memory only, so there is nowhere to store one",
                dir.display()
            ))),
            Store::Row(s) => s.save(contents),
        }
    }

    pub fn remove(&mut self) -> Result<bool, StoreError> {
        match self {
            Store::File(s) => s.remove(),
            Store::Keyring(s) => s.remove(),
            // Both: a login may be in either.
            Store::Auto(s) => {
                let in_keyring = s.keyring.remove().unwrap_or(false);
                Ok(s.file.remove()? || in_keyring)
            }
            Store::Ephemeral(_) => Ok(false),
            Store::Row(s) => s.remove(),
        }
    }

    /// Takes the store's exclusive lock within `timeout` (zero: one try),
    /// until this value is dropped.
    pub fn lock(&mut self, timeout: Duration) -> Result<(), StoreError> {
        match self {
            Store::File(s) => s.lock(timeout),
            Store::Keyring(s) => s.lock(timeout),
            Store::Auto(s) => s.file.lock(timeout),
            // Nothing to guard: nothing is read or written.
            Store::Ephemeral(_) => Ok(()),
            Store::Row(s) => s.lock(timeout),
        }
    }
}
