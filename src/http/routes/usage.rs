//! GET /v1/usage/summary: storage, asset count and delivered bandwidth; admins may ask for everyone.
use actix_web::{web, HttpResponse};
use imgcloud_actors::catalog::{Usage, UsageAll};
use imgcloud_actors::DomainError;
use serde::Deserialize;
use serde_json::json;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Authenticated;
use crate::state::{ask, AppState};

#[derive(Deserialize)]
pub struct Params {
    #[serde(default)]
    all: bool,
}

pub async fn summary(Authenticated(p): Authenticated, state: web::Data<AppState>, q: web::Query<Params>) -> ApiResult<HttpResponse> {
    // Counters still in memory are flushed first, so the summary includes the latest deliveries.
    state.flush_usage().await;
    if q.all {
        if !p.user.is_admin() {
            return Err(ApiError(DomainError::Forbidden("all=true needs the admin role".into())));
        }
        let users = ask("catalog", &state.catalog, UsageAll {}).await?;
        let sum = |f: fn(&imgcloud_actors::catalog::UsageFigures) -> i64| users.iter().map(|u| f(&u.figures)).sum::<i64>();
        let totals = json!({
            "storage_bytes": sum(|f| f.storage_bytes),
            "asset_count": sum(|f| f.asset_count),
            "bandwidth_bytes": sum(|f| f.bandwidth_bytes),
            "requests": sum(|f| f.requests),
        });
        return Ok(HttpResponse::Ok().json(json!({ "users": users, "totals": totals })));
    }
    let figures = ask("catalog", &state.catalog, Usage { user_id: p.user.id }).await?;
    Ok(HttpResponse::Ok().json(figures))
}
