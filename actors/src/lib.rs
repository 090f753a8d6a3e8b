//! Actors behind the HTTP edge: catalog (SQLite), auth, rate limits and the render supervisor.
//!
//! Nothing here knows HTTP status codes or JSON error bodies; replies are domain values or `DomainError`.

pub mod auth;
pub mod db;
pub mod domain;
pub mod error;
pub mod ratelimit;
pub mod secrets;

pub use error::{DomainError, DomainResult};
