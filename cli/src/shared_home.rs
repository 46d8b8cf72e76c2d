//! What the CLI says about a Codex home that the Codex CLI keeps refreshing
//! on its own, and the provider block that makes codex-auth its one
//! refresher instead.

use codex_auth::Status;
use std::path::Path;

/// One line for `status` and `login` on a store the Codex CLI also uses.
pub fn line(shared_refresh_seconds: u32) -> String {
    format!(
        "Shared with the Codex CLI, which refreshes this home on its own: codex-auth refreshes it only \
         in the last {shared_refresh_seconds} s before expiry (see `codex-auth import --help` to make \
         codex-auth the one refresher)"
    )
}

/// The explanation `import` gives once, when it links a Codex home: why
/// codex-auth leaves refresh to the Codex CLI there, and the commands and
/// config block that make codex-auth the one refresher instead.
pub fn note(
    account: &str,
    codex_home: &Path,
    vault_home: &Path,
    shared_refresh_seconds: u32,
    block: &str,
    linked: bool,
) -> String {
    let vault = shell_word(&vault_home.display().to_string());
    let unlink =
        if linked { format!("\n  codex-auth --home {vault} remove {account}") } else { String::new() };
    format!(
        "\nThe Codex CLI keeps refreshing {codex} on its own, and it sends its refresh before it \
         locks: two refreshers on one home can lose the login. So codex-auth leaves refresh there to \
         the Codex CLI: it serves the stored token and refreshes only in the last \
         {shared_refresh_seconds} s before expiry, when expired, on a 401, or with `refresh --force`.\n\
         \n\
         To make codex-auth the one refresher instead, move the login in:\n\
         {unlink}\
         \n  codex-auth --home {vault} import --move --name {account} {source}\n\
         \n\
         then let the Codex CLI ask codex-auth for its token, with this in {config}:\n\
         \n{block}",
        codex = codex_home.display(),
        source = shell_word(&codex_home.display().to_string()),
        config = codex_home.join("config.toml").display(),
    )
}

/// The Codex CLI provider block that gets its token from codex-auth (run
/// as `auth.command`): paste it into the Codex home's `config.toml`.
pub fn provider_block(vault_home: &Path, account: &str, status: &Status, base_url: &str) -> String {
    let program = program();
    let headers = match &status.account_id {
        Some(id) => format!("http_headers = {{ \"chatgpt-account-id\" = {} }}\n", toml_string(id)),
        None => String::new(),
    };
    format!(
        "model_provider = \"codex-auth\"\n\
         \n\
         [model_providers.codex-auth]\n\
         name = \"ChatGPT via codex-auth\"\n\
         base_url = {base}\n\
         wire_api = \"responses\"\n\
         {headers}\
         \n\
         [model_providers.codex-auth.auth]\n\
         command = {program}\n\
         args = [\"--home\", {home}, \"--account\", {account}, \"token\"]\n",
        base = toml_string(&format!("{}/codex", base_url.trim_end_matches('/'))),
        program = toml_string(&program),
        home = toml_string(&vault_home.display().to_string()),
        account = toml_string(account),
    )
}

/// `serve --print-config codex`: the Codex CLI provider block for a
/// gateway on `base_url`, whose key the Codex CLI reads by running
/// `serve --print-key` (so the key is never written into its config).
pub fn serve_provider_block(vault_home: &Path, base_url: &str) -> String {
    format!(
        "# codex-auth serve as the Codex CLI's model provider: paste into $CODEX_HOME/config.toml (~/.codex)\n\
         model_provider = \"codex-auth\"\n\
         \n\
         [model_providers.codex-auth]\n\
         name = \"ChatGPT pool via codex-auth serve\"\n\
         base_url = {base}\n\
         wire_api = \"responses\"\n\
         \n\
         [model_providers.codex-auth.auth]\n\
         command = {program}\n\
         args = [\"--home\", {home}, \"serve\", \"--print-key\"]\n",
        base = toml_string(&format!("{base_url}/backend-api/codex")),
        program = toml_string(&program()),
        home = toml_string(&vault_home.display().to_string()),
    )
}

/// `serve --print-config openai`: the environment OpenAI-compatible clients
/// read, for `eval`; the key is read from where it lives when evaluated.
pub fn serve_openai_env(vault_home: &Path, base_url: &str) -> String {
    format!(
        "# OpenAI-compatible clients through codex-auth serve: eval \"$(codex-auth serve --print-config openai)\"\n\
         export OPENAI_BASE_URL={base}\n\
         export OPENAI_API_KEY=\"$({program} --home {home} serve --print-key)\"\n",
        base = shell_word(&format!("{base_url}/v1")),
        program = shell_word(&program()),
        home = shell_word(&vault_home.display().to_string()),
    )
}

/// This program's path, as another program would run it.
fn program() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_owned))
        .unwrap_or_else(|| "codex-auth".to_owned())
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// A word a POSIX shell reads back as `text`.
fn shell_word(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-~@:+=".contains(c)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_strings_survive_quoting() {
        assert_eq!(shell_word("/home/ada/.codex"), "/home/ada/.codex");
        assert_eq!(shell_word("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(toml_string("a\"b\\c"), r#""a\"b\\c""#);
    }
}
