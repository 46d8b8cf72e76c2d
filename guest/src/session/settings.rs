//! A session's settings from what the host gave: the host passes only what
//! a flag or the environment set, which beats the config file, which beats
//! the guest's default.

use crate::defaults::Strategy;
use crate::session::Config;
use crate::store::config_file;

/// What the host gave; every `None` takes the file's value, else the default.
#[derive(Clone, Default)]
pub struct Given {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub originator: Option<String>,
    pub refresh_skew_seconds: Option<u32>,
    pub shared_refresh_seconds: Option<u32>,
    pub lock_timeout_ms: Option<u32>,
    pub http_timeout_ms: Option<u32>,
    pub chatgpt_base_url: Option<String>,
    pub strategy: Option<Strategy>,
    pub runtime_key: Option<String>,
    /// The config file, unparsed.
    pub file: Option<config_file::FileText>,
}

/// The settings of a session of `account`. A config file that does not
/// parse is left out: a host checks it first (`check-config`) and refuses
/// to go on with one that fails, so none reaches here but by a bug.
pub fn resolve(account: String, given: Given) -> Config {
    let d = Config::default();
    let file = given.file.as_ref().and_then(|f| f.parse().ok());
    let from_file = |f: fn(&config_file::ConfigFile) -> Option<String>| file.as_ref().and_then(f);
    Config {
        account,
        issuer: given.issuer.or(from_file(|f| f.issuer.clone())).unwrap_or(d.issuer),
        client_id: given.client_id.unwrap_or(d.client_id),
        originator: given.originator.unwrap_or(d.originator),
        refresh_skew_seconds: given.refresh_skew_seconds.unwrap_or(d.refresh_skew_seconds),
        shared_refresh_seconds: given
            .shared_refresh_seconds
            .or(file.as_ref().and_then(|f| f.shared_refresh_seconds))
            .unwrap_or(d.shared_refresh_seconds),
        lock_timeout_ms: given.lock_timeout_ms.unwrap_or(d.lock_timeout_ms),
        http_timeout_ms: given.http_timeout_ms.unwrap_or(d.http_timeout_ms),
        chatgpt_base_url: given
            .chatgpt_base_url
            .or(from_file(|f| f.chatgpt_base_url.clone()))
            .unwrap_or(d.chatgpt_base_url),
        strategy: given.strategy.or(file.as_ref().and_then(|f| f.strategy)).unwrap_or(d.strategy),
        runtime_key: given.runtime_key,
        file,
        file_path: given.file.map(|f| f.path).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str) -> Option<config_file::FileText> {
        Some(config_file::FileText { path: "/vault/codex-auth.toml".into(), json: json.into() })
    }

    #[test]
    fn given_beats_the_file_which_beats_the_default() {
        let json = r#"{"issuer": "http://file", "strategy": "least-used", "shared_refresh_seconds": 30}"#;
        let c = resolve(
            "work".into(),
            Given { issuer: Some("http://flag".into()), file: file(json), ..Given::default() },
        );
        assert_eq!((c.account.as_str(), c.issuer.as_str()), ("work", "http://flag"));
        assert_eq!((c.strategy, c.shared_refresh_seconds), (Strategy::LeastUsed, 30));
        assert_eq!(c.file_path, "/vault/codex-auth.toml");
        assert_eq!(c.chatgpt_base_url, crate::defaults::CHATGPT_BASE_URL);
        let c = resolve("work".into(), Given { file: file(json), ..Given::default() });
        assert_eq!(c.issuer, "http://file");
    }

    #[test]
    fn nothing_given_is_the_guests_defaults_and_a_bad_file_is_left_out() {
        let c = resolve("default".into(), Given { file: file("{\"nonsense\": 1}"), ..Given::default() });
        assert_eq!(c.issuer, crate::defaults::ISSUER);
        assert_eq!(c.refresh_skew_seconds, crate::defaults::REFRESH_SKEW_SECONDS);
        assert_eq!(c.strategy, Strategy::default());
        assert!(c.file.is_none());
    }
}
