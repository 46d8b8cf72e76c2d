//! Command accounts: a program prints the bearer token on stdout (as the
//! Codex CLI's `[model_providers.NAME.auth] command`). The guest decides when
//! to run it and what its output means; the host only runs it (no shell).
//! The token is kept in memory only, never written anywhere.

use crate::error::AuthError;
use crate::oauth::token_shaped;
use crate::platform::ProcessOutput;
use serde_json::{Value, json};

/// How long a command may run unless its account says otherwise.
pub const DEFAULT_TIMEOUT_MS: u32 = 5_000;
/// Lines of a failed command's stderr shown in its error.
const STDERR_LINES: usize = 5;

/// A command account's program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    pub program: String,
    pub args: Vec<String>,
    pub timeout_ms: Option<u32>,
    /// Reuse a token this long; `None`: until the API rejects it.
    pub refresh_interval_ms: Option<u64>,
}

impl CommandSpec {
    pub fn timeout_ms(&self) -> u32 {
        self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS)
    }

    /// `program arg...`, for messages.
    pub fn display(&self) -> String {
        std::iter::once(&self.program).chain(&self.args).map(|w| quote(w)).collect::<Vec<_>>().join(" ")
    }

    pub fn to_json(&self) -> Value {
        json!({"program": self.program, "args": self.args, "timeout_ms": self.timeout_ms,
               "refresh_interval_ms": self.refresh_interval_ms})
    }

    pub fn from_json(value: &Value) -> Result<Self, String> {
        let program =
            value["program"].as_str().filter(|p| !p.is_empty()).ok_or("a command account needs a program")?;
        let args = match &value["args"] {
            Value::Null => Vec::new(),
            Value::Array(args) => args
                .iter()
                .map(|a| a.as_str().map(str::to_owned).ok_or("command arguments are strings"))
                .collect::<Result<_, _>>()?,
            _ => return Err("command arguments are a list of strings".into()),
        };
        let number = |name: &str| match &value[name] {
            Value::Null => Ok(None),
            v => v.as_u64().map(Some).ok_or(format!("{name} is a whole number of milliseconds")),
        };
        Ok(Self {
            program: program.to_owned(),
            args,
            timeout_ms: number("timeout_ms")?.map(|t| u32::try_from(t).unwrap_or(u32::MAX)),
            refresh_interval_ms: number("refresh_interval_ms")?,
        })
    }

    /// Whether a token fetched at `fetched_ms` may still be used at `now_ms`.
    pub fn still_valid(&self, fetched_ms: i64, now_ms: i64) -> bool {
        self.refresh_interval_ms.is_none_or(|interval| {
            now_ms.saturating_sub(fetched_ms) < i64::try_from(interval).unwrap_or(i64::MAX)
        })
    }

    /// The token in a run's output, or why there is none. Never quotes stdout.
    pub fn token(&self, output: Result<ProcessOutput, String>) -> Result<String, AuthError> {
        let fail =
            |why: String| AuthError::LoginFailed(format!("the auth command `{}` {why}", self.display()));
        let output = output.map_err(|why| fail(format!("could not run: {why}")))?;
        if output.status != Some(0) {
            let status = output
                .status
                .map_or("ended by a signal or its time limit".to_owned(), |c| format!("exit status {c}"));
            let stderr = String::from_utf8_lossy(&output.stderr);
            let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            let tail = lines[lines.len().saturating_sub(STDERR_LINES)..].join("\n");
            return Err(fail(if tail.is_empty() {
                format!("failed ({status})")
            } else {
                format!("failed ({status}):\n{tail}")
            }));
        }
        let token = std::str::from_utf8(&output.stdout).map(str::trim).unwrap_or_default();
        if token.is_empty() {
            return Err(fail("printed no token on stdout".into()));
        }
        if !token_shaped(token) {
            return Err(fail("printed something that cannot be a bearer token (white space, control or non-ASCII characters)".into()));
        }
        Ok(token.to_owned())
    }
}

fn quote(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c)) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> CommandSpec {
        CommandSpec {
            program: "/bin/tok".into(),
            args: vec!["--for".into(), "a b".into()],
            timeout_ms: None,
            refresh_interval_ms: Some(60_000),
        }
    }

    fn out(status: Option<i32>, stdout: &str, stderr: &str) -> Result<ProcessOutput, String> {
        Ok(ProcessOutput { status, stdout: stdout.into(), stderr: stderr.into() })
    }

    #[test]
    fn a_token_is_one_trimmed_header_safe_word() {
        assert_eq!(spec().token(out(Some(0), "  tok-123\n", "")), Ok("tok-123".into()));
        let empty = spec().token(out(Some(0), " \n", "")).unwrap_err().to_string();
        assert!(empty.contains("`/bin/tok --for 'a b'` printed no token"), "{empty}");
        let unsafe_ = spec().token(out(Some(0), "two words", "")).unwrap_err().to_string();
        assert!(unsafe_.contains("cannot be a bearer token") && !unsafe_.contains("two words"), "{unsafe_}");
    }

    #[test]
    fn a_failure_names_the_command_its_status_and_the_end_of_stderr() {
        let stderr = (1..=8).map(|i| format!("line {i}")).collect::<Vec<_>>().join("\n");
        let e = spec().token(out(Some(3), "secret-token", &stderr)).unwrap_err().to_string();
        assert!(
            e.contains("/bin/tok")
                && e.contains("exit status 3")
                && e.contains("line 8")
                && e.contains("line 4"),
            "{e}"
        );
        assert!(!e.contains("line 3") && !e.contains("secret-token"), "{e}");
        let killed = spec().token(out(None, "", "")).unwrap_err().to_string();
        assert!(killed.contains("time limit"), "{killed}");
        let missing = spec().token(Err("No such file or directory".into())).unwrap_err().to_string();
        assert!(missing.contains("could not run: No such file"), "{missing}");
    }

    #[test]
    fn reuse_for_the_interval_or_until_a_401() {
        assert!(spec().still_valid(1000, 60_999));
        assert!(!spec().still_valid(1000, 61_000));
        let forever = CommandSpec { refresh_interval_ms: None, ..spec() };
        assert!(forever.still_valid(0, i64::MAX));
        assert_eq!(CommandSpec::from_json(&spec().to_json()), Ok(spec()));
        assert!(CommandSpec::from_json(&json!({"program": ""})).is_err());
        assert!(CommandSpec::from_json(&json!({"program": "x", "args": "nope"})).is_err());
        assert_eq!(
            CommandSpec::from_json(&json!({"program": "x"})).unwrap().timeout_ms(),
            DEFAULT_TIMEOUT_MS
        );
    }
}
