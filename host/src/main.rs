//! The `codex-auth` command. Exit codes: 0 success, 1 failure or not
//! logged in, 2 a wrong command line (clap's own).

mod cli;
mod output;

use clap::Parser as _;
use cli::{Cli, Command};
use codex_auth::{Auth, ComponentOrigin, Options};
use std::path::PathBuf;
use std::process::ExitCode;

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
    let auth = Auth::open(options)?;
    if cli.global.verbose {
        match auth.component_origin() {
            ComponentOrigin::Cache(path) => {
                eprintln!("codex-auth: component loaded from cache {}", path.display())
            }
            ComponentOrigin::Compiled {
                cached_at: Some(path),
            } => {
                eprintln!(
                    "codex-auth: component compiled, cached at {}",
                    path.display()
                );
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
        Command::Logout => {
            if auth.logout()? {
                eprintln!("Logged out: removed {}", auth.store_path().display());
            } else {
                eprintln!(
                    "Not logged in: {} does not exist",
                    auth.store_path().display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { path } => {
            let source = path.unwrap_or_else(codex_auth_file);
            let status = auth.import(&source)?;
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
