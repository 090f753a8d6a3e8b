//! Operational endpoints: liveness, readiness, Prometheus metrics, and the test-only panic route.
use actix_web::{web, HttpResponse};
use imgcloud_actors::auth::Ping;
use serde_json::json;

use crate::http::extract::Admin;
use crate::state::{ask, AppState};

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the data directory takes a write.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db = ask("auth", &state.auth, Ping {}).await.is_ok();
    let probe = state.settings.server.data_dir.join("tmp").join(".readyz");
    let disk = std::fs::write(&probe, b"ok").is_ok();
    let body = json!({ "database": db, "data_dir": disk });
    if db && disk {
        HttpResponse::Ok().json(body)
    } else {
        let mut v = body;
        v["error"] = json!("not ready");
        HttpResponse::ServiceUnavailable().json(v)
    }
}

/// Prometheus text on the public listener: admins only, since series name routes and traffic.
pub async fn metrics(_admin: Admin, state: web::Data<AppState>) -> HttpResponse {
    render_metrics(&state)
}

/// Prometheus text on the separate `server.metrics_listen` address, which the operator keeps private.
pub async fn metrics_open(state: web::Data<AppState>) -> HttpResponse {
    render_metrics(&state)
}

fn render_metrics(state: &AppState) -> HttpResponse {
    let text = state.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(text)
}

pub async fn panic() -> HttpResponse {
    panic!("deliberate panic from /v1/_debug/panic")
}
