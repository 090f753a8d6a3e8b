//! /v1/users: admin-only user management.
use actix_web::{web, HttpResponse};
use imgcloud_actors::auth::{CreateUser, DeleteUser, ListUsers, UpdateUser};
use imgcloud_actors::domain::Role;
use serde::Deserialize;
use serde_json::json;

use crate::http::error::ApiResult;
use crate::http::extract::Admin;
use crate::state::{ask, AppState};

#[derive(Deserialize)]
pub struct CreateBody {
    email: String,
    password: String,
    #[serde(default = "default_role")]
    role: String,
}

fn default_role() -> String { "user".into() }

#[derive(Deserialize)]
pub struct PatchBody {
    email: Option<String>,
    password: Option<String>,
    role: Option<String>,
}

pub async fn list(_: Admin, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let users = ask("auth", &state.auth, ListUsers {}).await?;
    Ok(HttpResponse::Ok().json(json!({ "users": users })))
}

pub async fn create(_: Admin, state: web::Data<AppState>, body: web::Json<CreateBody>) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let role = Role::parse(&b.role)?;
    let user = ask("password", &state.passwords, CreateUser { email: b.email, password: b.password, role }).await?;
    Ok(HttpResponse::Created().json(user))
}

pub async fn update(_: Admin, state: web::Data<AppState>, id: web::Path<i64>, body: web::Json<PatchBody>) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let role = b.role.as_deref().map(Role::parse).transpose()?;
    let renamed = b.email.is_some();
    let user = ask("password", &state.passwords, UpdateUser { id: id.into_inner(), email: b.email, password: b.password, role }).await?;
    if renamed {
        // Cached asset rows carry their owner's email; the catalog cannot see a users-table write.
        state.catalog_view.forget_all();
    }
    Ok(HttpResponse::Ok().json(user))
}

pub async fn delete(_: Admin, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    ask("auth", &state.auth, DeleteUser { id: id.into_inner() }).await?;
    Ok(HttpResponse::NoContent().finish())
}
