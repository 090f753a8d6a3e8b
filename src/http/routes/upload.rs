//! POST /v1/upload: streams the multipart form under the size cap, has the render queue validate the file, then hands it to the catalog actor.
use std::cell::Cell;
use std::rc::Rc;

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::{StreamExt, TryStreamExt};
use imgcloud_actors::catalog::{AssetFieldsInput, StoreUpload, UploadForm};
use imgcloud_actors::fairness::client_of_user;
use imgcloud_actors::render::Validate;
use imgcloud_actors::DomainError;

use crate::delivery::asset_json;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{client_ip, Authenticated};
use crate::state::{ask, AppState};

/// Text fields are small; anything longer is a malformed form, not data.
const MAX_FIELD: usize = 4096;
/// Room for everything that is not the file (text fields, part headers, boundaries) on top of the file cap.
const FORM_ALLOWANCE: u64 = 64 * 1024;
/// A form has a handful of fields; thousands of them are an attack, not an upload.
const MAX_PARTS: usize = 64;

fn invalid(msg: impl Into<String>) -> ApiError { ApiError(DomainError::Invalid(msg.into())) }

fn too_large(cap: u64) -> ApiError {
    ApiError(DomainError::TooLarge(format!("upload exceeds the size cap of {cap} bytes")))
}

pub async fn upload(
    req: HttpRequest,
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let cap = state.settings.upload.max_bytes;
    let ip = client_ip(&req, &state.settings.server.proxies);
    state.rate_limit(vec![(format!("upload-ip:{ip}"), state.settings.rate_limit.upload_per_ip_per_minute)]).await?;
    // A declared length far over the cap is refused before a byte of the body is read.
    let limit = cap + FORM_ALLOWANCE;
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(cap));
    }
    // Every body byte counts, whatever part (or preamble) it belongs to, so the form as a whole stops at the limit.
    let overflowed = Rc::new(Cell::new(false));
    let mut seen = 0u64;
    let flag = overflowed.clone();
    let counted = payload.map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > limit {
            flag.set(true);
            return Err(PayloadError::Overflow);
        }
        Ok(chunk)
    });
    let mut form = Multipart::new(req.headers(), counted);
    let bad_form = |e: MultipartError| if overflowed.get() { too_large(cap) } else { invalid(format!("malformed multipart form: {e}")) };

    let mut file: Option<Vec<u8>> = None;
    let mut f = UploadForm::default();
    let mut fields = AssetFieldsInput::default();
    // A bad text field is reported only once the file is known to be there: a missing file is the more basic error.
    let mut field_error: Option<ApiError> = None;
    let mut parts = 0;
    while let Some(mut field) = form.try_next().await.map_err(bad_form)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(invalid(format!("a form may have at most {MAX_PARTS} fields")));
        }
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
            let value = match read_text(&mut field).await.map_err(bad_form)? {
                None => Err(invalid(format!("form field '{name}' is too long"))),
                Some(buf) => String::from_utf8(buf).map_err(|_| invalid(format!("form field '{name}' is not UTF-8"))),
            };
            if let Err(e) = value.and_then(|v| set_text_field(&mut f, &mut fields, &name, v)) {
                field_error.get_or_insert(e);
            }
        }
    }
    let bytes = file.ok_or_else(|| invalid("multipart field 'file' is required"))?;
    if let Some(e) = field_error {
        return Err(e);
    }
    // Before the file is decoded: a bad field is the same 400 as on PATCH, and costs no render.
    f.fields = fields.validate()?;
    if bytes.is_empty() {
        return Err(ApiError(DomainError::Unsupported("the uploaded file is empty".into())));
    }
    // The full decode is a render-queue job: bounded, charged to the uploader, under the memory budget
    // and the render deadline. Dropping `rx` (the client went away) lets the queue skip it.
    let rx = state.render.send(Validate { bytes, client: Some(client_of_user(p.user.id)) }).await??;
    let image = rx.await.map_err(|_| ApiError(DomainError::Internal("render worker went away".into())))??;
    let stored = ask("catalog", &state.catalog, StoreUpload { owner: p.user, image, form: f }).await?;
    if let Some(old) = &stored.replaced {
        state.purge_renditions(old);
    }
    let body = asset_json(&stored.asset, state.settings.public_url());
    Ok(if stored.created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}

/// Reads a text field to its end; `None` when it is longer than `MAX_FIELD` (the rest is read, not kept).
async fn read_text(field: &mut Field) -> Result<Option<Vec<u8>>, MultipartError> {
    let mut buf = Some(Vec::new());
    while let Some(chunk) = field.try_next().await? {
        if buf.as_ref().is_some_and(|b| b.len() + chunk.len() > MAX_FIELD) {
            buf = None;
        }
        if let Some(b) = buf.as_mut() {
            b.extend_from_slice(&chunk);
        }
    }
    Ok(buf)
}

fn set_text_field(f: &mut UploadForm, fields: &mut AssetFieldsInput, name: &str, value: String) -> ApiResult<()> {
    match name {
        "public_id" => f.public_id = Some(value),
        "folder" => fields.folder = Some(value),
        // Repeated fields add up, as HTML forms and most clients send a list.
        "tags" | "tags[]" => fields.tags.get_or_insert_with(Vec::new).push(value),
        "visibility" => fields.visibility = Some(value),
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
    Ok(())
}
