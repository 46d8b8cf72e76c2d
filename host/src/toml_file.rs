//! Reading a TOML file as JSON for the guest, which decides what its keys
//! mean: codex-auth's own `codex-auth.toml`, and the sign-in keys of a
//! Codex home's `config.toml`. Syntax errors name the line and column and
//! never quote the line (it may hold a key).

use std::path::Path;

/// Why a file could not be read as TOML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TomlError {
    /// It exists but cannot be read.
    Read(String),
    /// It is not TOML.
    Syntax(String),
}

impl TomlError {
    pub fn message(self) -> String {
        match self {
            Self::Read(why) | Self::Syntax(why) => why,
        }
    }
}

/// The file's contents as JSON text; `None` when there is no file.
pub(crate) fn read_as_json(path: &Path) -> Result<Option<String>, TomlError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(TomlError::Read(format!("cannot read {}: {e}", path.display()))),
    };
    let value: serde_json::Value = toml::from_str(&text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start).min(text.len());
        let line = text[..at].matches('\n').count() + 1;
        let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        TomlError::Syntax(format!("{}: line {line}, column {column}: {}", path.display(), e.message().trim()))
    })?;
    Ok(Some(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_out_errors_by_line_and_column_and_no_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(read_as_json(&path), Ok(None));
        std::fs::write(&path, "model = \"gpt-5\"\n[x]\nk = 1\n").unwrap();
        let json: serde_json::Value = serde_json::from_str(&read_as_json(&path).unwrap().unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"model": "gpt-5", "x": {"k": 1}}));
        std::fs::write(&path, "model = \"gpt-5\"\napi_key = sk-secret\n").unwrap();
        let Err(TomlError::Syntax(why)) = read_as_json(&path) else { panic!() };
        assert!(why.contains("line 2, column 11") && !why.contains("sk-secret"), "{why}");
    }
}
