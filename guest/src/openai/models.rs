//! `GET /v1/models` from the backend's own list (the Codex CLI's
//! `GET {base}/models?client_version=...`, answering
//! `{"models": [{"slug": ..., "visibility": ...}, ...]}`), or from
//! [`BUILT_IN`] when the backend cannot be asked.

use serde_json::{Value, json};

/// The Codex CLI version sent as `client_version`: the backend lists the
/// models that version may use.
pub const CLIENT_VERSION: &str = "0.171.0";

/// The path of the model list under the Codex base URL.
pub fn list_path() -> String {
    format!("/models?client_version={CLIENT_VERSION}")
}

/// Models the ChatGPT plans offered to Codex when this was written: the
/// answer when the backend's list cannot be had.
pub const BUILT_IN: &[&str] = &[
    "gpt-5.2-codex",
    "gpt-5.2",
    "gpt-5.1-codex-max",
    "gpt-5.1-codex",
    "gpt-5.1-codex-mini",
    "gpt-5.1",
    "gpt-5-codex",
    "gpt-5",
];

/// How long a list from the backend is used before it is asked again, and
/// how long the built-in list stands in before the backend is tried again.
pub const FROM_BACKEND_MS: i64 = 10 * 60 * 1000;
pub const BUILT_IN_MS: i64 = 60 * 1000;

/// The models offered, and until when the list holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelList {
    pub ids: Vec<String>,
    pub from_backend: bool,
    pub valid_until_ms: i64,
}

/// The list from the backend's answer (status and body), or the built-in
/// one when there is no usable answer. Models the backend hides
/// (`visibility: "hide"` or `"none"`) are left out.
pub fn from_answer(answer: Option<(u16, &[u8])>, now_ms: i64) -> ModelList {
    let ids = answer.filter(|(status, _)| *status == 200).and_then(|(_, body)| parse(body));
    match ids {
        Some(ids) => {
            ModelList { ids, from_backend: true, valid_until_ms: now_ms.saturating_add(FROM_BACKEND_MS) }
        }
        None => ModelList {
            ids: BUILT_IN.iter().map(|&id| id.to_owned()).collect(),
            from_backend: false,
            valid_until_ms: now_ms.saturating_add(BUILT_IN_MS),
        },
    }
}

fn parse(body: &[u8]) -> Option<Vec<String>> {
    let answer: Value = serde_json::from_slice(body).ok()?;
    let ids: Vec<String> = answer["models"]
        .as_array()?
        .iter()
        .filter(|m| !matches!(m["visibility"].as_str(), Some("hide" | "none")))
        .filter_map(|m| m["slug"].as_str().or(m["id"].as_str()))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    (!ids.is_empty()).then_some(ids)
}

/// One model in OpenAI's shape.
pub fn model_object(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": 0, "owned_by": "openai"})
}

/// The list in OpenAI's shape.
pub fn list_object(list: &ModelList) -> Value {
    json!({"object": "list", "data": list.ids.iter().map(|id| model_object(id)).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backends_list_is_used_without_its_hidden_models_and_kept_ten_minutes() {
        let body = br#"{"models": [{"slug": "gpt-5.2-codex", "visibility": "list"}, {"slug": "internal", "visibility": "hide"},
                                  {"slug": "gpt-5.1-codex-mini"}]}"#;
        let list = from_answer(Some((200, body)), 1_000);
        assert_eq!(
            list,
            ModelList {
                ids: vec!["gpt-5.2-codex".into(), "gpt-5.1-codex-mini".into()],
                from_backend: true,
                valid_until_ms: 1_000 + FROM_BACKEND_MS
            }
        );
        let shown = list_object(&list);
        assert_eq!(shown["object"], "list");
        assert_eq!(
            shown["data"][0],
            json!({"id": "gpt-5.2-codex", "object": "model", "created": 0, "owned_by": "openai"})
        );
    }

    #[test]
    fn without_a_usable_answer_the_built_in_list_stands_in_briefly() {
        for answer in [
            None,
            Some((401, &b"{}"[..])),
            Some((200, &b"not json"[..])),
            Some((200, &br#"{"models": []}"#[..])),
        ] {
            let list = from_answer(answer, 0);
            assert!(!list.from_backend);
            assert_eq!(list.ids.len(), BUILT_IN.len());
            assert_eq!(list.valid_until_ms, BUILT_IN_MS);
        }
    }
}
