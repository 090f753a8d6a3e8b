//! Authentication extractors: `Authenticated` (session or API key), `SessionAuth` (browser only), `Admin`,
//! and `SessionCookie` (the raw cookie, for logout). Every cookie path passes the one CSRF check here.
//!
//! Handlers name the principal they need; no handler body checks credentials itself.
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use imgcloud_actors::auth::{ResolveSession, VerifyApiKey};
use imgcloud_actors::domain::Principal;
use imgcloud_actors::DomainError;

use crate::http::error::ApiError;
use crate::state::{ask, AppState};

pub const SESSION_COOKIE: &str = "imgcloud_session";

/// Any authenticated caller.
pub struct Authenticated(pub Principal);

/// A caller signed in with a browser session; carries the session token (to keep it on password change).
pub struct SessionAuth {
    pub principal: Principal,
    pub token: String,
}

/// An authenticated admin.
pub struct Admin(pub Principal);

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

fn unauth(msg: &str) -> ApiError { ApiError(DomainError::Unauthenticated(msg.into())) }

/// The caller's own origin: the configured public URL, or the Host it addressed us by.
fn same_origin(req: &HttpRequest, state: &AppState) -> bool {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    // No Origin/Referer at all means a non-browser client, which cannot be a CSRF vector.
    let Some(origin) = origin else { return true };
    let matches = |base: &str| origin == base || origin.starts_with(&format!("{base}/"));
    if matches(&state.settings.server.public_url) {
        return true;
    }
    let ci = req.connection_info();
    matches(&format!("{}://{}", ci.scheme(), ci.host()))
}

/// The CSRF rule: a cookie carries ambient authority, so a state-changing request that brings one
/// from a foreign origin is refused. Every extractor that reads the session cookie calls this.
fn refuse_cross_origin(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !same_origin(req, state) {
        return Err(ApiError(DomainError::Forbidden("cross-origin request refused (CSRF protection)".into())));
    }
    Ok(())
}

/// Credentials when the request has them, `None` when it has none (for routes that are public by default).
pub async fn optional_principal(req: &HttpRequest) -> Result<Option<Principal>, ApiError> {
    Ok(resolve(req).await?.map(|(p, _)| p))
}

/// Resolves credentials: an `Authorization: ApiKey id:secret` header wins; else the session cookie.
async fn resolve(req: &HttpRequest) -> Result<Option<(Principal, Option<String>)>, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().expect("AppState registered").clone();
    if let Some(h) = req.headers().get(header::AUTHORIZATION) {
        let h = h.to_str().map_err(|_| unauth("malformed Authorization header"))?;
        let rest = h
            .strip_prefix("ApiKey ")
            .ok_or_else(|| unauth("Authorization must be 'ApiKey <key_id>:<key_secret>'"))?;
        let (key_id, secret) = rest
            .trim()
            .split_once(':')
            .ok_or_else(|| unauth("Authorization must be 'ApiKey <key_id>:<key_secret>'"))?;
        let p = ask("auth", &state.auth, VerifyApiKey { key_id: key_id.into(), secret: secret.into() }).await?;
        return Ok(Some((p, None)));
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE) else { return Ok(None) };
    refuse_cross_origin(req, &state)?;
    let token = cookie.value().to_string();
    let p = ask("auth", &state.auth, ResolveSession { token: token.clone() }).await?;
    Ok(Some((p, Some(token))))
}

/// The session cookie's token, unresolved (logout ends a session whether or not it is still valid),
/// `None` without a cookie. A cookie sent cross-origin is refused like any other cookie mutation.
pub struct SessionCookie(pub Option<String>);

impl FromRequest for SessionCookie {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().expect("AppState registered");
        let token = match req.cookie(SESSION_COOKIE) {
            Some(c) => refuse_cross_origin(req, state).map(|()| Some(c.value().to_string())),
            None => Ok(None),
        };
        std::future::ready(token.map(SessionCookie).map_err(Into::into))
    }
}

impl FromRequest for Authenticated {
    type Error = actix_web::Error;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match resolve(&req).await? {
                Some((p, _)) => Ok(Authenticated(p)),
                None => Err(unauth("missing credentials: send 'Authorization: ApiKey <key_id>:<key_secret>' or sign in").into()),
            }
        })
    }
}

impl FromRequest for SessionAuth {
    type Error = actix_web::Error;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match resolve(&req).await? {
                Some((principal, Some(token))) => Ok(SessionAuth { principal, token }),
                Some((_, None)) => Err(ApiError(DomainError::Forbidden("this endpoint needs a browser session, not an API key".into())).into()),
                None => Err(unauth("missing session: sign in with POST /v1/auth/login").into()),
            }
        })
    }
}

impl FromRequest for Admin {
    type Error = actix_web::Error;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inner = Authenticated::from_request(req, payload);
        Box::pin(async move {
            let Authenticated(p) = inner.await?;
            if p.user.is_admin() {
                Ok(Admin(p))
            } else {
                Err(ApiError(DomainError::Forbidden("admin role required".into())).into())
            }
        })
    }
}

/// The client's IP for rate limiting: the socket peer, or a proxy header when `trusted_proxy` says so.
pub fn client_ip(req: &HttpRequest, trusted_proxy: bool) -> String {
    if trusted_proxy {
        let h = req.headers();
        if let Some(ip) = h.get("cf-connecting-ip").and_then(|v| v.to_str().ok()) {
            return ip.trim().to_string();
        }
        if let Some(ip) = h.get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()) {
            return ip.trim().to_string();
        }
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}
