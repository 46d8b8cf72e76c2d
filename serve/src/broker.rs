//! The broker's endpoints: ready headers and tokens for other processes,
//! the accounts (no secrets), a refresh, and 401 recovery. No answer ever
//! carries a refresh token.

use crate::Shared;
use crate::respond::{self, Body};
use codex_auth::{Auth, Error, RequestHeaders, Secret};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::{Value, json};

/// The largest request body a broker endpoint reads.
const MAX_BODY: usize = 64 << 10;

pub async fn route(shared: &Shared, request: Request<Incoming>) -> (Response<Body>, Option<String>) {
    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let param = |name: &str| query.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let (account, session) = (param("account"), param("session"));
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let result = match (request.method().clone(), segments.as_slice()) {
        (Method::GET, ["v1", "headers"]) => headers(shared, account, session).await.map(|(name, headers)| {
            let value = json!({"account": name, "headers": header_map(&headers)});
            (value, Some(name))
        }),
        (Method::GET, ["v1", "token"]) => headers(shared, account, session).await.map(|(name, headers)| {
            // The bearer of the headers is the token; nothing else is read.
            let token =
                headers.get("Authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default();
            (json!({"account": name, "token": token}), Some(name))
        }),
        (Method::GET, ["v1", "accounts"]) => shared
            .auth
            .run(|auth| auth.accounts())
            .await
            .and_then(|list| serde_json::to_value(list).map_err(|e| Error::Internal(e.to_string())))
            .map(|list| (json!({"accounts": list}), None)),
        (Method::POST, ["v1", "accounts", name, "refresh"]) => {
            let name = (*name).to_owned();
            shared
                .auth
                .run(move |auth| {
                    let status = auth.account(&name)?.refresh(true)?;
                    Ok((status, name))
                })
                .await
                .and_then(|(status, name)| {
                    // Routes to it carry the token it had before.
                    shared.routes.taught(&name);
                    let value = serde_json::to_value(status).map_err(|e| Error::Internal(e.to_string()))?;
                    Ok((json!({"account": name, "status": value}), Some(name)))
                })
        }
        (Method::POST, ["v1", "unauthorized"]) => match read_json(request).await {
            Err(response) => return (response, None),
            Ok(body) => {
                let token = body["token"].as_str().map(str::to_owned);
                let named = body["account"].as_str().map(str::to_owned).or(account);
                match token {
                    None => {
                        return (
                            respond::error(400, "invalid_input", "send {\"token\": <the rejected token>}"),
                            None,
                        );
                    }
                    Some(token) => {
                        shared.auth.run(move |auth| recover(auth, named.as_deref(), token)).await.map(
                            |(name, headers)| {
                                // Routes to it carry the rejected token.
                                shared.routes.taught(&name);
                                (json!({"account": name, "headers": header_map(&headers)}), Some(name))
                            },
                        )
                    }
                }
            }
        },
        (_, ["v1", ..]) | (_, ["healthz"]) => {
            return (
                respond::error(404, "not_found", &format!("no endpoint {} {path}", request.method())),
                None,
            );
        }
        _ => return (respond::error(404, "not_found", &format!("nothing at {path}")), None),
    };
    match result {
        Ok((value, account)) => (respond::json(200, &value), account),
        Err(e) => (respond::auth_error(&e), None),
    }
}

/// Headers of the named account, else of the one the pool chooses (the
/// guest's route, reused while it holds, as the gateway does).
async fn headers(
    shared: &Shared,
    account: Option<String>,
    session: Option<String>,
) -> Result<(String, RequestHeaders), Error> {
    match account {
        Some(name) => {
            shared
                .auth
                .run(move |auth| {
                    let account = auth.account(&name)?;
                    Ok((account.name().to_owned(), account.request_headers()?))
                })
                .await
        }
        None => {
            let route = crate::gateway::route(shared, &session, &None, &mut Default::default()).await?;
            Ok((route.route.account.clone(), route.route.headers.clone()))
        }
    }
}

/// 401 recovery for the account the rejected token belongs to.
fn recover(auth: &Auth, account: Option<&str>, token: String) -> Result<(String, RequestHeaders), Error> {
    let name = match account {
        Some(name) => name.to_owned(),
        None => auth.current_account()?,
    };
    let account = auth.account(&name)?;
    account.unauthorized(&Secret::from(token))?;
    Ok((name, account.request_headers()?))
}

fn header_map(headers: &RequestHeaders) -> Value {
    headers.iter().map(|(n, v)| (n.to_owned(), Value::from(v))).collect::<serde_json::Map<_, _>>().into()
}

async fn read_json(request: Request<Incoming>) -> Result<Value, Response<Body>> {
    let bytes = respond::read_body(request.into_body(), MAX_BODY).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| respond::error(400, "invalid_json", &format!("the body is not JSON: {e}")))
}
