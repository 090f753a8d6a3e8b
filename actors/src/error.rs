//! Domain errors shared by every actor. Status codes are the HTTP layer's business, not ours.
use imgcloud_engine::{EngineError, TransformError};
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
    /// A rate limit or a client's render budget is spent; retry after this many seconds (429).
    /// The message says which (`DomainError::rate_limited` for the request buckets).
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// Render queue full or a render past its deadline; retry after this many seconds (503).
    #[error("{message}")]
    Overloaded { message: String, retry_after: u64 },
    /// Anything that is our fault (500). The message is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// A request bucket of the rate limiter is empty.
    pub fn rate_limited(retry_after: u64) -> Self {
        DomainError::RateLimited { message: format!("too many requests; retry after {retry_after} s"), retry_after }
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        DomainError::Internal(e.to_string())
    }

    /// The one mapping of engine errors: what a failure means depends on whether the bytes are
    /// a client's upload (their fault: 413/415) or an original we already accepted (ours, or the
    /// transform's).
    pub fn from_engine(e: EngineError, stage: Stage) -> Self {
        use EngineError as E;
        match (e, stage) {
            (E::Transform(t), _) => t.into(),
            (e @ (E::TooManyPixels { .. } | E::TooManyFrames { .. } | E::TooComplex(_)), Stage::Upload) => DomainError::TooLarge(e.to_string()),
            (E::Unsupported(m), Stage::Upload) => DomainError::Unsupported(m),
            // Validation runs under the render's work cap: an original whose decode is over it
            // could never be rendered here, so it is too large for this server.
            (e @ E::PixelBudget(_), Stage::Upload) => DomainError::TooLarge(format!("{e}; this server cannot decode an image this large")),
            // The render deadline, checked inside the decode: load or a file built to be slow. Not
            // stored; the client may retry when the server is quieter (and is charged for the time).
            (E::Deadline(ms), Stage::Upload) => {
                DomainError::Overloaded { message: format!("validating this upload exceeded its time budget of {ms} ms"), retry_after: 1 }
            }
            // A file we cannot decode or re-encode at upload is refused, never stored.
            (e, Stage::Upload) => DomainError::Unsupported(e.to_string()),
            // Budgets are fixed per server: repeating the request can never succeed, so it is the
            // request's fault (400), with no Retry-After to invite retries.
            (e @ (E::PixelBudget(_) | E::TooManyPixels { .. } | E::TooManyFrames { .. } | E::TooComplex(_)), Stage::Render { .. }) => {
                DomainError::Invalid(format!("{e}; ask for a smaller size or a simpler transform"))
            }
            (e @ E::OutputTooLarge { .. }, Stage::Render { .. }) => DomainError::Invalid(e.to_string()),
            // A deadline can be load as much as the transform; the render supervisor remembers
            // the failure, and `retry_after` says when it will try again.
            (e @ E::Deadline(_), Stage::Render { retry_after }) => DomainError::Overloaded { message: e.to_string(), retry_after },
            (E::Unsupported(m), Stage::Render { .. }) => DomainError::Internal(format!("stored original is unsupported: {m}")),
            (e @ (E::Corrupt(_) | E::Encode(_)), Stage::Render { .. }) => DomainError::Internal(e.to_string()),
        }
    }
}

/// Where engine work ran, for `DomainError::from_engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Sniffing and test-decoding bytes a client is uploading.
    Upload,
    /// Rendering a stored original; a missed deadline answers `retry_after` seconds.
    Render { retry_after: u64 },
}

impl From<TransformError> for DomainError {
    fn from(e: TransformError) -> Self {
        DomainError::Invalid(format!("invalid transform: {e}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    const RENDER: Stage = Stage::Render { retry_after: 60 };

    #[test]
    fn budgets_are_permanent_at_render_and_size_at_upload() {
        let budget = EngineError::PixelBudget(1000);
        assert!(matches!(DomainError::from_engine(budget.clone(), RENDER), DomainError::Invalid(m) if m.contains("pixel budget")));
        assert!(matches!(DomainError::from_engine(budget, Stage::Upload), DomainError::TooLarge(m) if m.contains("pixel budget")));
        let big = EngineError::TooManyPixels { width: 10, height: 10, pixels: 100, limit: 50 };
        assert!(matches!(DomainError::from_engine(big.clone(), RENDER), DomainError::Invalid(_)));
        assert!(matches!(DomainError::from_engine(big, Stage::Upload), DomainError::TooLarge(_)));
        let bomb = EngineError::TooManyFrames { frames: 1000, width: 1, height: 1, pixels: 1000, max_frames: 500, max_pixels: 1 << 20 };
        assert!(matches!(DomainError::from_engine(bomb.clone(), RENDER), DomainError::Invalid(_)));
        assert!(matches!(DomainError::from_engine(bomb, Stage::Upload), DomainError::TooLarge(m) if m.contains("1000 frames")));
        let tiles = EngineError::TooComplex("AVIF: grid of 40x40 tiles is over the limit of 1024 tiles".into());
        assert!(matches!(DomainError::from_engine(tiles.clone(), RENDER), DomainError::Invalid(m) if m.contains("1024 tiles")));
        assert!(matches!(DomainError::from_engine(tiles, Stage::Upload), DomainError::TooLarge(m) if m.contains("1024 tiles")));
    }

    #[test]
    fn deadline_is_overload_with_the_callers_retry_after() {
        let e = DomainError::from_engine(EngineError::Deadline(5), RENDER);
        assert!(matches!(e, DomainError::Overloaded { retry_after: 60, .. }));
        let e = DomainError::from_engine(EngineError::Deadline(5), Stage::Upload);
        assert!(matches!(e, DomainError::Overloaded { retry_after: 1, ref message } if message.contains("validating this upload")), "{e:?}");
    }

    #[test]
    fn undecodable_is_the_uploaders_fault_but_ours_at_render() {
        for e in [EngineError::Corrupt("x".into()), EngineError::Unsupported("x".into()), EngineError::Encode("x".into())] {
            assert!(matches!(DomainError::from_engine(e.clone(), Stage::Upload), DomainError::Unsupported(_)), "{e}");
            assert!(matches!(DomainError::from_engine(e.clone(), RENDER), DomainError::Internal(_)), "{e}");
        }
    }

    #[test]
    fn transform_errors_are_invalid_everywhere() {
        let t = imgcloud_engine::Transform::parse("w_0").unwrap_err();
        for stage in [Stage::Upload, RENDER] {
            assert!(matches!(DomainError::from_engine(t.clone().into(), stage), DomainError::Invalid(m) if m.starts_with("invalid transform")));
        }
    }
}
