//! The same guest outside wasmtime-the-library: transpiled by jco and run
//! under Node with host interfaces written in JavaScript (in-memory storage,
//! a fixed clock, a scripted HTTP issuer). Needs node and npm; the script
//! installs jco into .tools/node-host on first use.

use crate::support::*;
use codex_auth::{Auth, AuthorizeRequest, Options};
use serde_json::{Value, json};
use std::process::Command;

#[test]
fn the_component_runs_under_node_with_a_javascript_host() {
    let dir = Dir::new();
    let wasm = dir.root.path().join("guest.wasm");
    std::fs::write(&wasm, codex_auth::GUEST_WASM).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/jco-host.sh");
    let o = Command::new("bash").arg(script).arg(&wasm).arg("e2e").output().expect("bash runs");
    assert!(o.status.success(), "jco host failed:\n{}", stderr(&o));
    let out: Value = serde_json::from_str(stdout(&o).trim()).expect("the runner prints JSON");

    // Pure exports.
    assert_eq!(out["challenge"], "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    assert_eq!(out["accountId"], "acct-js");
    let options = Options::new(dir.home());
    let native = Auth::open(options).unwrap();
    let expected = native
        .authorize_url(&AuthorizeRequest {
            issuer: "https://auth.openai.com".into(),
            client_id: "app_EMoamEEZ73f0CkXaXp7hrann".into(),
            redirect_uri: "http://localhost:1455/auth/callback".into(),
            scope: None,
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            state: "js-state~1".into(),
            originator: "codex_cli_rs".into(),
            allowed_workspace_id: Some("ws 1&2".into()),
        })
        .unwrap();
    assert_eq!(out["authorizeUrl"], expected, "byte-identical to the wasmtime host's");

    // The session over the JavaScript host interfaces.
    let first = out["firstAccess"].as_str().unwrap();
    assert_eq!(
        out["headers"],
        json!([["Authorization", format!("Bearer {first}")], ["chatgpt-account-id", "acct-js"]])
    );
    assert_eq!(out["refreshedToken"], out["secondAccess"]);
    assert_eq!(out["refreshUrl"], "https://issuer.test/oauth/token");
    assert_eq!(
        out["refreshBody"],
        json!({"client_id": "app_EMoamEEZ73f0CkXaXp7hrann", "grant_type": "refresh_token", "refresh_token": "rt-1"})
    );
    assert_eq!(out["stored"]["tokens"]["refresh_token"], "rt-2");
    assert_eq!(out["stored"]["auth_mode"], "chatgpt");
    assert_eq!(out["status"]["kind"], "subscription");
    assert_eq!(out["status"]["plan"], "plus");
    assert_eq!(out["lockReleased"], true);

    // The vault over the same storage, keyed by account.
    assert_eq!(out["accounts"], json!(["default", "work"]));
    assert_eq!(out["selected"], "work", "the pinned account");
    assert_eq!(out["defaultAccount"], native.defaults().default_account);
}
