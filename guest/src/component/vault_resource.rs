//! The exported `vault` resource.

use super::*;
use crate::store::kinds::AccountStore;

/// The exported `vault` resource.
pub(super) struct VaultResource(vault::Vault<Imports>);

impl x::vault::Guest for Component {
    type Vault = VaultResource;

    fn defaults() -> x::vault::DefaultValues {
        let d = defaults::defaults();
        x::vault::DefaultValues {
            issuer: d.issuer.into(),
            client_id: d.client_id.into(),
            originator: d.originator.into(),
            refresh_skew_seconds: d.refresh_skew_seconds,
            shared_refresh_seconds: d.shared_refresh_seconds,
            lock_timeout_ms: d.lock_timeout_ms,
            http_timeout_ms: d.http_timeout_ms,
            login_ports: d.login_ports.to_vec(),
            login_timeout_seconds: d.login_timeout_seconds,
            default_account: d.default_account.into(),
            config_file: crate::store::config_file::FILE_NAME.into(),
            codex_config_file: crate::store::codex_config::FILE_NAME.into(),
            api_key_var: d.api_key_var.into(),
            account_var: d.account_var.into(),
            home_var: d.home_var.into(),
            issuer_var: d.issuer_var.into(),
            chatgpt_base_url: d.chatgpt_base_url.into(),
            chatgpt_base_url_var: d.chatgpt_base_url_var.into(),
            strategy: defaults::Strategy::default(),
            strategy_var: d.strategy_var.into(),
            store_var: d.store_var.into(),
            database_url_var: d.database_url_var.into(),
            guest_vars: d.guest_vars.into_iter().map(Into::into).collect(),
            home_dir: defaults::HOME_DIR.into(),
            codex_home_var: defaults::CODEX_HOME_VAR.into(),
            codex_home_dir: defaults::CODEX_HOME_DIR.into(),
            layout: x::vault::VaultLayout {
                accounts_dir: defaults::ACCOUNTS_DIR.into(),
                settings_file: defaults::SETTINGS_FILE.into(),
                settings_lock: defaults::SETTINGS_LOCK.into(),
                pool_dir: defaults::POOL_DIR.into(),
                moves_dir: defaults::MOVES_DIR.into(),
            },
            strategies: defaults::Strategy::ALL.iter().map(|&s| (s.name().into(), s)).collect(),
            store_modes: AccountStore::ALL.iter().map(|&m| (m.name().into(), m)).collect(),
        }
    }

    fn check_name(name: String) -> Result<(), String> {
        crate::store::names::check_name(&name)
    }

    fn check_config(file: x::session::ConfigFile) -> Result<(), String> {
        crate::store::config_file::parse(&file.json, &file.path).map(drop)
    }

    fn codex_home_store(codex_config: Option<x::session::ConfigFile>) -> Result<AccountStore, String> {
        let file = codex_config.as_ref().map(|f| (f.path.as_str(), f.json.as_str()));
        crate::store::codex_config::home_store(file)
    }

    fn check_move_source(
        directory: String,
        location: String,
        kept_in: AccountStore,
        contents: Option<Vec<u8>>,
    ) -> Result<(), AuthError> {
        vault::check_move_source(&directory, &location, kept_in, contents.as_deref())
    }

    fn plan_stores(
        given: Vec<x::vault::GivenSetting>,
        file: Option<x::session::ConfigFile>,
    ) -> Result<crate::store::plan::StorePlan, String> {
        let (given, file) = given_and_file(given, file)?;
        crate::store::plan::plan_on(&Imports, &given, file.as_ref())
    }

    fn serve(
        given: Vec<x::vault::GivenSetting>,
        file: Option<x::session::ConfigFile>,
    ) -> Result<crate::store::config_file::Serve, String> {
        let (given, file) = given_and_file(given, file)?;
        crate::store::config_file::serve(&given, file.as_ref())
    }
    fn settings(
        given: Vec<x::vault::GivenSetting>,
        file: Option<x::session::ConfigFile>,
    ) -> Result<Vec<crate::store::config_file::Setting>, String> {
        let (given, file) = given_and_file(given, file)?;
        Ok(crate::store::plan::settings_on(&Imports, &given, file.as_ref()))
    }
}

impl x::vault::GuestVault for VaultResource {
    fn in_effect(&self) -> x::vault::InEffect {
        let c = self.0.config();
        x::vault::InEffect {
            issuer: c.issuer.clone(),
            chatgpt_base_url: c.chatgpt_base_url.clone(),
            strategy: c.strategy,
            shared_refresh_seconds: c.shared_refresh_seconds,
        }
    }
    fn new(c: x::session::Config) -> Self {
        Self(vault::Vault::new(Imports, resolve(defaults::DEFAULT_ACCOUNT.into(), c)))
    }
    fn accounts(&self) -> Result<Vec<vault::AccountInfo>, AuthError> {
        self.0.accounts()
    }
    fn select(&self, explicit: Option<String>) -> Result<String, AuthError> {
        self.0.select(explicit.as_deref())
    }
    fn target(&self, explicit: Option<String>) -> Result<String, AuthError> {
        self.0.target(explicit.as_deref())
    }
    fn status(&self, account: String) -> Result<session::Status, AuthError> {
        self.0.status(&account)
    }
    fn pin(&self, account: String) -> Result<vault::AccountInfo, AuthError> {
        self.0.pin(&account)
    }
    fn remove(&self, account: String) -> Result<vault::Removal, AuthError> {
        self.0.remove(&account)
    }
    fn choose(&self, explicit: Option<String>, session: Option<String>) -> Result<String, AuthError> {
        self.0.choose(explicit.as_deref(), session.as_deref())
    }
    fn report(
        &self,
        account: String,
        upstream: x::vault::Upstream,
        attempt: vault::replay::Attempt,
    ) -> Result<vault::learning::Learned, AuthError> {
        let upstream = match &upstream {
            x::vault::Upstream::Answer(a) => {
                vault::learning::Upstream::Answer { status: a.status, headers: &a.headers, body: &a.body }
            }
            x::vault::Upstream::StreamEvent(event) => vault::learning::Upstream::Event(event),
        };
        self.0.report(&account, upstream, attempt)
    }
    fn usage(&self, account: String) -> Result<vault::learning::UsageReport, AuthError> {
        self.0.usage(&account)
    }
    fn check(&self, account: String) -> Result<vault::learning::CheckOutcome, AuthError> {
        self.0.check(&account)
    }
    fn link(&self, name: String, directory: String) -> Result<vault::AccountInfo, AuthError> {
        self.0.link(&name, &directory)
    }
    fn check_move_target(&self, name: String) -> Result<(), AuthError> {
        self.0.check_move_target(&name)
    }
}

/// What a flag or the environment gave, and the parsed config file.
#[allow(clippy::type_complexity)]
pub(super) fn given_and_file(
    given: Vec<x::vault::GivenSetting>,
    file: Option<x::session::ConfigFile>,
) -> Result<
    (Vec<(String, String, crate::store::config_file::Origin)>, Option<crate::store::config_file::ConfigFile>),
    String,
> {
    let file = file.map(|f| crate::store::config_file::parse(&f.json, &f.path)).transpose()?;
    Ok((given.into_iter().map(|g| (g.name, g.value, g.origin)).collect(), file))
}
