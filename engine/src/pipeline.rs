//! Execution: decode, run a `Plan`'s steps, encode. Bounded by the caller's time and pixel budgets.

use std::panic::{catch_unwind, AssertUnwindSafe};

use image::DynamicImage;

use crate::accept::AutoFormat;
use crate::budget::Budget;
pub use crate::budget::Limits;
pub use crate::format::Rendered;
use crate::plan::Plan;
use crate::sniff::{self, SourceInfo};
use crate::steps::{apply_steps, to_oriented_srgb};
use crate::transform::Transform;
use crate::{animation, decode, encode, EngineError};


/// Per-render settings that are not part of the URL.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// What `f_auto` becomes, chosen once from the client's Accept header by `AutoFormat::from_accept`.
    pub auto: AutoFormat,
    pub limits: Limits,
    /// ravif speed 1..=10 (default 9: on-request rendering favours latency; see config/default.toml).
    pub avif_speed: u8,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { auto: AutoFormat::Fallback, limits: Limits::default(), avif_speed: 9 }
    }
}

/// Renders `bytes` through `t`: probe -> plan -> decode (JPEG shrink-on-load) -> colour to sRGB
/// -> orient -> resize -> crop -> pad -> rotate -> greyscale -> blur -> flatten -> encode.
/// An animated source with an output format that animates runs every frame through the same
/// steps (`animation::render`); with any other format it renders its first frame.
///
/// Never panics on any input: decoders run under `catch_unwind` and report `Corrupt`; a panic in a
/// later step reports `Encode`. The deadline is checked between steps and inside the JPEG, PNG and
/// WebP encodes (an AVIF or GIF encode or a resize, once started, runs to its end); every
/// intermediate buffer is checked against `max_work_pixels` before it is allocated.
pub fn render(bytes: &[u8], t: &Transform, opts: &RenderOptions) -> Result<Rendered, EngineError> {
    let budget = Budget::new(opts.limits);
    budget.time()?;
    let (info, jpeg) = sniff::probe_full(bytes, opts.limits.max_input_pixels, opts.limits.animation)?;
    let mut plan = crate::plan::plan(t, &info.facts(), opts.auto)?;
    budget.time()?;
    if plan.animated {
        match animation::render(bytes, &info, &plan, &budget)? {
            Some(rendered) => return Ok(rendered),
            // A source the frame decoder cannot compose renders its first frame.
            None => plan.animated = false,
        }
    }
    let img = load(bytes, &info, jpeg, &plan, &budget)?;
    catch_unwind(AssertUnwindSafe(|| execute(img, &plan, &budget, opts)))
        .unwrap_or_else(|_| Err(EngineError::Encode("internal error: a render step panicked".into())))
}

/// Decode, colour-manage and orient: the oriented sRGB source, DCT-scaled towards the resize size.
fn load(bytes: &[u8], info: &SourceInfo, jpeg: sniff::JpegFacts, plan: &Plan, budget: &Budget) -> Result<DynamicImage, EngineError> {
    let swaps = (5..=8).contains(&info.orientation);
    let target = if swaps { (plan.resize_h, plan.resize_w) } else { (plan.resize_w, plan.resize_h) };
    let decoded = decode::decode(bytes, info, jpeg, target, budget)?;
    budget.time()?;
    to_oriented_srgb(decoded, info.orientation, budget)
}

fn execute(img: DynamicImage, plan: &Plan, budget: &Budget, opts: &RenderOptions) -> Result<Rendered, EngineError> {
    let img = apply_steps(img, plan, budget, &mut None)?;
    let bytes = encode::encode(&img, plan.format, plan.quality, opts.avif_speed, budget)?;
    budget.time()?;
    Ok(Rendered {
        bytes,
        format: plan.format,
        width: img.width(),
        height: img.height(),
    })
}

