/*!
A vault in PostgreSQL, for a fleet: every account is a row, and any number
of machines (each with a home of its own for its settings) share one pool.

The lock of an account is the lock of its row, taken by `SELECT ... FOR
UPDATE` in a transaction that stays open across the guest's reload, refresh
and write, so exactly one machine refreshes an expiring token and the others
read what it wrote. If the holder dies, its connection closes and the server
releases the lock. The schema is created and migrated by the first process
that connects (under an advisory lock, so concurrent starts migrate once).

A database that cannot be reached is a storage error the guest treats as
transient: a token it already holds is served while it is still valid.
*/

use crate::file_store::StoreError;
use crate::reconnect::Reconnect;
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::{Client, Config};
use std::str::FromStr as _;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio_postgres_rustls::MakeRustlsConnect;

/// The schema, one step per version; a step is never edited once released.
const MIGRATIONS: &[&str] = &["CREATE TABLE codex_auth_accounts (
        name text PRIMARY KEY,
        auth bytea,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE codex_auth_pool (
        name text PRIMARY KEY,
        state bytea,
        updated_at timestamptz NOT NULL DEFAULT now()
    );"];
/// Serializes migrations of concurrent first starts (an arbitrary constant).
const MIGRATION_LOCK: i64 = 0x636f_6465_7861_7574;
/// A machine that cannot reach the database says so within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle connections kept for reuse.
const MAX_IDLE: usize = 4;

/// A table of rows keyed by account name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Accounts,
    Pool,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Accounts => "codex_auth_accounts",
            Table::Pool => "codex_auth_pool",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Table::Accounts => "auth",
            Table::Pool => "state",
        }
    }
}

/// The channel on which a write of a pool row is announced (its account).
const POOL_CHANNEL: &str = "codex_auth_pool";

/// What a listener is told: a pool row changed (its account), or
/// notifications may have been missed (the connection was lost), so any may
/// have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PoolChange {
    Account(String),
    Any,
}

/// The database of one vault: its address, idle connections, and whether
/// this process has checked the schema.
pub(crate) struct Database {
    config: Config,
    /// TLS whenever the server offers it (`sslmode=prefer`, the default;
    /// `require` insists, `disable` never asks), always verified as HTTPS is.
    tls: MakeRustlsConnect,
    /// `postgres://user@host:port/db`, never with a password.
    shown: String,
    idle: Mutex<Vec<Client>>,
    migrated: Mutex<bool>,
    /// While the server cannot be reached, calls fail at once with the
    /// last reason until the next attempt is due.
    reconnect: Mutex<Reconnect>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("at", &self.shown).finish_non_exhaustive()
    }
}

