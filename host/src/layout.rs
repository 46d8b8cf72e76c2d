/*!
Where a vault's accounts live on disk.

```text
<home>/auth.json, auth.lock          the account `default` (what the first release wrote)
<home>/accounts/<name>/auth.json     an account of the vault's own: a Codex home
<home>/accounts/<name> -> <dir>      an account linked in place to a Codex home
<home>/vault.json                    settings (the pinned account)
```

Each account is a directory in the Codex CLI's layout, so `CODEX_HOME=<that
directory> codex` works on it, and its `auth.lock` serializes refresh with
the Codex CLI. Adding an account creates one directory or one symlink, each
atomic, so two processes adding accounts at once lose neither. Names are
checked by the guest; this only refuses what is not one path component.
*/

use crate::bindings::vault::VaultLayout;
use crate::file_store::{FileStore, StoreError};
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Component, Path, PathBuf};

/// A vault home.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    home: PathBuf,
    /// The name of the home's own account, as the guest defines it.
    default_account: String,
    /// The names inside the home, the guest's.
    names: VaultLayout,
}

impl Layout {
    pub fn new(home: impl Into<PathBuf>, default_account: &str, names: &VaultLayout) -> Self {
        Self { home: home.into(), default_account: default_account.to_owned(), names: names.clone() }
    }

    /// The journal of `import --move`s in progress.
    pub fn moves_dir(&self) -> PathBuf {
        self.home.join(&self.names.moves_dir)
    }

    /// The name of the home's own account.
    pub fn default_account(&self) -> &str {
        &self.default_account
    }

    /// The Codex home of an account (a link is returned as the link's path,
    /// which the file system follows).
    pub fn account_dir(&self, name: &str) -> Result<PathBuf, StoreError> {
        if name == self.default_account {
            return Ok(self.home.clone());
        }
        let mut parts = Path::new(name).components();
        match (parts.next(), parts.next()) {
            (Some(Component::Normal(part)), None) if part == OsStr::new(name) => {
                Ok(self.home.join(&self.names.accounts_dir).join(name))
            }
            _ => Err(StoreError::Io(format!("`{}` is not an account name", name.escape_debug()))),
        }
    }

    /// The store of an account.
    #[cfg(test)]
    pub fn store(&self, name: &str) -> Result<FileStore, StoreError> {
        Ok(FileStore::new(self.account_dir(name)?))
    }

    /// The settings file, written like a store.
    pub fn settings(&self) -> FileStore {
        FileStore::named(&self.home, &self.names.settings_file, &self.names.settings_lock)
    }

    /// An account's pool state, kept by the vault (also for a linked Codex
    /// home, which is left as the Codex CLI knows it).
    pub fn pool(&self, name: &str) -> Result<FileStore, StoreError> {
        self.account_dir(name)?;
        Ok(FileStore::named(
            self.home.join(&self.names.pool_dir),
            &format!("{name}.json"),
            &format!("{name}.lock"),
        ))
    }

