//! What a session reports: which credential is in use, from where, and what
//! its tokens say. Never a token.

use crate::defaults::API_KEY_VAR;
use crate::error::AuthError;
use crate::platform::Platform;
use crate::session::policy::Tier;
use crate::session::{Active, Kind, Session, Source, Status};

impl<P: Platform> Session<P> {
    /// What is signed in and from where.
    pub fn status(&self) -> Result<Status, AuthError> {
        let loaded = self.loaded_ref()?;
        let location = || Source::Store(self.platform.store_location(&self.config.account));
        let mut status = Status {
            account: None,
            kind: Kind::None,
            source: Source::None,
            tier: Tier::None,
            account_id: None,
            plan: None,
            email: None,
            user_id: None,
            expires_at: None,
            last_refresh: loaded.stored.last_refresh,
            login_required: loaded.stored.login_required.is_some(),
            api_key_hint: None,
            shared_with_codex: false,
        };
        match &loaded.active {
            Active::Subscription { identity, access_expires_at, tokens } => {
                status.account = Some(self.config.account.clone());
                status.kind = Kind::Subscription;
                status.source = location();
                status.tier = Tier::Store;
                status.account_id = tokens.account_id.clone().or_else(|| identity.account_id.clone());
                status.plan = identity.plan.clone();
                status.email = identity.email.clone();
                status.user_id = identity.user_id.clone();
                status.expires_at = *access_expires_at;
                status.shared_with_codex = self.shared();
            }
            Active::StoredKey(key) => {
                status.account = Some(self.config.account.clone());
                status.kind = Kind::ApiKey;
                status.source = location();
                status.tier = Tier::Store;
                status.api_key_hint = key_hint(key);
            }
            Active::EnvironmentKey(key) => {
                status.kind = Kind::ApiKey;
                status.source = Source::Environment(API_KEY_VAR.into());
                status.tier = Tier::Environment;
                status.api_key_hint = key_hint(key);
            }
            Active::RuntimeKey(key) => {
                status.kind = Kind::ApiKey;
                status.source = Source::Runtime;
                status.tier = Tier::Runtime;
                status.api_key_hint = key_hint(key);
            }
            Active::ConfigKey(key) => {
                status.kind = Kind::ApiKey;
                status.source = Source::Config(self.config.file_path.clone());
                status.tier = Tier::Config;
                status.api_key_hint = key_hint(key);
            }
            Active::Command { spec, .. } => {
                status.account = Some(self.config.account.clone());
                status.kind = Kind::Command;
                status.source = Source::Command(spec.display());
                status.tier = Tier::Command;
            }
            Active::None => {}
        }
        Ok(status)
    }
}

/// The last four characters of a key, for display.
fn key_hint(key: &str) -> Option<String> {
    let count = key.chars().count();
    (count >= 12).then(|| key.chars().skip(count - 4).collect())
}
