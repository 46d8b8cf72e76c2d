//! The tokens of a Responses stream the gateway passes on as it is, read
//! from its end. The gateway keeps the stream's last pieces (from the one
//! before the end event on) and asks once, after the stream is over, off
//! the client's path: one call, and nothing is translated.

use super::answer::{TokenUsage, token_usage};
use super::sse::Framer;
use serde_json::Value;

/// The tokens the end event (`response.completed` or `response.incomplete`)
/// in `tail` counts: the end of a stream, cut anywhere before that event
/// began. `None` without one, when it counts none, or when the stream
/// failed first; events are read as [`super::answer::Answer`] reads them.
pub fn stream_usage(tail: &[u8]) -> Option<TokenUsage> {
    // An event the stream left without its closing blank line is not one
    // (as the WHATWG format says, and as the answer passed on reads it).
    let events = Framer::default().push(tail).ok()?;
    for event in &events {
        let (kind, usage) = match serde_json::from_str::<Skimmed>(&event.data) {
            Ok(skimmed) => (
                skimmed.kind.map_or_else(|| event.name.clone(), |k| k.into_owned()),
                skimmed.response.and_then(|r| r.usage).unwrap_or_default(),
            ),
            // Whatever the skim cannot take (a piece of an event cut off at
            // the tail's start, a `type` that is no string, a key twice) is
            // read as the answer reads it.
            Err(_) => {
                // Not JSON: skipped, as the answer skips it.
                let Ok(data) = serde_json::from_str::<Value>(&event.data) else { continue };
                let kind = data["type"].as_str().unwrap_or(&event.name).to_owned();
                (kind, data["response"]["usage"].clone())
            }
        };
        match kind.as_str() {
            "response.completed" | "response.incomplete" => return token_usage(&usage),
            "response.failed" | "error" => return None,
            _ => {}
        }
    }
    None
}

/// An event's data with all but its type and usage skipped unread: the end
/// event carries the whole answer, and only its usage counts here.
#[derive(serde::Deserialize)]
struct Skimmed<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
    response: Option<SkimmedResponse>,
}

#[derive(serde::Deserialize)]
struct SkimmedResponse {
    usage: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::AnswerShape;
    use crate::openai::answer::Answer;

    fn recorded(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/testdata/responses/{name}.sse", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn the_end_of_a_stream_counts_what_the_whole_answer_counts() {
        for name in ["text", "tool_call", "refusal", "incomplete", "failed"] {
            let stream = recorded(name);
            let mut answer = Answer::new(AnswerShape::ResponsesStream, "m", 0);
            answer.feed(&stream);
            let counted = answer.finish(None).usage;
            assert_eq!(stream_usage(&stream), counted, "{name}");
            // The tail from anywhere before the end event's start gives the same.
            let end = stream.windows(6).rposition(|w| w == b"event:").unwrap_or(0);
            for start in (0..=end).rev().step_by(7).take(40) {
                assert_eq!(stream_usage(&stream[start..]), counted, "{name} from byte {start}");
            }
        }
        assert!(stream_usage(&recorded("text")).is_some_and(|u| u.input > 0 && u.output > 0));
        assert_eq!(stream_usage(&recorded("failed")), None, "a failed answer counts nothing");
    }

    #[test]
    fn a_tail_without_its_end_event_counts_nothing() {
        let stream = recorded("text");
        let data = br#"data: {"type":"response.completed""#;
        let cut = stream.windows(data.len()).position(|w| w == data).unwrap();
        assert_eq!(stream_usage(&stream[cut + 8..]), None, "the end event's data cut off at its start");
        assert_eq!(stream_usage(&stream[..cut]), None);
        assert_eq!(stream_usage(b""), None);
    }
}
