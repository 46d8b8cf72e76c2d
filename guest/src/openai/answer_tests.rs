//! Recorded Responses streams (`guest/testdata/responses/`) through every
//! answer shape.

use super::*;
use crate::openai::sse::Framer;

const TEXT: &str = include_str!("../../testdata/responses/text.sse");
const TOOL_CALL: &str = include_str!("../../testdata/responses/tool_call.sse");
const REFUSAL: &str = include_str!("../../testdata/responses/refusal.sse");
const FAILED: &str = include_str!("../../testdata/responses/failed.sse");
const INCOMPLETE: &str = include_str!("../../testdata/responses/incomplete.sse");

/// The stream fed event by event: what each event gave the client, and
/// what the end gave.
fn event_by_event(shape: AnswerShape, stream: &str) -> (Vec<Vec<Value>>, Whole) {
    let mut answer = Answer::new(shape, "gpt-5", 1);
    let given = stream.split_inclusive("\n\n").map(|event| datas(&answer.feed(event.as_bytes()))).collect();
    (given, answer.finish(None))
}

/// Everything the client got, as the `data:` of each event (`[DONE]` as a string).
fn streamed(shape: AnswerShape, stream: &str) -> Vec<Value> {
    let (given, end) = event_by_event(shape, stream);
    let mut all: Vec<Value> = given.into_iter().flatten().collect();
    all.extend(datas(&end.body));
    all
}

fn datas(bytes: &[u8]) -> Vec<Value> {
    Framer::default()
        .push(bytes)
        .unwrap()
        .into_iter()
        .map(|e| serde_json::from_str(&e.data).unwrap_or(Value::String(e.data)))
        .collect()
}

fn deltas(chunks: &[Value]) -> Vec<Value> {
    chunks.iter().filter_map(|c| c["choices"].get(0).map(|c| c["delta"].clone())).collect()
}

fn whole(shape: AnswerShape, stream: &str) -> (u16, Value) {
    let (_, end) = event_by_event(shape, stream);
    (end.status, serde_json::from_slice(&end.body).unwrap())
}

#[test]
fn text_streams_in_openais_order_each_delta_as_it_arrives() {
    let (given, _) = event_by_event(AnswerShape::ChatStreamWithUsage, TEXT);
    // The first event gives the role chunk; each text delta its own chunk, at once.
    assert_eq!(deltas(&given[0]), vec![json!({"role": "assistant", "content": "", "refusal": null})]);
    assert_eq!(deltas(&given[6]), vec![json!({"content": "Hello"})]);
    assert_eq!(deltas(&given[7]), vec![json!({"content": ", world."})]);

    let chunks = streamed(AnswerShape::ChatStreamWithUsage, TEXT);
    assert_eq!(chunks.len(), 6, "{chunks:#?}");
    for chunk in &chunks[..5] {
        assert_eq!(chunk["id"], "chatcmpl-0a1b");
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(
            (chunk["created"].clone(), chunk["model"].clone()),
            (json!(1764720000), json!("gpt-5-2025-08-07"))
        );
    }
    assert!(chunks[..4].iter().all(|c| c["usage"].is_null() && c.get("usage").is_some()));
    assert_eq!(
        chunks[3]["choices"][0],
        json!({"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"})
    );
    assert_eq!(chunks[4]["choices"], json!([]));
    assert_eq!(
        chunks[4]["usage"],
        json!({"prompt_tokens": 21, "completion_tokens": 13, "total_tokens": 34,
               "prompt_tokens_details": {"cached_tokens": 8}, "completion_tokens_details": {"reasoning_tokens": 5}})
    );
    assert_eq!(chunks[5], "[DONE]");
    // Without `include_usage`: no usage chunk, no `usage` field.
    let plain = streamed(AnswerShape::ChatStream, TEXT);
    assert_eq!(plain.len(), 5);
    assert!(plain[..4].iter().all(|c| c.get("usage").is_none()));
}

