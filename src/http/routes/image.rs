//! GET/HEAD /v1/image[/<transform>]/<public_id> delivery, and POST /v1/image/sign.
//!
//! Request flow, in the order the docs describe it: parse the URL, find the asset, check access
//! (public, signed, or owner credentials), answer 304 from the ETag alone when possible, then serve
//! from memory, else disk, else the render supervisor.
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use imgcloud_actors::catalog::{Asset, GetAsset, GetManaged, Visibility};
use imgcloud_actors::domain::now_unix;
use imgcloud_actors::public_id::PublicId;
use imgcloud_actors::render::{Render, Rendition, RenditionKey};
use imgcloud_actors::DomainError;
use imgcloud_engine::Transform;
use serde::Deserialize;
use serde_json::json;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{optional_principal, Authenticated};
use crate::state::{ask, AppState};

/// Splits the path after /v1/image/ into a transform and a public_id, per the contract's rule.
pub fn parse_delivery_path(tail: &str) -> Result<(Transform, PublicId), DomainError> {
    let (t, id) = match tail.split_once('/') {
        Some((first, rest)) if imgcloud_engine::transform::is_transform_segment(first) => {
            (Transform::parse(first)?, rest)
        }
        _ => (Transform::default(), tail),
    };
    Ok((t, PublicId::parse(id)?))
}

/// Every Accept header line, joined as RFC 9110 allows; `None` when there is none (or it is not text).
fn accept_header(req: &HttpRequest) -> Option<String> {
    let lines: Vec<&str> = req.headers().get_all(header::ACCEPT).filter_map(|v| v.to_str().ok()).collect();
    (!lines.is_empty()).then(|| lines.join(","))
}

/// `If-None-Match` with the weak comparison RFC 9110 13.1.2 asks for: `W/"x"` matches `"x"`.
pub(crate) fn none_match(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|v| {
        v.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
    })
}

#[derive(Deserialize)]
pub struct SignedQuery {
    expires: Option<String>,
    sig: Option<String>,
}

enum Access {
    Public,
    Signed { seconds_left: i64 },
    Owner,
}

async fn check_access(req: &HttpRequest, state: &AppState, asset: &Asset, q: &SignedQuery) -> ApiResult<Access> {
    if asset.visibility == Visibility::Public {
        return Ok(Access::Public);
    }
    if q.sig.is_some() || q.expires.is_some() {
        let forbidden = |m: &str| ApiError(DomainError::Forbidden(m.into()));
        let expires: i64 = q.expires.as_deref().and_then(|e| e.parse().ok()).ok_or_else(|| forbidden("invalid or missing expires"))?;
        let sig = q.sig.as_deref().ok_or_else(|| forbidden("missing sig"))?;
        let now = now_unix();
        state.signer.verify(req.path(), expires, &asset.storage_key, sig, now)?;
        return Ok(Access::Signed { seconds_left: expires - now });
    }
    match optional_principal(req).await? {
        Some(p) if asset.may_manage(&p.user) => Ok(Access::Owner),
        Some(_) => Err(ApiError(DomainError::Forbidden("this private asset belongs to another user".into()))),
        None => Err(ApiError(DomainError::Unauthenticated("private asset: use a signed URL or the owner's credentials".into()))),
    }
}

pub async fn deliver(req: HttpRequest, state: web::Data<AppState>, q: web::Query<SignedQuery>) -> ApiResult<HttpResponse> {
    let tail = req.path().strip_prefix("/v1/image/").unwrap_or_default();
    let (transform, public_id) = parse_delivery_path(tail)?;
    let asset: Arc<Asset> = match state.catalog_view.cached(public_id.as_str()) {
        Some(a) => a,
        None => ask("catalog", &state.catalog, GetAsset { public_id: public_id.as_str().to_string() }).await?,
    };
    let access = check_access(&req, &state, &asset, &q).await?;

    let key = RenditionKey::new(&asset.storage_key, transform, accept_header(&req).as_deref());
    let auto = key.auto().is_some();
    let etag = format!("\"{}\"", &key.fingerprint()[..32]);
    let cache_control = match access {
        Access::Public => format!("public, max-age={}", state.settings.delivery.max_age_secs),
        Access::Signed { seconds_left } => format!("public, max-age={}", seconds_left.max(0)),
        Access::Owner => "private, no-store".to_string(),
    };
    let headers = |b: &mut actix_web::HttpResponseBuilder| {
        b.insert_header((header::ETAG, etag.clone()))
            .insert_header((header::CACHE_CONTROL, cache_control.clone()))
            .insert_header(("cross-origin-resource-policy", "cross-origin"));
        if auto {
            b.insert_header((header::VARY, "Accept"));
        }
    };

    let not_modified = none_match(req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()), &etag);
    if not_modified {
        let mut b = HttpResponse::NotModified();
        headers(&mut b);
        return Ok(b.finish());
    }

    let rendition = match state.renditions.get_memory(&key) {
        Some(r) => {
            metrics::counter!("cache_hits_total", "tier" => "memory").increment(1);
            r
        }
        None => {
            let cache = state.renditions.clone();
            let k = key.clone();
            match web::block(move || cache.get_disk(&k)).await.ok().flatten() {
                Some(r) => {
                    metrics::counter!("cache_hits_total", "tier" => "disk").increment(1);
                    r
                }
                None => {
                    metrics::counter!("cache_misses_total").increment(1);
                    let original = state.catalog_view.original_path(&asset.storage_key);
                    let rx = state.render.send(Render { key, original }).await??;
                    rx.await.map_err(|_| ApiError(DomainError::Internal("render worker went away".into())))??
                }
            }
        }
    };
    if req.method() == actix_web::http::Method::GET {
        state.usage.record(asset.owner, rendition.bytes.len() as u64);
    }
    Ok(respond(&rendition, headers))
}

