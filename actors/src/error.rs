//! Domain errors shared by every actor. Status codes are the HTTP layer's business, not ours.
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum DomainError {
    /// Malformed input: bad transform, bad public_id, bad field (400).
    #[error("{0}")]
    Invalid(String),
    /// Missing or wrong credentials (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// The named thing does not exist (404).
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness or state conflict (409).
    #[error("{0}")]
    Conflict(String),
    /// Upload or input over a size cap (413).
    #[error("{0}")]
    TooLarge(String),
    /// Not an accepted media type, or undecodable (415).
    #[error("{0}")]
    Unsupported(String),
    /// Rate limit hit; retry after this many seconds (429).
    #[error("too many requests; retry after {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// Render queue full or render budget blown; retry after this many seconds (503).
    #[error("{message}")]
    Overloaded { message: String, retry_after: u64 },
    /// Anything that is our fault (500). The message is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        DomainError::Internal(e.to_string())
    }
}

impl From<rusqlite::Error> for DomainError {
    fn from(e: rusqlite::Error) -> Self {
        DomainError::Internal(format!("database: {e}"))
    }
}

impl From<r2d2::Error> for DomainError {
    fn from(e: r2d2::Error) -> Self {
        DomainError::Internal(format!("database pool: {e}"))
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
