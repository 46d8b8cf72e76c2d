//! The `codex-auth` command. Exit codes: 0 success, 1 failure or not
//! logged in, 2 a wrong command line (clap's own).

mod cli;
mod output;
mod terminal;

use clap::Parser as _;
use cli::{Cli, Command};
use codex_auth::{Auth, ComponentOrigin, LoginMethod, LoginOptions, Options, Revocation};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("codex-auth: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, codex_auth::Error> {
    let mut options = Options::from_env();
    if let Some(home) = cli.global.home {
        options.home = home;
    }
    options.issuer = cli.global.issuer;
    options.notifier = Arc::new(terminal::Terminal::new());
    let auth = Auth::open(options)?;
    if cli.global.verbose {
        match auth.component_origin() {
            ComponentOrigin::Cache(path) => {
                eprintln!("codex-auth: component loaded from cache {}", path.display())
            }
            ComponentOrigin::Compiled { cached_at: Some(path) } => {
                eprintln!("codex-auth: component compiled, cached at {}", path.display());
            }
            ComponentOrigin::Compiled { cached_at: None } => {
                eprintln!("codex-auth: component compiled (no cache)")
            }
        }
    }
    match cli.command {
        Command::Status { json } => output::status(&auth, json),
        Command::Token => {
            let token = auth.access_token()?;
            output::stdout_line(token.expose());
            Ok(ExitCode::SUCCESS)
        }
        Command::Headers { json } => {
            let headers = auth.request_headers()?;
            output::headers(&headers, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Logout { json } => {
            let report = auth.logout()?;
            if json {
                let revocation = match &report.revocation {
                    Revocation::NotNeeded => serde_json::json!({"result": "not_needed"}),
                    Revocation::Revoked => serde_json::json!({"result": "revoked"}),
                    Revocation::Failed(why) => serde_json::json!({"result": "failed", "error": why}),
                };
                let value = serde_json::json!({"removed": report.removed, "revocation": revocation});
                output::stdout_line(&value.to_string());
            }
            match &report.revocation {
                Revocation::Revoked => eprintln!("Revoked the refresh token"),
                Revocation::Failed(why) => {
                    eprintln!("Could not revoke the refresh token ({why}); removing it anyway")
                }
                Revocation::NotNeeded => {}
            }
            if report.removed {
                eprintln!("Logged out: removed {}", auth.store_path().display());
            } else {
                eprintln!("Not logged in: {} does not exist", auth.store_path().display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Login(args) => {
            let method = match (args.device, args.paste) {
                (true, _) => LoginMethod::Device,
                (_, true) => LoginMethod::Paste,
                _ => LoginMethod::Auto,
            };
            let login = LoginOptions {
                method,
                open_browser: !args.no_browser,
                ports: vec![args.port, args.fallback_port],
                timeout: Duration::from_secs(args.timeout),
            };
            let status = auth.login(&login)?;
            eprintln!(
                "Signed in with {}; stored in {}",
                output::describe(&status),
                auth.store_path().display()
            );
            if args.json {
                output::status_json(&status);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Refresh { force, json } => {
            let status = auth.refresh(force)?;
            eprintln!("Refreshed: {}", output::describe(&status));
            if json {
                output::status_json(&status);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { path, json } => {
            let source = path.unwrap_or_else(codex_auth_file);
            let status = auth.import(&source)?;
            if json {
                output::status_json(&status);
            }
            eprintln!(
                "Imported {} from {} into {}",
                output::describe(&status),
                source.display(),
                auth.store_path().display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The Codex CLI's `auth.json`: `$CODEX_HOME/auth.json`, else `~/.codex/auth.json`.
fn codex_auth_file() -> PathBuf {
    std::env::var_os("CODEX_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::home_dir().unwrap_or_default().join(".codex"))
        .join("auth.json")
}
