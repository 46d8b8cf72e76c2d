//! The exported `vault` resource.

use super::*;

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
            strategy: to_strategy(defaults::Strategy::default()),
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
            strategies: defaults::Strategy::ALL.iter().map(|&s| (s.name().into(), to_strategy(s))).collect(),
            store_modes: crate::store::kinds::AccountStore::ALL
                .iter()
                .map(|&m| (m.name().into(), to_account_store(m)))
                .collect(),
        }
    }

    fn check_name(name: String) -> Result<(), String> {
        crate::store::names::check_name(&name)
    }

    fn check_config(file: x::session::ConfigFile) -> Result<(), String> {
        crate::store::config_file::parse(&file.json, &file.path).map(drop)
    }

    fn codex_home_store(codex_config: Option<x::session::ConfigFile>) -> Result<t::AccountStore, String> {
        let file = codex_config.map(|f| (f.path, f.json));
        crate::store::codex_config::home_store(file.as_ref().map(|(p, j)| (p.as_str(), j.as_str())))
            .map(to_account_store)
    }

    fn check_move_source(
        directory: String,
        location: String,
        kept_in: t::AccountStore,
        contents: Option<Vec<u8>>,
    ) -> Result<(), t::AuthError> {
        vault::check_move_source(&directory, &location, from_account_store(kept_in), contents.as_deref())
            .map_err(to_auth_error)
    }

    fn plan_stores(
        given: Vec<x::vault::GivenSetting>,
        file: Option<x::session::ConfigFile>,
    ) -> Result<x::vault::StorePlan, String> {
        let (given, file) = given_and_file(given, file)?;
        let to = to_account_store;
        let plan = crate::store::plan::plan_on(&Imports, &given, file.as_ref())?;
        Ok(x::vault::StorePlan {
            database: plan.database,
            default_store: to(plan.default_store),
            accounts: plan.accounts.into_iter().map(|(name, store)| (name, to(store))).collect(),
            links_in_place: plan.links_in_place,
        })
    }

    fn serve(
        given: Vec<x::vault::GivenSetting>,
        file: Option<x::session::ConfigFile>,
    ) -> Result<x::vault::ServeSettings, String> {
        let (given, file) = given_and_file(given, file)?;
        let s = crate::store::config_file::serve(&given, file.as_ref())?;
        Ok(x::vault::ServeSettings {
            port: s.port,
            socket: s.socket,
            upstream: s.upstream,
            drain_seconds: s.drain_seconds,
            replay_limit: s.replay_limit,
        })
    }
    fn settings(
        given: Vec<x::vault::GivenSetting>,
        file: Option<x::session::ConfigFile>,
    ) -> Result<Vec<x::vault::Setting>, String> {
        use crate::store::config_file::Origin as O;
        let (given, file) = given_and_file(given, file)?;
        let settings = crate::store::plan::settings_on(&Imports, &given, file.as_ref());
        let settings = settings.into_iter().map(|s| x::vault::Setting {
            name: s.name,
            value: s.value,
            origin: match s.origin {
                O::Flag => x::vault::Origin::Flag,
                O::Environment => x::vault::Origin::Environment,
                O::File => x::vault::Origin::File,
                O::Default => x::vault::Origin::Default,
                O::Unset => x::vault::Origin::Unset,
                O::Codex => x::vault::Origin::Codex,
            },
        });
        Ok(settings.collect())
    }
}

