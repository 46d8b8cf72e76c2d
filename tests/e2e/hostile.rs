//! Hostile input through the component boundary: the guest answers with an
//! error, never a trap.

use crate::mock_issuer::{MockIssuer, RefreshMode};
use crate::support::*;
use codex_auth::{Auth, Error, Options};

fn auth(dir: &Dir, issuer: &str) -> Auth {
    let mut o = Options::new(dir.home());
    o.issuer = Some(issuer.into());
    Auth::open(o).unwrap()
}

fn nested(depth: usize) -> Vec<u8> {
    let mut v = vec![b'['; depth];
    v.extend(std::iter::repeat_n(b']', depth));
    v
}

fn assert_no_trap<T: std::fmt::Debug>(what: &str, r: &Result<T, Error>) {
    assert!(!matches!(r, Err(Error::GuestTrap(_))), "{what}: {r:?}");
}

#[test]
fn hostile_issuer_answers_are_errors() {
    let mut big = b"{\"access_token\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'a', 8 << 20));
    big.extend(b"\"}");
    let bodies: Vec<(&str, u16, Vec<u8>)> = vec![
        ("deeply nested", 200, nested(100_000)),
        ("invalid UTF-8", 200, b"{\"access_token\":\"\xff\xfe\"}".to_vec()),
        ("binary", 200, (0..=255u8).cycle().take(70_000).collect()),
        ("8 MiB token", 200, big),
        ("huge number", 200, format!("{{\"expires_in\":1{}}}", "0".repeat(5000)).into_bytes()),
        ("nested error", 401, [b"{\"error\":".as_slice(), &nested(10_000)].concat()),
        (
            "odd error types",
            400,
            br#"{"error":{"code":[1,2],"message":{"x":null}},"error_description":7}"#.to_vec(),
        ),
    ];
    for (what, status, body) in bodies {
        let mock = MockIssuer::start(&[]);
        let dir = Dir::new();
        // Due but still valid: a failed refresh falls back to the old token.
        let file = mock.codex_file(now() + 60);
        dir.write_store(&serde_json::to_vec(&file).unwrap());
        mock.state().refresh_mode = RefreshMode::Fail(status, body);
        let auth = auth(&dir, &mock.url);
        let r = auth.access_token();
        assert_no_trap(what, &r);
        assert!(
            r.is_ok() || matches!(r, Err(Error::LoginRequired { .. })),
            "{what}: the old token stays usable or the refusal is classified: {r:?}"
        );
        assert_no_trap(what, &auth.status());
    }
}

#[test]
fn hostile_store_files_are_corrupt_not_traps() {
    let mut long = b"{\"OPENAI_API_KEY\":\"sk-".to_vec();
    long.extend(std::iter::repeat_n(b'k', 4 << 20));
    long.extend(b"\"}");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("deeply nested", nested(200_000)),
        ("nested in tokens", [b"{\"tokens\":".as_slice(), &nested(50_000), b"}"].concat()),
        ("invalid UTF-8 in a string", b"{\"OPENAI_API_KEY\":\"sk-\xc3\x28\"}".to_vec()),
        ("NUL bytes", b"{\"OPENAI_API_KEY\":\"sk-\0\0\"}".to_vec()),
        ("control characters in a token", br#"{"OPENAI_API_KEY":"sk-a\r\nX-Injected: 1"}"#.to_vec()),
        ("4 MiB key", long),
    ];
    for (what, bytes) in files {
        let dir = Dir::new();
        dir.write_store(&bytes);
        let auth = auth(&dir, "http://127.0.0.1:9");
        for r in [auth.status().map(drop), auth.access_token().map(drop), auth.request_headers().map(drop)] {
            assert_no_trap(what, &r);
        }
        assert_eq!(std::fs::read(dir.auth_file()).unwrap(), bytes, "{what}: the file is untouched");
    }
}

#[test]
fn a_header_value_never_carries_a_line_break() {
    let dir = Dir::new();
    dir.write_store(br#"{"OPENAI_API_KEY":"sk-a\r\nX-Injected: 1"}"#);
    let auth = auth(&dir, "http://127.0.0.1:9");
    let err = auth.request_headers().unwrap_err();
    assert!(matches!(err, Error::CorruptStore { .. }), "{err:?}");
    let mut o = Options::new(Dir::new().home());
    o.api_key = Some("sk-env\nX-Injected: 1".into());
    let auth = Auth::open(o).unwrap();
    assert!(auth.request_headers().is_err());
}

#[test]
fn hostile_jwts_and_entropy_are_errors() {
    let dir = Dir::new();
    let auth = auth(&dir, "http://127.0.0.1:9");
    let huge = format!("a.{}.c", "A".repeat(12 << 20));
    let cases = [String::new(), ".".repeat(1_000_000), huge, "a.\u{1F600}\u{0}.c".into(), "a.e30.".into()];
    for jwt in &cases {
        assert_no_trap("jwt", &auth.claims(jwt));
    }
    assert_no_trap("entropy", &auth.pkce(&[0; 100_000]));
    assert_no_trap("entropy", &auth.pkce(&[]));
}
