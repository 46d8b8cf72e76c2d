//! The exported `vault` resource.

use super::*;
use crate::store::config_file::FileText;

/// The exported `vault` resource.
pub(super) struct VaultResource(vault::Vault<Imports>);

impl x::vault::Guest for Component {
    type Vault = VaultResource;

    fn defaults() -> vault::default_values::DefaultValues {
        vault::default_values::default_values()
    }

    fn check_name(name: String) -> Result<(), String> {
        crate::store::names::check_name(&name)
    }

    fn check_config(file: FileText) -> Result<(), String> {
        file.parse().map(drop)
    }

    fn plan_stores(
        given: Vec<x::vault::GivenSetting>,
        file: Option<FileText>,
    ) -> Result<crate::store::plan::StorePlan, String> {
        let (given, file) = given_and_file(given, file)?;
        crate::store::plan::plan_on(&Imports, &given, file.as_ref())
    }

    fn serve(
        given: Vec<x::vault::GivenSetting>,
        file: Option<FileText>,
    ) -> Result<crate::store::config_file::Serve, String> {
        let (given, file) = given_and_file(given, file)?;
        crate::store::config_file::serve(&given, file.as_ref())
    }
    fn settings(
        given: Vec<x::vault::GivenSetting>,
        file: Option<FileText>,
    ) -> Result<Vec<crate::store::config_file::Setting>, String> {
        let (given, file) = given_and_file(given, file)?;
        Ok(crate::store::plan::settings_on(&Imports, &given, file.as_ref()))
    }
}

impl x::vault::GuestVault for VaultResource {
    fn in_effect(&self) -> vault::InEffect {
        self.0.in_effect()
    }
    fn new(given: session::settings::Given) -> Self {
        Self(vault::Vault::new(Imports, session::settings::resolve(defaults::DEFAULT_ACCOUNT.into(), given)))
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
    fn choose(
        &self,
        explicit: Option<String>,
        session: Option<String>,
        model: Option<String>,
    ) -> Result<vault::Choice, AuthError> {
        self.0.choose_verdict(explicit.as_deref(), session.as_deref(), model.as_deref())
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
    fn record_served(&self, account: String, counts: vault::pool::DayServed) -> Result<(), AuthError> {
        self.0.record_served(&account, &counts)
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
    fn take_over(&self, name: String, directory: String) -> Result<session::Status, AuthError> {
        self.0.take_over(&name, &directory)
    }
    fn finish_moves(&self) -> Vec<String> {
        self.0.finish_moves()
    }
}

/// What a flag or the environment gave, and the parsed config file.
#[allow(clippy::type_complexity)]
pub(super) fn given_and_file(
    given: Vec<x::vault::GivenSetting>,
    file: Option<FileText>,
) -> Result<
    (Vec<(String, String, crate::store::config_file::Origin)>, Option<crate::store::config_file::ConfigFile>),
    String,
> {
    let file = file.as_ref().map(FileText::parse).transpose()?;
    Ok((given.into_iter().map(|g| (g.name, g.value, g.origin)).collect(), file))
}
