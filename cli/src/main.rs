//! The `codex-auth` command. Exit codes: 0 success, 1 failure or not
//! logged in, 2 a wrong command line (clap's own).

mod cli;
mod commands;
mod output;
mod shared_home;
mod terminal;

use clap::Parser as _;
use cli::{AccountsAction, Cli, Command, ConfigAction, Global};
use codex_auth::{Auth, Options};
use std::io::Read as _;
use std::process::ExitCode;
use std::sync::Arc;

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
    let verbose = cli.global.verbose;
    let auth = Auth::open(options(cli.global)?)?;
    if verbose {
        eprintln!(
            "codex-auth: component compiled at build time, loaded in {} us",
            auth.component_load_time().as_micros()
        );
    }
    dispatch(auth, cli.command)
}

/// The environment's options with the global flags over them.
fn options(global: Global) -> Result<Options, codex_auth::Error> {
    let mut options = Options::from_env();
    if global.api_key_stdin {
        let mut key = String::new();
        std::io::stdin().read_to_string(&mut key).map_err(|e| {
            codex_auth::Error::InvalidInput(format!("cannot read the API key from stdin: {e}"))
        })?;
        let key = key.trim().to_owned();
        if key.is_empty() {
            return Err(codex_auth::Error::InvalidInput(
                "--api-key-stdin: standard input held no key".into(),
            ));
        }
        options.runtime_key = Some(key);
    }
    if let Some(home) = global.home {
        options.home = home;
    }
    if let Some(account) = global.account {
        options.account = Some(account);
    }
    if let Some(issuer) = global.issuer {
        options.issuer = Some(issuer);
    }
    if let Some(base) = global.chatgpt_base_url {
        options.chatgpt_base_url = Some(base);
    }
    if let Some(store) = global.store {
        options.store = Some(store);
    }
    if let Some(name) = global.strategy {
        // clap accepted only the known names.
        options.strategy = codex_auth::Strategy::from_name(&name);
    }
    options.notifier = Arc::new(terminal::Terminal::new());
    Ok(options)
}

/// Each command to its function.
fn dispatch(auth: Auth, command: Command) -> Result<ExitCode, codex_auth::Error> {
    match command {
        Command::Status { json } => commands::status(&auth, json),
        Command::Token => commands::token(&auth),
        Command::Headers { json } => commands::headers(&auth, json),
        Command::Logout { json } => commands::logout(&auth, json),
        Command::Login(args) => commands::login(&auth, args),
        Command::Refresh { force, json } => commands::refresh(&auth, force, json),
        Command::Import { path, name, take_over, json } => {
            commands::import(&auth, path, &name, take_over, json)
        }
        Command::Accounts {
            action: Some(AccountsAction::AddCommand { name, timeout_ms, refresh_interval_ms, json, command }),
            ..
        } => commands::add_command(&auth, &name, timeout_ms, refresh_interval_ms, command, json),
        Command::Accounts { json, action: None } => commands::accounts(&auth, json),
        Command::Config(ConfigAction::Path) => commands::config_path(&auth),
        Command::Config(ConfigAction::Show { json }) => commands::config_show(&auth, json),
        Command::Usage { json } => commands::usage(&auth, json),
        Command::Check { json } => commands::check(&auth, json),
        Command::Serve(args) => commands::serve(auth, args),
        Command::Dashboard { no_browser, port } => commands::dashboard(&auth, no_browser, port),
        Command::Use { name, json } => commands::use_account(&auth, &name, json),
        Command::Remove { name, json } => commands::remove(&auth, &name, json),
    }
}
