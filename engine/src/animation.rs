//! Animated sources kept animated: every composed frame runs through the plan's steps and is re-encoded with its delay and the loop count.
//!
//! Used when the source has more than one frame and the output format carries animation (GIF,
//! WebP; `Plan::animated`). Sources are GIF, WebP and APNG, decoded by the `image` crate's
//! `AnimationDecoder`s, which hand out each frame composed onto the full canvas (disposal and
//! blending done), so every frame is an ordinary image to the steps.
//!
//! - Frames stream: frame i is decoded, transformed and given to the encoder before frame i + 1
//!   is decoded, so memory is one frame's buffers plus the encoder's state, whatever the count.
//! - Work is bounded before any decode: sniffing refused sources over `AnimationLimits` (frames,
//!   and canvas x frames), and here frames x the largest per-frame buffer of the plan must fit
//!   `AnimationLimits::max_pixels` too, so an enlarging transform on a small animation cannot
//!   multiply the work. The deadline is checked between frames.
//! - Timing: each frame keeps its delay (GIF's centiseconds, WebP's and APNG's milliseconds or
//!   fractions, rounded to the output's unit); the loop count is the source's (`SourceInfo::plays`).
//! - A decode error after at least one frame ends the animation there, as browsers show the
//!   frames before a truncation; an error on the first frame is `Corrupt`.
//! - `c_thumb` picks its window on the first frame and cuts every frame there.

use std::io::Cursor;

use image::{AnimationDecoder, DynamicImage, ImageDecoder};

use crate::pixels::{guarded, Decoded, Pixels};
use crate::encode::AnimatedEncoder;
use crate::budget::Budget;
use crate::format::Rendered;
use crate::steps::{apply_steps, to_oriented_srgb};
use crate::plan::Plan;
use crate::source::{InputFormat, SourceInfo};
use crate::EngineError;

fn corrupt(e: impl std::fmt::Display) -> EngineError {
    EngineError::Corrupt(e.to_string())
}

/// Renders every frame of an animated source as `plan` says, into an animated `plan.format`.
/// `Ok(None)` when the frame decoder cannot compose this source (16-bit APNG): the caller then
/// renders its first frame.
pub(crate) fn render(
    bytes: &[u8],
    info: &SourceInfo,
    plan: &Plan,
    budget: &Budget,
) -> Result<Option<Rendered>, EngineError> {
    let per_frame = [
        (plan.oriented_w, plan.oriented_h),
        (plan.resize_w, plan.resize_h),
        plan.canvas.unwrap_or((1, 1)),
        (plan.out_w, plan.out_h),
    ]
    .into_iter()
    .map(|(w, h)| u64::from(w) * u64::from(h))
    .max()
    .unwrap_or(0);
    let max_pixels = budget.limits.animation.max_pixels;
    if per_frame.saturating_mul(u64::from(info.frames)) > max_pixels {
        return Err(EngineError::PixelBudget(max_pixels));
    }
    let Some((mut frames, icc)) = open(bytes, info, budget.limits.max_work_pixels)? else {
        return Ok(None);
    };
    budget.time()?;

    let mut encoder = AnimatedEncoder::new(plan.format, plan.out_w, plan.out_h, plan.quality, info.plays)?;
    let mut thumb = None;
    let mut count = 0u32;
    // The headers declared `info.frames` (checked against the limits); a decoder that finds more
    // stops there, so the limits hold whatever the file really holds.
    while count < info.frames {
        let frame = match guarded(|| frames.next().transpose().map_err(corrupt)) {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(_) if count > 0 => break,
            Err(e) => return Err(e),
        };
        budget.time()?;
        let delay_ms = delay_ms(frame.delay());
        let decoded = Decoded { pixels: Pixels::Image(DynamicImage::ImageRgba8(frame.into_buffer())), icc: icc.clone() };
        let img = to_oriented_srgb(decoded, info.orientation, budget)?;
        let img = apply_steps(img, plan, budget, &mut thumb)?;
        encoder.add(&img, delay_ms)?;
        budget.time()?;
        count += 1;
    }
    if count == 0 {
        return Err(corrupt("animation has no frames"));
    }
    let bytes = encoder.finish()?;
    budget.time()?;
    Ok(Some(Rendered {
        bytes,
        format: plan.format,
        width: plan.out_w,
        height: plan.out_h,
    }))
}

/// A frame's display time in whole milliseconds, rounded to nearest.
fn delay_ms(d: image::Delay) -> u32 {
    let (n, den) = d.numer_denom_ms();
    if den == 0 {
        return 0;
    }
    u32::try_from((u64::from(n) * 2 + u64::from(den)) / (2 * u64::from(den))).unwrap_or(u32::MAX)
}

type Frames<'a> = image::Frames<'a>;

/// The source's frame iterator and its ICC profile, under the same allocation limit as a still
/// decode. `None` when the decoder cannot compose the source's frames.
fn open<'a>(bytes: &'a [u8], info: &SourceInfo, max_pixels: u64) -> Result<Option<(Frames<'a>, Option<Vec<u8>>)>, EngineError> {
    let mut limits = image::Limits::default();
    // Room for a canvas, the frame being composed and the previous one (RGBA 8-bit), nothing more.
    limits.max_alloc = Some(max_pixels.saturating_mul(12).saturating_add(1 << 20));
    guarded(|| {
        let cursor = Cursor::new(bytes);
        Ok(match info.format {
            InputFormat::Gif => {
                let mut d = image::codecs::gif::GifDecoder::new(cursor).map_err(corrupt)?;
                d.set_limits(limits).map_err(corrupt)?;
                Some((d.into_frames(), None))
            }
            InputFormat::Webp => {
                let mut d = image::codecs::webp::WebPDecoder::new(cursor).map_err(corrupt)?;
                d.set_limits(limits).map_err(corrupt)?;
                // Without a colour, image-webp ignores "dispose to background" and leaves the old
                // frame showing. Transparent, as libwebp's own decoder and browsers clear (the
                // ANIM chunk's colour is only a hint).
                d.set_background_color(image::Rgba([0, 0, 0, 0])).map_err(corrupt)?;
                let icc = d.icc_profile().ok().flatten();
                Some((d.into_frames(), icc))
            }
            InputFormat::Png => {
                let mut d = image::codecs::png::PngDecoder::new(cursor).map_err(corrupt)?;
                // The image crate composes 8-bit frames only.
                if d.color_type().bytes_per_pixel() / d.color_type().channel_count() > 1 {
                    return Ok(None);
                }
                d.set_limits(limits).map_err(corrupt)?;
                let icc = d.icc_profile().ok().flatten();
                Some((d.apng().map_err(corrupt)?.into_frames(), icc))
            }
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_to_the_nearest_millisecond() {
        let d = |n, den| delay_ms(image::Delay::from_numer_denom_ms(n, den));
        assert_eq!(d(70, 1), 70);
        assert_eq!(d(1000, 3), 333);
        assert_eq!(d(2000, 3), 667);
        assert_eq!(d(0, 1), 0);
    }
}
