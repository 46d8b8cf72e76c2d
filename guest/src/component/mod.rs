//! The thin layer between the WIT world and the plain-Rust modules. The WIT
//! records are the plain types themselves (the `with` table below), so the
//! exports forward to the logic; [`Imports`] is the [`Platform`] made of the
//! host's imports. Nothing here decides anything.

wit_bindgen::generate!({
    world: "guest",
    path: "../wit",
    // Records whose plain-Rust definition is the one definition: the
    // bindings lift and lower these types directly, no conversion.
    with: {
        "codex:auth/types@0.1.0/claims": crate::oauth::jwt::Claims,
        "codex:auth/types@0.1.0/jwt-error": crate::oauth::jwt::JwtError,
        "codex:auth/types@0.1.0/chatgpt-tokens": crate::store::auth_file::ChatGptTokens,
        "codex:auth/types@0.1.0/credential": crate::store::auth_file::Credential,
        "codex:auth/types@0.1.0/command-spec": crate::store::command::CommandSpec,
        "codex:auth/types@0.1.0/credential-kind": crate::session::Kind,
        "codex:auth/types@0.1.0/credential-tier": crate::session::policy::Tier,
        "codex:auth/types@0.1.0/credential-source": crate::session::Source,
        "codex:auth/types@0.1.0/account-store": crate::store::kinds::AccountStore,
        "codex:auth/types@0.1.0/status": crate::session::Status,
        "codex:auth/types@0.1.0/oauth-error": crate::oauth::oauth_error::OAuthError,
        "codex:auth/types@0.1.0/auth-error": crate::error::AuthError,
        "codex:auth/types@0.1.0/corrupt-store": crate::error::CorruptStore,
        "codex:auth/types@0.1.0/issuer-error": crate::oauth::oauth_error::IssuerError,
        "codex:auth/http@0.1.0/method": crate::platform::Method,
        "codex:auth/http@0.1.0/request": crate::platform::HttpRequest,
        "codex:auth/http@0.1.0/response": crate::platform::HttpResponse,
        "codex:auth/http@0.1.0/transport-error": crate::platform::TransportError,
        "codex:auth/loopback@0.1.0/bind-error": crate::platform::BindError,
        "codex:auth/loopback@0.1.0/incoming": crate::platform::Incoming,
        "codex:auth/storage@0.1.0/storage-error": crate::platform::StorageError,
        "codex:auth/storage@0.1.0/codex-signs": crate::platform::HomeSigns,
        "codex:auth/storage@0.1.0/place": crate::platform::Place,
        "codex:auth/storage@0.1.0/home-place": crate::platform::HomePlace,
        "codex:auth/process@0.1.0/output": crate::platform::ProcessOutput,
        "codex:auth/notify@0.1.0/event": crate::platform::Notice,
        "codex:auth/notify@0.1.0/device-prompt": crate::platform::DevicePrompt,
        "codex:auth/notify@0.1.0/account-disabled": crate::platform::AccountDisabled,
        "codex:auth/notify@0.1.0/account-blocked": crate::platform::AccountBlocked,
        "codex:auth/notify@0.1.0/refresh-outcome": crate::platform::RefreshOutcome,
        "codex:auth/notify@0.1.0/refresh-report": crate::platform::RefreshReport,
        "codex:auth/pkce@0.1.0/pkce-pair": crate::oauth::pkce::PkcePair,
        "codex:auth/pkce@0.1.0/pkce-error": crate::oauth::pkce::PkceError,
        "codex:auth/authorize@0.1.0/authorize-request": crate::oauth::authorize::AuthorizeRequest,
        "codex:auth/authorize@0.1.0/callback-outcome": crate::oauth::authorize::CallbackOutcome,
        "codex:auth/authorize@0.1.0/reply": crate::oauth::authorize::Reply,
        "codex:auth/responses@0.1.0/token-grant": crate::oauth::responses::TokenGrant,
        "codex:auth/responses@0.1.0/device-code": crate::oauth::responses::DeviceCode,
        "codex:auth/responses@0.1.0/device-start-error": crate::oauth::responses::DeviceStartError,
        "codex:auth/responses@0.1.0/device-approval": crate::oauth::responses::DeviceApproval,
        "codex:auth/responses@0.1.0/poll-outcome": crate::oauth::responses::PollOutcome,
        "codex:auth/responses@0.1.0/refresh-failure": crate::oauth::responses::RefreshFailure,
        "codex:auth/policy@0.1.0/refresh-decision": crate::session::policy::RefreshDecision,
        "codex:auth/policy@0.1.0/stored-kind": crate::session::policy::StoredKind,
        "codex:auth/auth-file@0.1.0/stored-auth": crate::store::auth_file::StoredAuth,
        "codex:auth/session@0.1.0/config": crate::session::settings::Given,
        "codex:auth/session@0.1.0/config-file": crate::store::config_file::FileText,
        "codex:auth/session@0.1.0/strategy": crate::defaults::Strategy,
        "codex:auth/session@0.1.0/login-method": crate::session::login::LoginMethod,
        "codex:auth/session@0.1.0/revocation": crate::session::Revocation,
        "codex:auth/session@0.1.0/headers-verdict": crate::session::HeadersVerdict,
        "codex:auth/session@0.1.0/logout-report": crate::session::LogoutReport,
        "codex:auth/vault@0.1.0/default-values": crate::vault::default_values::DefaultValues,
        "codex:auth/vault@0.1.0/vault-layout": crate::vault::default_values::VaultLayout,
        "codex:auth/vault@0.1.0/store-plan": crate::store::plan::StorePlan,
        "codex:auth/vault@0.1.0/origin": crate::store::config_file::Origin,
        "codex:auth/vault@0.1.0/setting": crate::store::config_file::Setting,
        "codex:auth/vault@0.1.0/serve-settings": crate::store::config_file::Serve,
        "codex:auth/vault@0.1.0/in-effect": crate::vault::InEffect,
        "codex:auth/vault@0.1.0/account-state": crate::vault::AccountState,
        "codex:auth/vault@0.1.0/account-info": crate::vault::AccountInfo,
        "codex:auth/vault@0.1.0/choice": crate::vault::Choice,
        "codex:auth/vault@0.1.0/meter-block": crate::vault::pool::MeterBlock,
        "codex:auth/vault@0.1.0/window": crate::vault::usage::Window,
        "codex:auth/vault@0.1.0/usage": crate::vault::usage::Usage,
        "codex:auth/vault@0.1.0/usage-report": crate::vault::learning::UsageReport,
        "codex:auth/vault@0.1.0/day-served": crate::vault::pool::DayServed,
        "codex:auth/vault@0.1.0/check-outcome": crate::vault::learning::CheckOutcome,
        "codex:auth/vault@0.1.0/attempt": crate::vault::replay::Attempt,
        "codex:auth/vault@0.1.0/verdict": crate::vault::replay::Verdict,
        "codex:auth/vault@0.1.0/learned": crate::vault::learning::Learned,
        "codex:auth/vault@0.1.0/removal": crate::vault::Removal,
        "codex:auth/openai@0.1.0/answer-shape": crate::openai::AnswerShape,
        "codex:auth/openai@0.1.0/api-error": crate::openai::ApiError,
        "codex:auth/openai@0.1.0/translated": crate::openai::Translated,
        "codex:auth/openai@0.1.0/error-answer": crate::openai::upstream_error::ErrorAnswer,
        "codex:auth/openai@0.1.0/whole": crate::openai::answer::Whole,
        "codex:auth/openai@0.1.0/token-usage": crate::openai::answer::TokenUsage,
        "codex:auth/openai@0.1.0/model-list": crate::openai::models::ModelList,
        "codex:auth/openai@0.1.0/opening-hold": crate::openai::OpeningHold,
    },
});

use crate::error::AuthError;
use crate::platform::{self, Platform};
use crate::{
    defaults, oauth::authorize, oauth::jwt, oauth::oauth_error, oauth::pkce, oauth::responses, session,
    session::login, session::policy, store::auth_file, vault,
};
use codex::auth::{clock, http, loopback, notify, process, storage};
use exports::codex::auth as x;

mod imports;
mod openai_exports;
mod pure;
mod session_resource;
mod vault_resource;

use imports::*;

struct Component;
export!(Component);
