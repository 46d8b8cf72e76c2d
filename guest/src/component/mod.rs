//! The thin layer between the WIT world and the plain-Rust modules: the
//! exports convert their arguments and call the logic; [`Imports`] is the
//! [`Platform`] made of the host's imports. Nothing here decides anything.

wit_bindgen::generate!({
    world: "guest",
    path: "../wit",
});

use crate::platform::{self, Platform};
use crate::{
    defaults, error, oauth::authorize, oauth::jwt, oauth::oauth_error, oauth::pkce, oauth::responses,
    session, session::login, session::policy, store::auth_file, vault, vault::usage,
};
use codex::auth::{clock, http, loopback, notify, process, storage, types as t};
use exports::codex::auth as x;

mod imports;
mod pure;
mod session_resource;
mod vault_resource;

use imports::*;
use session_resource::*;

struct Component;
export!(Component);
