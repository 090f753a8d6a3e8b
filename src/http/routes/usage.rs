//! GET /v1/usage/summary and /v1/usage/daily: storage, asset count and delivered bandwidth; admins may ask for everyone.
use actix_web::{web, HttpResponse};
use imgcloud_actors::catalog::{Usage, UsageAll, UsageDaily};
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

/// `all=true` is for admins only.
fn check_all(p: &imgcloud_actors::domain::Principal, all: bool) -> ApiResult<()> {
    if all && !p.user.sees_all() {
        return Err(ApiError(DomainError::Forbidden("all=true needs the admin role".into())));
    }
    Ok(())
}

pub async fn summary(Authenticated(p): Authenticated, state: web::Data<AppState>, q: web::Query<Params>) -> ApiResult<HttpResponse> {
    check_all(&p, q.all)?;
    // Counters still in memory are flushed first, so the summary includes the latest deliveries.
    state.flush_usage().await;
    if q.all {
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

#[derive(Deserialize)]
pub struct DailyParams {
    #[serde(default)]
    all: bool,
    days: Option<u32>,
}

/// Longest window: a year, leap day included.
const MAX_DAYS: u32 = 366;

/// Per-UTC-day bandwidth and requests for the last `days` days (default 30), oldest first, today last.
pub async fn daily(Authenticated(p): Authenticated, state: web::Data<AppState>, q: web::Query<DailyParams>) -> ApiResult<HttpResponse> {
    check_all(&p, q.all)?;
    let days = q.days.unwrap_or(30);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError(DomainError::Invalid(format!("days must be from 1 to {MAX_DAYS} (got {days})"))));
    }
    state.flush_usage().await;
    let user_id = (!q.all).then_some(p.user.id);
    let rows = ask("catalog", &state.catalog, UsageDaily { user_id, days }).await?;
    Ok(HttpResponse::Ok().json(json!({ "days": rows, "all": q.all })))
}
