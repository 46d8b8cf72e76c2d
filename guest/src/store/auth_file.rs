//! The Codex CLI's `auth.json`: read what `codex login` writes (ChatGPT and
//! API-key modes), write what it reads, and keep every field codex-auth does
//! not know.

use crate::oauth::oauth_error::OAuthError;
use crate::oauth::token_shaped;
use crate::store::rfc3339;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;

/// The file's name in a Codex home.
pub const FILE_NAME: &str = "auth.json";

/// Where codex-auth remembers that the issuer rejected a refresh token. The
/// Codex CLI ignores unknown fields; the hash ties the mark to the token it
/// is about, so a file another writer refreshed is never marked dead.
const LOGIN_REQUIRED_KEY: &str = "codex_auth_login_required";
/// A command account's program. The Codex CLI sees such a file as logged out.
const COMMAND_KEY: &str = "codex_auth_command";

/// The three tokens of a ChatGPT sign-in. Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ChatGptTokens {
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: String,
    pub account_id: Option<String>,
}

impl fmt::Debug for ChatGptTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatGptTokens").field("account_id", &self.account_id).finish_non_exhaustive()
    }
}

/// A stored credential. Secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Chatgpt(ChatGptTokens),
    ApiKey(String),
    /// A program that prints the bearer token; the token is never stored.
    Command(crate::store::command::CommandSpec),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Chatgpt(tokens) => f.debug_tuple("ChatGpt").field(tokens).finish(),
            Self::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            Self::Command(spec) => f.debug_tuple("Command").field(&spec.program).finish(),
        }
    }
}

/// What a store file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredAuth {
    pub credential: Option<Credential>,
    /// `last_refresh`, Unix seconds.
    pub last_refresh: Option<i64>,
    /// The issuer rejected the stored refresh token for good.
    pub login_required: Option<OAuthError>,
}

/// Parses a store file. Errors say what is wrong and never quote a value.
pub fn read(contents: &[u8]) -> Result<StoredAuth, String> {
    let root = object(contents)?;
    let api_key = optional_string(&root, "OPENAI_API_KEY")?.filter(|k| !k.is_empty());
    if api_key.as_deref().is_some_and(|k| !token_shaped(k)) {
        return Err(
            "`OPENAI_API_KEY` holds characters an API key never has (spaces, line breaks, non-ASCII)".into(),
        );
    }
    let tokens = match root.get("tokens") {
        None | Some(Value::Null) => None,
        Some(Value::Object(t)) => Some(ChatGptTokens {
            id_token: required_string(t, "tokens.id_token", "id_token")?,
            access_token: required_string(t, "tokens.access_token", "access_token")?,
            refresh_token: required_string(t, "tokens.refresh_token", "refresh_token")?,
            account_id: optional_string(t, "account_id")
                .map_err(|_| "tokens.account_id must be a string or null".to_owned())?,
        }),
        Some(_) => return Err("`tokens` must be an object or null".into()),
    };
    let mode = optional_string(&root, "auth_mode")?;
    let credential = match (mode.as_deref(), tokens, api_key) {
        (Some("apikey"), _, Some(key)) => Some(Credential::ApiKey(key)),
        (Some("apikey"), _, None) => {
            return Err("`auth_mode` is \"apikey\" but `OPENAI_API_KEY` is missing".into());
        }
        (Some("chatgpt"), None, _) => {
            return Err("`auth_mode` is \"chatgpt\" but `tokens` is missing".into());
        }
        (_, Some(tokens), _) => Some(Credential::Chatgpt(tokens)),
        (_, None, Some(key)) => Some(Credential::ApiKey(key)),
        (_, None, None) => match root.get(COMMAND_KEY) {
            None | Some(Value::Null) => None,
            Some(spec) => Some(Credential::Command(
                crate::store::command::CommandSpec::from_json(spec)
                    .map_err(|why| format!("`{COMMAND_KEY}`: {why}"))?,
            )),
        },
    };
    let last_refresh = match optional_string(&root, "last_refresh")? {
        None => None,
        Some(text) => Some(rfc3339::parse(&text).ok_or("`last_refresh` is not an RFC 3339 date-time")?),
    };
    let login_required = login_required_mark(&root, credential.as_ref());
    Ok(StoredAuth { credential, last_refresh, login_required })
}

