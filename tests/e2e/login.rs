//! Sign-in through the real binary against the mock issuer.

use crate::mock_issuer::{ACCOUNT, MockIssuer};
use crate::support::*;
use serde_json::Value;
use std::io::Write as _;
use std::net::TcpListener;

/// `codex-auth login` against `mock`, listening on `ports`.
fn login(dir: &Dir, mock: &MockIssuer, ports: [u16; 2], extra: &[&str]) -> Running {
    let mut cmd = dir.cli();
    cmd.args(["--issuer", &mock.url, "login", "--no-browser", "--json", "--timeout", "60"])
        .args(["--port", &ports[0].to_string(), "--fallback-port", &ports[1].to_string()])
        .args(extra)
        .env("DISPLAY", ":0");
    Running::spawn(cmd)
}

fn assert_signed_in(dir: &Dir, (code, out, err): (i32, String, String)) {
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["account_id"], ACCOUNT);
    assert_eq!(status["plan"], "pro");
    assert_eq!(status["logged_in"], true);
    assert!(err.contains("Signed in with ChatGPT: pro, mock@example.com"), "{err}");
    let stored: Value = serde_json::from_slice(&std::fs::read(dir.auth_file()).unwrap()).unwrap();
    assert_eq!(stored["tokens"]["account_id"], ACCOUNT);
}

#[test]
fn browser_flow_ignores_a_forged_callback_then_signs_in() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    let mut cli = login(&dir, &mock, ports, &[]);
    let url = cli.authorize_url();
    assert!(url.contains(&format!("redirect_uri=http%3A%2F%2Flocalhost%3A{}%2Fauth%2Fcallback", ports[0])));

    // A stray request with the wrong state is refused and the login goes on.
    let stray = http()
        .get(format!("http://127.0.0.1:{}/auth/callback?code=forged&state=wrong", ports[0]))
        .send()
        .unwrap();
    assert_eq!(stray.status().as_u16(), 400);
    assert!(stray.text().unwrap().contains("State mismatch"));
    let other = http().get(format!("http://127.0.0.1:{}/favicon.ico", ports[0])).send().unwrap();
    assert_eq!(other.status().as_u16(), 404);

    let (status, page) = browse(&url);
    assert_eq!(status, 200);
    assert!(page.contains("Signed in"), "{page}");
    assert_signed_in(&dir, cli.finish());
    assert_eq!(mock.state().exchanges, 1);
}

#[test]
fn a_busy_port_moves_to_the_fallback_port() {
    let ports = free_ports();
    let _busy = TcpListener::bind(("127.0.0.1", ports[0])).unwrap();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    let mut cli = login(&dir, &mock, ports, &[]);
    let url = cli.authorize_url();
    assert!(url.contains(&format!("localhost%3A{}%2F", ports[1])), "{url}");
    assert_eq!(browse(&url).0, 200);
    assert_signed_in(&dir, cli.finish());
}

#[test]
fn both_ports_busy_falls_back_to_the_device_code() {
    let ports = free_ports();
    let _busy = [
        TcpListener::bind(("127.0.0.1", ports[0])).unwrap(),
        TcpListener::bind(("127.0.0.1", ports[1])).unwrap(),
    ];
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    let result = login(&dir, &mock, ports, &[]).finish();
    assert!(result.2.contains("device code sign-in") && result.2.contains("in use"), "{}", result.2);
    assert!(result.2.contains("MOCK-CODE") && result.2.contains("/codex/device"), "{}", result.2);
    assert_signed_in(&dir, result);
}

#[test]
fn no_display_chooses_the_device_code_and_says_why() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    let mut cmd = dir.cli();
    cmd.args(["--issuer", &mock.url, "login", "--json", "--port", &ports[0].to_string()])
        .env("SSH_CONNECTION", "10.0.0.1 5000 10.0.0.2 22");
    let result = Running::spawn(cmd).finish();
    assert!(result.2.contains("device code sign-in: this is an SSH session"), "{}", result.2);
    assert_signed_in(&dir, result);
}

#[test]
fn the_browser_flow_times_out() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    let mut cmd = dir.cli();
    cmd.args([
        "--issuer",
        &mock.url,
        "login",
        "--no-browser",
        "--timeout",
        "1",
        "--port",
        &ports[0].to_string(),
    ])
    .env("DISPLAY", ":0");
    let (code, _, err) = Running::spawn(cmd).finish();
    assert_eq!(code, 1);
    assert!(err.contains("no answer from the browser within 1 s"), "{err}");
    assert!(!dir.auth_file().exists());
}

#[test]
fn an_error_callback_shows_an_error_page_and_fails() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    mock.state().deny = Some(("access_denied".into(), "missing_codex_entitlement".into()));
    let dir = Dir::new();
    let mut cli = login(&dir, &mock, ports, &[]);
    let (status, page) = browse(&cli.authorize_url());
    assert_eq!(status, 400);
    assert!(page.contains("Codex is not enabled"), "{page}");
    let (code, _, err) = cli.finish();
    assert_eq!(code, 1);
    assert!(err.contains("Codex is not enabled for this ChatGPT workspace"), "{err}");
}

#[test]
fn device_flow_not_enabled_is_explained() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    mock.state().device_enabled = false;
    let dir = Dir::new();
    let (code, _, err) = login(&dir, &mock, ports, &["--device"]).finish();
    assert_eq!(code, 1);
    assert!(err.contains("security settings"), "{err}");
}

