//! One function per command: each asks the library, prints, and says how
//! it went (the exit code).

use crate::cli::{LoginArgs, ServeArgs};
use crate::{output, shared_home};
use codex_auth::{Auth, Credential, Error, Imported, LoginMethod, LoginOptions, Options, Revocation, Source};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// `status`: what is signed in, from where.
pub fn status(auth: &Auth, json: bool) -> Result<ExitCode, Error> {
    let code = output::status(auth, json)?;
    if !json && auth.status().is_ok_and(|s| s.shared_with_codex) {
        eprintln!("{}", shared_home::line(auth.in_effect()?.shared_refresh_seconds));
    }
    Ok(code)
}

/// `token`: the bearer token, on stdout.
pub fn token(auth: &Auth) -> Result<ExitCode, Error> {
    let token = auth.access_token()?;
    output::stdout_line(token.expose());
    Ok(ExitCode::SUCCESS)
}

/// `headers`: ready request headers.
pub fn headers(auth: &Auth, json: bool) -> Result<ExitCode, Error> {
    let headers = auth.request_headers()?;
    output::headers(&headers, json);
    Ok(ExitCode::SUCCESS)
}

/// `refresh`: refresh now if due (always with `--force`).
pub fn refresh(auth: &Auth, force: bool, json: bool) -> Result<ExitCode, Error> {
    let status = auth.refresh(force)?;
    eprintln!("Refreshed: {}", output::describe(&status));
    if json {
        output::status_json(&status);
    }
    Ok(ExitCode::SUCCESS)
}

/// `import`: link a Codex home in place, or move its login in.
pub fn import(
    auth: &Auth,
    path: Option<PathBuf>,
    name: &str,
    take_over: bool,
    json: bool,
) -> Result<ExitCode, Error> {
    let home = codex_home(path)?;
    let status = match auth.import_codex_home(name, &home, take_over)? {
        Imported::Moved { status, asked } => {
            if !asked {
                eprintln!(
                    "The vault is a database, which cannot share a Codex home in place: its login moved in"
                );
            }
            eprintln!(
                "Moved {} from {} into account `{name}`; {} is logged out now (nothing was revoked)",
                output::describe(&status),
                home.display(),
                home.display()
            );
            status
        }
        Imported::Linked(status) => {
            eprintln!(
                "Linked {} as account `{name}` ({}); it stays where it is, so `codex` keeps working",
                home.display(),
                output::describe(&status)
            );
            if status.shared_with_codex {
                let in_effect = auth.in_effect()?;
                let vault = &auth.options().home;
                let block = shared_home::provider_block(vault, name, &status, &in_effect.chatgpt_base_url);
                let refresh = in_effect.shared_refresh_seconds;
                eprintln!("{}", shared_home::note(name, &home, vault, refresh, &block, true));
            }
            status
        }
    };
    if json {
        output::status_json(&status);
    }
    Ok(ExitCode::SUCCESS)
}

/// `accounts add-command`: an account whose token a program prints.
pub fn add_command(
    auth: &Auth,
    name: &str,
    timeout_ms: Option<u32>,
    refresh_interval_ms: Option<u64>,
    command: Vec<String>,
    json: bool,
) -> Result<ExitCode, Error> {
    let mut words = command.into_iter();
    let program = words.next().unwrap_or_default();
    let credential = Credential::Command { program, args: words.collect(), timeout_ms, refresh_interval_ms };
    auth.check_name(name)?;
    let status = auth.store_credential(Some(name), credential)?;
    eprintln!("Added command account `{name}`: {}", output::describe(&status));
    if json {
        output::status_json(&status);
    }
    Ok(ExitCode::SUCCESS)
}

/// `config path`: where the config file is (read, never written).
pub fn config_path(auth: &Auth) -> Result<ExitCode, Error> {
    output::stdout_line(&auth.config_path().display().to_string());
    Ok(ExitCode::SUCCESS)
}

/// `config show`: every setting in effect and where it came from.
pub fn config_show(auth: &Auth, json: bool) -> Result<ExitCode, Error> {
    output::settings(&auth.settings()?, &auth.config_path(), json);
    Ok(ExitCode::SUCCESS)
}

/// `accounts`: every account and its state.
pub fn accounts(auth: &Auth, json: bool) -> Result<ExitCode, Error> {
    let accounts = auth.accounts()?;
    // Which one calls use; an explicit --account that does not exist is
    // not an error for a listing.
    let current = auth.current_account().ok();
    output::accounts(&accounts, current.as_deref(), json);
    Ok(ExitCode::SUCCESS)
}

/// `usage`: every account's usage.
pub fn usage(auth: &Auth, json: bool) -> Result<ExitCode, Error> {
    output::usage(&auth.usage()?, &auth.defaults().main_meter, json);
    Ok(ExitCode::SUCCESS)
}

