//! The HTTP edge: the only layer that knows status codes, headers and JSON.
pub mod access_log;
pub mod caching;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod route_label;
pub mod routes;
