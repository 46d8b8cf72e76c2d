//! The kinds of store: where one account's credential is kept (the Codex
//! CLI's own four modes of `cli_auth_credentials_store`), and what a
//! `store` setting may name (one of those, or a database for the vault).

wit_enum! {
    /// How one account's credential is kept when the vault is in files.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum AccountStore {
        /// `auth.json` in the account's Codex home.
        File,
        /// The Codex CLI's keyring entry for the account's Codex home; its
        /// `auth.lock` still serializes refresh.
        Keyring,
        /// As the Codex CLI's `auto`: the keyring entry when a keyring is
        /// reachable and holds it, else `auth.json`.
        Auto,
        /// A Codex home in `ephemeral` mode: its login lives in the Codex CLI's
        /// memory only, so there is nothing to read and nowhere to write.
        Ephemeral,
    }
}

impl AccountStore {
    pub fn name(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Keyring => "keyring",
            Self::Auto => "auto",
            Self::Ephemeral => "ephemeral",
        }
    }
}

/// What `store` may say: `file`, `keyring`, or a PostgreSQL URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Store {
    Account(AccountStore),
    Database(String),
}

pub fn parse(text: &str) -> Result<Store, String> {
    match text {
        "file" => Ok(Store::Account(AccountStore::File)),
        "keyring" => Ok(Store::Account(AccountStore::Keyring)),
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Store::Database(url.to_owned()))
        }
        other => Err(format!(
            "`{}` is not a store: use file, keyring or a postgres:// URL",
            redact(other).escape_debug()
        )),
    }
}

/// A store as it may be shown: a database URL without its password.
pub fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else { return text.to_owned() };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split_once(':').map_or(user_info, |(user, _)| user);
            let hidden = if user_info.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            redact("postgres://ada:s3cret@db.example:5432/auth?sslmode=require"),
            "postgres://ada:***@db.example:5432/auth?sslmode=require"
        );
        assert_eq!(redact("postgres://ada@db/auth"), "postgres://ada@db/auth");
        assert_eq!(redact("postgres://db/auth"), "postgres://db/auth");
        assert_eq!(redact("keyring"), "keyring");
        assert_eq!(redact("postgres://a:b@c@host/db"), "postgres://a:***@host/db");
    }
}
