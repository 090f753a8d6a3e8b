//! /v1/api-keys: a signed-in user's keys. Needs a browser session, so a leaked key cannot mint more keys.
use actix_web::{web, HttpResponse};
use imgcloud_actors::auth::{ListKeys, MintKey, RevokeKey};
use serde::Deserialize;
use serde_json::json;

use crate::http::error::ApiResult;
use crate::http::extract::SessionAuth;
use crate::state::{ask, AppState};

#[derive(Deserialize)]
pub struct MintBody {
    name: String,
}

pub async fn list(s: SessionAuth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let keys = ask("auth", &state.auth, ListKeys { user_id: s.principal.user.id }).await?;
    Ok(HttpResponse::Ok().json(json!({ "api_keys": keys })))
}

pub async fn mint(s: SessionAuth, state: web::Data<AppState>, body: web::Json<MintBody>) -> ApiResult<HttpResponse> {
    let key = ask("auth", &state.auth, MintKey { user_id: s.principal.user.id, name: body.into_inner().name }).await?;
    Ok(HttpResponse::Created().json(key))
}

pub async fn revoke(s: SessionAuth, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let key = ask("auth", &state.auth, RevokeKey { caller: s.principal.user, id: id.into_inner() }).await?;
    Ok(HttpResponse::Ok().json(key))
}
