//! Authentication extractors: `Authenticated` (session or API key), `SessionAuth` (browser only), `Admin`,
//! and `SessionCookie` (the raw cookie, for logout). Every cookie path passes the one CSRF check here.
//!
//! Handlers name the principal they need; no handler body checks credentials itself.
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use imgcloud_actors::auth::{ResolveSession, VerifyApiKey};
use imgcloud_actors::domain::Principal;
use imgcloud_actors::DomainError;

use crate::config::{Settings, TrustedProxies};
use crate::http::error::ApiError;
use crate::state::{ask, AppState};

/// The session cookie's name: `session_cookie_name` picks one of these.
const SESSION_COOKIE: &str = "imgcloud_session";
const HOST_SESSION_COOKIE: &str = "__Host-imgcloud_session";

/// With an https public URL the session cookie is `__Host-` prefixed: browsers keep such a cookie
/// only when it is Secure, Path=/ and has no Domain, so a sibling subdomain cannot plant one that
/// the server would read. Plain-http development keeps the plain name (browsers drop a `__Host-`
/// cookie that is not Secure). The only name read and the only name written.
pub fn session_cookie_name(settings: &Settings) -> &'static str {
    if settings.public_url_is_https() { HOST_SESSION_COOKIE } else { SESSION_COOKIE }
}

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

/// Whether the request's Origin (else Referer) is our own. A configured public URL is the only
/// origin accepted. Without one (development: the public URL is the bound address) the origin the
/// browser addressed also counts: its Host header, or what a trusted proxy says in
/// `Forwarded`/`X-Forwarded-Host`/`X-Forwarded-Proto`; those headers from anyone else are ignored,
/// since any client can send them.
fn same_origin(req: &HttpRequest, state: &AppState) -> bool {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    // No Origin/Referer at all means a non-browser client, which cannot be a CSRF vector.
    let Some(origin) = origin else { return true };
    let matches = |base: &str| origin == base || origin.starts_with(&format!("{base}/"));
    let server = &state.settings.server;
    if matches(&server.public_url) {
        return true;
    }
    if server.public_url_configured {
        return false;
    }
    let behind_proxy = req.peer_addr().is_some_and(|a| server.proxies.contains(&a.ip()));
    if behind_proxy {
        let ci = req.connection_info();
        return matches(&format!("{}://{}", ci.scheme(), ci.host()));
    }
    // We listen on plain http only; TLS, if any, ends at a proxy.
    req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).is_some_and(|host| matches(&format!("http://{host}")))
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
    let Some(cookie) = req.cookie(session_cookie_name(&state.settings)) else { return Ok(None) };
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
        let token = match req.cookie(session_cookie_name(&state.settings)) {
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
            if p.user.sees_all() {
                Ok(Admin(p))
            } else {
                Err(ApiError(DomainError::Forbidden("admin role required".into())).into())
            }
        })
    }
}

/// Who a render budget belongs to (`imgcloud_actors::fairness`): the signed-in user (session or API
/// key), else the client IP by `client_ip`'s rule. Credentials that do not resolve count as none: a
/// public image needs none, and a bad key must not turn a delivery into a 401.
pub async fn render_client(req: &HttpRequest, state: &AppState) -> String {
    match optional_principal(req).await {
        Ok(Some(p)) => imgcloud_actors::fairness::client_of_user(p.user.id),
        _ => imgcloud_actors::fairness::client_of_ip(&client_ip(req, &state.settings.server.proxies)),
    }
}

/// The client's IP for rate limiting: the socket peer, or what a trusted proxy in front of us says it is.
pub fn client_ip(req: &HttpRequest, proxies: &TrustedProxies) -> String {
    let h = req.headers();
    let cf = h.get("cf-connecting-ip").and_then(|v| v.to_str().ok());
    let xff: Vec<&str> = h.get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    match resolve_client_ip(req.peer_addr().map(|a| a.ip()), cf, &xff, proxies) {
        Some(ip) => ip.to_string(),
        None => "unknown".into(),
    }
}

