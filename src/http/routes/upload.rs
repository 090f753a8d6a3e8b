//! POST /v1/upload: streams the multipart form under the size cap, then hands it to the catalog actor.
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::TryStreamExt;
use imgcloud_actors::catalog::{StoreUpload, UploadForm};
use imgcloud_actors::DomainError;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{client_ip, Authenticated};
use crate::http::routes::assets::asset_json;
use crate::state::{ask, AppState};

/// Text fields are small; anything longer is a malformed form, not data.
const MAX_FIELD: usize = 4096;

fn invalid(msg: impl Into<String>) -> ApiError { ApiError(DomainError::Invalid(msg.into())) }

fn too_large(cap: u64) -> ApiError {
    ApiError(DomainError::TooLarge(format!("upload exceeds the size cap of {cap} bytes")))
}

pub async fn upload(
    req: HttpRequest,
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    mut form: Multipart,
) -> ApiResult<HttpResponse> {
    let cap = state.settings.upload.max_bytes;
    let ip = client_ip(&req, &state.settings.server.proxies);
    state.rate_limit(vec![(format!("upload-ip:{ip}"), state.settings.rate_limit.upload_per_ip_per_minute)]).await?;
    // A declared length far over the cap is refused before a byte of the body is read.
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap + 64 * 1024) {
        return Err(too_large(cap));
    }

    let mut file: Option<Vec<u8>> = None;
    let mut f = UploadForm::default();
    let bad_form = |e: actix_multipart::MultipartError| invalid(format!("malformed multipart form: {e}"));
    while let Some(mut field) = form.try_next().await.map_err(bad_form)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if file.is_some() {
                return Err(invalid("more than one 'file' field"));
            }
            f.file_name = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_string);
            let mut buf = Vec::new();
            while let Some(chunk) = field.try_next().await.map_err(bad_form)? {
                // Stop at the cap: the rest of the body is never buffered.
                if buf.len() as u64 + chunk.len() as u64 > cap {
                    return Err(too_large(cap));
                }
                buf.extend_from_slice(&chunk);
            }
            file = Some(buf);
        } else {
            let mut buf = Vec::new();
            while let Some(chunk) = field.try_next().await.map_err(bad_form)? {
                if buf.len() + chunk.len() > MAX_FIELD {
                    return Err(invalid(format!("form field '{name}' is too long")));
                }
                buf.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(buf).map_err(|_| invalid(format!("form field '{name}' is not UTF-8")))?;
            match name.as_str() {
                "public_id" => f.public_id = Some(value),
                "folder" => f.folder = Some(value),
                "tags" => f.tags = Some(value),
                "visibility" => f.visibility = Some(value),
                "overwrite" => {
                    f.overwrite = match value.trim() {
                        "true" | "1" => true,
                        "false" | "0" | "" => false,
                        other => return Err(invalid(format!("overwrite must be true or false (got '{other}')"))),
                    }
                }
                // Unknown fields are ignored, as multipart clients often add their own.
                _ => {}
            }
        }
    }
    let bytes = file.ok_or_else(|| invalid("multipart field 'file' is required"))?;
    if bytes.is_empty() {
        return Err(ApiError(DomainError::Unsupported("the uploaded file is empty".into())));
    }
    let stored = ask("catalog", &state.catalog, StoreUpload { owner: p.user, bytes, form: f }).await?;
    if let Some(old) = &stored.replaced {
        state.purge_renditions(old);
    }
    let body = asset_json(&stored.asset, state.settings.public_url());
    Ok(if stored.created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}