impl Database {
    /// Reads the URL; nothing is connected until first use.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let mut config = Config::from_str(url).map_err(|e| {
            StoreError::Io(format!("the database URL cannot be used: {}", strip_url(&e.to_string(), url)))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("codex-auth");
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let shown = format!(
            "postgres://{}@{}:{port}/{}",
            config.get_user().unwrap_or(""),
            hosts.join(","),
            config.get_dbname().unwrap_or("")
        );
        let tls = crate::tls::client_config()
            .map_err(|e| StoreError::Io(format!("cannot set up TLS for the database {shown}: {e}")))?;
        Ok(Self {
            config,
            shown,
            tls: MakeRustlsConnect::new(tls),
            idle: Mutex::new(Vec::new()),
            migrated: Mutex::new(false),
            reconnect: Mutex::new(Reconnect::default()),
        })
    }

    fn error(&self, what: &str, e: &postgres::Error) -> StoreError {
        let why = match e.as_db_error() {
            Some(db) => db.message().to_owned(),
            None if e.is_closed() => "the connection closed".to_owned(),
            // The cause says why (a certificate that does not verify...).
            None => crate::error::with_causes(e),
        };
        StoreError::Io(format!("{what} the database {}: {why}", self.shown))
    }

    /// A connection: an idle one, else a new one (checking the schema once
    /// per process).
    fn client(&self) -> Result<Client, StoreError> {
        while let Some(mut client) = lock(&self.idle).pop() {
            if !client.is_closed() && client.is_valid(CONNECT_TIMEOUT).is_ok() {
                return Ok(client);
            }
        }
        if let Err((why, wait)) = lock(&self.reconnect).ready(Instant::now()) {
            return Err(StoreError::Io(format!("{why} (trying again in {} ms)", wait.as_millis())));
        }
        let mut client = match self.config.connect(self.tls.clone()) {
            Ok(client) => {
                lock(&self.reconnect).succeeded();
                client
            }
            Err(e) => {
                let error = self.error("cannot reach", &e);
                let StoreError::Io(why) = &error else { return Err(error) };
                lock(&self.reconnect).failed(Instant::now(), why.clone());
                return Err(error);
            }
        };
        let mut migrated = lock(&self.migrated);
        if !*migrated {
            self.migrate(&mut client)?;
            *migrated = true;
        }
        Ok(client)
    }

    fn give_back(&self, client: Client) {
        let mut idle = lock(&self.idle);
        if idle.len() < MAX_IDLE && !client.is_closed() {
            idle.push(client);
        }
    }

    fn migrate(&self, client: &mut Client) -> Result<(), StoreError> {
        let fail = |e: postgres::Error| self.error("cannot set up the schema of", &e);
        let mut tx = client.transaction().map_err(fail)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(fail)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS codex_auth_schema (version integer NOT NULL)")
            .map_err(fail)?;
        let version: i32 = match tx.query_opt("SELECT version FROM codex_auth_schema", &[]).map_err(fail)? {
            Some(row) => row.get(0),
            None => {
                tx.execute("INSERT INTO codex_auth_schema (version) VALUES (0)", &[]).map_err(fail)?;
                0
            }
        };
        let known = MIGRATIONS.len() as i32;
        if version > known {
            return Err(StoreError::Io(format!(
                "the database {} has schema version {version}; this codex-auth knows up to {known}: upgrade it",
                self.shown
            )));
        }
        for step in &MIGRATIONS[version as usize..] {
            tx.batch_execute(step).map_err(fail)?;
        }
        tx.execute("UPDATE codex_auth_schema SET version = $1", &[&known]).map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// Calls `changed` for every pool row written by any process, from a
    /// thread of its own with its own connection, for as long as `alive`
    /// says. A lost connection is made again (after the waits of
    /// [`Reconnect`]) and reported as [`PoolChange::Any`]: what was said
    /// meanwhile is not known.
    pub fn listen(
        self: &std::sync::Arc<Self>,
        alive: impl Fn() -> bool + Send + 'static,
        changed: impl Fn(PoolChange) + Send + 'static,
    ) {
        let database = self.clone();
        std::thread::spawn(move || {
            let mut reconnect = Reconnect::default();
            while alive() {
                if let Err((_, wait)) = reconnect.ready(Instant::now()) {
                    std::thread::sleep(wait);
                    continue;
                }
                let mut client = match database.config.connect(database.tls.clone()) {
                    Ok(client) => client,
                    Err(e) => {
                        reconnect.failed(Instant::now(), e.to_string());
                        continue;
                    }
                };
                if client.batch_execute(&format!("LISTEN {POOL_CHANNEL}")).is_err() {
                    reconnect.failed(Instant::now(), "LISTEN failed".into());
                    continue;
                }
                reconnect.succeeded();
                changed(PoolChange::Any);
                while alive() && !client.is_closed() {
                    let mut notifications = client.notifications();
                    let mut waiting = notifications.timeout_iter(Duration::from_millis(500));
                    match waiting.next() {
                        Ok(Some(n)) => changed(PoolChange::Account(n.payload().to_owned())),
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
            }
        });
    }

    /// Runs `f` on a connection outside any lock.
    fn with<R>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, postgres::Error>,
        what: &str,
    ) -> Result<R, StoreError> {
        let mut client = self.client()?;
        let result = f(&mut client).map_err(|e| self.error(what, &e));
        self.give_back(client);
        result
    }

    /// The names of the rows: every account row (one logged out holds no
    /// credential and is listed as such, like an empty account directory),
    /// and the pool rows that hold something.
    pub fn names(&self, table: Table) -> Result<Vec<String>, StoreError> {
        let sql = match table {
            Table::Accounts => format!("SELECT name FROM {} ORDER BY name", table.name()),
            Table::Pool => {
                format!(
                    "SELECT name FROM {} WHERE {} IS NOT NULL ORDER BY name",
                    table.name(),
                    table.column()
                )
            }
        };
        self.with(|c| c.query(&sql, &[]), "cannot list the accounts of")
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
    }

    /// Drops an account's rows (its credential must be gone already).
    pub fn forget(&self, name: &str) -> Result<(), StoreError> {
        self.with(
            |c| {
                let mut tx = c.transaction()?;
                tx.execute("DELETE FROM codex_auth_pool WHERE name = $1", &[&name])?;
                tx.execute("DELETE FROM codex_auth_accounts WHERE name = $1 AND auth IS NULL", &[&name])?;
                tx.commit()
            },
            "cannot forget an account in",
        )
    }
}

/// One row of a table and, while held, the connection whose transaction
/// holds its lock.
pub(crate) struct Row {
    database: std::sync::Arc<Database>,
    table: Table,
    name: String,
    held: Option<Client>,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row").field("table", &self.table).field("name", &self.name).finish_non_exhaustive()
    }
}

impl Row {
    pub fn new(database: &std::sync::Arc<Database>, table: Table, name: &str) -> Self {
        Self { database: database.clone(), table, name: name.to_owned(), held: None }
    }