/// Headers count only when the socket peer is a trusted proxy, since anyone else can send them. Each proxy
/// appends the address it received the connection from to X-Forwarded-For, so the right-most hop that is not
/// itself a trusted proxy is the first one no client could have written; everything left of it is hearsay.
fn resolve_client_ip(peer: Option<IpAddr>, cf_connecting_ip: Option<&str>, xff: &[&str], proxies: &TrustedProxies) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if !proxies.contains(&peer) {
        return Some(peer);
    }
    if let Some(ip) = cf_connecting_ip.and_then(|v| v.trim().parse::<IpAddr>().ok()) {
        return Some(ip.to_canonical());
    }
    let mut nearest = peer;
    for hop in xff.iter().rev().flat_map(|v| v.rsplit(',')) {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if proxies.contains(&ip) => nearest = ip.to_canonical(),
            Ok(ip) => return Some(ip.to_canonical()),
            // A hop we cannot read: the chain is broken here, so stop at the last proxy we trust.
            Err(_) => return Some(nearest),
        }
    }
    Some(nearest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr { s.parse().unwrap() }

    fn resolve(peer: &str, cf: Option<&str>, xff: &[&str], trusted: &[&str]) -> String {
        let proxies = TrustedProxies::from_config(false, &trusted.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        resolve_client_ip(Some(ip(peer)), cf, xff, &proxies).unwrap().to_string()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        assert_eq!(resolve("198.51.100.9", Some("1.2.3.4"), &["5.6.7.8"], &[]), "198.51.100.9");
        assert_eq!(resolve("198.51.100.9", Some("1.2.3.4"), &["5.6.7.8"], &["10.0.0.0/8"]), "198.51.100.9");
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let t = &["127.0.0.1/32", "10.0.0.0/8"];
        assert_eq!(resolve("127.0.0.1", None, &["6.6.6.6, 203.0.113.7"], t), "203.0.113.7");
        assert_eq!(resolve("127.0.0.1", None, &["6.6.6.6, 203.0.113.7, 10.1.2.3"], t), "203.0.113.7");
        // Repeated header lines form one list, in order.
        assert_eq!(resolve("127.0.0.1", None, &["6.6.6.6", "203.0.113.7,10.1.2.3"], t), "203.0.113.7");
        assert_eq!(resolve("127.0.0.1", None, &[" 2001:db8::1 "], t), "2001:db8::1");
    }

    #[test]
    fn without_a_usable_header_the_nearest_trusted_hop_is_used() {
        let t = &["127.0.0.1/32", "10.0.0.0/8"];
        assert_eq!(resolve("127.0.0.1", None, &[], t), "127.0.0.1");
        assert_eq!(resolve("127.0.0.1", None, &["10.0.0.5, 10.0.0.6"], t), "10.0.0.5", "all hops are proxies");
        assert_eq!(resolve("127.0.0.1", None, &["6.6.6.6, garbage, 10.0.0.6"], t), "10.0.0.6", "chain broken at garbage");
        assert_eq!(resolve("127.0.0.1", Some("not-an-ip"), &[], t), "127.0.0.1");
    }

    #[test]
    fn cf_connecting_ip_is_honoured_from_a_trusted_peer_only() {
        assert_eq!(resolve("127.0.0.1", Some("192.0.2.44"), &["6.6.6.6"], &["127.0.0.1"]), "192.0.2.44");
        assert_eq!(resolve("192.0.2.1", Some("192.0.2.44"), &[], &["127.0.0.1"]), "192.0.2.1");
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_ranges() {
        assert_eq!(resolve("::ffff:127.0.0.1", None, &["203.0.113.7"], &["127.0.0.1/32"]), "203.0.113.7");
        assert_eq!(resolve("::ffff:198.51.100.9", None, &["203.0.113.7"], &["127.0.0.1/32"]), "198.51.100.9");
    }
}
