//! OpenAI's APIs for generic clients: `POST /v1/chat/completions`,
//! `POST /v1/responses` and `GET /v1/models[/{id}]`. The guest translates
//! (`codex_auth::openai`): the client's request into one the Codex backend
//! takes, the backend's stream into the client's answer, piece by piece as
//! it arrives. Each worker has a translator of its own; sending, rotation
//! and limits are the gateway's ([`gateway::exchange`]).

use crate::answers::{json_response, with_translator};
use crate::gateway::{self, RequestBody};
use crate::respond::{self, Body};
use crate::{Shared, lock};
use bytes::Bytes;
use codex_auth::openai::{ApiError, ModelList, Translated, Translator};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use std::sync::Mutex;

/// The largest request a client may send to be translated (images come
/// inline, base64-encoded).
const MAX_REQUEST: usize = 64 << 20;

/// The model list, shared by all workers, kept while the guest says it holds.
#[derive(Default)]
pub(crate) struct ModelsCache(Mutex<Option<(ModelList, Bytes)>>);

/// Which API a request speaks.
#[derive(Clone, Copy)]
pub(crate) enum Api {
    ChatCompletions,
    Responses,
}

/// `POST /v1/chat/completions` and `POST /v1/responses`.
pub(crate) async fn translate(
    shared: &Shared,
    request: Request<Incoming>,
    api: Api,
) -> (Response<Body>, Option<String>) {
    if request.method() != Method::POST {
        return (respond::error(405, "method_not_allowed", "use POST"), None);
    }
    let (parts, body) = request.into_parts();
    let bytes = match respond::read_body(body, MAX_REQUEST).await {
        Ok(bytes) => bytes,
        Err(answer) => return (answer, None),
    };
    let translated = with_translator(shared, |t| match api {
        Api::ChatCompletions => t.chat_request(&bytes),
        Api::Responses => t.responses_request(&bytes),
    });
    let Translated { body, model, shape } = match translated {
        Ok(Ok(translated)) => translated,
        Ok(Err(error)) => return (api_error(shared, &error), None),
        Err(e) => return (respond::error(500, "internal", &e.to_string()), None),
    };
    let body = RequestBody::Kept(body.into());
    gateway::exchange(shared, &parts, body, "/responses", model, Some(shape)).await
}

/// `GET /v1/models` and `GET /v1/models/{id}`: the backend's list for the
/// accounts in use, kept while the guest says it holds; the built-in list
/// when the backend cannot be asked.
pub(crate) async fn models(
    shared: &Shared,
    request: Request<Incoming>,
    id: Option<&str>,
) -> (Response<Body>, Option<String>) {
    if request.method() != Method::GET {
        return (respond::error(405, "method_not_allowed", "use GET"), None);
    }
    let now_ms = shared.auth.blocking().options().clock.now_ms();
    let cached = lock(&shared.models.0).as_ref().filter(|(list, _)| now_ms < list.valid_until_ms).cloned();
    let (list, body, account) = match cached {
        Some((list, body)) => (list, body, None),
        None => {
            let (answer, account) = ask_models(shared).await;
            let made = with_translator(shared, |t| {
                let list = t.offered_models(answer.as_ref().map(|(s, b)| (*s, b.as_ref())), now_ms)?;
                let body = t.models_body(&list)?;
                Ok((list, Bytes::from(body)))
            });
            let (list, body) = match made {
                Ok(made) => made,
                Err(e) => return (respond::error(500, "internal", &e.to_string()), None),
            };
            *lock(&shared.models.0) = Some((list.clone(), body.clone()));
            (list, body, account)
        }
    };
    let Some(id) = id else { return (json_response(200, body.to_vec()), account) };
    if !list.ids.iter().any(|known| known == id) {
        let message = format!("The model `{id}` does not exist or the accounts in use cannot use it");
        return (respond::error(404, "model_not_found", &message), account);
    }
    match with_translator(shared, |t| t.model_body(id)) {
        Ok(body) => (json_response(200, body), account),
        Err(e) => (respond::error(500, "internal", &e.to_string()), account),
    }
}

/// The backend's model list with an account's headers, if it answers.
async fn ask_models(shared: &Shared) -> (Option<(u16, Bytes)>, Option<String>) {
    let Ok(route) = gateway::route(shared, &None, &None, &mut gateway::Routed::default()).await else {
        return (None, None);
    };
    let Ok(path) = with_translator(shared, Translator::models_path) else { return (None, None) };
    let url = format!("{}{path}", shared.options.upstream.trim_end_matches('/'));
    let mut request = shared.client.get(url);
    for (name, value) in route.route.headers.iter() {
        request = request.header(name, value);
    }
    let account = Some(route.route.account.clone());
    let Ok(answer) = request.send().await else { return (None, account) };
    let status = answer.status().as_u16();
    match answer.bytes().await {
        Ok(body) => (Some((status, body)), account),
        Err(_) => (None, account),
    }
}

fn api_error(shared: &Shared, error: &ApiError) -> Response<Body> {
    match with_translator(shared, |t| t.error_body(error)) {
        Ok(body) => json_response(error.status, body),
        Err(e) => respond::error(500, "internal", &e.to_string()),
    }
}
