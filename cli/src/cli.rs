/*!
The command line: clap definitions only. What the user typed is checked
here; `main.rs` turns it into [`codex_auth::Options`] and runs it.
*/

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  0  success (for `status`: logged in)
  1  not logged in, sign-in required, or the operation failed
  2  the command line is wrong";

/// Sign in with ChatGPT (Codex) and hand out ready credentials.
#[derive(Debug, Parser)]
#[command(name = "codex-auth", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The vault's home: its own account's auth.json, and accounts/ for the
    /// others [env: CODEX_AUTH_HOME; default: ~/.codex-auth]. Use
    /// `--home ~/.codex` to share the Codex CLI's login.
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// The account to use [env: CODEX_AUTH_ACCOUNT; default: the pinned
    /// account (`codex-auth use`), else the first usable one].
    #[arg(long, global = true, value_name = "NAME")]
    pub account: Option<String>,

    /// The OAuth issuer; every endpoint derives from it [env:
    /// CODEX_AUTH_ISSUER; default: OpenAI's].
    #[arg(long, global = true, value_name = "URL")]
    pub issuer: Option<String>,

    /// The ChatGPT backend, for usage [env: CODEX_AUTH_CHATGPT_BASE_URL;
    /// default: https://chatgpt.com/backend-api].
    #[arg(long, global = true, value_name = "URL")]
    pub chatgpt_base_url: Option<String>,

    /// How the pool chooses among usable accounts when none is pinned
    /// [env: CODEX_AUTH_STRATEGY; default: drain-first].
    #[arg(long, global = true, value_name = "STRATEGY", value_parser = strategies())]
    pub strategy: Option<String>,

    /// Where credentials are kept: `file` (auth.json in each Codex home),
    /// `keyring` (the Codex CLI's keyring entry of each Codex home; refresh
    /// still locks its auth.lock), or a `postgres://` URL (every account a
    /// row, shared by a fleet of machines) [env: CODEX_AUTH_STORE, or
    /// CODEX_AUTH_DATABASE_URL for a database; config: `store`; default: file].
    #[arg(long, global = true, value_name = "STORE")]
    pub store: Option<String>,

    /// Read an API key from standard input and use it for this run, above
    /// every stored account (the `runtime` tier; never written).
    #[arg(long, global = true)]
    pub api_key_stdin: bool,

    /// Say on stderr how long loading the (ahead-of-time compiled) component took.
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with ChatGPT: browser on the loopback, or a device code when
    /// no browser can be used (SSH, no display) or no port can be bound.
    #[command(
        after_help = "Examples:\n  codex-auth login\n  codex-auth login --name work   # add a second account; the others stay\n  codex-auth login --device      # over SSH or in a container\n  codex-auth login --paste       # browser on another machine\n  printenv KEY | codex-auth login --name ci --with-api-key"
    )]
    Login(LoginArgs),
    /// Refresh the tokens now if they are due (always, with --force).
    #[command(after_help = "Examples:\n  codex-auth refresh\n  codex-auth refresh --force --json")]
    Refresh {
        /// Refresh even if the access token is far from expiring.
        #[arg(long)]
        force: bool,
        /// Print the new status as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Show what is signed in (exit 0 when logged in, 1 when not).
    #[command(after_help = "Examples:\n  codex-auth status\n  codex-auth status --json | jq .plan")]
    Status {
        /// Print JSON on stdout instead of text on stderr.
        #[arg(long)]
        json: bool,
    },
    /// Print the bearer token (access token or API key), and nothing else.
    #[command(after_help = "Example:\n  curl -H \"Authorization: Bearer $(codex-auth token)\" ...")]
    Token,
    /// Print ready request headers (Authorization, chatgpt-account-id).
    #[command(after_help = "Examples:\n  codex-auth headers\n  codex-auth headers --json")]
    Headers {
        /// Print a JSON object of header names to values.
        #[arg(long)]
        json: bool,
    },
    /// Revoke the refresh token of the account in use (best effort) and
    /// forget its credential. Other accounts are not touched.
    #[command(after_help = "Examples:\n  codex-auth logout\n  codex-auth --account work logout --json")]
    Logout {
        /// Print what was done as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Add a Codex CLI login as an account. By default the Codex home is
    /// linked in place: it stays the one holder of its refresh token, so
    /// `codex` keeps working. The Codex CLI then keeps refreshing it on its
    /// own (it sends its refresh before it locks), so codex-auth leaves that
    /// to it and refreshes only in the last minute before expiry (setting
    /// `shared_refresh_seconds`), when expired, on a 401, or when forced.
    /// With --move the login moves into the vault and the Codex home is left
    /// logged out (nothing is revoked): codex-auth is then the one refresher,
    /// and the Codex CLI gets its token from codex-auth through a provider
    /// whose auth command is `codex-auth token` (a linked import prints the
    /// exact block). Nothing is ever copied.
    #[command(
        after_help = "Examples:\n  codex-auth import                      # links $CODEX_HOME, else ~/.codex, as `codex`\n  codex-auth import ~/other-codex --name other\n  codex-auth import --move --name work"
    )]
    Import {
        /// The Codex home, or its auth.json [default: $CODEX_HOME, else ~/.codex].
        path: Option<PathBuf>,
        /// The new account's name.
        #[arg(long, value_name = "NAME", default_value = "codex")]
        name: String,
        /// Take the login over and leave the Codex home logged out.
        #[arg(long = "move")]
        take_over: bool,
        /// Print the new account's status as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List the accounts: name, email, account id, plan, token expiry, state.
    /// `*` marks the account calls use. `accounts add-command` adds one whose
    /// token a program prints.
    #[command(
        after_help = "Examples:\n  codex-auth accounts\n  codex-auth accounts --json | jq -r '.[].name'\n  codex-auth accounts add-command vault -- vault-token --plain"
    )]
    Accounts {
        /// Print a JSON array on stdout.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<AccountsAction>,
    },
    /// The config file (`codex-auth.toml` in the home; read, never written).
    #[command(subcommand)]
    Config(ConfigAction),
    /// Show every account's usage: each window's percent used, length, and
    /// when it resets. Cached for every process (one request per account per
    /// five minutes at most).
    #[command(
        after_help = "Examples:\n  codex-auth usage\n  codex-auth usage --json | jq '.[].usage.windows'"
    )]
    Usage {
        /// Print a JSON array on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Probe every account in turn (refresh when due, then a usage request,
    /// each bounded in time). Exit 1 when any failed.
    #[command(after_help = "Examples:\n  codex-auth check\n  codex-auth check --json")]
    Check {
        /// Print a JSON array on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Serve ready credentials to other processes (a broker) and forward
    /// Codex requests with the chosen account's auth (a gateway), on
    /// 127.0.0.1 and optionally a Unix socket. Every endpoint but /healthz
    /// needs the local key (`--print-key`). Prints one JSON line at start;
    /// logs one JSON line per request on stderr; SIGTERM drains open streams.
    #[command(
        after_help = "Endpoints:\n  GET  /v1/headers[?account=NAME][&session=KEY]   ready headers\n  GET  /v1/token[?account=NAME]                   the bearer token\n  GET  /v1/accounts                               the accounts (no secrets)\n  POST /v1/accounts/NAME/refresh                  refresh one now\n  POST /v1/unauthorized {\"token\": ..}             401 recovery: fresh headers\n  *    /backend-api/codex/...                     the gateway to the Codex backend\n  POST /v1/chat/completions, /v1/responses        OpenAI's APIs, translated (base URL .../v1, the local key)\n  GET  /v1/models[/ID]                            the models the accounts can use\n  GET  /metrics                                   Prometheus metrics\n  GET  /                                          the dashboard (`codex-auth dashboard`)\n  GET  /healthz\n\nExamples:\n  codex-auth serve                                 # on 127.0.0.1:8765\n  codex-auth serve --print-config codex >> ~/.codex/config.toml\n  eval \"$(codex-auth serve --print-config openai)\"   # OPENAI_BASE_URL and OPENAI_API_KEY\n  curl -H \"Authorization: Bearer $(codex-auth serve --print-key)\" http://127.0.0.1:8765/v1/headers"
    )]
    Serve(ServeArgs),
    /// Open the dashboard of the `serve` running for this home: every
    /// account, its usage and blocks, what it served in the last hour, the
    /// last errors, live. The link carries a single-use code the page trades
    /// for a session cookie, so the local key never sits in a URL.
    #[command(
        after_help = "Examples:\n  codex-auth dashboard                 # opens the browser\n  codex-auth dashboard --no-browser    # prints the link (single use, valid 60 s)"
    )]
    Dashboard {
        /// Print the link instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// The port `serve` listens on [default: serve.port, else 8765].
        #[arg(long, value_name = "N")]
        port: Option<u16>,
    },
    /// Pin an account: calls use it when no --account is given.
    #[command(after_help = "Example:\n  codex-auth use work")]
    Use {
        /// The account to pin.
        name: String,
        /// Print the account as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Forget an account. An account of the vault's own is logged out first
    /// (its refresh token revoked); a linked Codex home is only unlinked and
    /// keeps its login.
    #[command(after_help = "Example:\n  codex-auth remove old-work")]
    Remove {
        /// The account to remove.
        name: String,
        /// Print what was done as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// `login`'s flags.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The account to add or sign in again; no other account is replaced
    /// or revoked [default: --account, else the pinned account, else `default`].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Store an API key read from standard input as the account (never from
    /// the command line, where other users could see it).
    #[arg(long, conflicts_with_all = ["device", "paste"])]
    pub with_api_key: bool,
    /// Use the device-code flow.
    #[arg(long, conflicts_with = "paste")]
    pub device: bool,
    /// Sign in with a browser on another machine, then paste the URL it was redirected to.
    #[arg(long)]
    pub paste: bool,
    /// Do not open a browser; only print the URL.
    #[arg(long)]
    pub no_browser: bool,
    /// The loopback port for the browser's redirect [default: 1455, the one
    /// the issuer accepts].
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// The port to try when --port is busy [default: 1457].
    #[arg(long, value_name = "N")]
    pub fallback_port: Option<u16>,
    /// Give up after this many seconds [default: 600].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Print the new status as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The pool's strategies, by name.
fn strategies() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(codex_auth::Strategy::names())
}

/// `serve`'s flags.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port on 127.0.0.1 [default: 8765; 0 for a free one, printed at start].
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Also listen on this Unix socket (mode 0600; peers of other users are refused).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Where the gateway forwards [default: the ChatGPT base URL + /codex].
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// How long open streams may finish after SIGTERM [default: 10].
    #[arg(long, value_name = "SECS")]
    pub drain_seconds: Option<u64>,
    /// Request bodies up to this many bytes can be replayed (after a 401, or
    /// on a sibling account) [default: 8 MiB].
    #[arg(long, value_name = "BYTES")]
    pub replay_limit: Option<u64>,
    /// Print the local key (made on first use) and exit.
    #[arg(long)]
    pub print_key: bool,
    /// Print a ready configuration for a client of this server and exit:
    /// `codex` a Codex CLI provider block (for its config.toml), `openai`
    /// the environment for OpenAI-compatible clients (for `eval`). Either
    /// reads the key with `serve --print-key` when used, so it never sits
    /// in a file or in shell history.
    #[arg(long, value_name = "CLIENT", conflicts_with = "print_key")]
    pub print_config: Option<ClientConfig>,
}