fn respond(r: &Rendition, headers: impl Fn(&mut actix_web::HttpResponseBuilder)) -> HttpResponse {
    let mut b = HttpResponse::Ok();
    headers(&mut b);
    b.content_type(r.content_type.as_str()).body(r.bytes.clone())
}

#[derive(Deserialize)]
pub struct SignBody {
    public_id: String,
    #[serde(default)]
    transform: Option<TransformField>,
    #[serde(default)]
    ttl_seconds: Option<i64>,
}

/// `transform` in a sign request: the URL grammar's string (`"w_200,c_fill"`), or the same keys as a
/// JSON object (`{"w": 200, "c": "fill"}`), which REST readers of the docs reach for first.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum TransformField {
    Text(String),
    Object(serde_json::Map<String, serde_json::Value>),
}

impl TransformField {
    /// Both forms go through the one grammar, so ranges, canonical order and error messages are the URL's own.
    fn into_transform(self) -> Result<Transform, DomainError> {
        let text = match self {
            TransformField::Text(t) => t.trim().to_string(),
            TransformField::Object(m) => object_as_grammar(&m)?,
        };
        if text.is_empty() {
            return Ok(Transform::default());
        }
        Ok(Transform::parse(&text)?)
    }
}

/// `{"w": 200, "gr": true, "dpr": null}` -> `w_200,gr_1`. null and false leave a key out; numbers and
/// strings are written as the grammar's values. Separators inside a key or value would smuggle in
/// another item, so they are refused here rather than parsed.
fn object_as_grammar(m: &serde_json::Map<String, serde_json::Value>) -> Result<String, DomainError> {
    use serde_json::Value;
    let bad = |k: &str, why: &str| DomainError::Invalid(format!("invalid transform: {k}: {why}"));
    let mut items = Vec::with_capacity(m.len());
    for (k, v) in m {
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad(k, "unknown transform key"));
        }
        let value = match v {
            Value::Null | Value::Bool(false) => continue,
            Value::Bool(true) => "1".to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) if s.contains([',', '/']) => return Err(bad(k, "value must not contain ',' or '/'")),
            Value::String(s) => s.clone(),
            Value::Array(_) | Value::Object(_) => return Err(bad(k, "value must be a number, a string or true")),
        };
        items.push(format!("{k}_{value}"));
    }
    Ok(items.join(","))
}

pub async fn sign(Authenticated(p): Authenticated, state: web::Data<AppState>, body: web::Json<SignBody>) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let ttl = b.ttl_seconds.unwrap_or(state.settings.delivery.default_sign_ttl_secs as i64);
    if !(1..=604_800).contains(&ttl) {
        return Err(ApiError(DomainError::Invalid(format!("ttl_seconds must be from 1 to 604800 (got {ttl})"))));
    }
    let transform = b.transform.map(TransformField::into_transform).transpose()?.unwrap_or_default();
    let public_id = PublicId::parse(&b.public_id)?;
    let asset = ask("catalog", &state.catalog, GetManaged { caller: p.user, public_id: public_id.as_str().to_string() }).await?;
    let path = if transform.is_identity() {
        format!("/v1/image/{}", public_id.as_str())
    } else {
        format!("/v1/image/{transform}/{}", public_id.as_str())
    };
    let expires = now_unix() + ttl;
    let sig = state.signer.sign(&path, expires, &asset.storage_key);
    let expires_at = time::OffsetDateTime::from_unix_timestamp(expires)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok());
    Ok(HttpResponse::Ok().json(json!({
        "url": format!("{}{path}?expires={expires}&sig={sig}", state.settings.public_url()),
        "expires_at": expires_at,
        "expires": expires,
    })))
}

#[cfg(test)]
mod tests {
    use super::none_match;

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = "\"abc\"";
        for header in ["\"abc\"", "W/\"abc\"", "\"x\", W/\"abc\"", " W/\"y\" ,\"abc\" ", "*"] {
            assert!(none_match(Some(header), etag), "{header}");
        }
        for header in ["\"abcd\"", "W/\"ab\"", "abc", "w/\"abc\"", ""] {
            assert!(!none_match(Some(header), etag), "{header}");
        }
        assert!(!none_match(None, etag));
    }
}
