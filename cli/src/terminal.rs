//! How sign-in progress looks in a terminal: prominent URLs and codes, a
//! spinner with the time left on a TTY, plain lines otherwise.

use codex_auth::{LoginEvent, Notifier};
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::Mutex;

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/// Without a TTY, say that it still waits this often (seconds).
const PLAIN_WAIT_EVERY: u32 = 30;

/// The CLI's notifier, writing to stderr.
pub struct Terminal {
    tty: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    frame: usize,
    /// A spinner line is on screen and must be cleared before other output.
    spinning: bool,
    last_plain: Option<u32>,
}

impl Terminal {
    pub fn new() -> Self {
        Self { tty: std::io::stderr().is_terminal(), state: Mutex::new(State::default()) }
    }

    fn line(&self, state: &mut State, text: &str) {
        let mut err = std::io::stderr().lock();
        if state.spinning {
            let _ = write!(err, "\r\x1b[K");
            state.spinning = false;
        }
        let _ = writeln!(err, "{text}");
    }
}

impl Notifier for Terminal {
    fn notify(&self, event: LoginEvent) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            LoginEvent::OpenUrl(url) => {
                self.line(&mut state, &format!("\nOpen this URL in a browser to sign in:\n\n  {url}\n"))
            }
            LoginEvent::DeviceCode { user_code, verification_url, expires_in } => self.line(
                &mut state,
                &format!(
                    "\nTo sign in, open {verification_url}\nand enter this code (valid {} min):\n\n    {user_code}\n",
                    expires_in / 60
                ),
            ),
            LoginEvent::MethodChosen(why) => self.line(&mut state, &format!("Signing in: {why}")),
            LoginEvent::Rejected(why) => self.line(&mut state, &format!("Ignored {why}; still waiting")),
            LoginEvent::Info(text) => self.line(&mut state, &text),
            LoginEvent::AccountDisabled { account, reason } => self.line(
                &mut state,
                &format!("codex-auth: account `{account}` disabled ({reason}); sign it in again with `codex-auth login --name {account}`"),
            ),
            LoginEvent::PeerRefreshed { account } => self.line(
                &mut state,
                &format!("codex-auth: account `{account}` was refreshed by another program (the Codex CLI?) first; using the login it stored"),
            ),
            // Counted by those who listen (serve's metrics); nothing to show.
            LoginEvent::Refreshed { .. } => {}
            LoginEvent::AccountBlocked { account, until } => self.line(
                &mut state,
                &format!("codex-auth: account `{account}` reached its usage limit; skipped until {}", crate::output::when(until)),
            ),
            LoginEvent::Waiting(left) if self.tty => {
                state.frame = (state.frame + 1) % SPINNER.len();
                let mut err = std::io::stderr().lock();
                let _ = write!(
                    err,
                    "\r\x1b[K{} Waiting for the sign-in to complete ({}:{:02} left)",
                    SPINNER[state.frame],
                    left / 60,
                    left % 60
                );
                let _ = err.flush();
                state.spinning = true;
            }
            LoginEvent::Waiting(left)
                if state.last_plain.is_none_or(|last| last >= left + PLAIN_WAIT_EVERY) =>
            {
                state.last_plain = Some(left);
                self.line(&mut state, &format!("Waiting for the sign-in to complete ({left} s left)"));
            }
            _ => {}
        }
    }

    /// `$BROWSER` (with `%s` for the URL, or the URL appended), else the
    /// platform's opener.
    fn open_browser(&self, url: &str) -> Result<(), String> {
        let mut command = match std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty()) {
            Some(browser) => {
                let first = browser.split(':').next().unwrap_or_default().to_owned();
                let mut words = first.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
                if !words.iter().any(|w| w.contains("%s")) {
                    words.push("%s".into());
                }
                let mut command = Command::new(words.remove(0));
                command.args(words.iter().map(|w| w.replace("%s", url)));
                command
            }
            None if cfg!(target_os = "macos") => {
                let mut command = Command::new("open");
                command.arg(url);
                command
            }
            None => {
                let mut command = Command::new("xdg-open");
                command.arg(url);
                command
            }
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
        // Reap it whenever it exits; its exit status says nothing reliable.
        std::thread::spawn(move || child.wait());
        Ok(())
    }

    fn ask(&self, prompt: &str) -> Result<String, String> {
        {
            let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            self.line(&mut state, prompt);
        }
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) => Err("no input (end of file)".into()),
            Ok(_) => Ok(line.trim().to_owned()),
            Err(e) => Err(format!("cannot read the answer: {e}")),
        }
    }
}