#[test]
fn any_split_of_the_stream_gives_the_same_answer() {
    for stream in [TEXT, TOOL_CALL, REFUSAL, FAILED, INCOMPLETE] {
        let expected = streamed(AnswerShape::ChatStream, stream);
        for size in [1, 7, 64, 1000] {
            let mut answer = Answer::new(AnswerShape::ChatStream, "gpt-5", 1);
            let mut out = Vec::new();
            for piece in stream.as_bytes().chunks(size) {
                out.extend(answer.feed(piece));
            }
            out.extend(answer.finish(None).body);
            assert_eq!(datas(&out), expected, "pieces of {size}");
        }
    }
}

#[test]
fn tool_calls_stream_their_heads_and_arguments_and_finish_with_tool_calls() {
    let chunks = streamed(AnswerShape::ChatStream, TOOL_CALL);
    let deltas = deltas(&chunks);
    assert_eq!(
        deltas[1],
        json!({"tool_calls": [{"index": 0, "id": "call_W1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]})
    );
    let arguments = |index: usize| -> String {
        deltas
            .iter()
            .filter_map(|d| d["tool_calls"].get(0))
            .filter(|c| c["index"] == index)
            .filter_map(|c| c["function"]["arguments"].as_str())
            .collect()
    };
    assert_eq!(arguments(0), "{\"city\": \"Paris\"}");
    // The second call's arguments came only with its `done` event.
    assert_eq!(arguments(1), "{\"zone\":\"CET\"}");
    assert_eq!(chunks[chunks.len() - 2]["choices"][0]["finish_reason"], "tool_calls");

    let (status, completion) = whole(AnswerShape::ChatWhole, TOOL_CALL);
    assert_eq!(status, 200);
    assert_eq!(completion["object"], "chat.completion");
    let choice = &completion["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([
            {"id": "call_W1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"id": "call_W2", "type": "function", "function": {"name": "get_time", "arguments": "{\"zone\":\"CET\"}"}}
        ])
    );
    assert_eq!(completion["usage"]["total_tokens"], 62);
}

#[test]
fn a_whole_chat_answer_carries_the_text_or_the_refusal() {
    let (status, completion) = whole(AnswerShape::ChatWhole, TEXT);
    assert_eq!(status, 200);
    assert_eq!(completion["id"], "chatcmpl-0a1b");
    assert_eq!(
        completion["choices"][0],
        json!({"index": 0, "message": {"role": "assistant", "content": "Hello, world.", "refusal": null, "annotations": []},
               "logprobs": null, "finish_reason": "stop"})
    );
    assert_eq!(completion["usage"]["prompt_tokens_details"]["cached_tokens"], 8);

    let (_, refused) = whole(AnswerShape::ChatWhole, REFUSAL);
    assert_eq!(refused["choices"][0]["message"]["refusal"], "I can't help with that.");
    assert_eq!(deltas(&streamed(AnswerShape::ChatStream, REFUSAL))[1], json!({"refusal": "I can't help"}));

    let (_, cut) = whole(AnswerShape::ChatWhole, INCOMPLETE);
    assert_eq!(cut["choices"][0]["finish_reason"], "length");
    assert_eq!(cut["choices"][0]["message"]["content"], "Once upon");
}

#[test]
fn a_failed_response_is_an_error_in_openais_shape() {
    let chunks = streamed(AnswerShape::ChatStream, FAILED);
    assert_eq!(
        deltas(&chunks),
        vec![json!({"role": "assistant", "content": "", "refusal": null}), json!({"content": "Part"})]
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["error"]["code"], "server_error");
    assert_eq!(last["error"]["type"], "server_error");
    assert!(!chunks.contains(&json!("[DONE]")));

    let (status, error) = whole(AnswerShape::ChatWhole, FAILED);
    assert_eq!(
        (status, error["error"]["message"].as_str()),
        (500, Some("The model had an error while generating the response."))
    );
    let limit = "data: {\"type\":\"response.failed\",\"response\":{\"error\":{\"code\":\"usage_limit_reached\",\"message\":\"limit\"}}}\n\n";
    let (status, error) = whole(AnswerShape::ResponsesWhole, limit);
    assert_eq!((status, error["error"]["type"].as_str()), (429, Some("rate_limit_error")));
}

#[test]
fn a_stream_that_breaks_off_ends_with_an_error_not_a_silent_cut() {
    let half = &TEXT[..TEXT.find("event: response.output_text.done").unwrap()];
    let mut answer = Answer::new(AnswerShape::ChatStream, "gpt-5", 1);
    answer.feed(half.as_bytes());
    let end = answer.finish(Some("connection reset"));
    let error = &datas(&end.body)[0]["error"];
    assert_eq!(error["code"], "upstream_disconnected");
    assert!(error["message"].as_str().unwrap().contains("connection reset"));

    let mut answer = Answer::new(AnswerShape::ChatWhole, "gpt-5", 1);
    answer.feed(half.as_bytes());
    assert_eq!(answer.finish(None).status, 502);
}

#[test]
fn a_whole_responses_answer_is_the_last_response_with_its_output_items() {
    let (status, response) = whole(AnswerShape::ResponsesWhole, TEXT);
    assert_eq!(status, 200);
    assert_eq!(
        (response["object"].clone(), response["status"].clone()),
        (json!("response"), json!("completed"))
    );
    let kinds: Vec<&str> =
        response["output"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["reasoning", "message"]);
    assert_eq!(response["output"][1]["content"][0]["text"], "Hello, world.");
    assert_eq!(response["usage"]["output_tokens"], 13);
    // A last event that lists its output is taken as it is.
    let (_, calls) = whole(AnswerShape::ResponsesWhole, TOOL_CALL);
    assert_eq!(calls["output"].as_array().unwrap().len(), 2);
}

#[test]
fn a_streamed_responses_answer_passes_through_untouched_and_counts_its_tokens() {
    let mut answer = Answer::new(AnswerShape::ResponsesStream, "gpt-5", 1);
    let mut out = Vec::new();
    for piece in TEXT.as_bytes().chunks(100) {
        out.extend(answer.feed(piece));
    }
    assert_eq!(out, TEXT.as_bytes());
    let usage = TokenUsage { input: 21, output: 13, cached: 8, reasoning: 5 };
    assert_eq!(answer.finish(None), Whole { status: 200, body: Vec::new(), usage: Some(usage) });
    // Fed from the chunk that holds the last event only (the gateway's tap
    // on a pass-through stream): the same count.
    let mut tap = Answer::new(AnswerShape::ResponsesStream, "gpt-5", 1);
    let from = TEXT.find("event: response.completed").unwrap() - 40;
    tap.feed(&TEXT.as_bytes()[from..]);
    assert_eq!(tap.finish(None).usage, Some(usage));
}

#[test]
fn every_shape_counts_the_tokens_of_a_completed_answer() {
    for &shape in AnswerShape::ALL {
        let (_, end) = event_by_event(shape, TOOL_CALL);
        assert_eq!(end.usage.map(|u| (u.input, u.output)), Some((40, 22)), "{shape:?}");
    }
    assert_eq!(event_by_event(AnswerShape::ChatWhole, FAILED).1.usage, None);
}

#[test]
fn nothing_follows_the_end_even_in_the_chunk_that_carried_it() {
    let after = "data: {\"type\":\"response.output_text.delta\",\"delta\":\"late\"}\n\n";
    let stream = format!("{TEXT}{after}");
    let mut answer = Answer::new(AnswerShape::ChatStream, "gpt-5", 1);
    let mut out = answer.feed(stream.as_bytes());
    out.extend(answer.finish(None).body);
    let chunks = datas(&out);
    assert_eq!(chunks.last().unwrap(), "[DONE]");
    assert!(!String::from_utf8_lossy(&out).contains("late"));
}
