//! The edge middleware: request ids, one log line per request, metrics, security headers,
//! JSON bodies for every error, and panic containment.
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use actix_web::HttpResponse;
use futures_util::FutureExt;
use rand::RngCore;

use crate::http::error::status_body;

/// The request id, available to handlers through request extensions.
#[derive(Clone)]
pub struct RequestId(pub String);

fn new_request_id() -> String {
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
         object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-frame-options", "DENY"),
];

fn stand_in_request() -> actix_web::HttpRequest {
    actix_web::test::TestRequest::default().to_http_request()
}

pub async fn edge(req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    // An incoming id is kept when it is short and printable, so a proxy's id threads through our logs.
    let rid = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    req.extensions_mut().insert(RequestId(rid.clone()));
    let method = req.method().to_string();
    let path = req.path().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());

    let mut res = match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(Ok(res)) => res.map_into_boxed_body(),
        // The original request was consumed (and cloning it beforehand would break routing),
        // so these responses carry a stand-in request; only its response half is sent.
        Ok(Err(e)) => ServiceResponse::new(stand_in_request(), e.error_response()),
        Err(_) => {
            tracing::error!(request_id = %rid, %method, %path, "handler panicked");
            let body = serde_json::json!({ "error": "internal server error", "code": "internal" });
            ServiceResponse::new(stand_in_request(), HttpResponse::InternalServerError().json(body))
        }
    };

    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        // Framework-made errors (404, 405, payload errors) come as text; every error we send is JSON.
        let (req, r) = res.into_parts();
        let text = to_bytes(r.into_body()).await.ok().map(|b| String::from_utf8_lossy(&b).into_owned());
        res = ServiceResponse::new(req, HttpResponse::build(status).json(status_body(status, text.as_deref())));
    }

    let headers = res.headers_mut();
    for (k, v) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    if let Ok(v) = HeaderValue::from_str(&rid) {
        headers.insert(HeaderName::from_static("x-request-id"), v);
    }

    let elapsed = started.elapsed();
    let bytes = match res.response().body().size() {
        actix_web::body::BodySize::Sized(n) => n,
        _ => 0,
    };
    let status_s = status.as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status_s.clone()).increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "status" => status_s).record(elapsed.as_secs_f64());
    tracing::info!(
        target: "imgcloud::access",
        "{method} {path} {status} {bytes}B {ms:.1}ms rid={rid}",
        status = status.as_u16(),
        ms = elapsed.as_secs_f64() * 1000.0
    );
    Ok(res)
}
