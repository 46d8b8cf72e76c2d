/*!
Moving a Codex home's login into the vault (`import --move`) so that a
crash at any instant leaves exactly one holder of its refresh token, or a
journal that the next command uses to finish or roll the move back. Two
holders of one rotating refresh token kill each other at the first refresh
(PROTOCOL.md, "Replacing a login").

- Into an `auth.json` on the same file system: one `rename(2)` under the
  source's `auth.lock` and the new account's lock. Before it the source
  holds the login, after it the vault does; nothing is ever in two places.
- Otherwise (another file system, the keyring, a database): a journal
  (`moves/<name>.json` in the vault's home, naming the source; no secret)
  is written first, then the vault's store, then the source is deleted,
  then the journal. A crash in between leaves the journal, and the next
  command in the vault ([`finish_moves`], from `Auth::open`) takes both
  locks and ends it: the vault's store holds the login, so the source's copy
  is deleted; or it holds none, so the move never happened and the source
  keeps the login.

The vault's temp files (`.auth.json-XXXXXX`) go with the next lock of their
store (see `FileStore::lock`).
*/

use crate::backend::{AccountStore, Backend, Store};
use crate::file_store::{FileStore, StoreError};
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The journal entry of a move into account `name`.
fn journal(backend: &Backend, name: &str) -> FileStore {
    FileStore::named(backend.moves_dir(), &format!("{name}.json"), &format!("{name}.lock"))
}

/// The Codex home a login moves from, and where it keeps it.
pub(crate) struct Source<'a> {
    pub dir: &'a Path,
    pub kind: AccountStore,
    pub store: &'a mut Store,
}

/// Moves the source's login (read and checked by the caller, both locks
/// held, `bytes` as it is) into `target`, the store of the new account `name`.
pub(crate) fn move_login(
    backend: &Backend,
    name: &str,
    source: Source<'_>,
    target: &mut Store,
    bytes: &[u8],
) -> Result<(), StoreError> {
    if let (Store::File(from), Store::File(to)) = (&*source.store, &*target) {
        match rename_durably(from.file(), to.file()) {
            Ok(()) => return Ok(()),
            // Another file system: the journal's way.
            Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {}
            Err(e) => {
                return Err(StoreError::Io(format!(
                    "cannot move {} to {}: {e}",
                    from.file().display(),
                    to.file().display()
                )));
            }
        }
    }
    let entry = journal(backend, name);
    let record =
        serde_json::json!({ "source": source.dir, "kept_in": mode_name(source.kind), "account": name });
    entry.save(record.to_string().as_bytes())?;
    target.save(bytes)?;
    source.store.remove()?;
    entry.remove().map(drop)
}

/// Renames `from` over `to` (mode 0600) and makes both directory entries durable.
fn rename_durably(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    fs::set_permissions(to, fs::Permissions::from_mode(0o600))?;
    for dir in [to.parent(), from.parent()].into_iter().flatten() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Ends every move a crash left half done, each under its journal entry's,
/// its source's and its account's locks. Each lock is tried once: nothing
/// waits while holding another, and a lock someone holds (a move still
/// running, another command finishing this one) leaves the entry to the
/// next command. Returns what it did, for the caller to say.
pub(crate) fn finish_moves(backend: &Backend) -> Vec<String> {
    let dir = backend.moves_dir();
    let Ok(entries) = fs::read_dir(&dir) else { return Vec::new() };
    // `NAME.json`, and `.NAME.json-XXXXXX` (a journal a crash left half
    // written: its lock sweeps it away).
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            let stem = file.strip_prefix('.').and_then(|f| f.rsplit_once(".json-")).map(|(n, _)| n);
            stem.or_else(|| file.strip_suffix(".json")).map(str::to_owned)
        })
        .collect();
    names.sort();
    names.dedup();
    let mut done = Vec::new();
    for name in &names {
        match finish_one(backend, name) {
            Ok(Some(said)) => done.push(said),
            Ok(None) => {}
            Err(StoreError::Io(why)) => {
                done.push(format!("a move into account `{name}` is still unfinished: {why}"))
            }
            Err(StoreError::LockTimeout(_)) => {} // Its locks are busy: the next command tries again.
        }
    }
    done
}

fn finish_one(backend: &Backend, name: &str) -> Result<Option<String>, StoreError> {
    let mut entry = journal(backend, name);
    entry.lock(Duration::ZERO)?;
    let Some(bytes) = entry.load()? else { return Ok(None) };
    let record: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let kind = record["kept_in"].as_str().map_or(Some(AccountStore::File), mode_from_name);
    let (Some(dir), Some(kind)) = (record["source"].as_str().map(PathBuf::from), kind) else {
        entry.remove()?;
        return Ok(Some(format!("dropped an unreadable journal of a move into account `{name}`")));
    };
    let mut source = Backend::home_store(&dir, kind);
    source.lock(Duration::ZERO)?;
    let mut target = backend.store(name)?;
    target.lock(Duration::ZERO)?;
    let said = if target.load()?.is_some() {
        source.remove()?;
        format!(
            "finished moving the login of {} into account `{name}` (a move was interrupted)",
            dir.display()
        )
    } else {
        format!("rolled back an interrupted move into account `{name}`: {} keeps its login", dir.display())
    };
    entry.remove()?;
    Ok(Some(said))
}

/// A store mode's name in `cli_auth_credentials_store` (and in the
/// journal), as the guest spells it.
pub(crate) fn mode_name(mode: AccountStore) -> &'static str {
    modes().iter().find(|(_, m)| AccountStore::from(*m) == mode).map_or("", |(n, _)| n.as_str())
}

fn mode_from_name(name: &str) -> Option<AccountStore> {
    modes().iter().find(|(n, _)| n == name).map(|&(_, m)| AccountStore::from(m))
}

/// The guest's names of the store modes; none without a runtime.
fn modes() -> &'static [(String, crate::bindings::types::AccountStore)] {
    crate::runtime::get().map(|r| r.store_modes.as_slice()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::StorePlan;

    fn disk(home: &Path) -> Backend {
        let backend = Backend::new(home, "default", &crate::runtime::get().unwrap().layout);
        backend
            .plan(StorePlan {
                database: None,
                default_store: AccountStore::File,
                accounts: Default::default(),
            })
            .unwrap();
        backend
    }

    #[test]
    fn a_journaled_move_is_finished_when_the_vault_holds_the_login_else_rolled_back() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("vault");
        let backend = disk(&home);
        for (vault_has_it, source_left) in [(true, false), (false, true)] {
            let source = root.path().join(format!("codex-{vault_has_it}"));
            fs::create_dir_all(&source).unwrap();
            fs::write(source.join("auth.json"), b"{\"tokens\":{}}").unwrap();
            let name = format!("moved-{vault_has_it}");
            journal(&backend, &name)
                .save(serde_json::json!({"source": source, "account": name}).to_string().as_bytes())
                .unwrap();
            if vault_has_it {
                backend.store(&name).unwrap().save(b"{\"tokens\":{}}").unwrap();
            }
            let said = finish_moves(&backend);
            assert_eq!(said.len(), 1, "{said:?}");
            assert_eq!(source.join("auth.json").exists(), source_left, "{said:?}");
            assert!(!home.join("moves").join(format!("{name}.json")).exists());
        }
        assert!(finish_moves(&backend).is_empty(), "nothing left to do");
    }
}
