/*!
The credential store on disk: `auth.json` in one directory, written
atomically, guarded by an advisory lock on `auth.lock` beside it.

The lock file and lock type are the ones the Codex CLI 0.169 uses
(`flock(LOCK_EX)` on `$CODEX_HOME/auth.lock`), so codex-auth and Codex can
share one `auth.json` without interleaving writes.
*/

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The store file's name inside the store directory.
pub const AUTH_FILE: &str = "auth.json";
/// The lock file's name inside the store directory.
pub const LOCK_FILE: &str = "auth.lock";
/// Larger files are refused unread: no credential comes near this size.
const MAX_FILE_SIZE: u64 = 16 << 20;

/// Why the store could not be used. Messages name the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    Io(String),
    LockTimeout(u32),
}

/// One store directory and, while held, its lock.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    file: PathBuf,
    lock_file: PathBuf,
    held: Option<File>,
}

impl FileStore {
    /// The `auth.json` store of a Codex home, locked by its `auth.lock`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::named(dir, AUTH_FILE, LOCK_FILE)
    }

    /// Another file of the same kind (atomic, 0600) in `dir`, with a lock
    /// file of its own.
    pub fn named(dir: impl Into<PathBuf>, name: &str, lock: &str) -> Self {
        let dir = dir.into();
        let (file, lock_file) = (dir.join(name), dir.join(lock));
        Self { dir, file, lock_file, held: None }
    }

    #[cfg(test)]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The file's bytes; `None` when it does not exist.
    pub fn load(&self) -> Result<Option<Vec<u8>>, StoreError> {
        if let Ok(meta) = fs::metadata(&self.file)
            && meta.is_file()
            && meta.len() > MAX_FILE_SIZE
        {
            let why = format!("it is {} bytes; a credential file is at most {MAX_FILE_SIZE}", meta.len());
            return Err(self.io_error("refusing to read", io::Error::other(why)));
        }
        match fs::read(&self.file) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                Err(self.io_error("cannot read", io::Error::other("it is a directory, not a file")))
            }
            Err(e) => Err(self.io_error("cannot read", e)),
        }
    }

    /// Replaces the file atomically: a 0600 temp file in the same directory,
    /// written and fsynced, renamed over the old one, then the directory fsynced.
    pub fn save(&self, contents: &[u8]) -> Result<(), StoreError> {
        self.ensure_dir()?;
        if self.file.is_dir() {
            return Err(self.io_error("cannot write", io::Error::other("it is a directory, not a file")));
        }
        let mut temp = tempfile::Builder::new()
            .prefix(&self.temp_prefix())
            .permissions(fs::Permissions::from_mode(0o600))
            .tempfile_in(&self.dir)
            .map_err(|e| self.io_error("cannot create a temporary file for", e))?;
        temp.write_all(contents)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| self.io_error("cannot write", e))?;
        temp.persist(&self.file).map_err(|e| self.io_error("cannot replace", e.error))?;
        // The rename is durable only once the directory entry is.
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io_error("cannot sync the directory of", e))
    }

    /// Deletes the file; `false` when there was none.
    pub fn remove(&self) -> Result<bool, StoreError> {
        match fs::remove_file(&self.file) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.io_error("cannot remove", e)),
        }
    }

    /// Takes the exclusive lock, waiting at most `timeout`, until this
    /// `FileStore` is dropped. Another process (or another `FileStore` in
    /// this one) holding it makes this wait; the kernel releases it if the
    /// holder dies.
    pub fn lock(&mut self, timeout: Duration) -> Result<(), StoreError> {
        if self.held.is_some() {
            return Err(StoreError::Io("the store lock is already held by this session".into()));
        }
        self.ensure_dir()?;
        let path = &self.lock_file;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| io_error("cannot open the lock file", path, e))?;
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                    pause = (pause * 2).min(Duration::from_millis(25));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::LockTimeout(
                        u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX),
                    ));
                }
                Err(fs::TryLockError::Error(e)) => return Err(io_error("cannot lock", path, e)),
            }
        }
        self.held = Some(file);
        // Nobody else writes now: a temp file left here is from a writer
        // killed mid-save, and may hold a refresh token.
        self.remove_stale_temps();
        Ok(())
    }

    /// The prefix of this file's temp files (`.auth.json-XXXXXX`): one of
    /// its own, so a sweep under this file's lock touches no other file's.
    fn temp_prefix(&self) -> String {
        format!(".{}-", self.file.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())
    }

    /// Deletes temp files a killed writer left beside the file: its own
    /// and, for `auth.json`, the Codex CLI's (`.auth-XXXXXX`, which it
    /// writes under this same lock). Call only holding the lock.
    fn remove_stale_temps(&self) {
        let own = self.temp_prefix();
        let codex = (self.file.file_name() == Some(AUTH_FILE.as_ref())).then_some(".auth-");
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if (name.starts_with(&own) || codex.is_some_and(|p| name.starts_with(p)))
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Creates the directory 0700 when it is missing. An existing directory
    /// keeps its mode: it may be a shared `~/.codex`.
    fn ensure_dir(&self) -> Result<(), StoreError> {
        if self.dir.is_dir() {
            return Ok(());
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| io_error("cannot create the directory", &self.dir, e))
    }

    fn io_error(&self, what: &str, e: io::Error) -> StoreError {
        io_error(what, &self.file, e)
    }
}