    pub fn location(&self) -> String {
        format!("row `{}` of {} in {}", self.name, self.table.name(), self.database.shown)
    }

    /// Runs `f` on the lock's connection (inside its transaction) when held,
    /// else on any connection.
    fn run<R>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut Client) -> Result<R, postgres::Error>,
    ) -> Result<R, StoreError> {
        match self.held.as_mut() {
            Some(client) => f(client).map_err(|e| self.database.error(what, &e)),
            None => self.database.with(f, what),
        }
    }

    pub fn load(&mut self) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = format!("SELECT {} FROM {} WHERE name = $1", self.table.column(), self.table.name());
        let name = self.name.clone();
        let row = self.run("cannot read from", |c| c.query_opt(&sql, &[&name]))?;
        Ok(row.and_then(|r| r.get::<_, Option<Vec<u8>>>(0)))
    }

    /// Writes the row. Under the lock, the write commits the transaction:
    /// the guest writes once, last, before it unlocks, and a commit that
    /// fails is reported to it rather than lost in `unlock`.
    pub fn save(&mut self, contents: &[u8]) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {t} (name, {c}) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET {c} = EXCLUDED.{c}, updated_at = now()",
            t = self.table.name(),
            c = self.table.column()
        );
        self.write(&sql, contents).map(drop)
    }

    pub fn remove(&mut self) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {t} SET {c} = NULL, updated_at = now() WHERE name = $1 AND {c} IS NOT NULL",
            t = self.table.name(),
            c = self.table.column()
        );
        self.write(&sql, &[]).map(|n| n > 0)
    }

    fn write(&mut self, sql: &str, contents: &[u8]) -> Result<u64, StoreError> {
        let name = self.name.clone();
        let takes_contents = sql.contains("$2");
        let held = self.held.is_some();
        let notify = self.table == Table::Pool;
        // The write and its announcement commit together, so a process killed
        // between them leaves neither; unlocked, they get a transaction here.
        let own = notify && !held;
        let rows = self.run("cannot write to", |c| {
            if own {
                c.batch_execute("BEGIN")?;
            }
            let written = (|| {
                let n = if takes_contents {
                    c.execute(sql, &[&name, &contents])?
                } else {
                    c.execute(sql, &[&name])?
                };
                if notify {
                    // Sent on commit: other processes' cached routes to this
                    // account are stale (see `Database::listen`).
                    c.execute("SELECT pg_notify($1, $2)", &[&POOL_CHANNEL, &name])?;
                }
                if held || own {
                    c.batch_execute("COMMIT")?;
                }
                Ok(n)
            })();
            if written.is_err() && own {
                // The connection goes back to the pool: not inside a failed transaction.
                let _ = c.batch_execute("ROLLBACK");
            }
            written
        })?;
        if let Some(client) = self.held.take() {
            // Committed: the lock is gone, and the connection is free again.
            self.database.give_back(client);
        }
        Ok(rows)
    }

    /// Takes the row's lock within `timeout` (zero: one try): a transaction
    /// on a connection of its own, open until `save` commits it or this
    /// value is dropped.
    pub fn lock(&mut self, timeout: Duration) -> Result<(), StoreError> {
        if self.held.is_some() {
            return Err(StoreError::Io(format!("the lock of the {} is already held here", self.location())));
        }
        let mut client = self.database.client()?;
        let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        let (table, name) = (self.table.name(), self.name.clone());
        let wait = if ms == 0 { " NOWAIT".to_owned() } else { String::new() };
        let taken = (|| {
            // The row must exist to be locked; a new account starts empty.
            client.execute(
                &format!("INSERT INTO {table} (name) VALUES ($1) ON CONFLICT (name) DO NOTHING"),
                &[&name],
            )?;
            client.batch_execute(&format!("BEGIN; SET LOCAL lock_timeout = '{}ms'", ms.max(1)))?;
            client.query(&format!("SELECT 1 FROM {table} WHERE name = $1 FOR UPDATE{wait}"), &[&name])
        })();
        match taken {
            Ok(_) => {
                self.held = Some(client);
                Ok(())
            }
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                let _ = client.batch_execute("ROLLBACK");
                self.database.give_back(client);
                Err(StoreError::LockTimeout(ms))
            }
            Err(e) => Err(self.database.error("cannot lock a row of", &e)),
        }
    }
}

impl Drop for Row {
    fn drop(&mut self) {
        // Unlock without a write: end the transaction, keep the connection.
        if let Some(mut client) = self.held.take()
            && client.batch_execute("ROLLBACK").is_ok()
        {
            self.database.give_back(client);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A parse error of the URL without the URL (it may hold a password).
fn strip_url(message: &str, url: &str) -> String {
    message.replace(url, "<the URL>")
}
