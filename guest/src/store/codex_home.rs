//! Whether the Codex CLI uses an account's store too, and what follows for
//! refresh.
//!
//! The Codex CLI sends its refresh request with the refresh token it read
//! at start, *before* it takes `auth.lock` (PROTOCOL.md, Refresh: measured
//! with strace on 0.169 and 0.171). So on a home it also uses, any other
//! refresher inside Codex's 5-minute window can present the same token
//! second and get the whole family revoked, however well it locks. One
//! refresher per home, chosen on purpose: on such a store codex-auth leaves
//! that window to Codex and refreshes only in a short final window, when the
//! token has expired, on a 401, or when forced.

use crate::platform::HomeSigns;

/// Names the Codex CLI leaves in a Codex home it has used and codex-auth
/// never writes in an account's directory: its settings, its sessions and
/// logs, and the lock it takes to write `auth.json`.
pub const SIGNS: [&str; 9] = [
    "config.toml",
    "auth.json.lock",
    "sessions",
    "archived_sessions",
    "history.jsonl",
    "log",
    "version.json",
    "AGENTS.md",
    "sqlite",
];

/// The Codex CLI's own home, as it computes it: `$CODEX_HOME`, else `.codex`
/// in the user's home directory; `None` when neither is known.
pub fn default_home(codex_home: Option<&str>, user_home: Option<&str>) -> Option<String> {
    match (codex_home.filter(|v| !v.is_empty()), user_home.filter(|v| !v.is_empty())) {
        (Some(dir), _) => Some(dir.to_owned()),
        (None, Some(home)) => {
            Some(format!("{}/{}", home.trim_end_matches('/'), crate::defaults::CODEX_HOME_DIR))
        }
        (None, None) => None,
    }
}

/// Whether the Codex CLI uses a store too: an account imported in place (a
/// Codex home by definition), the Codex CLI's own home, or a directory
/// holding what the Codex CLI leaves behind.
pub fn shared(linked: bool, signs: &HomeSigns) -> bool {
    linked || signs.is_codex_home || !signs.present.is_empty()
}

/// How long before `exp` a refresh is due: the configured skew, or on a
/// shared store the final window only (never longer than the skew).
pub fn refresh_skew(shared: bool, skew_seconds: u32, shared_seconds: u32) -> u32 {
    if shared { skew_seconds.min(shared_seconds) } else { skew_seconds }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codex_home_is_codex_home_else_dot_codex() {
        assert_eq!(default_home(Some("/c"), Some("/u")).as_deref(), Some("/c"));
        assert_eq!(default_home(Some(""), Some("/u/")).as_deref(), Some("/u/.codex"));
        assert_eq!(default_home(None, Some("/u")).as_deref(), Some("/u/.codex"));
        assert_eq!(default_home(None, None), None);
    }

    #[test]
    fn linked_codex_homes_and_signs_of_codex_make_a_store_shared() {
        let none = HomeSigns::default();
        assert!(!shared(false, &none));
        assert!(shared(true, &none));
        assert!(shared(false, &HomeSigns { is_codex_home: true, present: vec![] }));
        assert!(shared(false, &HomeSigns { is_codex_home: false, present: vec!["sessions".into()] }));
    }

    #[test]
    fn a_shared_store_refreshes_only_in_the_final_window() {
        assert_eq!(refresh_skew(false, 300, 60), 300);
        assert_eq!(refresh_skew(true, 300, 60), 60);
        // A shorter skew of the user's own stays.
        assert_eq!(refresh_skew(true, 30, 60), 30);
    }
}
