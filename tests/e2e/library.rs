//! The library API over the real component.

use crate::support::*;
use codex_auth::{Auth, Credential, Error, Kind, Options};
use serde_json::json;

fn options(dir: &Dir) -> Options {
    Options::new(dir.home())
}

#[test]
fn set_credential_then_headers_through_the_component() {
    let dir = Dir::new();
    let auth = Auth::open(options(&dir)).unwrap();
    let exp = now() + 3600;
    auth.set_credential(Credential::ChatGpt {
        id_token: id_token(exp),
        access_token: access_token(exp, "lib"),
        refresh_token: "rt-lib".into(),
        account_id: None,
    })
    .unwrap();
    let headers = auth.request_headers().unwrap();
    assert_eq!(headers.get("authorization"), Some(format!("Bearer {}", access_token(exp, "lib")).as_str()));
    assert_eq!(headers.get("chatgpt-account-id"), Some("acct-e2e"));
    let status = auth.status().unwrap();
    assert_eq!(status.kind, Kind::Subscription);
    assert!(status.logged_in());

    // Nothing secret in Debug output.
    let shown = format!("{headers:?} {:?} {auth:?} {status:?}", auth.access_token().unwrap());
    assert!(!shown.contains("rt-lib") && !shown.contains(&access_token(exp, "lib")), "{shown}");
}

#[test]
fn environment_key_in_options_is_never_stored() {
    let dir = Dir::new();
    let mut o = options(&dir);
    o.api_key = Some("sk-option-key-9999".into());
    assert!(!format!("{o:?}").contains("sk-option-key"));
    let auth = Auth::open(o).unwrap();
    assert_eq!(auth.access_token().unwrap().expose(), "sk-option-key-9999");
    assert_eq!(auth.status().unwrap().kind, Kind::ApiKey);
    assert!(!dir.home().exists());
}

#[test]
fn a_guest_trap_is_an_error_and_the_next_call_works() {
    let dir = Dir::new();
    // 3 MiB of valid JSON does not fit beside the guest's own data in 4 MiB
    // of linear memory: reading it traps inside the guest.
    let mut big = codex_chatgpt_file(now() + 3600, "rt");
    big["padding"] = json!("x".repeat(3 << 20));
    dir.write_store(&serde_json::to_vec(&big).unwrap());
    let mut o = options(&dir);
    o.max_guest_memory = 4 << 20;
    let auth = Auth::open(o).unwrap();
    let err = auth.status().unwrap_err();
    assert!(matches!(err, Error::GuestTrap(_)), "{err:?}");
    // The instance was replaced: with a sane file the same Auth works again.
    dir.write_store(&serde_json::to_vec(&codex_chatgpt_file(now() + 3600, "rt")).unwrap());
    assert_eq!(auth.status().unwrap().kind, Kind::Subscription);
}

#[test]
fn concurrent_callers_share_one_auth() {
    let dir = Dir::new();
    dir.write_store(br#"{"OPENAI_API_KEY":"sk-shared-0000"}"#);
    let auth = Auth::open(options(&dir)).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..16).map(|_| s.spawn(|| auth.access_token().unwrap().expose().to_owned())).collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), "sk-shared-0000");
        }
    });
}

/// Forwards sign-in events to a channel.
struct Events(std::sync::Mutex<std::sync::mpsc::Sender<codex_auth::LoginEvent>>);

impl codex_auth::Notifier for Events {
    fn notify(&self, event: codex_auth::LoginEvent) {
        let _ = self.0.lock().unwrap().send(event);
    }
}

#[test]
fn a_waiting_login_does_not_block_token_calls() {
    let ports = free_ports();
    let mock = crate::mock_issuer::MockIssuer::start(&ports);
    let dir = Dir::new();
    dir.write_store(br#"{"OPENAI_API_KEY":"sk-before-login-0000"}"#);
    let (tx, events) = std::sync::mpsc::channel();
    let mut o = options(&dir);
    o.issuer = Some(mock.url.clone());
    o.notifier = std::sync::Arc::new(Events(std::sync::Mutex::new(tx)));
    let auth = Auth::open(o).unwrap();
    let login = codex_auth::LoginOptions {
        method: codex_auth::LoginMethod::Browser,
        open_browser: false,
        port: Some(ports[0]),
        fallback_port: Some(ports[1]),
        timeout: Some(std::time::Duration::from_secs(60)),
        ..codex_auth::LoginOptions::default()
    };
    std::thread::scope(|s| {
        let pending = s.spawn(|| auth.login(&login));
        let url = loop {
            match events.recv().unwrap() {
                codex_auth::LoginEvent::OpenUrl(url) => break url,
                _ => continue,
            }
        };
        // The sign-in is waiting for the browser; the old credential is served.
        assert_eq!(auth.access_token().unwrap().expose(), "sk-before-login-0000");
        assert!(!pending.is_finished());
        assert_eq!(browse(&url).0, 200);
        let status = pending.join().unwrap().unwrap();
        assert_eq!(status.kind, Kind::Subscription);
    });
    // The new credential replaced the old one for every caller.
    assert_eq!(auth.status().unwrap().kind, Kind::Subscription);
    assert!(auth.access_token().unwrap().expose().starts_with("ey"));
}

#[test]
fn the_async_handle_refreshes_inside_a_tokio_runtime() {
    let mock = crate::mock_issuer::MockIssuer::start(&[]);
    let dir = Dir::new();
    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() - 10)).unwrap());
    let mut o = options(&dir);
    o.issuer = Some(mock.url.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    runtime.block_on(async {
        let auth = codex_auth::AsyncAuth::new(Auth::open(o).unwrap());
        let (a, b) = tokio::join!(auth.access_token(), auth.request_headers());
        let (token, headers) = (a.unwrap(), b.unwrap());
        assert_eq!(headers.get("authorization").unwrap(), format!("Bearer {}", token.expose()));
        assert_eq!(auth.status().await.unwrap().kind, Kind::Subscription);
        // Dropped on a worker thread, HTTP client and all: must not panic.
        tokio::spawn(async move { drop(auth) }).await.unwrap();
    });
    assert_eq!(mock.state().refresh_requests, 1);
}