/// `check`: probe every account.
pub fn check(auth: &Auth, json: bool) -> Result<ExitCode, Error> {
    let failed = output::check(&auth.check()?, &auth.defaults().main_meter, json);
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `use`: pin an account.
pub fn use_account(auth: &Auth, name: &str, json: bool) -> Result<ExitCode, Error> {
    let account = auth.use_account(name)?;
    eprintln!("Pinned `{}`: calls use it when no --account is given", account.name);
    if json {
        output::accounts(std::slice::from_ref(&account), Some(&account.name), true);
    }
    Ok(ExitCode::SUCCESS)
}

/// `remove`: forget an account (a linked Codex home keeps its login).
pub fn remove(auth: &Auth, name: &str, json: bool) -> Result<ExitCode, Error> {
    let removal = auth.remove_account(name)?;
    report_revocation(&removal.revocation);
    match &removal.unlinked {
        Some(home) => eprintln!("Unlinked `{name}`; {} keeps its login", home.display()),
        None => eprintln!("Removed account `{name}`"),
    }
    if removal.was_pinned {
        match &removal.now_using {
            Some(next) => eprintln!("`{name}` was pinned; calls now use `{next}`"),
            None => eprintln!("`{name}` was pinned; no account is left"),
        }
    }
    if json {
        let value = serde_json::json!({
            "removed": name,
            "revocation": revocation_json(&removal.revocation),
            "unlinked": removal.unlinked,
            "was_pinned": removal.was_pinned,
            "now_using": removal.now_using,
        });
        output::stdout_line(&value.to_string());
    }
    Ok(ExitCode::SUCCESS)
}

/// `login`: sign in (browser, device code or paste), or store an API key.
pub fn login(auth: &Auth, args: LoginArgs) -> Result<ExitCode, Error> {
    if let Some(name) = &args.name {
        // Before anything is read or opened: a bad name wastes no sign-in.
        auth.check_name(name)?;
    }
    let status = if args.with_api_key {
        let mut key = String::new();
        std::io::stdin()
            .read_to_string(&mut key)
            .map_err(|e| Error::InvalidInput(format!("cannot read the API key from stdin: {e}")))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::InvalidInput(
                "no API key on standard input: pipe it in, e.g. `printenv OPENAI_API_KEY | codex-auth login --with-api-key`".into(),
            ));
        }
        auth.store_credential(args.name.as_deref(), Credential::ApiKey(key.to_owned()))?
    } else {
        let method = match (args.device, args.paste) {
            (true, _) => LoginMethod::Device,
            (_, true) => LoginMethod::Paste,
            _ => LoginMethod::Auto,
        };
        let login = LoginOptions {
            account: args.name.clone(),
            method,
            open_browser: !args.no_browser,
            port: args.port,
            fallback_port: args.fallback_port,
            timeout: args.timeout.map(Duration::from_secs),
        };
        auth.login(&login)?
    };
    eprintln!(
        "Signed in with {}; stored as account `{}` in {}",
        output::describe(&status),
        status.account.as_deref().unwrap_or_default(),
        store_path(&status.source)
    );
    if let Some(note) = sign_in_note(auth, &status)? {
        eprintln!("{note}");
    }
    if args.json {
        output::status_json(&status);
    }
    Ok(ExitCode::SUCCESS)
}