fn io_error(what: &str, path: &Path, e: io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_is_0600_in_a_new_0700_directory() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path().join("a/b"));
        store.save(b"{}").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(store.file()), 0o600);
        assert_eq!(mode(store.dir()), 0o700);
        assert_eq!(store.load().unwrap().as_deref(), Some(&b"{}"[..]));
        // Nothing but the file is left behind.
        let names: Vec<_> = fs::read_dir(store.dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from(AUTH_FILE)]);
    }

    #[test]
    fn save_replaces_and_keeps_0600_over_a_wider_file() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        fs::write(store.file(), b"old").unwrap();
        fs::set_permissions(store.file(), fs::Permissions::from_mode(0o644)).unwrap();
        store.save(b"new").unwrap();
        assert_eq!(fs::read(store.file()).unwrap(), b"new");
        assert_eq!(fs::metadata(store.file()).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_directory_in_place_of_the_file_is_an_error_naming_it() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        fs::create_dir(store.file()).unwrap();
        let StoreError::Io(read) = store.load().unwrap_err() else { panic!() };
        assert!(read.contains("auth.json") && read.contains("directory"), "{read}");
        assert!(store.save(b"{}").is_err());
        assert!(store.file().is_dir());
    }

    #[test]
    fn remove_reports_whether_there_was_a_file() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        assert!(!store.remove().unwrap());
        store.save(b"{}").unwrap();
        assert!(store.remove().unwrap());
        assert!(store.load().unwrap().is_none());
    }

    #[test]
    fn temp_files_of_a_killed_writer_go_with_the_next_lock_and_only_its_own() {
        let root = tempfile::tempdir().unwrap();
        let mut store = FileStore::new(root.path());
        for stale in [".auth.json-a1b2c3", ".auth-XYZ123"] {
            fs::write(root.path().join(stale), b"{\"refresh_token\":\"rt\"}").unwrap();
        }
        let pool = FileStore::named(root.path(), "work.json", "work.lock");
        fs::write(root.path().join(".other.json-q1w2e3"), b"{}").unwrap();
        store.lock(Duration::ZERO).unwrap();
        let mut names: Vec<_> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".other.json-q1w2e3", "auth.lock"]);
        pool.save(b"{}").unwrap();
        assert!(root.path().join(".other.json-q1w2e3").exists(), "another file's temp is not this lock's");
    }

    #[test]
    fn lock_excludes_a_second_holder_until_released() {
        let root = tempfile::tempdir().unwrap();
        let mut first = FileStore::new(root.path());
        let mut second = FileStore::new(root.path());
        first.lock(Duration::from_secs(1)).unwrap();
        assert_eq!(second.lock(Duration::from_millis(30)), Err(StoreError::LockTimeout(30)));
        assert!(first.lock(Duration::ZERO).is_err(), "not re-entrant");
        drop(first); // closing the lock file releases the flock
        second.lock(Duration::from_millis(30)).unwrap();
    }
}
