//! The one place where domain errors become HTTP statuses and JSON bodies.
use actix_web::http::{header, StatusCode};
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

impl ApiError {
    /// A stable machine-readable code beside the human message.
    fn code(&self) -> &'static str {
        match &self.0 {
            DomainError::Invalid(_) => "invalid_request",
            DomainError::Unauthenticated(_) => "unauthenticated",
            DomainError::Forbidden(_) => "forbidden",
            DomainError::NotFound(_) => "not_found",
            DomainError::Conflict(_) => "conflict",
            DomainError::TooLarge(_) => "too_large",
            DomainError::Unsupported(_) => "unsupported_media_type",
            DomainError::RateLimited { .. } => "rate_limited",
            DomainError::Overloaded { .. } => "overloaded",
            DomainError::Internal(_) => "internal",
        }
    }
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
        let mut res = HttpResponse::build(self.status_code());
        if let DomainError::RateLimited { retry_after } | DomainError::Overloaded { retry_after, .. } = &self.0 {
            res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        if matches!(self.0, DomainError::Unauthenticated(_)) {
            res.insert_header((header::WWW_AUTHENTICATE, "ApiKey"));
        }
        res.json(json!({ "error": message, "code": self.code() }))
    }
}

/// JSON body for a bare status (unknown route, wrong method, framework errors).
pub fn status_body(status: StatusCode, detail: Option<&str>) -> serde_json::Value {
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    let message = match (status, detail.map(str::trim).filter(|d| !d.is_empty())) {
        (StatusCode::NOT_FOUND, None) => "route not found".to_string(),
        (StatusCode::METHOD_NOT_ALLOWED, None) => "method not allowed for this route".to_string(),
        (_, Some(d)) => d.to_string(),
        (_, None) => reason,
    };
    json!({ "error": message })
}