impl x::vault::GuestVault for VaultResource {
    fn in_effect(&self) -> x::vault::InEffect {
        let c = self.0.config();
        x::vault::InEffect {
            issuer: c.issuer.clone(),
            chatgpt_base_url: c.chatgpt_base_url.clone(),
            strategy: to_strategy(c.strategy),
            shared_refresh_seconds: c.shared_refresh_seconds,
        }
    }
    fn new(c: x::session::Config) -> Self {
        Self(vault::Vault::new(Imports, resolve(defaults::DEFAULT_ACCOUNT.into(), c)))
    }
    fn accounts(&self) -> Result<Vec<x::vault::AccountInfo>, t::AuthError> {
        Ok(self.0.accounts().map_err(to_auth_error)?.into_iter().map(to_account_info).collect())
    }
    fn select(&self, explicit: Option<String>) -> Result<String, t::AuthError> {
        self.0.select(explicit.as_deref()).map_err(to_auth_error)
    }
    fn target(&self, explicit: Option<String>) -> Result<String, t::AuthError> {
        self.0.target(explicit.as_deref()).map_err(to_auth_error)
    }
    fn status(&self, account: String) -> Result<t::Status, t::AuthError> {
        self.0.status(&account).map(to_status).map_err(to_auth_error)
    }
    fn pin(&self, account: String) -> Result<x::vault::AccountInfo, t::AuthError> {
        self.0.pin(&account).map(to_account_info).map_err(to_auth_error)
    }
    fn remove(&self, account: String) -> Result<x::vault::Removal, t::AuthError> {
        let r = self.0.remove(&account).map_err(to_auth_error)?;
        Ok(x::vault::Removal {
            revocation: to_revocation(r.revocation),
            unlinked: r.unlinked,
            was_pinned: r.was_pinned,
            now_using: r.now_using,
        })
    }
    fn choose(&self, explicit: Option<String>, session: Option<String>) -> Result<String, t::AuthError> {
        self.0.choose(explicit.as_deref(), session.as_deref()).map_err(to_auth_error)
    }
    fn report(
        &self,
        account: String,
        upstream: x::vault::Upstream,
        attempt: x::vault::Attempt,
    ) -> Result<x::vault::Learned, t::AuthError> {
        let attempt = vault::replay::Attempt {
            replayable: attempt.replayable,
            recovered: attempt.recovered,
            pinned: attempt.pinned,
            tried: attempt.tried,
        };
        let learned = match &upstream {
            x::vault::Upstream::Answer(a) => self.0.report(
                &account,
                vault::learning::Upstream::Answer { status: a.status, headers: &a.headers, body: &a.body },
                attempt,
            ),
            x::vault::Upstream::StreamEvent(event) => {
                self.0.report(&account, vault::learning::Upstream::Event(event), attempt)
            }
        }
        .map_err(to_auth_error)?;
        Ok(x::vault::Learned {
            blocked_until: learned.blocked_until,
            unauthorized: learned.unauthorized,
            usage_updated: learned.usage_updated,
            verdict: match learned.verdict {
                vault::replay::Verdict::PassOn => x::vault::Verdict::PassOn,
                vault::replay::Verdict::RecoverAndReplay => x::vault::Verdict::RecoverAndReplay,
                vault::replay::Verdict::RotateAndReplay => x::vault::Verdict::RotateAndReplay,
            },
            next: x::vault::Attempt {
                replayable: learned.next.replayable,
                recovered: learned.next.recovered,
                pinned: learned.next.pinned,
                tried: learned.next.tried,
            },
        })
    }
    fn usage(&self, account: String) -> Result<x::vault::UsageReport, t::AuthError> {
        let r = self.0.usage(&account).map_err(to_auth_error)?;
        Ok(x::vault::UsageReport {
            account: r.account,
            usage: r.usage.map(to_usage),
            fetched_at: r.fetched_at,
            error: r.error,
            blocked_until: r.blocked_until,
        })
    }
    fn check(&self, account: String) -> Result<x::vault::CheckOutcome, t::AuthError> {
        Ok(match self.0.check(&account).map_err(to_auth_error)? {
            vault::learning::CheckOutcome::Ok(u) => x::vault::CheckOutcome::Ok(u.map(to_usage)),
            vault::learning::CheckOutcome::Failed(why) => x::vault::CheckOutcome::Failed(why),
            vault::learning::CheckOutcome::Unverifiable(why) => x::vault::CheckOutcome::Unverifiable(why),
            vault::learning::CheckOutcome::Skipped(why) => x::vault::CheckOutcome::Skipped(why),
        })
    }
    fn link(&self, name: String, directory: String) -> Result<x::vault::AccountInfo, t::AuthError> {
        self.0.link(&name, &directory).map(to_account_info).map_err(to_auth_error)
    }
    fn check_move_target(&self, name: String) -> Result<(), t::AuthError> {
        self.0.check_move_target(&name).map_err(to_auth_error)
    }
}

pub(super) fn to_account_info(a: vault::AccountInfo) -> x::vault::AccountInfo {
    x::vault::AccountInfo {
        name: a.name,
        location: a.location,
        linked: a.linked,
        pinned: a.pinned,
        kind: to_kind(a.kind),
        email: a.email,
        account_id: a.account_id,
        plan: a.plan,
        expires_at: a.expires_at,
        state: match a.state {
            vault::AccountState::Ok => x::vault::AccountState::Ok,
            vault::AccountState::Disabled => x::vault::AccountState::Disabled,
            vault::AccountState::Blocked => x::vault::AccountState::Blocked,
            vault::AccountState::LoggedOut => x::vault::AccountState::LoggedOut,
            vault::AccountState::Unreadable => x::vault::AccountState::Unreadable,
        },
        problem: a.problem,
        blocked_until: a.blocked_until,
        usage: a.usage.map(to_usage),
        label: a.label,
    }
}

pub(super) fn to_usage(u: usage::Usage) -> x::vault::Usage {
    x::vault::Usage {
        plan: u.plan,
        windows: u
            .windows
            .into_iter()
            .map(|w| x::vault::Window {
                name: w.name,
                used_percent: w.used_percent,
                window_seconds: w.window_seconds,
                resets_at: w.resets_at,
            })
            .collect(),
        limit_reached: u.limit_reached,
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
    use crate::store::config_file::Origin as O;
    let file = file.map(|f| crate::store::config_file::parse(&f.json, &f.path)).transpose()?;
    let to = |o: x::vault::Origin| match o {
        x::vault::Origin::Flag => O::Flag,
        x::vault::Origin::Environment => O::Environment,
        x::vault::Origin::File => O::File,
        x::vault::Origin::Default => O::Default,
        x::vault::Origin::Unset => O::Unset,
        x::vault::Origin::Codex => O::Codex,
    };
    Ok((given.into_iter().map(|g| (g.name, g.value, to(g.origin))).collect(), file))
}
