//! Account names: each is a directory name in the vault's home and a word
//! on a command line, so only one safe path component will do.

/// Longest account name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// Whether `name` can name an account: one path component that is safe in
/// a file name and on a command line. The error says what is wrong.
pub fn check_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{}` cannot name an account: {why}", name.escape_debug()));
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.chars().count() > MAX_NAME_LEN {
        return bad(&format!("it is longer than {MAX_NAME_LEN} characters"));
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return bad(&format!(
            "it holds {}",
            if c.is_whitespace() { "white space" } else { "a control character" }
        ));
    }
    if name.contains(['/', '\\']) {
        return bad("it holds a path separator");
    }
    if name.contains("..") {
        return bad("it holds `..`");
    }
    if name.starts_with(['.', '-']) {
        return bad("it starts with `.` or `-`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_safe_path_component() {
        for good in ["work", "default", "ada@example.com", "team_2", "a.b", "Ünïcode"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "a/b",
            "..",
            "a..b",
            "../x",
            "with space",
            "tab\there",
            "nl\n",
            "bell\u{7}",
            ".hidden",
            "-flag",
            "a\\b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"x".repeat(MAX_NAME_LEN)).is_ok());
        assert!(check_name(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(check_name("a b").unwrap_err().contains("white space"));
    }
}
