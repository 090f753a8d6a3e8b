//! GET/HEAD /v1/image[/<transform>][/v<version>]/<public_id> delivery, and POST /v1/image/sign.
//!
//! Request flow, in the order the docs describe it: parse the URL, find the asset, check access
//! (public, signed, or owner credentials), redirect a stale version, answer 304 from the ETag alone
//! when possible, then serve from memory, else disk, else the render supervisor. Caching headers
//! come from `http::caching`; the URL grammar from `delivery::path`.
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use imgcloud_actors::catalog::{Asset, GetAsset, GetManaged, Visibility};
use imgcloud_actors::domain::now_unix;
use imgcloud_actors::public_id::{url_needs_version, PublicId};
use imgcloud_actors::render::{Render, RenditionKey};
use imgcloud_actors::DomainError;
use imgcloud_engine::Transform;
use serde::Deserialize;
use serde_json::json;

use crate::delivery::{delivery_path, parse_delivery_path, DeliveryPath};
use crate::http::caching::{cache_control, none_match, tagged, Access};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{optional_principal, render_client, Authenticated};
use crate::state::{ask, AppState};

/// The catalog's asset for a public_id: the metadata cache, else the catalog actor.
async fn find_asset(state: &AppState, public_id: &PublicId) -> ApiResult<Arc<Asset>> {
    match state.catalog_view.cached(public_id.as_str()) {
        Some(a) => Ok(a),
        None => ask("catalog", &state.catalog, GetAsset { public_id: public_id.as_str().to_string() }).await,
    }
}

/// The asset a delivery path names, and the reading that named it. A path with two readings
/// (`/v1/image/v2/photo`) is version 2 of `photo` while an asset `photo` exists, else the asset
/// `v2/photo`: the versioned reading wins, so a versioned URL, cached as immutable, never changes
/// meaning while its asset exists; the unversioned one is what is left when it names nothing.
async fn resolve(state: &AppState, path: DeliveryPath) -> ApiResult<(DeliveryPath, Arc<Asset>)> {
    match find_asset(state, &path.public_id).await {
        Err(ApiError(DomainError::NotFound(missing))) => match path.unversioned_reading() {
            Some(path) => {
                let asset = find_asset(state, &path.public_id).await?;
                Ok((path, asset))
            }
            None => Err(ApiError(DomainError::NotFound(missing))),
        },
        found => Ok((path, found?)),
    }
}

/// Every Accept header line, joined as RFC 9110 allows; `None` when there is none (or it is not text).
/// The usual single line is borrowed, not copied.
fn accept_header(req: &HttpRequest) -> Option<Cow<'_, str>> {
    let mut lines = req.headers().get_all(header::ACCEPT).filter_map(|v| v.to_str().ok());
    let first = lines.next()?;
    match lines.next() {
        None => Some(Cow::Borrowed(first)),
        Some(second) => Some(Cow::Owned([first, second].into_iter().chain(lines).collect::<Vec<_>>().join(","))),
    }
}

#[derive(Deserialize)]
pub struct SignedQuery {
    expires: Option<String>,
    sig: Option<String>,
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
    if tail.is_empty() {
        // `/v1/image` and `/v1/image/` name no image (and no route, before delivery took the scope).
        return Err(ApiError(DomainError::NotFound(format!("image '{}'", req.path()))));
    }
    let (DeliveryPath { transform, version, public_id, .. }, asset) = resolve(&state, parse_delivery_path(tail)?).await?;
    // Access first: a version's existence is told only to those who may see the asset.
    let access = check_access(&req, &state, &asset, &q).await?;
    let d = &state.settings.delivery;
    let tag = HeaderValue::try_from(asset.cache_tag()).map_err(|e| ApiError(DomainError::internal(e)))?;