/// A client `serve --print-config` prints a configuration for.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ClientConfig {
    /// The Codex CLI: a `[model_providers.codex-auth]` block.
    Codex,
    /// OpenAI SDKs and Chat Completions tools: `OPENAI_BASE_URL` and `OPENAI_API_KEY`.
    Openai,
}

/// `accounts` subcommands.
#[derive(Debug, Subcommand)]
pub enum AccountsAction {
    /// Add an account whose bearer token a program prints on stdout. The
    /// program runs directly (no shell) with a timeout; its token is reused
    /// for --refresh-interval-ms (or until the API rejects it) and is never
    /// written anywhere.
    #[command(
        after_help = "Example:\n  codex-auth accounts add-command corp --refresh-interval-ms 600000 -- corp-sso token --audience chatgpt"
    )]
    AddCommand {
        /// The account's name.
        name: String,
        /// Kill the program after this long [default: 5000].
        #[arg(long, value_name = "MS")]
        timeout_ms: Option<u32>,
        /// Reuse a token this long [default: until the API rejects it].
        #[arg(long, value_name = "MS")]
        refresh_interval_ms: Option<u64>,
        /// Print the new account's status as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// The program and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the config file's path.
    Path,
    /// Print every setting's effective value and where it came from (flag,
    /// environment, file, default).
    #[command(
        after_help = "Examples:\n  codex-auth config show\n  codex-auth --strategy least-used config show --json"
    )]
    Show {
        /// Print a JSON array on stdout.
        #[arg(long)]
        json: bool,
    },
}
