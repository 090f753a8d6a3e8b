//! img-cloud's HTTP edge and startup, as a library so tests and the binary share one build path.
pub mod config;
pub mod delivery;
pub mod http;
pub mod outbound;
pub mod startup;
pub mod state;
