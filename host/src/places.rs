/*!
The stores a take-over (`import --move`) uses outside the vault's accounts:
a Codex home's login, a move's journal entry, and the rename of one
`auth.json` into the vault. I/O only: the guest sequences the move and
settles what a crash left (`vault.take-over`, `vault.finish-moves`).

The vault's temp files (`.auth.json-XXXXXX`) go with the next lock of their
store (see `FileStore::lock`), a half-written journal entry's too.
*/

use crate::backend::{Backend, Store};
use crate::bindings::storage::Place;
use crate::file_store::{AUTH_FILE, FileStore, StoreError};
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

/// The store behind `place`.
pub(crate) fn store(backend: &Backend, place: &Place) -> Store {
    match place {
        Place::CodexHome(home) => Backend::home_store(Path::new(&home.directory), home.kept_in),
        Place::Journal(name) => Store::File(FileStore::named(
            backend.moves_dir(),
            &format!("{name}.json"),
            &format!("{name}.lock"),
        )),
    }
}

/// One key per place, for the locks an instance holds.
pub(crate) fn key(place: &Place) -> String {
    match place {
        Place::CodexHome(home) => format!("home:{:?}:{}", home.kept_in, home.directory),
        Place::Journal(name) => format!("journal:{name}"),
    }
}

/// The accounts with a journal entry: `NAME.json`, and `.NAME.json-XXXXXX`
/// (one a crash left half written: its lock sweeps it away).
pub(crate) fn journals(backend: &Backend) -> Result<Vec<String>, StoreError> {
    let dir = backend.moves_dir();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::Io(format!("cannot list {}: {e}", dir.display()))),
    };
    Ok(entries
        .flatten()
        .filter_map(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            let stem = file.strip_prefix('.').and_then(|f| f.rsplit_once(".json-")).map(|(n, _)| n);
            stem.or_else(|| file.strip_suffix(".json")).map(str::to_owned)
        })
        .collect())
}

/// Renames the `auth.json` of the Codex home `directory` over `target`'s
/// file, when `target` is a file on the same file system; `false` else.
pub(crate) fn rename_into(directory: &Path, target: &Store) -> Result<bool, StoreError> {
    let Store::File(to) = target else { return Ok(false) };
    let from = directory.join(AUTH_FILE);
    match rename_durably(&from, to.file()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::CrossesDevices => Ok(false),
        Err(e) => {
            Err(StoreError::Io(format!("cannot move {} to {}: {e}", from.display(), to.file().display())))
        }
    }
}

/// Renames `from` over `to` (mode 0600) and makes both directory entries
/// durable. The mode is set first, so the file is never in the vault with
/// another one, crashes included.
fn rename_durably(from: &Path, to: &Path) -> io::Result<()> {
    fs::set_permissions(from, fs::Permissions::from_mode(0o600))?;
    fs::rename(from, to)?;
    for dir in [to.parent(), from.parent()].into_iter().flatten() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_entries_are_found_whole_or_half_written_and_locks_are_not_entries() {
        let root = tempfile::tempdir().unwrap();
        let layout = &crate::runtime::get().unwrap().layout;
        let backend = Backend::new(root.path(), "default", layout);
        assert_eq!(journals(&backend).unwrap(), Vec::<String>::new(), "no moves/ yet");
        let moves = backend.moves_dir();
        fs::create_dir_all(&moves).unwrap();
        for file in ["a.json", "a.lock", ".b.json-x1y2z3", "b.lock", "stray.txt"] {
            fs::write(moves.join(file), b"{}").unwrap();
        }
        let mut found = journals(&backend).unwrap();
        found.sort();
        assert_eq!(found, ["a", "b"]);
    }

    #[test]
    fn a_rename_moves_one_file_durably_and_declines_what_is_not_a_file() {
        let root = tempfile::tempdir().unwrap();
        let (home, vault) = (root.path().join("codex"), root.path().join("vault"));
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&vault).unwrap();
        fs::write(home.join(AUTH_FILE), b"{}").unwrap();
        let target = Store::File(FileStore::new(&vault));
        assert!(rename_into(&home, &target).unwrap());
        assert!(!home.join(AUTH_FILE).exists());
        let mode = fs::metadata(vault.join(AUTH_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!rename_into(&home, &Store::Ephemeral(vault.clone())).unwrap());
    }
}
