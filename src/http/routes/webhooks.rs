//! /v1/webhooks: register, list, enable or disable, and remove webhook endpoints (owner-scoped; an admin sees and changes all).
use actix_web::{web, HttpResponse};
use imgcloud_actors::webhooks::{CreateEndpoint, DeleteEndpoint, ListEndpoints, SetEndpointEnabled};
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    enabled: bool,
}

/// `{"enabled": true}` turns a disabled endpoint back on (it gets events from then on); `false` stops it.
pub async fn patch(Authenticated(p): Authenticated, state: web::Data<AppState>, id: web::Path<String>, body: web::Json<PatchBody>) -> ApiResult<HttpResponse> {
    let endpoint = ask("webhooks", &state.webhooks, SetEndpointEnabled { caller: p.user, id: id.into_inner(), enabled: body.enabled }).await?;
    Ok(HttpResponse::Ok().json(endpoint))
}

pub async fn delete(Authenticated(p): Authenticated, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    ask("webhooks", &state.webhooks, DeleteEndpoint { caller: p.user, id: id.into_inner() }).await?;
    Ok(HttpResponse::NoContent().finish())
}