#[test]
fn paste_mode_checks_the_state() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    let mut cli = login(&dir, &mock, ports, &["--paste"]);
    let url = cli.authorize_url();
    let redirect = authorize_redirect(&url);
    let forged = redirect.replace("state=", "state=x");
    let mut stdin = cli.child.stdin.take().unwrap();
    writeln!(stdin, "{forged}").unwrap();
    cli.line_where(|l| l.contains("does not belong to this sign-in"));
    writeln!(stdin, "{redirect}").unwrap();
    assert_signed_in(&dir, cli.finish());
}

#[test]
fn logout_revokes_then_removes_even_when_revocation_fails() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap());
    let stored: Value = serde_json::from_slice(&std::fs::read(dir.auth_file()).unwrap()).unwrap();
    let o = run(dir.cli().args(["--issuer", &mock.url, "logout"]));
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).contains("Revoked the refresh token"), "{}", stderr(&o));
    assert_eq!(mock.state().revoked, vec![stored["tokens"]["refresh_token"].as_str().unwrap().to_owned()]);
    assert!(!dir.auth_file().exists());

    dir.write_store(&serde_json::to_vec(&mock.codex_file(now() + 3600)).unwrap());
    mock.state().revoke_status = 500;
    let o = run(dir.cli().args(["--issuer", &mock.url, "logout", "--json"]));
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).contains("Could not revoke the refresh token"), "{}", stderr(&o));
    assert!(!dir.auth_file().exists());
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["removed"], true);
    assert_eq!(report["revocation"]["result"], "failed");
    assert!(report["revocation"]["error"].as_str().unwrap().contains("500"), "{report}");
}

#[test]
fn the_browser_named_in_browser_is_opened_with_the_url() {
    use std::os::unix::fs::PermissionsExt as _;
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    let opened = dir.root.path().join("opened-url");
    let browser = dir.root.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > {}.tmp && mv {0}.tmp {0}\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = dir.cli();
    cmd.args(["--issuer", &mock.url, "login", "--json", "--port", &ports[0].to_string()])
        .env("DISPLAY", ":0")
        .env("BROWSER", &browser);
    let mut cli = Running::spawn(cmd);
    let printed = cli.authorize_url();
    // The browser runs once the URL is shown; the waiting line follows it.
    cli.line_where(|l| l.contains("Waiting for the sign-in to complete"));
    let url = loop {
        match std::fs::read_to_string(&opened) {
            Ok(url) => break url,
            Err(_) => {
                assert!(cli.child.try_wait().unwrap().is_none(), "the CLI ended before the browser ran");
                std::thread::yield_now();
            }
        }
    };
    assert_eq!(url, printed);
    assert_eq!(browse(&url).0, 200);
    assert_signed_in(&dir, cli.finish());
}

#[test]
fn a_terminal_gets_a_spinner_with_the_time_left() {
    // `script` runs the CLI on a pseudo-terminal, as a person would.
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    let cli = dir.cli().get_program().to_owned();
    let line = format!(
        "{} --home {} --issuer {} login --no-browser --timeout 2 --port {}",
        cli.display(),
        dir.home().display(),
        mock.url,
        ports[0]
    );
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qefc", &line, "/dev/null"]).env("DISPLAY", ":0");
    for (k, v) in dir.cli().get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let o = run(&mut cmd);
    let screen = stdout(&o);
    assert!(screen.contains("\r\x1b[K"), "{screen:?}");
    assert!(screen.contains("Waiting for the sign-in to complete (0:0"), "{screen:?}");
    assert!(['⠙', '⠹'].iter().any(|c| screen.contains(*c)), "no spinner frame: {screen:?}");
    assert!(screen.contains("no answer from the browser within 2 s"), "{screen:?}");
}

#[test]
fn a_codex_home_with_a_forced_workspace_refuses_a_sign_in_into_another() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    // The vault's home is a Codex home whose config.toml forces a workspace.
    std::fs::create_dir_all(dir.home()).unwrap();
    let config = "model = \"gpt-5\"\nforced_chatgpt_workspace_id = \"ws-other\"\n";
    std::fs::write(dir.home().join("config.toml"), config).unwrap();
    let mut cli = login(&dir, &mock, ports, &[]);
    let url = cli.authorize_url();
    assert!(url.contains("allowed_workspace_id=ws-other"), "asked of the issuer, as Codex does: {url}");
    browse(&url);
    let (code, _, err) = cli.finish();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("`{ACCOUNT}`")) && err.contains("only `ws-other`"), "{err}");
    assert!(!dir.auth_file().exists(), "nothing stored");
    assert_eq!(std::fs::read_to_string(dir.home().join("config.toml")).unwrap(), config, "never written");
}

#[test]
fn a_sign_in_to_a_codex_home_says_once_how_to_make_codex_auth_the_one_refresher() {
    let ports = free_ports();
    let mock = MockIssuer::start(&ports);
    let dir = Dir::new();
    // `--home ~/.codex`: the vault's home is a Codex home the Codex CLI uses.
    std::fs::create_dir_all(dir.home()).unwrap();
    std::fs::write(dir.home().join("config.toml"), "model = \"gpt-5\"\n").unwrap();
    let mut cli = login(&dir, &mock, ports, &[]);
    let url = cli.authorize_url();
    browse(&url);
    let (code, out, err) = cli.finish();
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["shared_with_codex"], true);
    assert!(err.contains("The Codex CLI keeps refreshing"), "{err}");
    assert!(err.contains(&format!("import --move --name default {}", dir.home().display())), "{err}");
    assert!(err.contains("[model_providers.codex-auth.auth]") && err.contains(ACCOUNT), "{err}");
}
