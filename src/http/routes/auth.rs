//! /v1/auth/*: login, logout, me, change-password.
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use imgcloud_actors::auth::{ChangePassword, Login, Logout};
use imgcloud_actors::domain::{Email, Principal};
use serde::Deserialize;
use serde_json::json;

use crate::http::error::ApiResult;
use crate::http::extract::{client_ip, Authenticated, SessionAuth, SessionCookie, session_cookie_name};
use crate::state::{ask, AppState};

#[derive(Deserialize)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[derive(Deserialize)]
pub struct ChangePasswordBody {
    current_password: String,
    new_password: String,
}

fn me_json(p: &Principal) -> serde_json::Value {
    let mut v = serde_json::to_value(&p.user).unwrap_or_default();
    v["via"] = serde_json::to_value(p.via).unwrap_or_default();
    v
}

/// Path=/, Secure over https and no Domain: what the `__Host-` name (`session_cookie_name`) needs.
fn session_cookie(state: &AppState, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(session_cookie_name(&state.settings), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.public_url_is_https())
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

pub async fn login(req: HttpRequest, state: web::Data<AppState>, body: web::Json<LoginBody>) -> ApiResult<HttpResponse> {
    let LoginBody { email, password } = body.into_inner();
    // Parsed before any bucket: a malformed or oversized email is a 400 that costs no limiter memory.
    let email = Email::parse(&email)?;
    let rl = &state.settings.rate_limit;
    let ip = client_ip(&req, &state.settings.server.proxies);
    state
        .rate_limit(vec![
            (format!("login-ip:{ip}"), rl.login_per_ip_per_minute),
            (format!("login-email:{}", email.as_str()), rl.login_per_email_per_minute),
        ])
        .await?;
    let (user, token) = ask("password", &state.passwords, Login { email, password }).await?;
    let cookie = session_cookie(&state, token, state.settings.auth.session_ttl());
    let me = me_json(&Principal { user, via: imgcloud_actors::domain::Via::Session });
    Ok(HttpResponse::Ok().cookie(cookie).json(me))
}

pub async fn logout(SessionCookie(token): SessionCookie, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    if let Some(token) = token {
        ask("auth", &state.auth, Logout { token }).await?;
    }
    Ok(HttpResponse::Ok().cookie(session_cookie(&state, String::new(), 0)).json(json!({ "ok": true })))
}

pub async fn me(Authenticated(p): Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(me_json(&p))
}

pub async fn change_password(
    s: SessionAuth,
    state: web::Data<AppState>,
    body: web::Json<ChangePasswordBody>,
) -> ApiResult<HttpResponse> {
    let user_id = s.principal.user.id;
    // Per user, not per IP: each attempt costs a bcrypt, and the caller is already known.
    state.rate_limit(vec![(format!("change-password-user:{user_id}"), state.settings.rate_limit.change_password_per_user_per_minute)]).await?;
    let b = body.into_inner();
    let msg = ChangePassword { user_id, current: b.current_password, new: b.new_password, keep_token: Some(s.token) };
    ask("password", &state.passwords, msg).await?;
    Ok(HttpResponse::Ok().json(json!({ "ok": true })))
}