/// Writes `auth` over `previous`, keeping the fields codex-auth does not know.
/// A `previous` that [`read`] rejects is an error: nothing is written over a
/// file a person may still want to repair.
pub fn write(previous: Option<&[u8]>, auth: &StoredAuth) -> Result<Vec<u8>, String> {
    let mut root = match previous {
        Some(bytes) => {
            read(bytes)?;
            object(bytes)?
        }
        None => Map::new(),
    };
    root.remove(COMMAND_KEY);
    match &auth.credential {
        Some(Credential::Command(spec)) => {
            root.remove("auth_mode");
            root.insert("OPENAI_API_KEY".into(), Value::Null);
            root.remove("tokens");
            root.insert(COMMAND_KEY.into(), spec.to_json());
        }
        Some(Credential::Chatgpt(t)) => {
            root.insert("auth_mode".into(), "chatgpt".into());
            root.insert("OPENAI_API_KEY".into(), Value::Null);
            let mut tokens = match root.remove("tokens") {
                Some(Value::Object(old)) => old,
                _ => Map::new(),
            };
            tokens.insert("id_token".into(), t.id_token.clone().into());
            tokens.insert("access_token".into(), t.access_token.clone().into());
            tokens.insert("refresh_token".into(), t.refresh_token.clone().into());
            tokens.insert("account_id".into(), t.account_id.clone().into());
            root.insert("tokens".into(), Value::Object(tokens));
        }
        Some(Credential::ApiKey(key)) => {
            root.insert("auth_mode".into(), "apikey".into());
            root.insert("OPENAI_API_KEY".into(), key.clone().into());
            root.remove("tokens");
        }
        None => {
            root.remove("auth_mode");
            root.insert("OPENAI_API_KEY".into(), Value::Null);
            root.remove("tokens");
        }
    }
    match auth.last_refresh {
        Some(t) => root.insert("last_refresh".into(), rfc3339::format(t).into()),
        None => root.remove("last_refresh"),
    };
    match (&auth.login_required, &auth.credential) {
        (Some(error), Some(Credential::Chatgpt(t))) => {
            let mark = serde_json::json!({
                "code": error.code,
                "description": error.description,
                "refresh_token_sha256": fingerprint(&t.refresh_token),
            });
            root.insert(LOGIN_REQUIRED_KEY.into(), mark)
        }
        _ => root.remove(LOGIN_REQUIRED_KEY),
    };
    let mut out = serde_json::to_vec_pretty(&Value::Object(root)).map_err(|e| e.to_string())?;
    out.push(b'\n');
    Ok(out)
}

fn object(contents: &[u8]) -> Result<Map<String, Value>, String> {
    if contents.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".into());
    }
    let text = std::str::from_utf8(contents)
        .map_err(|e| format!("the file is not UTF-8 text (invalid byte at offset {})", e.valid_up_to()))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(root)) => Ok(root),
        Ok(_) => Err("the file must hold a JSON object".into()),
        // serde_json's messages give line and column, never the input.
        Err(e) => Err(format!("the file is not valid JSON ({e})")),
    }
}

fn optional_string(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string or null")),
    }
}

fn required_string(map: &Map<String, Value>, name: &str, key: &str) -> Result<String, String> {
    match map.get(key) {
        Some(Value::String(s)) if !token_shaped(s) && !s.is_empty() => {
            Err(format!("`{name}` holds characters a token never has (spaces, line breaks, non-ASCII)"))
        }
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("`{name}` is empty")),
        None | Some(Value::Null) => Err(format!("`{name}` is missing")),
        Some(_) => Err(format!("`{name}` must be a string")),
    }
}

fn login_required_mark(root: &Map<String, Value>, credential: Option<&Credential>) -> Option<OAuthError> {
    let Some(Credential::Chatgpt(tokens)) = credential else {
        return None;
    };
    let mark = root.get(LOGIN_REQUIRED_KEY)?.as_object()?;
    let hash = mark.get("refresh_token_sha256")?.as_str()?;
    if hash != fingerprint(&tokens.refresh_token) {
        return None;
    }
    Some(OAuthError {
        code: mark.get("code").and_then(Value::as_str).unwrap_or("login_required").to_owned(),
        description: mark.get("description").and_then(Value::as_str).map(str::to_owned),
    })
}

