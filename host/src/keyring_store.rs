/*!
An account kept in the OS keyring, in the Codex CLI's own entry for its
Codex home: service `Codex Auth`, account `cli|<first 16 hex digits of the
SHA-256 of the canonical home path>`, the value the auth.json JSON. A Codex
CLI in keyring mode (`cli_auth_credentials_store = "keyring"`) and
codex-auth therefore share one login, and refresh is still serialized by
`auth.lock` in that directory, the lock both take.

There is no fallback to a file: when no keyring can be reached the error
says so, and nothing is written anywhere else.
*/

use crate::file_store::{FileStore, StoreError};
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};

/// The keyring service the Codex CLI uses.
pub const SERVICE: &str = "Codex Auth";

/// One Codex home's keyring entry, locked by the home's `auth.lock`.
#[derive(Debug)]
pub struct KeyringStore {
    /// The home's files: its lock, and a stale `auth.json` to clear.
    files: FileStore,
    dir: PathBuf,
}

impl KeyringStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        Self { files: FileStore::new(&dir), dir }
    }

    /// The entry's account name, as the Codex CLI computes it: the canonical
    /// path when the home exists, else the path as given.
    pub fn key(dir: &Path) -> String {
        let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("cli|{}", &hex[..16])
    }

    /// Where it is, for messages.
    pub fn location(&self) -> String {
        format!("keyring entry `{SERVICE}` / `{}` (for {})", Self::key(&self.dir), self.dir.display())
    }

    fn entry(&self) -> Result<keyring::Entry, StoreError> {
        keyring::Entry::new(SERVICE, &Self::key(&self.dir)).map_err(|e| self.error("cannot open", &e))
    }

    pub fn load(&self) -> Result<Option<Vec<u8>>, StoreError> {
        match self.entry()?.get_password() {
            Ok(value) => Ok(Some(value.into_bytes())),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.error("cannot read", &e)),
        }
    }

    /// Writes the entry, then deletes an `auth.json` beside the lock (as the
    /// Codex CLI does after a keyring save): a stale file would be a second
    /// holder of an old refresh token.
    pub fn save(&self, contents: &[u8]) -> Result<(), StoreError> {
        let value = std::str::from_utf8(contents)
            .map_err(|_| StoreError::Io(format!("{}: the credential is not UTF-8", self.location())))?;
        self.entry()?.set_password(value).map_err(|e| self.error("cannot write", &e))?;
        self.files.remove().map(drop)
    }

    pub fn remove(&self) -> Result<bool, StoreError> {
        match self.entry()?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.error("cannot delete", &e)),
        }
    }

    /// Takes `auth.lock` in the Codex home (see [`FileStore::lock`]).
    pub fn lock(&mut self, timeout: std::time::Duration) -> Result<(), StoreError> {
        self.files.lock(timeout)
    }

    fn error(&self, what: &str, e: &keyring::Error) -> StoreError {
        let why = match e {
            keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => format!(
                "no keyring is reachable ({e}); on Linux a Secret Service (gnome-keyring, KeePassXC...) \
                 must run on the session D-Bus. Nothing was written to a file instead"
            ),
            _ => e.to_string(),
        };
        StoreError::Io(format!("{what} the {}: {why}", self.location()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_codex_clis() {
        // A home that does not exist is named by its path as given:
        // sha256("/home/ada/.codex") begins 09225bfea46805b1.
        assert_eq!(KeyringStore::key(Path::new("/home/ada/.codex")), "cli|09225bfea46805b1");
        // An existing home is named by its canonical path, links resolved.
        let root = tempfile::tempdir().unwrap();
        let real = root.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, root.path().join("link")).unwrap();
        assert_eq!(
            KeyringStore::key(&root.path().join("link")),
            KeyringStore::key(&real.canonicalize().unwrap())
        );
    }
}
