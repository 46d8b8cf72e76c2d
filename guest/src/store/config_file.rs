//! The vault's `codex-auth.toml`, as JSON (the host parses the TOML syntax and
//! reports syntax errors with line and column; what the keys mean, and that
//! every key is known, is decided here). The file is only ever read.

use crate::defaults::Strategy;
use crate::store::command::CommandSpec;
use crate::store::kinds::{self, AccountStore, Store};
use crate::store::names::check_name;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// codex-auth's own settings, in the vault's home. Not `config.toml`: that
/// name belongs to the Codex CLI, whose home the vault's home may be.
pub const FILE_NAME: &str = "codex-auth.toml";

/// What the file sets. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigFile {
    pub issuer: Option<String>,
    pub chatgpt_base_url: Option<String>,
    /// The account calls use when none is named.
    pub account: Option<String>,
    pub strategy: Option<Strategy>,
    /// A key that beats every stored account (the `config` tier).
    pub api_key: Option<String>,
    /// Where the credentials are kept (`file`, `keyring`, a `postgres://` URL).
    pub store: Option<Store>,
    /// On a Codex home the Codex CLI also uses, refresh only this long
    /// before expiry.
    pub shared_refresh_seconds: Option<u32>,
    pub serve: ServeSettings,
    pub accounts: BTreeMap<String, AccountSettings>,
}

/// `[serve]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServeSettings {
    pub port: Option<u16>,
    pub socket: Option<String>,
    pub upstream: Option<String>,
    pub drain_seconds: Option<u64>,
    pub replay_limit: Option<u64>,
}

/// `[accounts.NAME]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountSettings {
    /// A name for people, shown beside the account.
    pub label: Option<String>,
    /// Makes it a command account.
    pub command: Option<CommandSpec>,
    /// Keeps it in the keyring (or a file), whatever the vault's `store`.
    pub store: Option<AccountStore>,
}

/// Reads the file's JSON form; the error names the key and the file.
/// A config file as the host read it: its path, and its TOML turned into
/// JSON (the WIT `config-file`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileText {
    pub path: String,
    pub json: String,
}

impl FileText {
    pub fn parse(&self) -> Result<ConfigFile, String> {
        parse(&self.json, &self.path)
    }
}

