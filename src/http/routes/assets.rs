//! /v1/assets: list, read, patch and delete assets (owner or admin); /v1/folders and /v1/tags name what is there.
use actix_web::{web, HttpResponse};
use imgcloud_actors::catalog::{AssetFieldsInput, DeleteAsset, Folders, GetManaged, ListAssets, ListQuery, Tags, UpdateAsset, Visibility};
use imgcloud_actors::public_id::parse_tags;
use imgcloud_actors::DomainError;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::delivery::asset_json;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Authenticated;
use crate::state::{ask, AppState};

#[derive(Deserialize)]
pub struct ListParams {
    folder: Option<String>,
    folder_prefix: Option<String>,
    tags: Option<String>,
    prefix: Option<String>,
    visibility: Option<String>,
    created_after: Option<String>,
    created_before: Option<String>,
    owner: Option<i64>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn parse_time(field: &str, s: &str) -> Result<i64, ApiError> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| ApiError(DomainError::Invalid(format!("{field} must be an RFC 3339 timestamp (got '{s}')"))))
}

pub async fn list(Authenticated(p): Authenticated, state: web::Data<AppState>, q: web::Query<ListParams>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = imgcloud_actors::limits::LIST_PAGE;
    let limit = page.check_as("limit", q.limit.unwrap_or(page.default as u32)).map_err(DomainError::from)? as u32;
    let cursor = q
        .cursor
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<i64>().map_err(|_| ApiError(DomainError::Invalid("invalid cursor".into()))))
        .transpose()?;
    let query = ListQuery {
        folder: q.folder,
        folder_prefix: q.folder_prefix,
        tags: parse_tags(q.tags.as_deref())?,
        prefix: q.prefix,
        visibility: q.visibility.as_deref().map(Visibility::parse).transpose()?,
        created_after: q.created_after.as_deref().map(|s| parse_time("created_after", s)).transpose()?,
        created_before: q.created_before.as_deref().map(|s| parse_time("created_before", s)).transpose()?,
        owner: q.owner,
        limit,
        cursor,
    };
    let (assets, next) = ask("catalog", &state.catalog, ListAssets { caller: p.user, query }).await?;
    let base = state.settings.public_url();
    Ok(HttpResponse::Ok().json(json!({
        "assets": assets.iter().map(|a| asset_json(a, base)).collect::<Vec<_>>(),
        "next_cursor": next.map(|c| c.to_string()),
    })))
}

pub async fn get(Authenticated(p): Authenticated, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let a = ask("catalog", &state.catalog, GetManaged { caller: p.user, public_id: id.into_inner() }).await?;
    Ok(HttpResponse::Ok().json(asset_json(&a, state.settings.public_url())))
}

/// `tags` may be a JSON array or a comma-separated string.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum TagsField {
    List(Vec<String>),
    Csv(String),
}

#[derive(Deserialize)]
pub struct PatchBody {
    tags: Option<TagsField>,
    folder: Option<String>,
    visibility: Option<String>,
}

/// Catalog writes (PATCH, DELETE) per signed-in user: each one fans out to every subscribed webhook
/// endpoint in its transaction, so their rate is what bounds the outbox's growth. 429 with Retry-After.
async fn write_limit(state: &AppState, user_id: i64) -> ApiResult<()> {
    state.rate_limit(vec![(format!("catalog-write-user:{user_id}"), state.settings.rate_limit.catalog_writes_per_principal_per_minute)]).await
}

pub async fn patch(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<PatchBody>,
) -> ApiResult<HttpResponse> {
    write_limit(&state, p.user.id).await?;
    let b = body.into_inner();
    let tags = b.tags.map(|t| match t {
        TagsField::List(l) => l,
        TagsField::Csv(s) => vec![s],
    });
    let patch = AssetFieldsInput { tags, folder: b.folder, visibility: b.visibility }.validate()?;
    let a = ask("catalog", &state.catalog, UpdateAsset { caller: p.user, public_id: id.into_inner(), patch }).await?;
    Ok(HttpResponse::Ok().json(asset_json(&a, state.settings.public_url())))
}

pub async fn delete(Authenticated(p): Authenticated, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    write_limit(&state, p.user.id).await?;
    let key = ask("catalog", &state.catalog, DeleteAsset { caller: p.user, public_id: id.into_inner() }).await?;
    state.purge_renditions(&key);
    Ok(HttpResponse::NoContent().finish())
}

/// Every folder of the caller's listable assets (all assets for an admin) and every parent of
/// them, with direct (`count`) and sub-folder-inclusive (`total`) counts; the root is left out.
pub async fn folders(Authenticated(p): Authenticated, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = ask("catalog", &state.catalog, Folders { caller: p.user }).await?;
    let list: Vec<Value> = rows.into_iter().map(|n| json!({ "folder": n.name, "count": n.count, "total": n.total })).collect();
    Ok(HttpResponse::Ok().json(json!({ "folders": list })))
}

/// The tags on the caller's listable assets, with counts.
pub async fn tags(Authenticated(p): Authenticated, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = ask("catalog", &state.catalog, Tags { caller: p.user }).await?;
    let list: Vec<Value> = rows.into_iter().map(|n| json!({ "tag": n.name, "count": n.count })).collect();
    Ok(HttpResponse::Ok().json(json!({ "tags": list })))
}