    match version {
        // An older version redirects to the current one, so pages that embed an old versioned URL
        // keep showing the image (Cloudinary serves any version number). The redirect is cached like
        // the unversioned URL: briefly, and purged by tag with the asset.
        Some(v) if v < asset.version => {
            let mut b = HttpResponse::Found();
            b.insert_header((header::LOCATION, delivery_path(&transform, Some(asset.version), public_id.as_str())))
                .insert_header((header::CACHE_CONTROL, cache_control(access, false, d)));
            tagged(&mut b, d, &tag);
            return Ok(b.finish());
        }
        // A version that does not exist yet may exist after the next overwrite: 404, never cached.
        Some(v) if v > asset.version => {
            return Err(ApiError(DomainError::NotFound(format!("version {v} of '{}' (the current version is {})", public_id.as_str(), asset.version))));
        }
        _ => {}
    }

    let key = RenditionKey::new(&asset.storage_key, transform, accept_header(&req).as_deref());
    // A memory hit carries its ETag; otherwise it follows from the key.
    let in_memory = state.renditions.get_memory(&key);
    let etag = match &in_memory {
        Some(r) => HeaderValue::from_str(&r.etag),
        None => HeaderValue::try_from(key.etag()),
    }
    .map_err(|e| ApiError(DomainError::internal(e)))?;
    let not_modified = none_match(req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()), etag.to_str().unwrap_or_default());
    let mut b = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    b.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control(access, version.is_some(), d)))
        .insert_header((header::CROSS_ORIGIN_RESOURCE_POLICY, HeaderValue::from_static("cross-origin")));
    tagged(&mut b, d, &tag);
    if key.auto().is_some() {
        b.insert_header((header::VARY, HeaderValue::from_static("Accept")));
    }
    if not_modified {
        return Ok(b.finish());
    }

    let rendition = match in_memory {
        Some(r) => {
            counter(&MEMORY_HITS, || metrics::counter!("cache_hits_total", "tier" => "memory")).increment(1);
            r
        }
        None => {
            let cache = state.renditions.clone();
            let k = key.clone();
            match web::block(move || cache.get_disk(&k)).await.ok().flatten() {
                Some(r) => {
                    counter(&DISK_HITS, || metrics::counter!("cache_hits_total", "tier" => "disk")).increment(1);
                    r
                }
                None => {
                    counter(&MISSES, || metrics::counter!("cache_misses_total")).increment(1);
                    // Only misses spend a client's render budget; hits above never reach it.
                    let client = Some(render_client(&req, &state).await);
                    let original = state.catalog_view.original_path(&asset.storage_key);
                    let rx = state.render.send(Render { key, original, client }).await??;
                    rx.await.map_err(|_| ApiError(DomainError::Internal("render worker went away".into())))??
                }
            }
        }
    };
    if req.method() == actix_web::http::Method::GET {
        state.usage.record(asset.owner, rendition.bytes.len() as u64);
    }
    Ok(b.content_type(HeaderValue::from_static(rendition.content_type())).body(rendition.bytes.clone()))
}

static MEMORY_HITS: OnceLock<metrics::Counter> = OnceLock::new();
static DISK_HITS: OnceLock<metrics::Counter> = OnceLock::new();
static MISSES: OnceLock<metrics::Counter> = OnceLock::new();

/// A counter registered on first use and kept: naming it per request built and hashed its key
/// every time. (First use, not start-up: the recorder must be installed before it is registered.)
fn counter(slot: &'static OnceLock<metrics::Counter>, register: impl FnOnce() -> metrics::Counter) -> &'static metrics::Counter {
    slot.get_or_init(register)
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
    let ttl = imgcloud_actors::limits::SIGN_TTL_SECS.check_as("ttl_seconds", ttl).map_err(DomainError::from)? as i64;
    let transform = b.transform.map(TransformField::into_transform).transpose()?.unwrap_or_default();
    let public_id = PublicId::parse(&b.public_id)?;
    let asset = ask("catalog", &state.catalog, GetManaged { caller: p.user, public_id: public_id.as_str().to_string() }).await?;
    let version = url_needs_version(public_id.as_str()).then_some(asset.version);
    let path = delivery_path(&transform, version, public_id.as_str());
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
