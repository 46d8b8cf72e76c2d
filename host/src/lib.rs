/*!
codex-auth: "Sign in with ChatGPT (Codex)" credentials for your own tools.

Every decision (PKCE, URLs, token parsing, expiry, precedence, the
`auth.json` format) lives in a WebAssembly component, compiled ahead of time
at build time, embedded in this crate and run by wasmtime. This crate only does I/O for it: files and
locks, HTTP, the loopback listener, the clock.

```no_run
let auth = codex_auth::Auth::open(codex_auth::Options::from_env())?;
for (name, value) in auth.request_headers()?.iter() {
    println!("{name}: <{} bytes>", value.len());
}
# Ok::<(), codex_auth::Error>(())
```

One [`Auth`] serves one vault home and many threads. The home holds
several accounts, each a Codex home of its own ([`Auth::accounts`],
[`Auth::use_account`], [`Auth::login`] with [`LoginOptions::account`]);
every account has its own guest instance and store lock, so calls for one
account are serialized (one refresh at a time, across processes too) while
other accounts, listing and status never wait behind it. With several
accounts the pool chooses ([`Auth::headers_for`] with a session key) and
learns from what the upstream answered ([`Auth::report`]).

```no_run
use codex_auth::{Attempt, Auth, Options, Upstream};
let auth = Auth::open(Options::from_env())?;
let (account, headers) = auth.headers_for(Some("conversation-1"))?;
// ... send the request with `headers`, then:
# let (status, answer_headers) = (200u16, Vec::<(String, String)>::new());
let answer = Upstream::Answer { status, headers: &answer_headers, body: b"" };
let learned = auth.report(&account, answer, Attempt::FIRST)?;
// `learned.verdict`: pass the answer on, or recover or rotate and send again.
# Ok::<(), codex_auth::Error>(())
```
*/

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod accounts;
mod auth;
mod backend;
mod bindings;
mod clock;
mod credential;
mod database;
mod error;
mod file_store;
mod imports;
mod keyring_store;
mod layout;
mod logic;
mod login;
mod nonblocking;
mod notifier;
pub mod openai;
mod options;
mod places;
mod pool;
mod reconnect;
mod runtime;
mod secret;
mod state;
mod status;
pub mod tls;
mod toml_file;

/// The README's Rust examples, compiled (not run) as doctests so they keep
/// working.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

pub use accounts::{Account, AccountState, Removal};
pub use auth::accounts::{AccountRef, Imported};
pub use auth::{Auth, defaults};
pub use clock::{Clock, SystemClock};
pub use credential::Credential;
pub use error::Error;
pub use file_store::{AUTH_FILE, LOCK_FILE};
pub use logic::{AuthorizeRequest, Claims};
pub use login::{LoginMethod, LoginOptions, LogoutReport, Revocation};
pub use nonblocking::AsyncAuth;
pub use notifier::{LoginEvent, Notifier, RefreshOutcome, Silent};
pub use options::{
    Defaults, InEffect, Options, Origin, ServeSettings, Setting, default_codex_home, default_home,
};
pub use pool::{
    Attempt, CheckOutcome, DayServed, Learned, MeterBlock, Route, Strategy, Upstream, Usage, UsageReport,
    Verdict, Window,
};
pub use runtime::GUEST_WASM;
pub use secret::{RequestHeaders, Secret};
pub use status::{Kind, Source, Status, Tier};
