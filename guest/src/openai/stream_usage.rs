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
    let mut framer = Framer::default();
    let mut events = framer.push(tail).ok()?;
    events.extend(framer.finish());
    for event in &events {
        // A piece of an event cut off at the tail's start is not JSON: skipped.
        let Ok(data) = serde_json::from_str::<Value>(&event.data) else { continue };
        match data["type"].as_str().unwrap_or(&event.name) {
            "response.completed" | "response.incomplete" => return token_usage(&data["response"]["usage"]),
            "response.failed" | "error" => return None,
            _ => {}
        }
    }
    None
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
