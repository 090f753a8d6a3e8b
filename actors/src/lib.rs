//! Actors behind the HTTP edge: catalog (SQLite), auth, rate limits and the render supervisor.
//!
//! Nothing here knows HTTP status codes or JSON error bodies; replies are domain values or `DomainError`.

pub mod auth;
pub mod catalog;
pub mod db;
pub mod domain;
pub mod error;
pub mod public_id;
pub mod ratelimit;
pub mod render;
pub mod secrets;
pub mod signing;
pub mod usage;

pub use error::{DomainError, DomainResult};
