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
    /// Forget the stored credential.
    #[command(after_help = "Example:\n  codex-auth logout")]
    Logout,
    /// Copy a Codex CLI login into the store (the source is only read).
    #[command(
        after_help = "Examples:\n  codex-auth import\n  codex-auth import ~/.codex/auth.json"
    )]
    Import {
        /// The auth.json to copy [default: $CODEX_HOME/auth.json, else ~/.codex/auth.json].
        path: Option<PathBuf>,
    },
}
