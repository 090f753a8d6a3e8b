//! /v1/webhooks: register, list and remove webhook endpoints (owner-scoped; an admin sees and removes all).
use actix_web::{web, HttpResponse};
use imgcloud_actors::webhooks::{CreateEndpoint, DeleteEndpoint, ListEndpoints};
use serde::Deserialize;
use serde_json::json;

use crate::http::error::ApiResult;
use crate::http::extract::Authenticated;
use crate::outbound::ssrf;
use crate::state::{ask, AppState};

#[derive(Deserialize)]
pub struct CreateBody {
    url: String,
    /// Omitted or empty: every event.
    #[serde(default)]
    events: Vec<String>,
}

/// 201 with the endpoint and its `secret`, the only time the secret is shown.
pub async fn create(Authenticated(p): Authenticated, state: web::Data<AppState>, body: web::Json<CreateBody>) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let url = ssrf::check_target(&b.url, state.settings.webhooks.allow_private_targets).await?;
    let created = ask("webhooks", &state.webhooks, CreateEndpoint { owner: p.user, url: url.to_string(), events: b.events }).await?;
    Ok(HttpResponse::Created().json(created))
}

pub async fn list(Authenticated(p): Authenticated, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let list = ask("webhooks", &state.webhooks, ListEndpoints { caller: p.user }).await?;
    Ok(HttpResponse::Ok().json(json!({ "webhooks": list })))
}

pub async fn delete(Authenticated(p): Authenticated, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    ask("webhooks", &state.webhooks, DeleteEndpoint { caller: p.user, id: id.into_inner() }).await?;
    Ok(HttpResponse::NoContent().finish())
}
