//! Everything a host may ask for (`vault.defaults`): the guest's defaults,
//! the names of its settings and variables, and the vault's layout on disk.

use crate::defaults::*;

/// The WIT `default-values`, defined once here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultValues {
    pub issuer: String,
    pub client_id: String,
    pub originator: String,
    pub refresh_skew_seconds: u32,
    pub shared_refresh_seconds: u32,
    pub lock_timeout_ms: u32,
    pub http_timeout_ms: u32,
    pub login_ports: Vec<u16>,
    pub login_timeout_seconds: u32,
    pub default_account: String,
    pub config_file: String,
    pub codex_config_file: String,
    pub api_key_var: String,
    pub account_var: String,
    pub home_var: String,
    pub issuer_var: String,
    pub chatgpt_base_url: String,
    pub chatgpt_base_url_var: String,
    pub strategy: Strategy,
    pub strategy_var: String,
    pub store_var: String,
    pub database_url_var: String,
    /// Every variable the guest itself reads from its environment: the
    /// host passes exactly these.
    pub guest_vars: Vec<String>,
    pub home_dir: String,
    pub codex_home_var: String,
    pub codex_home_dir: String,
    pub layout: VaultLayout,
    pub strategies: Vec<(String, Strategy)>,
    pub main_meter: String,
    pub usage_report_interval_ms: u32,
}

/// The names inside a vault's home (the WIT `vault-layout`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultLayout {
    pub accounts_dir: String,
    pub settings_file: String,
    pub settings_lock: String,
    pub pool_dir: String,
    pub moves_dir: String,
}

pub fn default_values() -> DefaultValues {
    DefaultValues {
        issuer: ISSUER.into(),
        client_id: CLIENT_ID.into(),
        originator: ORIGINATOR.into(),
        refresh_skew_seconds: REFRESH_SKEW_SECONDS,
        shared_refresh_seconds: SHARED_REFRESH_SECONDS,
        lock_timeout_ms: LOCK_TIMEOUT_MS,
        http_timeout_ms: HTTP_TIMEOUT_MS,
        login_ports: LOGIN_PORTS.to_vec(),
        login_timeout_seconds: LOGIN_TIMEOUT_SECONDS,
        default_account: DEFAULT_ACCOUNT.into(),
        config_file: crate::store::config_file::FILE_NAME.into(),
        codex_config_file: crate::store::codex_config::FILE_NAME.into(),
        api_key_var: API_KEY_VAR.into(),
        account_var: ACCOUNT_VAR.into(),
        home_var: HOME_VAR.into(),
        issuer_var: ISSUER_VAR.into(),
        chatgpt_base_url: CHATGPT_BASE_URL.into(),
        chatgpt_base_url_var: CHATGPT_BASE_URL_VAR.into(),
        strategy: Strategy::default(),
        strategy_var: STRATEGY_VAR.into(),
        store_var: STORE_VAR.into(),
        database_url_var: DATABASE_URL_VAR.into(),
        guest_vars: [API_KEY_VAR, CODEX_HOME_VAR, USER_HOME_VAR]
            .into_iter()
            .chain(LOGIN_VARS)
            .map(Into::into)
            .collect(),
        home_dir: HOME_DIR.into(),
        codex_home_var: CODEX_HOME_VAR.into(),
        codex_home_dir: CODEX_HOME_DIR.into(),
        layout: VaultLayout {
            accounts_dir: ACCOUNTS_DIR.into(),
            settings_file: SETTINGS_FILE.into(),
            settings_lock: SETTINGS_LOCK.into(),
            pool_dir: POOL_DIR.into(),
            moves_dir: MOVES_DIR.into(),
        },
        strategies: Strategy::ALL.iter().map(|&s| (s.name().into(), s)).collect(),
        main_meter: crate::vault::usage::MAIN_METER.into(),
        usage_report_interval_ms: crate::vault::pool::USAGE_REPORT_INTERVAL_MS,
    }
}
