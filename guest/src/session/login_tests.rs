//! Sign-in flows against the in-memory platform.

use crate::error::AuthError;
use crate::fake::Fake;
use crate::platform::{BindError, HttpResponse, Incoming, Notice, TransportError};
use crate::session::Kind;
use crate::session::login::{LoginMethod, LoginOptions, no_browser_reason};
use crate::session::tests::{NOW, session, tokens};
use serde_json::json;

fn options(method: LoginMethod) -> LoginOptions {
    LoginOptions {
        method,
        open_browser: false,
        ports: vec![1455, 1457],
        timeout_seconds: 600,
        os: "linux".into(),
    }
}

fn ok(body: serde_json::Value) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse { status: 200, headers: Vec::new(), body: body.to_string().into_bytes() })
}

fn grant() -> Result<HttpResponse, TransportError> {
    let t = tokens(NOW + 3600, "rt-login");
    ok(json!({"id_token": t.id_token, "access_token": t.access_token, "refresh_token": "rt-login"}))
}

/// The state the fake's entropy (byte i = i) produces.
fn fake_state() -> String {
    crate::oauth::pkce::state_from_entropy(&(64u8..96).collect::<Vec<_>>()).unwrap()
}

fn request(id: u64, target: String) -> Option<Incoming> {
    Some(Incoming { id, method: "GET".into(), target })
}

#[test]
fn browser_flow_ignores_strays_and_exchanges_the_code() {
    let fake = Fake::default();
    let state = fake_state();
    fake.incoming.borrow_mut().extend([
        None,
        request(1, "/favicon.ico".into()),
        request(2, "/auth/callback?code=c&state=forged".into()),
        request(3, format!("/auth/callback?code=the-code&state={state}")),
    ]);
    fake.responses.borrow_mut().push_back(grant());
    let s = session(fake);
    let status = s.login(&options(LoginMethod::Browser)).unwrap();
    assert_eq!(status.kind, Kind::Subscription);
    assert_eq!(*s.platform().replies.borrow(), vec![(1, 404), (2, 400), (3, 200)]);
    let exchange = String::from_utf8(s.platform().requests.borrow()[0].body.clone()).unwrap();
    assert!(exchange.starts_with("grant_type=authorization_code&code=the-code&redirect_uri=http%3A%2F%2Flocalhost%3A1455%2Fauth%2Fcallback&client_id="), "{exchange}");
    let verifier = crate::oauth::pkce::from_entropy(&(0u8..64).collect::<Vec<_>>()).unwrap().verifier;
    assert!(exchange.ends_with(&format!("&code_verifier={verifier}")));
    let notices = s.platform().notices.borrow();
    assert!(matches!(&notices[0], Notice::OpenUrl(url) if url.contains(&format!("state={state}"))));
    assert!(notices.iter().any(|n| matches!(n, Notice::Rejected(_))));
}

#[test]
fn browser_flow_times_out() {
    let s = session(Fake::default());
    let mut o = options(LoginMethod::Browser);
    o.timeout_seconds = 3;
    let err = s.login(&o).unwrap_err();
    assert!(matches!(&err, AuthError::LoginFailed(why) if why.contains("3 s")), "{err:?}");
    assert!(s.platform().file.borrow().is_none());
}

#[test]
fn an_error_callback_ends_the_sign_in_with_its_meaning() {
    let fake = Fake::default();
    fake.incoming.borrow_mut().push_back(request(
        1,
        format!(
            "/auth/callback?error=access_denied&error_description=missing_codex_entitlement&state={}",
            fake_state()
        ),
    ));
    let s = session(fake);
    let err = s.login(&options(LoginMethod::Browser)).unwrap_err();
    assert!(matches!(&err, AuthError::LoginFailed(why) if why.contains("Codex is not enabled")), "{err:?}");
    assert_eq!(*s.platform().replies.borrow(), vec![(1, 400)]);
}

