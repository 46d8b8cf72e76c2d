//! The exported `openai` interface and its `answer` resource.

use super::*;
use crate::openai::{self, AnswerShape, ApiError, Translated, answer, models};
use std::cell::RefCell;

/// The exported `answer` resource.
pub(super) struct AnswerResource(RefCell<answer::Answer>);

impl x::openai::Guest for Component {
    type Answer = AnswerResource;

    fn chat_request(body: Vec<u8>) -> Result<Translated, ApiError> {
        openai::chat_request::translate(&body)
    }
    fn responses_request(body: Vec<u8>) -> Result<Translated, ApiError> {
        openai::responses_request::translate(&body)
    }
    fn upstream_error(status: u16, body: Vec<u8>, now: i64) -> openai::upstream_error::ErrorAnswer {
        openai::upstream_error::translate(status, &body, now)
    }
    fn error_body(error: ApiError) -> Vec<u8> {
        error.to_json().to_string().into_bytes()
    }
    fn models_path() -> String {
        models::list_path()
    }
    fn offered_models(answer: Option<(u16, Vec<u8>)>, now_ms: i64) -> models::ModelList {
        models::from_answer(answer.as_ref().map(|(status, body)| (*status, body.as_slice())), now_ms)
    }
    fn models_body(offered: models::ModelList) -> Vec<u8> {
        models::list_object(&offered).to_string().into_bytes()
    }
    fn model_body(id: String) -> Vec<u8> {
        models::model_object(&id).to_string().into_bytes()
    }
    fn streams_usage(tails: Vec<Vec<u8>>) -> Vec<Option<answer::TokenUsage>> {
        tails.iter().map(|tail| openai::stream_usage::stream_usage(tail)).collect()
    }
    fn stream_opening() -> openai::OpeningHold {
        openai::stream_opening()
    }
}

impl x::openai::GuestAnswer for AnswerResource {
    fn new(shape: AnswerShape, model: String, now: i64) -> Self {
        Self(RefCell::new(answer::Answer::new(shape, &model, now)))
    }
    fn feed(&self, chunk: Vec<u8>) -> Vec<u8> {
        self.0.borrow_mut().feed(&chunk)
    }
    fn finish(&self, broke: Option<String>) -> answer::Whole {
        self.0.borrow_mut().finish(broke.as_deref())
    }
}