/// A one-way fingerprint of a token, safe to store beside it.
pub fn fingerprint(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tokens() -> ChatGptTokens {
        ChatGptTokens {
            id_token: "h.id.s".into(),
            access_token: "h.access.s".into(),
            refresh_token: "rt-1".into(),
            account_id: Some("acct".into()),
        }
    }

    #[test]
    fn reads_what_codex_login_writes() {
        let chatgpt = json!({
            "OPENAI_API_KEY": null,
            "tokens": {"id_token": "h.id.s", "access_token": "h.access.s", "refresh_token": "rt-1", "account_id": "acct"},
            "last_refresh": "2026-11-22T21:00:00.5Z"
        });
        let auth = read(chatgpt.to_string().as_bytes()).unwrap();
        assert_eq!(auth.credential, Some(Credential::Chatgpt(tokens())));
        assert_eq!(auth.last_refresh, Some(1_795_381_200));
        let apikey = json!({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-proj-abc"});
        assert_eq!(
            read(apikey.to_string().as_bytes()).unwrap().credential,
            Some(Credential::ApiKey("sk-proj-abc".into()))
        );
        let legacy = json!({"OPENAI_API_KEY": "sk-legacy"});
        assert_eq!(
            read(legacy.to_string().as_bytes()).unwrap().credential,
            Some(Credential::ApiKey("sk-legacy".into()))
        );
        let empty = json!({"OPENAI_API_KEY": null});
        assert_eq!(read(empty.to_string().as_bytes()).unwrap(), StoredAuth::default());
    }

    #[test]
    fn round_trips_keep_unknown_fields() {
        let original = json!({
            "OPENAI_API_KEY": null,
            "future_field": {"nested": [1, 2]},
            "tokens": {"id_token": "h.old.s", "access_token": "a", "refresh_token": "r", "extra": true},
            "last_refresh": "2020-01-01T00:00:00Z"
        });
        let auth = StoredAuth {
            credential: Some(Credential::Chatgpt(tokens())),
            last_refresh: Some(1_795_381_200),
            login_required: None,
        };
        let written = write(Some(original.to_string().as_bytes()), &auth).unwrap();
        assert_eq!(read(&written).unwrap(), auth);
        let value: Value = serde_json::from_slice(&written).unwrap();
        assert_eq!(value["future_field"], json!({"nested": [1, 2]}));
        assert_eq!(value["tokens"]["extra"], json!(true));
        assert_eq!(value["auth_mode"], json!("chatgpt"));
        assert_eq!(value["OPENAI_API_KEY"], Value::Null);
        assert_eq!(value["last_refresh"], json!("2026-11-22T21:00:00Z"));

        let key = StoredAuth { credential: Some(Credential::ApiKey("sk-x".into())), ..StoredAuth::default() };
        let written = write(Some(&written), &key).unwrap();
        assert_eq!(read(&written).unwrap(), key);
        let value: Value = serde_json::from_slice(&written).unwrap();
        assert_eq!(value["future_field"], json!({"nested": [1, 2]}));
        assert_eq!(value.get("tokens"), None);
    }

    #[test]
    fn login_required_mark_follows_its_token() {
        let dead = OAuthError { code: "refresh_token_reused".into(), description: None };
        let auth = StoredAuth {
            credential: Some(Credential::Chatgpt(tokens())),
            last_refresh: None,
            login_required: Some(dead.clone()),
        };
        let written = write(None, &auth).unwrap();
        assert_eq!(read(&written).unwrap().login_required, Some(dead));
        // Another writer rotates the tokens but keeps our field: the mark no longer applies.
        let mut value: Value = serde_json::from_slice(&written).unwrap();
        value["tokens"]["refresh_token"] = json!("rt-2");
        assert_eq!(read(value.to_string().as_bytes()).unwrap().login_required, None);
    }

    #[test]
    fn corrupt_files_are_explained_without_secrets() {
        let cases: [(&[u8], &str); 9] = [
            (b"", "empty"),
            (b"  \n", "empty"),
            (b"{\"tokens\": {\"id_token\": \"secret-value", "not valid JSON"),
            (b"[1,2]", "JSON object"),
            (b"\xff\xfe\x00garbage", "not UTF-8"),
            (br#"{"tokens": "secret-value"}"#, "`tokens` must be an object"),
            (
                br#"{"tokens": {"id_token": 5, "access_token": "a", "refresh_token": "r"}}"#,
                "`tokens.id_token` must be a string",
            ),
            (br#"{"OPENAI_API_KEY": 7}"#, "`OPENAI_API_KEY` must be a string"),
            (br#"{"last_refresh": "yesterday"}"#, "RFC 3339"),
        ];
        for (bytes, expected) in cases {
            let err = read(bytes).unwrap_err();
            assert!(err.contains(expected), "{err:?} lacks {expected:?}");
            assert!(!err.contains("secret-value"), "{err:?} leaks");
        }
        assert!(read(br#"{"auth_mode":"apikey"}"#).unwrap_err().contains("OPENAI_API_KEY"));
        assert!(read(br#"{"OPENAI_API_KEY":"sk-a\r\nX: 1"}"#).unwrap_err().contains("never has"));
        let spaced = br#"{"tokens":{"id_token":"a b","access_token":"a","refresh_token":"r"}}"#;
        assert!(read(spaced).unwrap_err().contains("`tokens.id_token` holds characters"));
        assert!(read(br#"{"auth_mode":"chatgpt"}"#).unwrap_err().contains("tokens"));
        assert!(write(Some(b"[]"), &StoredAuth::default()).is_err());
        assert!(write(Some(br#"{"tokens": {"id_token": 1}}"#), &StoredAuth::default()).is_err());
    }
}
