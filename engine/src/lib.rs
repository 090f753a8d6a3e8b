//! The pure image engine: transform grammar, planning, decoding, pixel work and encoding.
//!
//! Nothing in this crate knows HTTP, actors, SQL or the filesystem layout of the server.
//! Callers hand it bytes and a `Transform`; it hands back bytes and facts.

pub mod accept;
pub mod error;
pub mod format;
pub mod limits;
pub mod memory;
pub mod plan;
pub mod sniff;
pub mod transform;
pub mod validate;
pub mod pipeline;
pub mod source;
mod budget;
mod animation;
mod avif;
mod color;
mod decode;
mod encode;
mod jpeg_dc;
mod jpeg_scans;
mod ops;
mod pixels;
mod steps;
/// The test side's container readers, so unit tests judge bytes without the engine's own sniffer.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../tests/support/containers.rs"]
mod test_containers;

pub use accept::AutoFormat;
pub use error::EngineError;
pub use pipeline::{render, Limits, RenderOptions, Rendered};
pub use plan::{plan, Plan, SourceFacts};
pub use sniff::{probe, probe_with_limit, probe_with_limits, AnimationLimits, InputFormat, SourceInfo};
pub use transform::{CropMode, OutputFormat, Transform, TransformError};
