//! The server's table of limits: the engine's entries plus the server's own (signed-URL lifetime,
//! page size), each written once and read by config defaults and validation, handlers and docs.
pub use imgcloud_engine::limits::{Limit, OutOfRange, ANIMATION_PIXELS, FRAMES, INPUT_PIXELS, WORK_PIXELS};

use crate::error::DomainError;

/// Lifetime of a signed URL, in seconds: the config's default and the most a sign request may ask.
pub const SIGN_TTL_SECS: Limit = Limit {
    name: "delivery.default_sign_ttl_secs",
    default: 3600,
    min: 1,
    max: 604_800,
    doc: "Default lifetime of signed URLs, in seconds; a sign request's ttl_seconds has the same range (7 days at most).",
};

/// Assets per page of `GET /v1/assets` (`limit`).
pub const LIST_PAGE: Limit = Limit {
    name: "limit",
    default: 50,
    min: 1,
    max: 500,
    doc: "Assets per page of GET /v1/assets.",
};

/// Every limit, for the checks that config and docs agree with the table.
pub const ALL: [Limit; 6] = [INPUT_PIXELS, WORK_PIXELS, FRAMES, ANIMATION_PIXELS, SIGN_TTL_SECS, LIST_PAGE];

impl From<OutOfRange> for DomainError {
    fn from(e: OutOfRange) -> Self { DomainError::Invalid(e.to_string()) }
}