/// `serve`: the broker and the gateway, until SIGTERM or SIGINT.
pub fn serve(auth: Auth, args: ServeArgs) -> Result<ExitCode, Error> {
    let home = auth.options().home.clone();
    let key = codex_auth_serve::load_or_create_key(&home)
        .map_err(|e| Error::Storage(format!("the local key in {}: {e}", home.display())))?;
    if args.print_key {
        output::stdout_line(&key);
        return Ok(ExitCode::SUCCESS);
    }
    // Flags > the config file's [serve] > the defaults, as the guest decides.
    let flags: Vec<(&str, String)> = [
        ("serve.port", args.port.map(|v| v.to_string())),
        ("serve.socket", args.socket.map(|v| v.display().to_string())),
        ("serve.upstream", args.upstream),
        ("serve.drain_seconds", args.drain_seconds.map(|v| v.to_string())),
        ("serve.replay_limit", args.replay_limit.map(|v| v.to_string())),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
    .collect();
    let settings = auth.serve_settings(&flags)?;
    if let Some(client) = args.print_config {
        if settings.port == 0 {
            return Err(Error::InvalidInput(
                "serve listens on a free port chosen at start (serve.port = 0): set a port with --port \
                 or `serve.port` to print a configuration"
                    .into(),
            ));
        }
        let base = format!("http://127.0.0.1:{}", settings.port);
        output::stdout_line(
            match client {
                crate::cli::ClientConfig::Codex => crate::shared_home::serve_provider_block(&home, &base),
                crate::cli::ClientConfig::Openai => crate::shared_home::serve_openai_env(&home, &base),
            }
            .trim_end(),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let options = codex_auth_serve::ServeOptions {
        port: settings.port,
        socket: settings.socket.map(PathBuf::from),
        upstream: settings.upstream,
        key,
        drain: Duration::from_secs(settings.drain_seconds),
        replay_limit: usize::try_from(settings.replay_limit).unwrap_or(usize::MAX),
    };
    // serve runs one single-threaded runtime per core (this is the first).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the runtime: {e}")))?;
    runtime
        .block_on(codex_auth_serve::run(codex_auth::AsyncAuth::new(auth), options, stop_signal()))
        .map_err(|e| Error::Storage(format!("serve: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// `dashboard`: a single-use link to the running server's dashboard,
/// opened in the browser or printed.
pub fn dashboard(auth: &Auth, no_browser: bool, port: Option<u16>) -> Result<ExitCode, Error> {
    let home = auth.options().home.clone();
    let flags: Vec<(&str, String)> = port.map(|p| ("serve.port", p.to_string())).into_iter().collect();
    let port = auth.serve_settings(&flags)?.port;
    if port == 0 {
        return Err(Error::InvalidInput(
            "serve listens on a free port chosen at start (serve.port = 0): name it with --port".into(),
        ));
    }
    let key = codex_auth_serve::load_or_create_key(&home)
        .map_err(|e| Error::Storage(format!("the local key in {}: {e}", home.display())))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the runtime: {e}")))?;
    let url = runtime.block_on(codex_auth_serve::dashboard_link(port, &key)).map_err(|e| {
        Error::Transport(format!("no codex-auth serve for this home answers on 127.0.0.1:{port} ({e}); start one with `codex-auth serve`"))
    })?;
    if no_browser {
        output::stdout_line(&url);
        return Ok(ExitCode::SUCCESS);
    }
    use codex_auth::Notifier as _;
    match crate::terminal::Terminal::new().open_browser(&url) {
        Ok(()) => eprintln!("Opened the dashboard (the link is good once, for 60 s)"),
        Err(why) => {
            eprintln!("Cannot open a browser ({why}); open this link (good once, for 60 s):");
            output::stdout_line(&url);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a sign-in to a store the Codex CLI also uses says once, then: how
/// to make codex-auth the one refresher. The whole note for the home's own
/// account (`--home ~/.codex`) or a linked Codex home, a line otherwise.
fn sign_in_note(auth: &Auth, status: &codex_auth::Status) -> Result<Option<String>, Error> {
    let Some(account) = status.account.as_deref().filter(|_| status.shared_with_codex) else {
        return Ok(None);
    };
    let in_effect = auth.in_effect()?;
    let linked = auth.accounts()?.into_iter().find(|a| a.name == account).and_then(|a| a.linked);
    let home = &auth.options().home;
    let is_link = linked.is_some();
    let (codex_home, vault) = match linked {
        Some(dir) => (dir, home.clone()),
        // This home is the Codex home: the login would move to a vault of its own.
        None if account == auth.defaults().default_account => (home.clone(), Options::from_env().home),
        None => return Ok(Some(shared_home::line(in_effect.shared_refresh_seconds))),
    };
    let block = shared_home::provider_block(&vault, account, status, &in_effect.chatgpt_base_url);
    let refresh = in_effect.shared_refresh_seconds;
    Ok(Some(shared_home::note(account, &codex_home, &vault, refresh, &block, is_link)))
}

/// SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

/// `logout`: revoke (best effort), then forget the credential.
pub fn logout(auth: &Auth, json: bool) -> Result<ExitCode, Error> {
    let account = auth.current_account()?;
    let report = auth.logout()?;
    if json {
        let value = serde_json::json!({
            "account": account,
            "removed": report.removed,
            "revocation": revocation_json(&report.revocation),
        });
        output::stdout_line(&value.to_string());
    }
    report_revocation(&report.revocation);
    if report.removed {
        eprintln!("Logged out of account `{account}`");
    } else {
        eprintln!("Not logged in: account `{account}` holds no credential");
    }
    Ok(ExitCode::SUCCESS)
}

fn report_revocation(revocation: &Revocation) {
    match revocation {
        Revocation::Revoked => eprintln!("Revoked the refresh token"),
        Revocation::Failed(why) => {
            eprintln!("Could not revoke the refresh token ({why}); removing it anyway")
        }
        Revocation::NotNeeded => {}
    }
}

fn revocation_json(revocation: &Revocation) -> serde_json::Value {
    match revocation {
        Revocation::NotNeeded => serde_json::json!({"result": "not_needed"}),
        Revocation::Revoked => serde_json::json!({"result": "revoked"}),
        Revocation::Failed(why) => serde_json::json!({"result": "failed", "error": why}),
    }
}

fn store_path(source: &Source) -> String {
    match source {
        Source::Store(path) => path.display().to_string(),
        _ => "no store".to_owned(),
    }
}

/// The Codex home to import: the one given (or the directory of the
/// auth.json given), else `$CODEX_HOME`, else `~/.codex`.
fn codex_home(path: Option<PathBuf>) -> Result<PathBuf, Error> {
    let path = path.unwrap_or_else(codex_auth::default_codex_home);
    if path.is_dir() {
        return Ok(path);
    }
    if path.file_name() == Some(codex_auth::AUTH_FILE.as_ref()) {
        return Ok(path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf));
    }
    Err(Error::InvalidInput(format!(
        "{} is neither a Codex home nor its {}: import takes the directory (or its {})",
        path.display(),
        codex_auth::AUTH_FILE,
        codex_auth::AUTH_FILE
    )))
}
