//! Operational endpoints: liveness, readiness, Prometheus metrics, and the test-only panic route.
use actix_web::{web, HttpResponse};
use imgcloud_actors::auth::Ping;
use serde_json::json;

use crate::http::error::{error_body, NOT_READY};
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
    if db && disk {
        return HttpResponse::Ok().json(json!({ "database": db, "data_dir": disk }));
    }
    let failing: Vec<_> = [(!db).then_some("the database does not answer"), (!disk).then_some("the data directory takes no write")]
        .into_iter()
        .flatten()
        .collect();
    let mut body = error_body(NOT_READY, &format!("not ready: {}", failing.join("; ")));
    body["database"] = json!(db);
    body["data_dir"] = json!(disk);
    HttpResponse::ServiceUnavailable().json(body)
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
