//! A credential handed to [`crate::Auth::set_credential`].

use crate::bindings::types as wit;
use std::fmt;

/// A credential to store. `Debug` hides every token.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// The three tokens of a ChatGPT sign-in.
    ChatGpt {
        /// The id token (a JWT).
        id_token: String,
        /// The access token (a JWT).
        access_token: String,
        /// The refresh token (single use: it rotates).
        refresh_token: String,
        /// Read from the id token when `None`.
        account_id: Option<String>,
    },
    /// An OpenAI API key.
    ApiKey(String),
    /// A program that prints the bearer token (run without a shell; the
    /// token is kept in memory only, never written).
    Command {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Kill it after this long (default 5 s).
        timeout_ms: Option<u32>,
        /// Reuse its token this long; `None`: until the API rejects it.
        refresh_interval_ms: Option<u64>,
    },
}

impl Credential {
    pub(crate) fn into_wit(self) -> wit::Credential {
        match self {
            Self::ChatGpt { id_token, access_token, refresh_token, account_id } => {
                wit::Credential::Chatgpt(wit::ChatgptTokens {
                    id_token,
                    access_token,
                    refresh_token,
                    account_id,
                })
            }
            Self::ApiKey(key) => wit::Credential::ApiKey(key),
            Self::Command { program, args, timeout_ms, refresh_interval_ms } => {
                wit::Credential::Command(wit::CommandSpec { program, args, timeout_ms, refresh_interval_ms })
            }
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ChatGpt { account_id, .. } => {
                f.debug_struct("ChatGpt").field("account_id", account_id).finish_non_exhaustive()
            }
            Self::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            Self::Command { program, .. } => {
                f.debug_struct("Command").field("program", program).finish_non_exhaustive()
            }
        }
    }
}
