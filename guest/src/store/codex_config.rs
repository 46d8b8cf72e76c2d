//! A Codex home's own `config.toml`, read as the Codex CLI means it: the
//! file belongs to the Codex CLI (model, approval_policy, model_providers...)
//! and codex-auth never writes it. Only the keys that concern sign-in are
//! read; every other key is the Codex CLI's business and is ignored.
//! (codex-auth's own settings live in `codex-auth.toml`.) PROTOCOL.md,
//! "auth.json as the Codex CLI writes it" (the file and its sign-in keys)
//! and "The Codex CLI's other stores" (the four modes and the keyring entry).

use crate::store::kinds::AccountStore;
use serde_json::Value;

/// The Codex CLI's settings file in a Codex home.
pub const FILE_NAME: &str = "config.toml";

/// `forced_login_method`: the only way of signing in the home allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMethod {
    Chatgpt,
    Api,
}

/// The sign-in keys of one Codex home's `config.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodexConfig {
    /// The file, for messages.
    pub path: String,
    pub store: Option<AccountStore>,
    pub chatgpt_base_url: Option<String>,
    /// A sign-in into any other workspace is refused.
    pub forced_workspace_id: Option<String>,
    pub forced_login_method: Option<LoginMethod>,
}

/// Reads the file's JSON form (the host turned the TOML into JSON). A value
/// the Codex CLI itself would refuse is an error naming the key and file.
pub fn parse(json: &str, path: &str) -> Result<CodexConfig, String> {
    let root: Value = serde_json::from_str(json).map_err(|e| format!("{path}: {e}"))?;
    let text = |key: &str| -> Result<Option<&str>, String> {
        match root.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("{path}: `{key}` must be a string")),
        }
    };
    let store = text("cli_auth_credentials_store")?
        .map(|s| match s {
            "file" => Ok(AccountStore::File),
            "keyring" => Ok(AccountStore::Keyring),
            "auto" => Ok(AccountStore::Auto),
            "ephemeral" => Ok(AccountStore::Ephemeral),
            other => Err(format!(
                "{path}: `cli_auth_credentials_store` is `{}`: the Codex CLI takes file, keyring, auto or ephemeral",
                other.escape_debug()
            )),
        })
        .transpose()?;
    let forced_login_method = text("forced_login_method")?
        .map(|s| match s {
            "chatgpt" => Ok(LoginMethod::Chatgpt),
            "api" => Ok(LoginMethod::Api),
            other => Err(format!(
                "{path}: `forced_login_method` is `{}`: the Codex CLI takes chatgpt or api",
                other.escape_debug()
            )),
        })
        .transpose()?;
    Ok(CodexConfig {
        path: path.to_owned(),
        store,
        chatgpt_base_url: text("chatgpt_base_url")?.map(str::to_owned),
        forced_workspace_id: text("forced_chatgpt_workspace_id")?
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_owned),
        forced_login_method,
    })
}

impl CodexConfig {
    /// What `config show` says of it: each sign-in key that is set.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let login = self.forced_login_method.map(|m| match m {
            LoginMethod::Chatgpt => "chatgpt",
            LoginMethod::Api => "api",
        });
        [
            ("cli_auth_credentials_store", self.store.map(|s| s.name().to_owned())),
            ("chatgpt_base_url", self.chatgpt_base_url.clone()),
            ("forced_chatgpt_workspace_id", self.forced_workspace_id.clone()),
            ("forced_login_method", login.map(str::to_owned)),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .collect()
    }

    /// Whether a ChatGPT sign-in into `workspace` may be stored in this home.
    pub fn check_chatgpt_login(&self, workspace: Option<&str>) -> Result<(), String> {
        if self.forced_login_method == Some(LoginMethod::Api) {
            return Err(format!(
                "{} sets `forced_login_method = \"api\"`: this Codex home takes an API key, not a ChatGPT sign-in",
                self.path
            ));
        }
        match (&self.forced_workspace_id, workspace) {
            (Some(forced), Some(got)) if forced == got => Ok(()),
            (Some(forced), got) => Err(format!(
                "the sign-in is for workspace `{}`, but {} allows only `{forced}` \
                 (`forced_chatgpt_workspace_id`): sign in to that workspace; nothing was stored",
                got.unwrap_or("unknown"),
                self.path
            )),
            (None, _) => Ok(()),
        }
    }

    /// Whether an API key may be stored in this home.
    pub fn check_api_key(&self) -> Result<(), String> {
        match self.forced_login_method {
            Some(LoginMethod::Chatgpt) => Err(format!(
                "{} sets `forced_login_method = \"chatgpt\"`: this Codex home takes a ChatGPT sign-in, not an API key",
                self.path
            )),
            _ => Ok(()),
        }
    }
}