    /// The accounts that have a store: `default` when the home's own
    /// `auth.json` exists, and every entry of `accounts/`.
    pub fn accounts(&self) -> Result<Vec<String>, StoreError> {
        let mut names = Vec::new();
        if fs::symlink_metadata(self.home.join(crate::AUTH_FILE)).is_ok() {
            names.push(self.default_account.clone());
        }
        let dir = self.home.join(&self.names.accounts_dir);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(names),
            Err(e) => return Err(io_error("cannot list", &dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_error("cannot list", &dir, e))?;
            // Temp files and other strays are not accounts; the guest drops
            // any name it would not accept.
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// Where a linked account points.
    pub fn linked_to(&self, name: &str) -> Option<PathBuf> {
        let path = self.account_dir(name).ok()?;
        fs::symlink_metadata(&path).ok()?.file_type().is_symlink().then(|| fs::read_link(&path).ok())?
    }

    /// Whether account `name`'s directory is `codex_home` (links resolved),
    /// and which of `names` it holds. Only names and metadata are read.
    pub fn home_signs(&self, name: &str, codex_home: Option<&Path>, names: &[String]) -> (bool, Vec<String>) {
        let Ok(dir) = self.account_dir(name) else { return (false, Vec::new()) };
        let resolved = fs::canonicalize(&dir).ok();
        let is_codex_home = match (codex_home.and_then(|c| fs::canonicalize(c).ok()), resolved) {
            (Some(codex), Some(dir)) => codex == dir,
            _ => false,
        };
        let present = names
            .iter()
            .filter(|n| Path::new(n).components().count() == 1 && fs::symlink_metadata(dir.join(n)).is_ok())
            .cloned()
            .collect();
        (is_codex_home, present)
    }

    /// Makes `name` a link to the Codex home `target`.
    pub fn link(&self, name: &str, target: &Path) -> Result<(), StoreError> {
        let link = self.account_dir(name)?;
        let target = fs::canonicalize(target).map_err(|e| io_error("cannot use", target, e))?;
        if !target.is_dir() {
            return Err(StoreError::Io(format!("{} is not a directory", target.display())));
        }
        for existing in self.accounts()? {
            let dir = self.account_dir(&existing)?;
            if fs::canonicalize(&dir).is_ok_and(|d| d == target) {
                return Err(StoreError::Io(format!(
                    "{} is already the account `{existing}`",
                    target.display()
                )));
            }
        }
        let parent = link.parent().unwrap_or(&self.home);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| io_error("cannot create the directory", parent, e))?;
        std::os::unix::fs::symlink(&target, &link).map_err(|e| io_error("cannot create the link", &link, e))
    }

    /// Drops an account's entry: a link is removed, its target untouched; a
    /// directory of the vault's own is removed with its lock file, once its
    /// `auth.json` is gone.
    pub fn forget(&self, name: &str) -> Result<(), StoreError> {
        // What the pool knew of it goes with it.
        let pool = self.pool(name)?;
        pool.remove()?;
        if name == self.default_account {
            return Ok(());
        }
        let path = self.account_dir(name)?;
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error("cannot read", &path, e)),
        };
        if meta.file_type().is_symlink() {
            return fs::remove_file(&path).map_err(|e| io_error("cannot remove the link", &path, e));
        }
        if path.join(crate::AUTH_FILE).exists() {
            return Err(StoreError::Io(format!("{} still holds a credential", path.display())));
        }
        // A waiter still holding the old lock file keeps its inode; it then
        // reads no auth.json and sends nothing.
        let _ = fs::remove_file(path.join(crate::LOCK_FILE));
        fs::remove_dir(&path).map_err(|e| io_error("cannot remove", &path, e))
    }
}

fn io_error(what: &str, path: &Path, e: io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guest's names, as a vault gets them.
    fn names() -> VaultLayout {
        crate::runtime::get().unwrap().layout.clone()
    }

    #[test]
    fn accounts_map_to_codex_homes_and_names_stay_inside() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::new(root.path(), "default", &names());
        assert_eq!(layout.account_dir("default").unwrap(), root.path());
        assert_eq!(layout.account_dir("work").unwrap(), root.path().join("accounts/work"));
        for bad in ["..", ".", "a/b", "/abs", ""] {
            assert!(layout.account_dir(bad).is_err(), "{bad:?}");
        }
        assert!(layout.accounts().unwrap().is_empty());
        layout.store("work").unwrap().save(b"{}").unwrap();
        fs::write(root.path().join("auth.json"), b"{}").unwrap();
        let mut names = layout.accounts().unwrap();
        names.sort();
        assert_eq!(names, ["default", "work"]);
    }

    #[test]
    fn a_link_points_at_a_codex_home_and_forgetting_it_leaves_the_home() {
        let root = tempfile::tempdir().unwrap();
        let codex = root.path().join("codex-home");
        fs::create_dir(&codex).unwrap();
        fs::write(codex.join("auth.json"), b"{}").unwrap();
        let layout = Layout::new(root.path().join("vault"), "default", &names());
        layout.link("codex", &codex).unwrap();
        assert_eq!(layout.linked_to("codex"), Some(fs::canonicalize(&codex).unwrap()));
        assert_eq!(layout.store("codex").unwrap().load().unwrap().as_deref(), Some(&b"{}"[..]));
        let again = layout.link("other", &codex).unwrap_err();
        assert!(matches!(again, StoreError::Io(why) if why.contains("already the account `codex`")));
        layout.forget("codex").unwrap();
        assert!(codex.join("auth.json").exists(), "the Codex home keeps its login");
        assert!(layout.accounts().unwrap().is_empty());
    }

    #[test]
    fn an_own_directory_is_forgotten_only_once_empty() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::new(root.path(), "default", &names());
        let store = layout.store("work").unwrap();
        store.save(b"{}").unwrap();
        assert!(layout.forget("work").is_err());
        store.remove().unwrap();
        layout.forget("work").unwrap();
        assert!(!root.path().join("accounts/work").exists());
    }
}
