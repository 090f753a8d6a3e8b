//! The pixel steps every decoded image (a still or each animation frame) goes through: colour to sRGB and orientation, then the plan's resize, crop, pad, rotate, greyscale, blur and flatten.

use image::metadata::Orientation;
use image::DynamicImage;

use crate::budget::Budget;
use crate::ops::{self, Fill};
use crate::pixels::{guarded, Decoded};
use crate::plan::{CropWindow, Plan, Rect};
use crate::transform::OutputFormat;
use crate::{color, EngineError};

/// Colour to sRGB, then EXIF orientation: what every decoded image (and animation frame) goes
/// through before the plan's steps.
pub(crate) fn to_oriented_srgb(decoded: Decoded, orientation: u8, budget: &Budget) -> Result<DynamicImage, EngineError> {
    let (w, h) = decoded.dimensions();
    budget.pixels(w, h)?;
    let mut img = guarded(|| Ok(color::to_srgb(decoded)))?;
    budget.time()?;
    if let Some(o) = Orientation::from_exif(orientation) {
        img.apply_orientation(o);
    }
    Ok(img)
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

fn keeps_alpha(f: OutputFormat) -> bool {
    matches!(f, OutputFormat::Png | OutputFormat::Webp | OutputFormat::Avif | OutputFormat::Gif)
}