/// Where a Codex home keeps its login, as its `config.toml` (path and
/// JSON) says: `file` without one, or without the key (the Codex CLI's
/// default).
pub fn home_store(config: Option<(&str, &str)>) -> Result<AccountStore, String> {
    let mode = match config {
        Some((path, json)) => parse(json, path)?.store,
        None => None,
    };
    Ok(mode.unwrap_or(AccountStore::File))
}

/// The rows `config show` adds for the Codex homes: the file and each
/// sign-in key it sets (`codex.` for the home's own account,
/// `accounts.<name>.codex.` for the others), or why it cannot be read.
pub fn settings_of(homes: &[(String, Result<CodexConfig, String>)]) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for (account, read) in homes {
        let prefix = match account.as_str() {
            crate::defaults::DEFAULT_ACCOUNT => "codex.".to_owned(),
            name => format!("accounts.{name}.codex."),
        };
        match read {
            Ok(config) => {
                rows.push((format!("{prefix}config"), config.path.clone()));
                rows.extend(
                    config.settings().into_iter().map(|(key, value)| (format!("{prefix}{key}"), value)),
                );
            }
            Err(why) => rows.push((format!("{prefix}config"), format!("unreadable: {why}"))),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_sign_in_keys_are_read_and_the_rest_is_ignored() {
        let json = serde_json::json!({
            "model": "gpt-5", "approval_policy": "never", "sandbox_mode": "workspace-write",
            "model_providers": {"x": {"base_url": "http://x"}},
            "cli_auth_credentials_store": "keyring",
            "chatgpt_base_url": "https://chatgpt.example/backend-api",
            "forced_chatgpt_workspace_id": "ws-1",
            "forced_login_method": "chatgpt",
        });
        let c = parse(&json.to_string(), "/c/config.toml").unwrap();
        assert_eq!(c.store, Some(AccountStore::Keyring));
        assert_eq!(c.forced_workspace_id.as_deref(), Some("ws-1"));
        assert_eq!(c.settings().len(), 4);
        assert_eq!(parse("{}", "p").unwrap().settings(), vec![]);
    }

    #[test]
    fn values_the_codex_cli_refuses_are_named() {
        for (json, expected) in [
            (r#"{"cli_auth_credentials_store": "vault"}"#, "`cli_auth_credentials_store` is `vault`"),
            (r#"{"forced_login_method": "sso"}"#, "`forced_login_method` is `sso`"),
            (r#"{"chatgpt_base_url": 3}"#, "`chatgpt_base_url` must be a string"),
        ] {
            let e = parse(json, "/c/config.toml").unwrap_err();
            assert!(e.starts_with("/c/config.toml") && e.contains(expected), "{e}");
        }
    }

    #[test]
    fn a_forced_workspace_and_login_method_refuse_other_sign_ins() {
        let c = CodexConfig {
            path: "/c/config.toml".into(),
            forced_workspace_id: Some("ws-1".into()),
            ..Default::default()
        };
        assert_eq!(c.check_chatgpt_login(Some("ws-1")), Ok(()));
        let e = c.check_chatgpt_login(Some("ws-2")).unwrap_err();
        assert!(e.contains("`ws-2`") && e.contains("only `ws-1`"), "{e}");
        assert!(c.check_chatgpt_login(None).is_err());
        let api = CodexConfig { forced_login_method: Some(LoginMethod::Api), ..Default::default() };
        assert!(api.check_chatgpt_login(Some("ws")).is_err() && api.check_api_key().is_ok());
        let chatgpt = CodexConfig { forced_login_method: Some(LoginMethod::Chatgpt), ..Default::default() };
        assert!(chatgpt.check_api_key().is_err() && chatgpt.check_chatgpt_login(None).is_ok());
    }

    #[test]
    fn a_home_without_the_key_or_the_file_keeps_its_login_in_the_file() {
        assert_eq!(home_store(None), Ok(AccountStore::File));
        assert_eq!(home_store(Some(("/c/config.toml", r#"{"model": "x"}"#))), Ok(AccountStore::File));
        let keyring = r#"{"cli_auth_credentials_store": "keyring"}"#;
        assert_eq!(home_store(Some(("/c/config.toml", keyring))), Ok(AccountStore::Keyring));
        assert!(home_store(Some(("/c/config.toml", r#"{"cli_auth_credentials_store": "cloud"}"#))).is_err());
    }
}
