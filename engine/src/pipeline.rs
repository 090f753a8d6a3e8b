//! Execution: decode, run a `Plan`'s steps, encode. Bounded by the caller's time and pixel budgets.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use image::metadata::Orientation;
use image::DynamicImage;

use crate::accept::AutoFormat;
use crate::ops::{self, Fill};
use crate::plan::{CropWindow, Plan, Rect};
use crate::sniff::{self, AnimationLimits, SourceInfo};
use crate::transform::Transform;
use crate::{animation, color, decode, encode, EngineError};

use crate::transform::OutputFormat;

/// Budgets passed in by the caller; the engine stops with a typed error when one is exceeded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted input, in pixels (width x height from the header). Default 100 MP.
    pub max_input_pixels: u64,
    /// Largest number of pixels any intermediate buffer may hold. Default 120 MP.
    pub max_work_pixels: u64,
    /// Caps on an animated source: its frame count and pixels over all frames, from the headers;
    /// an animated render also holds frames x its largest per-frame buffer to `max_pixels`.
    pub animation: AnimationLimits,
    /// Wall-clock deadline, checked between steps and inside the long ones: between an AVIF
    /// grid's tiles, and the JPEG, PNG and still WebP encoders give up once it has passed
    /// (`encode`). AVIF and GIF encodes and a single resize run to their end.
    pub deadline: Option<Instant>,
}

/// Per-render settings that are not part of the URL.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// What `f_auto` becomes, chosen once from the client's Accept header by `AutoFormat::from_accept`.
    pub auto: AutoFormat,
    pub limits: Limits,
    /// ravif speed 1..=10 (default 9: on-request rendering favours latency; see config/default.toml).
    pub avif_speed: u8,
}

/// A finished render.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub format: OutputFormat,
    pub width: u32,
    pub height: u32,
}

impl Rendered {
    /// The MIME type of `bytes`, from the one table (`OutputFormat::content_type`).
    pub fn content_type(&self) -> &'static str { self.format.content_type() }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_pixels: crate::limits::INPUT_PIXELS.default,
            max_work_pixels: crate::limits::WORK_PIXELS.default,
            animation: AnimationLimits::default(),
            deadline: None,
        }
    }
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { auto: AutoFormat::Fallback, limits: Limits::default(), avif_speed: 9 }
    }
}

/// Wall-clock and pixel budgets, checked between steps and before every allocation.
pub(crate) struct Budget {
    start: Instant,
    pub limits: Limits,
    /// Tests only: how many more checks pass before the deadline counts as passed, so a test can
    /// make it pass in the middle of an encode without timing anything.
    #[cfg(test)]
    checks_left: Option<std::sync::atomic::AtomicU32>,
}

impl Budget {
    pub(crate) fn new(limits: Limits) -> Self {
        Budget {
            start: Instant::now(),
            limits,
            #[cfg(test)]
            checks_left: None,
        }
    }

    /// A budget without a clock deadline whose `time` fails from its `n + 1`-th call on.
    #[cfg(test)]
    pub(crate) fn passing_after_checks(n: u32) -> Self {
        Budget { checks_left: Some(std::sync::atomic::AtomicU32::new(n)), ..Budget::new(Limits::default()) }
    }

    /// Tests only: the checks still to pass, of those given to `passing_after_checks`.
    #[cfg(test)]
    pub(crate) fn checks_left(&self) -> u32 {
        self.checks_left.as_ref().map_or(0, |n| n.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// `Err(Deadline)` once the deadline has passed: the one check, made between steps and by the
    /// encoders' progress hooks (`encode`), so an abandoned step reports what a skipped one would.
    pub(crate) fn time(&self) -> Result<(), EngineError> {
        #[cfg(test)]
        if let Some(left) = &self.checks_left {
            use std::sync::atomic::Ordering::SeqCst;
            if left.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_err() {
                return Err(EngineError::Deadline(self.start.elapsed().as_millis() as u64));
            }
        }
        match self.limits.deadline {
            Some(d) if Instant::now() >= d => {
                Err(EngineError::Deadline(d.saturating_duration_since(self.start).as_millis() as u64))
            }
            _ => Ok(()),
        }
    }
    pub(crate) fn pixels(&self, w: u32, h: u32) -> Result<(), EngineError> {
        if u64::from(w) * u64::from(h) > self.limits.max_work_pixels {
            return Err(EngineError::PixelBudget(self.limits.max_work_pixels));
        }
        Ok(())
    }
}

fn keeps_alpha(f: OutputFormat) -> bool {
    matches!(f, OutputFormat::Png | OutputFormat::Webp | OutputFormat::Avif | OutputFormat::Gif)
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

/// Colour to sRGB, then EXIF orientation: what every decoded image (and animation frame) goes
/// through before the plan's steps.
pub(crate) fn to_oriented_srgb(decoded: decode::Decoded, orientation: u8, budget: &Budget) -> Result<DynamicImage, EngineError> {
    let (w, h) = decoded.dimensions();
    budget.pixels(w, h)?;
    let mut img = decode::guarded(|| Ok(color::to_srgb(decoded)))?;
    budget.time()?;
    if let Some(o) = Orientation::from_exif(orientation) {
        img.apply_orientation(o);
    }
    Ok(img)
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

/// The plan's pixel steps on an oriented sRGB image: resize -> crop -> pad -> rotate -> greyscale
/// -> blur -> flatten. `thumb` is the `c_thumb` window: found by content on the first image that
/// needs one and reused after, so every frame of an animation is cut at the same place.
pub(crate) fn apply_steps(mut img: DynamicImage, plan: &Plan, budget: &Budget, thumb: &mut Option<Rect>) -> Result<DynamicImage, EngineError> {
    let fill = Fill { rgb: plan.background, transparent: plan.transparent_fill };

    budget.pixels(plan.resize_w, plan.resize_h)?;
    img = ops::resize::resize(img, plan.resize_w, plan.resize_h)?;
    budget.time()?;

    img = match plan.crop {
        CropWindow::None => img,
        CropWindow::Fixed(r) => ops::crop::crop(img, r),
        CropWindow::Smart { w, h } => {
            let r = *thumb.get_or_insert_with(|| ops::smartcrop::smart_window(&img, w, h));
            ops::crop::crop(img, r)
        }
    };
    budget.time()?;

    if let Some((cw, ch)) = plan.canvas {
        budget.pixels(cw, ch)?;
        img = ops::pad::pad(img, cw, ch, fill);
    }
    if plan.rotate.rem_euclid(360) != 0 {
        budget.pixels(plan.out_w, plan.out_h)?;
        img = ops::rotate::rotate(img, plan.rotate, plan.out_w, plan.out_h, fill);
        budget.time()?;
    }
    if plan.greyscale {
        img = ops::greyscale::greyscale(img);
    }
    if plan.blur_sigma > 0.0 {
        budget.time()?;
        img = ops::blur::blur(img, plan.blur_sigma);
    }
    img = if keeps_alpha(plan.format) {
        ops::flatten::drop_opaque_alpha(img)
    } else {
        ops::flatten::flatten(img, plan.background)
    };
    budget.time()?;
    Ok(img)
}
