//! The one place where domain errors become HTTP statuses and JSON bodies.
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use imgcloud_actors::DomainError;
use serde_json::json;

/// An error on its way to a client. Internal causes are logged, never sent.
#[derive(Debug)]
pub struct ApiError(pub DomainError);

pub type ApiResult<T> = Result<T, ApiError>;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { self.0.fmt(f) }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self { ApiError(e) }
}

impl From<actix::MailboxError> for ApiError {
    fn from(e: actix::MailboxError) -> Self { ApiError(DomainError::Internal(format!("actor mailbox: {e}"))) }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            DomainError::Invalid(_) => StatusCode::BAD_REQUEST,
            DomainError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
            DomainError::NotFound(_) => StatusCode::NOT_FOUND,
            DomainError::Conflict(_) => StatusCode::CONFLICT,
            DomainError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            DomainError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            DomainError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            DomainError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            DomainError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match &self.0 {
            DomainError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "internal server error".to_string()
            }
            other => other.to_string(),
        };
        let mut res = error_response(self.status_code(), &message);
        let headers = res.headers_mut();
        if let DomainError::RateLimited { retry_after, .. } | DomainError::Overloaded { retry_after, .. } = &self.0 {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if matches!(self.0, DomainError::Unauthenticated(_)) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("ApiKey"));
        }
        res
    }
}

/// The stable machine-readable code for a status. Each domain error has its own status, so the
/// status alone names the code, for domain and framework errors alike.
pub fn error_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "conflict",
        411 => "length_required",
        413 => "too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        429 => "rate_limited",
        431 => "headers_too_large",
        503 => "overloaded",
        500..=599 => "internal",
        _ => "error",
    }
}

/// The code of `/readyz`'s 503: the one code not named by its status, since a server that cannot
/// reach its database or write its data directory is not overloaded, and waiting will not help.
pub const NOT_READY: &str = "not_ready";

/// The one error body: every error response, domain or framework, is made from it.
pub fn error_body(code: &str, message: &str) -> serde_json::Value {
    json!({ "error": message, "code": code })
}

pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(error_body(error_code(status), message))
}

/// An error response for a bare status (unknown route, wrong method, framework errors),
/// with the framework's own text as the message when it has one.
pub fn status_response(status: StatusCode, detail: Option<&str>) -> HttpResponse {
    let message = match (status, detail.map(str::trim).filter(|d| !d.is_empty())) {
        (_, Some(d)) => d.to_string(),
        (StatusCode::NOT_FOUND, None) => "route not found".to_string(),
        (StatusCode::METHOD_NOT_ALLOWED, None) => "method not allowed for this route".to_string(),
        (_, None) => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    error_response(status, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_error_has_its_own_code() {
        let all = [
            DomainError::Invalid(String::new()),
            DomainError::Unauthenticated(String::new()),
            DomainError::Forbidden(String::new()),
            DomainError::NotFound(String::new()),
            DomainError::Conflict(String::new()),
            DomainError::TooLarge(String::new()),
            DomainError::Unsupported(String::new()),
            DomainError::rate_limited(1),
            DomainError::Overloaded { message: String::new(), retry_after: 1 },
            DomainError::Internal(String::new()),
        ];
        let codes: std::collections::HashSet<_> = all.into_iter().map(|e| error_code(ApiError(e).status_code())).collect();
        assert_eq!(codes.len(), 10, "two domain errors share a code: {codes:?}");
        assert!(!codes.contains("error"));
    }
}
