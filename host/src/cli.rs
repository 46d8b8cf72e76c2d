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
    /// The store directory holding auth.json [default: ~/.codex-auth].
    /// Use `--home ~/.codex` to share the Codex CLI's login.
    #[arg(long, global = true, env = "CODEX_AUTH_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// The OAuth issuer; every endpoint derives from it.
    #[arg(long, global = true, env = "CODEX_AUTH_ISSUER", value_name = "URL", default_value = codex_auth::DEFAULT_ISSUER)]
    pub issuer: String,

    /// Say on stderr how the component was loaded (from the compiled-code cache or compiled).
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with ChatGPT: browser on the loopback, or a device code when
    /// no browser can be used (SSH, no display) or no port can be bound.
    #[command(
        after_help = "Examples:\n  codex-auth login\n  codex-auth login --device      # over SSH or in a container\n  codex-auth login --paste       # browser on another machine"
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
    /// Revoke the refresh token (best effort) and forget the stored credential.
    #[command(after_help = "Examples:\n  codex-auth logout\n  codex-auth logout --json")]
    Logout {
        /// Print what was done as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Copy a Codex CLI login into the store (the source is only read).
    #[command(after_help = "Examples:\n  codex-auth import\n  codex-auth import ~/.codex/auth.json")]
    Import {
        /// The auth.json to copy [default: $CODEX_HOME/auth.json, else ~/.codex/auth.json].
        path: Option<PathBuf>,
        /// Print the new status as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// `login`'s flags.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Use the device-code flow.
    #[arg(long, conflicts_with = "paste")]
    pub device: bool,
    /// Sign in with a browser on another machine, then paste the URL it was redirected to.
    #[arg(long)]
    pub paste: bool,
    /// Do not open a browser; only print the URL.
    #[arg(long)]
    pub no_browser: bool,
    /// The loopback port for the browser's redirect.
    #[arg(long, value_name = "N", default_value_t = 1455)]
    pub port: u16,
    /// The port to try when --port is busy.
    #[arg(long, value_name = "N", default_value_t = 1457)]
    pub fallback_port: u16,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
    /// Print the new status as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}
