//! The dashboard: its static files, compiled into the binary from dashboard/app/, and its redirects.
//!
//! The dashboard is an ordinary client of the public API; nothing here knows about sessions.
//! Unknown paths under /dashboard/ get index.html so client-side routes survive a reload, except
//! a missing file in a folder the app ships (`js/nope.js`, `/dashboard/nope.css`): that is a 404,
//! not HTML the browser would refuse as a module. Client routes may hold dots (public_ids do), so
//! the rule goes by folder, not by the look of the name.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

use crate::http::error::status_response;
use crate::http::middleware::DOCUMENT_POLICY;
use crate::http::caching::none_match;

#[derive(RustEmbed)]
#[folder = "dashboard/app/"]
struct Files;

const INDEX: &str = "index.html";

/// `/` and `/dashboard`: the app lives at `/dashboard/`, with the slash its relative URLs need.
pub async fn to_dashboard() -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, "/dashboard/")).finish()
}

pub async fn add_slash() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/dashboard/")).finish()
}

/// A dashboard file under the documents' policy (CSP and Referrer-Policy), the error included.
pub async fn file(req: HttpRequest) -> HttpResponse {
    let mut res = file_response(&req);
    for (k, v) in &DOCUMENT_POLICY {
        res.headers_mut().insert(k.clone(), v.clone());
    }
    res
}

fn file_response(req: &HttpRequest) -> HttpResponse {
    let path = req.path().strip_prefix("/dashboard/").unwrap_or_default();
    let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
    let missing_app_file = name.contains('.') && app_folders().contains(folder);
    let (name, found) = match Files::get(path).filter(|_| !path.is_empty()) {
        Some(f) => (path, f),
        None if missing_app_file => {
            return status_response(StatusCode::NOT_FOUND, Some(&format!("no dashboard file /dashboard/{path}")))
        }
        None => match Files::get(INDEX) {
            Some(f) => (INDEX, f),
            None => return status_response(StatusCode::NOT_FOUND, Some("the dashboard is not built into this binary")),
        },
    };
    let etag = format!("\"{}\"", hex::encode(&found.metadata.sha256_hash()[..16]));
    // `no-cache` revalidates every load: a server upgrade must never pair new HTML with old modules.
    let fresh = none_match(req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()), &etag);
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        return res.finish();
    }
    res.content_type(content_type(name)).body(found.data.into_owned())
}

/// Every folder holding a shipped file, the root as "".
fn app_folders() -> &'static std::collections::HashSet<String> {
    static FOLDERS: std::sync::OnceLock<std::collections::HashSet<String>> = std::sync::OnceLock::new();
    FOLDERS.get_or_init(|| {
        Files::iter().map(|name| name.rsplit_once('/').map_or(String::new(), |(dir, _)| dir.to_string())).collect()
    })
}

/// JavaScript must be served as JavaScript for `<script type="module">` under `nosniff`.
fn content_type(name: &str) -> String {
    match name.rsplit('.').next() {
        Some("js" | "mjs") => "text/javascript; charset=utf-8".into(),
        Some("html") => "text/html; charset=utf-8".into(),
        Some("css") => "text/css; charset=utf-8".into(),
        Some("svg") => "image/svg+xml".into(),
        _ => Files::get(name).map(|f| f.metadata.mimetype().to_string()).unwrap_or_else(|| "application/octet-stream".into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn modules_are_served_as_javascript() {
        assert_eq!(super::content_type("js/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(super::content_type("index.html"), "text/html; charset=utf-8");
    }
}