#[test]
fn device_flow_honours_string_interval_and_slow_down() {
    let fake = Fake::default();
    fake.responses.borrow_mut().extend([
        ok(json!({"device_auth_id": "dev-1", "user_code": "ABCD-1234", "interval": "2"})),
        Ok(HttpResponse {
            status: 403,
            headers: Vec::new(),
            body: br#"{"error":"authorization_pending"}"#.to_vec(),
        }),
        Ok(HttpResponse { status: 400, headers: Vec::new(), body: br#"{"error":"slow_down"}"#.to_vec() }),
        Ok(HttpResponse { status: 404, headers: Vec::new(), body: Vec::new() }),
        ok(json!({"authorization_code": "dev-code", "code_challenge": "x", "code_verifier": "dev-verifier"})),
        grant(),
    ]);
    let s = session(fake);
    s.login(&options(LoginMethod::Device)).unwrap();
    assert_eq!(*s.platform().slept_ms.borrow(), vec![2000, 2000, 7000, 7000]);
    let requests = s.platform().requests.borrow();
    let poll: serde_json::Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(poll, json!({"device_auth_id": "dev-1", "user_code": "ABCD-1234"}));
    let exchange = String::from_utf8(requests[5].body.clone()).unwrap();
    assert!(exchange.contains("redirect_uri=https%3A%2F%2Fauth.openai.com%2Fdeviceauth%2Fcallback"));
    assert!(exchange.ends_with("code_verifier=dev-verifier"));
    assert!(
        s.platform()
            .notices
            .borrow()
            .iter()
            .any(|n| matches!(n, Notice::DeviceCode(p) if p.user_code == "ABCD-1234"))
    );
}

#[test]
fn device_flow_not_enabled_and_denied() {
    let fake = Fake::default();
    fake.responses.borrow_mut().push_back(Ok(HttpResponse {
        status: 404,
        headers: Vec::new(),
        body: Vec::new(),
    }));
    let s = session(fake);
    let err = s.login(&options(LoginMethod::Device)).unwrap_err();
    assert!(matches!(&err, AuthError::LoginFailed(why) if why.contains("security settings")), "{err:?}");

    let fake = Fake::default();
    fake.responses.borrow_mut().extend([
        ok(json!({"device_auth_id": "d", "user_code": "U", "interval": 1})),
        Ok(HttpResponse { status: 400, headers: Vec::new(), body: br#"{"error":"access_denied"}"#.to_vec() }),
    ]);
    let s = session(fake);
    assert!(
        matches!(s.login(&options(LoginMethod::Device)), Err(AuthError::LoginFailed(why)) if why.contains("denied"))
    );
}

#[test]
fn auto_falls_back_to_device_when_no_port_binds() {
    let fake = Fake::default();
    fake.bind_errors.borrow_mut().extend(std::iter::repeat_n(BindError::InUse, 12));
    fake.responses.borrow_mut().push_back(Err(TransportError::Timeout)); // GET /cancel
    fake.responses.borrow_mut().extend([
        ok(json!({"device_auth_id": "d", "user_code": "U", "interval": 1})),
        ok(json!({"authorization_code": "c", "code_verifier": "v"})),
        grant(),
    ]);
    let s = session(fake);
    let mut o = options(LoginMethod::Auto);
    o.os = "macos".into();
    o.open_browser = true;
    s.login(&o).unwrap();
    assert!(s.platform().requests.borrow()[0].url.ends_with(":1455/cancel"));
    let notices = s.platform().notices.borrow();
    assert!(
        notices.iter().any(
            |n| matches!(n, Notice::MethodChosen(why) if why.contains("device code") && why.contains("1457"))
        ),
        "{notices:?}"
    );
}

#[test]
fn paste_flow_checks_state() {
    let fake = Fake::default();
    let state = fake_state();
    fake.answers.borrow_mut().extend([
        "http://localhost:1455/auth/callback?code=c&state=stale".to_owned(),
        format!("http://localhost:1455/auth/callback?code=pasted&state={state}"),
    ]);
    fake.responses.borrow_mut().push_back(grant());
    let s = session(fake);
    s.login(&options(LoginMethod::Paste)).unwrap();
    assert!(
        String::from_utf8(s.platform().requests.borrow()[0].body.clone()).unwrap().contains("code=pasted")
    );
}

#[test]
fn browser_usability() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())
    };
    assert!(no_browser_reason("linux", env(&[])).is_some());
    assert!(no_browser_reason("linux", env(&[("DISPLAY", ":0")])).is_none());
    assert!(no_browser_reason("linux", env(&[("WAYLAND_DISPLAY", "wayland-0")])).is_none());
    assert!(no_browser_reason("macos", env(&[])).is_none());
    assert!(no_browser_reason("macos", env(&[("SSH_CONNECTION", "1 2 3 4")])).unwrap().contains("SSH"));
    assert!(no_browser_reason("linux", env(&[("DISPLAY", ":0"), ("SSH_TTY", "/dev/pts/1")])).is_some());
}

#[test]
fn device_polling_stops_after_fifteen_minutes() {
    let fake = Fake::default();
    fake.responses
        .borrow_mut()
        .push_back(ok(json!({"device_auth_id": "d", "user_code": "U", "interval": 5})));
    for _ in 0..200 {
        fake.responses.borrow_mut().push_back(Ok(HttpResponse {
            status: 403,
            headers: Vec::new(),
            body: Vec::new(),
        }));
    }
    let s = session(fake);
    let mut o = options(LoginMethod::Device);
    o.timeout_seconds = 3600;
    let err = s.login(&o).unwrap_err();
    assert!(matches!(&err, AuthError::LoginFailed(why) if why.contains("900 s")), "{err:?}");
    let elapsed_ms = s.platform().now_ms.get() - NOW * 1000;
    assert!((900_000..=905_000).contains(&elapsed_ms), "{elapsed_ms}");
}

#[test]
fn a_corrupt_store_stops_the_sign_in_before_it_starts() {
    let s = session(Fake::with_file(b"{broken"));
    let err = s.login(&options(LoginMethod::Browser)).unwrap_err();
    assert!(matches!(&err, AuthError::CorruptStore(c) if c.reason.contains("logout")), "{err:?}");
    assert!(s.platform().notices.borrow().is_empty(), "nothing was shown or opened");
    assert_eq!(s.platform().file.borrow().as_deref(), Some(&b"{broken"[..]));
}