pub fn parse(json: &str, path: &str) -> Result<ConfigFile, String> {
    let root: Value = serde_json::from_str(json).map_err(|e| format!("{path}: {e}"))?;
    let fail = |key: &str, why: &str| format!("{path}: `{key}` {why}");
    let table = |value: &Value, key: &str| -> Result<Map<String, Value>, String> {
        match value {
            Value::Object(map) => Ok(map.clone()),
            _ => Err(fail(key, "must be a table")),
        }
    };
    let text = |map: &Map<String, Value>, key: &str, full: &str| -> Result<Option<String>, String> {
        match map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(fail(full, "must be a string")),
        }
    };
    let number = |map: &Map<String, Value>, key: &str, full: &str| -> Result<Option<u64>, String> {
        match map.get(key) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| fail(full, "must be a whole number")),
        }
    };
    let only = |map: &Map<String, Value>, known: &[&str], prefix: &str| -> Result<(), String> {
        match map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(unknown) => {
                Err(format!("{path}: unknown key `{prefix}{unknown}` (known: {})", known.join(", ")))
            }
            None => Ok(()),
        }
    };
    let root = table(&root, "")?;
    only(
        &root,
        &[
            "issuer",
            "chatgpt_base_url",
            "account",
            "strategy",
            "api_key",
            "store",
            "shared_refresh_seconds",
            "serve",
            "accounts",
        ],
        "",
    )?;
    let mut config = ConfigFile {
        issuer: text(&root, "issuer", "issuer")?,
        chatgpt_base_url: text(&root, "chatgpt_base_url", "chatgpt_base_url")?,
        account: text(&root, "account", "account")?,
        strategy: text(&root, "strategy", "strategy")?
            .map(|s| Strategy::parse(&s).map_err(|why| fail("strategy", &format!("is wrong: {why}"))))
            .transpose()?,
        api_key: text(&root, "api_key", "api_key")?,
        store: text(&root, "store", "store")?
            .map(|s| kinds::parse(&s).map_err(|why| fail("store", &format!("is wrong: {why}"))))
            .transpose()?,
        shared_refresh_seconds: number(&root, "shared_refresh_seconds", "shared_refresh_seconds")?
            .map(|n| {
                u32::try_from(n).map_err(|_| fail("shared_refresh_seconds", "must be at most 4294967295"))
            })
            .transpose()?,
        ..ConfigFile::default()
    };
    if let Some(name) = &config.account {
        check_name(name).map_err(|why| fail("account", &format!("is wrong: {why}")))?;
    }
    if let Some(serve) = root.get("serve") {
        let serve = table(serve, "serve")?;
        only(&serve, &["port", "socket", "upstream", "drain_seconds", "replay_limit"], "serve.")?;
        config.serve = ServeSettings {
            port: number(&serve, "port", "serve.port")?
                .map(|p| u16::try_from(p).map_err(|_| fail("serve.port", "must be at most 65535")))
                .transpose()?,
            socket: text(&serve, "socket", "serve.socket")?,
            upstream: text(&serve, "upstream", "serve.upstream")?,
            drain_seconds: number(&serve, "drain_seconds", "serve.drain_seconds")?,
            replay_limit: number(&serve, "replay_limit", "serve.replay_limit")?,
        };
    }
    if let Some(accounts) = root.get("accounts") {
        for (name, settings) in table(accounts, "accounts")? {
            let prefix = format!("accounts.{name}.");
            check_name(&name)
                .map_err(|why| fail(&format!("accounts.{name}"), &format!("is wrong: {why}")))?;
            let settings = table(&settings, &format!("accounts.{name}"))?;
            only(
                &settings,
                &["label", "command", "args", "timeout_ms", "refresh_interval_ms", "store"],
                &prefix,
            )?;
            let store = match text(&settings, "store", &format!("{prefix}store"))?
                .as_deref()
                .map(kinds::parse)
            {
                None => None,
                Some(Ok(Store::Account(store))) => Some(store),
                Some(Ok(Store::Database(_))) => {
                    return Err(fail(
                        &format!("{prefix}store"),
                        "cannot be a database: set `store` at the top, for every account",
                    ));
                }
                Some(Err(why)) => return Err(fail(&format!("{prefix}store"), &format!("is wrong: {why}"))),
            };
            let command = match settings.get("command") {
                None => {
                    if let Some(key) = ["args", "timeout_ms", "refresh_interval_ms"]
                        .iter()
                        .find(|k| settings.contains_key(**k))
                    {
                        return Err(fail(&format!("{prefix}{key}"), "needs `command` beside it"));
                    }
                    None
                }
                Some(program) => {
                    let spec = serde_json::json!({
                        "program": program, "args": settings.get("args"),
                        "timeout_ms": settings.get("timeout_ms"), "refresh_interval_ms": settings.get("refresh_interval_ms"),
                    });
                    Some(
                        CommandSpec::from_json(&spec)
                            .map_err(|why| fail(&format!("{prefix}command"), &format!("is wrong: {why}")))?,
                    )
                }
            };
            config.accounts.insert(
                name,
                AccountSettings {
                    label: text(&settings, "label", &format!("{prefix}label"))?,
                    command,
                    store,
                },
            );
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_and_command_accounts() {
        let json = serde_json::json!({
            "issuer": "http://127.0.0.1:1", "strategy": "least-used", "account": "work", "api_key": "sk-config",
            "serve": {"port": 8765, "drain_seconds": 3}, "shared_refresh_seconds": 30,
            "accounts": {
                "work": {"label": "Work"},
                "vault-cmd": {"command": "/usr/bin/get-token", "args": ["--plain"], "refresh_interval_ms": 60000}
            }
        });
        let config = parse(&json.to_string(), "/h/config.toml").unwrap();
        assert_eq!(config.strategy, Some(Strategy::LeastUsed));
        assert_eq!(config.shared_refresh_seconds, Some(30));
        assert_eq!((config.serve.port, config.serve.drain_seconds), (Some(8765), Some(3)));
        assert_eq!(config.accounts["work"].label.as_deref(), Some("Work"));
        let command = config.accounts["vault-cmd"].command.as_ref().unwrap();
        assert_eq!(
            (command.program.as_str(), command.args.as_slice()),
            ("/usr/bin/get-token", &["--plain".to_owned()][..])
        );
        assert_eq!(parse("{}", "p").unwrap(), ConfigFile::default());
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named() {
        let cases = [
            (r#"{"isuer": "x"}"#, "unknown key `isuer`"),
            (r#"{"serve": {"prot": 1}}"#, "unknown key `serve.prot`"),
            (r#"{"accounts": {"a": {"comand": "x"}}}"#, "unknown key `accounts.a.comand`"),
            (r#"{"accounts": {"a": {"args": ["x"]}}}"#, "`accounts.a.args` needs `command`"),
            (r#"{"accounts": {"a/b": {}}}"#, "`accounts.a/b` is wrong"),
            (r#"{"strategy": "random"}"#, "`strategy` is wrong"),
            (r#"{"serve": {"port": 70000}}"#, "`serve.port` must be at most 65535"),
            (r#"{"issuer": 3}"#, "`issuer` must be a string"),
            (r#"{"serve": 3}"#, "`serve` must be a table"),
        ];
        for (json, expected) in cases {
            let e = parse(json, "/h/config.toml").unwrap_err();
            assert!(e.contains(expected) && e.starts_with("/h/config.toml"), "{json}: {e}");
        }
    }
}

wit_enum! {
    /// Where a setting's value came from.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Origin {
        Flag,
        Environment,
        File,
        Default,
        Unset,
        /// A Codex home's own `config.toml` (its sign-in keys only).
        Codex,
    }
}

/// A setting's effective value and its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    pub value: Option<String>,
    pub origin: Origin,
}

/// The `store` a flag or the environment gave: a flag beats the
/// environment, and `store` beats `database_url` from the same place.
pub fn given_store(given: &[(String, String, Origin)]) -> Option<&(String, String, Origin)> {
    given
        .iter()
        .filter(|(name, ..)| name == "store" || name == "database_url")
        .min_by_key(|(name, _, origin)| (*origin as u8, name == "database_url"))
}

/// Every setting: what a flag or the environment gave (`given`), else the
/// file, else the default. Keys are shown by their last four characters.
pub fn effective(given: &[(String, String, Origin)], file: Option<&ConfigFile>) -> Vec<Setting> {
    use crate::defaults as d;
    let f = file.cloned().unwrap_or_default();
    let hint = |key: String| {
        let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("***{tail}")
    };
    let chatgpt = |given: &[(String, String, Origin)]| {
        given.iter().find(|(n, ..)| n == "chatgpt_base_url").map(|(_, v, _)| v.clone())
    };
    let base = chatgpt(given).or(f.chatgpt_base_url.clone()).unwrap_or(d::CHATGPT_BASE_URL.into());
    let store = f.store.as_ref().map(|s| match s {
        Store::Account(AccountStore::File) => "file".to_owned(),
        Store::Account(AccountStore::Keyring) => "keyring".to_owned(),
        // Only a Codex home's own config.toml sets these.
        Store::Account(AccountStore::Auto) => "auto".to_owned(),
        Store::Account(AccountStore::Ephemeral) => "ephemeral".to_owned(),
        Store::Database(url) => kinds::redact(url),
    });
    let table: [(&'static str, Option<String>, Option<String>); 12] = [
        ("issuer", f.issuer.clone(), Some(d::ISSUER.into())),
        ("chatgpt_base_url", f.chatgpt_base_url.clone(), Some(d::CHATGPT_BASE_URL.into())),
        ("account", f.account.clone(), None),
        ("strategy", f.strategy.map(|s| s.name().into()), Some(Strategy::default().name().into())),
        ("api_key", f.api_key.clone().map(hint), None),
        ("store", store, Some("file".into())),
        (
            "shared_refresh_seconds",
            f.shared_refresh_seconds.map(|s| s.to_string()),
            Some(d::SHARED_REFRESH_SECONDS.to_string()),
        ),
        ("serve.port", f.serve.port.map(|p| p.to_string()), Some(d::SERVE_PORT.to_string())),
        ("serve.socket", f.serve.socket.clone(), None),
        ("serve.upstream", f.serve.upstream.clone(), Some(format!("{}/codex", base.trim_end_matches('/')))),
        (
            "serve.drain_seconds",
            f.serve.drain_seconds.map(|s| s.to_string()),
            Some(d::SERVE_DRAIN_SECONDS.to_string()),
        ),
        (
            "serve.replay_limit",
            f.serve.replay_limit.map(|s| s.to_string()),
            Some(d::SERVE_REPLAY_LIMIT.to_string()),
        ),
    ];
    table
        .into_iter()
        .map(|(name, from_file, default)| {
            let given = match name {
                "store" => given_store(given),
                _ => given.iter().filter(|(n, ..)| n == name).min_by_key(|(.., o)| *o as u8),
            };
            let (value, origin) = match (given, from_file, default) {
                (Some((_, v, o)), ..) => (
                    Some(match name {
                        "api_key" => hint(v.clone()),
                        "store" => kinds::redact(v),
                        _ => v.clone(),
                    }),
                    *o,
                ),
                (None, Some(v), _) => (Some(v), Origin::File),
                (None, None, Some(v)) => (Some(v), Origin::Default),
                (None, None, None) => (None, Origin::Unset),
            };
            Setting { name: name.to_owned(), value, origin }
        })
        .collect()
}

/// How `serve` runs, every value in effect: a flag, else the file's
/// `[serve]`, else the default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serve {
    pub port: u16,
    pub socket: Option<String>,
    pub upstream: String,
    pub drain_seconds: u64,
    pub replay_limit: u64,
}

/// The settings `serve` runs with; a flag that is not a number (or a port
/// beyond 65535) is named in the error.
pub fn serve(given: &[(String, String, Origin)], file: Option<&ConfigFile>) -> Result<Serve, String> {
    let settings = effective(given, file);
    let get = |name: &str| settings.iter().find(|s| s.name == name).and_then(|s| s.value.clone());
    let number = |name: &str| -> Result<u64, String> {
        let text = get(name).unwrap_or_default();
        text.parse().map_err(|_| format!("{name} is `{text}`, not a number"))
    };
    Ok(Serve {
        port: u16::try_from(number("serve.port")?).map_err(|_| "serve.port is at most 65535".to_owned())?,
        socket: get("serve.socket"),
        upstream: get("serve.upstream").unwrap_or_default(),
        drain_seconds: number("serve.drain_seconds")?,
        replay_limit: number("serve.replay_limit")?,
    })
}

#[cfg(test)]
mod effective_tests {
    use super::*;

    #[test]
    fn flag_then_environment_then_file_then_default() {
        let file = ConfigFile {
            issuer: Some("http://file".into()),
            strategy: Some(Strategy::LeastUsed),
            api_key: Some("sk-file-9876".into()),
            ..Default::default()
        };
        let given = [
            ("issuer".to_owned(), "http://env".to_owned(), Origin::Environment),
            ("issuer".to_owned(), "http://flag".to_owned(), Origin::Flag),
            ("chatgpt_base_url".to_owned(), "http://b/backend-api".to_owned(), Origin::Environment),
        ];
        let all = effective(&given, Some(&file));
        let get = |name: &str| all.iter().find(|s| s.name == name).unwrap().clone();
        assert_eq!(
            (get("issuer").value.unwrap(), get("issuer").origin),
            ("http://flag".into(), Origin::Flag)
        );
        assert_eq!(get("strategy").origin, Origin::File);
        assert_eq!(get("api_key").value.as_deref(), Some("***9876"));
        assert_eq!((get("account").value, get("account").origin), (None, Origin::Unset));
        assert_eq!(get("serve.upstream").value.as_deref(), Some("http://b/backend-api/codex"));
        assert_eq!(get("serve.port").origin, Origin::Default);
        // The database URL's own variable counts as `store`, below `store`'s.
        let url = ("database_url".to_owned(), "postgres://u:pw@h/db".to_owned(), Origin::Environment);
        let store = |given: &[(String, String, Origin)]| {
            effective(given, None).into_iter().find(|s| s.name == "store").unwrap().value
        };
        assert_eq!(store(std::slice::from_ref(&url)).as_deref(), Some("postgres://u:***@h/db"));
        let both = [url, ("store".to_owned(), "keyring".to_owned(), Origin::Environment)];
        assert_eq!(store(&both).as_deref(), Some("keyring"));
    }

    #[test]
    fn serve_takes_flags_then_the_file_then_defaults_and_names_a_bad_number() {
        let file = ConfigFile {
            serve: ServeSettings { port: Some(8080), drain_seconds: Some(3), ..Default::default() },
            ..Default::default()
        };
        let flag = |name: &str, value: &str| (name.to_owned(), value.to_owned(), Origin::Flag);
        let s = serve(&[flag("serve.drain_seconds", "7")], Some(&file)).unwrap();
        assert_eq!((s.port, s.drain_seconds), (8080, 7));
        assert_eq!(s.replay_limit, crate::defaults::SERVE_REPLAY_LIMIT);
        assert_eq!(s.upstream, format!("{}/codex", crate::defaults::CHATGPT_BASE_URL));
        assert_eq!(serve(&[flag("serve.port", "70000")], None).unwrap_err(), "serve.port is at most 65535");
        assert_eq!(
            serve(&[flag("serve.replay_limit", "lots")], None).unwrap_err(),
            "serve.replay_limit is `lots`, not a number"
        );
    }
}
