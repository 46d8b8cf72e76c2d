//! `import --move` killed at random points (issue #20): at every instant one
//! store holds the login (or a journal the next command settles), no temp
//! file holding a secret outlives the next command, and a retry succeeds.

use crate::support::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Kills per file system.
const ROUNDS: u32 = 40;

/// Where the login is: the Codex home's `auth.json` and the vault's account.
fn holders(codex: &Path, vault: &Path, refresh_token: &str) -> Vec<PathBuf> {
    [codex.join("auth.json"), vault.join("accounts/m/auth.json")]
        .into_iter()
        .filter(|p| {
            fs::read(p)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .is_some_and(|v| v["tokens"]["refresh_token"] == refresh_token)
        })
        .collect()
}

/// Every file under `dir` whose name marks a temp file of a store.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) && !entry.file_type().unwrap().is_symlink() {
            found.extend(temp_files(&path));
        } else if entry.file_name().to_string_lossy().starts_with(".auth") {
            found.push(path);
        }
    }
    found
}

/// A journal entry, or a half-written one, of the move into `m`.
fn journal_left(vault: &Path) -> bool {
    fs::read_dir(vault.join("moves")).is_ok_and(|mut d| {
        d.any(|e| {
            e.is_ok_and(|e| {
                e.file_name().to_string_lossy().starts_with(['m', '.']) && e.file_name() != "m.lock"
            })
        })
    })
}

fn kill_moves_on(source_root: &Path, what: &str) {
    // How long one move takes here, to spread the kills over it.
    let probe = Dir::new();
    let codex = source_root.join("probe");
    fs::create_dir_all(&codex).unwrap();
    fs::write(codex.join("auth.json"), codex_chatgpt_file(now() + 3600, "rt-probe").to_string()).unwrap();
    let started = Instant::now();
    let o = run(probe.cli().args(["import", "--move", "--name", "m"]).arg(&codex));
    assert_eq!(code(&o), 0, "{what}: {}", stderr(&o));
    let span = started.elapsed().as_micros() as u64 + 1;

    let (mut interrupted, mut two_with_journal) = (0, 0);
    let mut at = span / 2;
    for round in 0..ROUNDS {
        let dir = Dir::new();
        let codex = source_root.join(format!("codex-{round}"));
        fs::create_dir_all(&codex).unwrap();
        let rt = format!("rt-kill-{round}");
        fs::write(codex.join("auth.json"), codex_chatgpt_file(now() + 3600, &rt).to_string()).unwrap();
        let mut child = dir
            .cli()
            .args(["import", "--move", "--name", "m"])
            .arg(&codex)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The kill point hovers around the end of the move, where its
        // writes are: later after a kill that landed, earlier after one too
        // late (whatever the machine's load).
        std::thread::sleep(Duration::from_micros(at));
        let _ = child.kill();
        let finished = child.wait().unwrap().success();
        interrupted += u32::from(!finished);
        at = if finished { at * 3 / 4 } else { at + span / 10 };

        // At the instant of the kill: one holder, or two with the journal
        // that tells the next command which one stays.
        match holders(&codex, &dir.home(), &rt).len() {
            1 => {}
            2 if journal_left(&dir.home()) => two_with_journal += 1,
            n => panic!("{what}, round {round}: {n} holders and no journal"),
        }
        // The next command in the vault settles it and leaves no temp file.
        let o = run(dir.cli().args(["accounts", "--json"]));
        assert_eq!(code(&o), 0, "{what}, round {round}: {}", stderr(&o));
        assert_eq!(holders(&codex, &dir.home(), &rt).len(), 1, "{what}, round {round}");
        assert!(!journal_left(&dir.home()), "{what}, round {round}");
        assert_eq!(temp_files(&dir.home()), Vec::<PathBuf>::new(), "{what}, round {round}");
        // A retry finishes the job when the login is still in the Codex home.
        if codex.join("auth.json").exists() {
            let o = run(dir.cli().args(["import", "--move", "--name", "m"]).arg(&codex));
            assert_eq!(code(&o), 0, "{what}, round {round}: the retry: {}", stderr(&o));
        }
        assert_eq!(holders(&codex, &dir.home(), &rt), [dir.home().join("accounts/m/auth.json")]);
        let status: Value =
            serde_json::from_str(&stdout(&run(dir.cli().args(["--account", "m", "status", "--json"]))))
                .unwrap();
        assert_eq!(status["logged_in"], true, "{what}, round {round}");
    }
    eprintln!(
        "{what}: {ROUNDS} moves killed, {interrupted} before they ended, {two_with_journal} with a journal to settle"
    );
    assert!(interrupted > 0, "{what}: no kill landed inside a move");
}

#[test]
fn import_move_killed_at_random_points_keeps_one_holder_on_one_file_system() {
    let root = tempfile::tempdir().unwrap();
    kill_moves_on(root.path(), "one file system");
}

#[test]
fn import_move_killed_at_random_points_across_file_systems_is_settled_by_the_journal() {
    // /dev/shm is a tmpfs: another file system than the temp dir's.
    let Ok(root) = tempfile::tempdir_in("/dev/shm") else {
        panic!("this test needs /dev/shm (a tmpfs) for a second file system");
    };
    let vault_dev = std::os::unix::fs::MetadataExt::dev(&fs::metadata(std::env::temp_dir()).unwrap());
    let shm_dev = std::os::unix::fs::MetadataExt::dev(&fs::metadata(root.path()).unwrap());
    assert_ne!(vault_dev, shm_dev, "/dev/shm must be another file system than the temp dir");
    kill_moves_on(root.path(), "across file systems");
}
