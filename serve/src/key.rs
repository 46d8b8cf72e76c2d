//! The local key every endpoint but `/healthz` requires: generated on first
//! use, stored 0600 beside the accounts, compared in constant time.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::Path;
use subtle::ConstantTimeEq as _;

/// The key's file name in the vault's home.
pub const KEY_FILE: &str = "serve.key";

/// The key in `home`, made (32 random bytes, hex) when there is none.
/// Two processes making it at once agree on one: the file appears whole
/// (a hard link of a written temp file) or not at all.
pub fn load_or_create(home: &Path) -> io::Result<String> {
    let path = home.join(KEY_FILE);
    if let Some(key) = read(&path)? {
        return Ok(key);
    }
    fs::DirBuilder::new().recursive(true).mode(0o700).create(home)?;
    let key = random_hex();
    let temp = home.join(format!(".{KEY_FILE}-{}", std::process::id()));
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
    file.write_all(key.as_bytes()).and_then(|()| file.sync_all())?;
    let linked = fs::hard_link(&temp, &path);
    fs::remove_file(&temp)?;
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            read(&path)?.ok_or_else(|| io::Error::other(format!("{} is empty", path.display())))
        }
        Err(e) => Err(e),
    }
}

/// 32 random bytes in hex: a key, a sign-in code, a session.
pub fn random_hex() -> String {
    rand::random::<[u8; 32]>().iter().map(|b| format!("{b:02x}")).collect()
}

fn read(path: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned())),
        Ok(_) => Err(io::Error::other(format!("{} is empty: remove it to make a new key", path.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))),
    }
}

/// Whether `authorization` (the header's value) carries `key`, compared in
/// constant time.
pub fn authorized(authorization: Option<&[u8]>, key: &str) -> bool {
    let Some(presented) = authorization.and_then(|v| v.strip_prefix(b"Bearer ")) else {
        return false;
    };
    bool::from(presented.ct_eq(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn made_once_0600_and_then_read() {
        let home = std::env::temp_dir().join(format!("codex-auth-key-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&home);
        let key = load_or_create(&home).unwrap();
        assert_eq!(key.len(), 64);
        assert_eq!(load_or_create(&home).unwrap(), key);
        let mode = fs::metadata(home.join(KEY_FILE)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(authorized(Some(format!("Bearer {key}").as_bytes()), &key));
        assert!(!authorized(Some(b"Bearer nope"), &key));
        assert!(!authorized(Some(key.as_bytes()), &key));
        assert!(!authorized(None, &key));
        fs::remove_dir_all(&home).unwrap();
    }
}
