//! Pure planning: a `Transform` plus the source's facts and the client's `f_auto` choice become exact geometry and format.
//!
//! No pixels are touched here; the pipeline executes a `Plan` step by step.
//!
//! Geometry rules (the numbers the pipeline must reproduce):
//! - EXIF orientations 5..=8 swap width and height; everything else works on the oriented size.
//! - Targets are `w`/`h` times `dpr`, rounded half up, at least 1. With only one of them the other
//!   follows the source aspect ratio (rounded half up) in every mode, so a one-sided request never
//!   crops or letterboxes; `fit`/`inside` still never enlarge.
//! - `fit`/`inside`: largest size inside the box keeping aspect, never larger than the source.
//! - `outside`: smallest size keeping aspect that covers the box, nothing cut. Like sharp's
//!   `outside`, this enlarges a source smaller than the box.
//! - `fill`/`cover`/`thumb`: scale to cover the box (enlarging if needed), then cut exactly the box:
//!   centred for fill/cover, placed by content at execution time for thumb.
//! - `contain`: scale to fit inside the box (enlarging if needed) and centre on a canvas of exactly
//!   the box.
//! - A crop window or canvas that would equal the resized image is left out (`CropWindow::None`,
//!   `canvas: None`), so the pipeline never runs a no-op step.
//! - Output bound, for sizes a client asks for (`w` or `h` set): the final image (after canvas and
//!   rotation) is at most 4000 px a side and 16,000,000 px. The grammar rejects explicit sizes over
//!   it, so only implicit sizes (`outside`, a one-sided size on a very long source) and rotation can
//!   reach it; then the whole geometry shrinks by one factor, keeping aspect, until the final box
//!   fits. An `outside` result shrunk this way no longer covers the box, and a rotated fill is
//!   smaller than asked; the bound wins.
//! - Unsized transforms (neither `w` nor `h`, including the identity URL) keep the original's full
//!   size: the input cap already bounds it. What still binds is the output format's own largest side
//!   (`OutputFormat::max_side`, WebP's 16383 px): `f_auto` then falls back to png/jpg, and an
//!   explicit or implied format that cannot hold the image is `OutputTooLarge`, never a silent
//!   downscale. The caller's work budget still bounds what rotation adds.
//! - Rotation: positive angles turn clockwise (as sharp and Cloudinary do); the angle is reduced
//!   into (-360, 360) with 360 and -360 becoming 0. Multiples of 90 are exact (90/270 swap sides);
//!   other angles give the bounding box `ceil(w|cos| + h|sin|) x ceil(w|sin| + h|cos|)` with a
//!   1e-9 tolerance so float noise does not add a pixel.
//! - Blur sigma is in output pixels: `bl` times `dpr`, so a blur looks the same on every screen
//!   density. It is not scaled by the bound shrink.

use crate::accept::AutoFormat;
use crate::transform::{CropMode, OutputFormat, Transform, MAX_PIXELS, MAX_SIDE};
use crate::EngineError;

pub use crate::source::SourceFacts;
use crate::source::InputFormat;

/// A rectangle in pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect { pub x: u32, pub y: u32, pub w: u32, pub h: u32 }

/// How the crop window inside the resized image is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CropWindow {
    /// No crop: the resized image is used whole.
    None,
    /// A fixed window (fill/cover: centred).
    Fixed(Rect),
    /// `thumb`: a window of this size placed by image content (smartcrop) at execution time.
    Smart { w: u32, h: u32 },
}

/// Concrete geometry and encoding for one render. Steps run in this order:
/// orient -> (colour to sRGB) -> resize to `resize_w x resize_h` -> crop -> pad to canvas
/// -> rotate -> greyscale -> blur -> flatten (if the format has no alpha) -> encode.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Source size after EXIF orientation is applied.
    pub oriented_w: u32,
    pub oriented_h: u32,
    /// Size the whole oriented source is scaled to (equal to oriented size when no resize).
    /// For fill/cover/thumb of a very long source this can be far larger than the output; the
    /// pipeline may cut the matching source region first and resize only that.
    pub resize_w: u32,
    pub resize_h: u32,
    /// Window cut from the resized image (`None` also when the window would be the whole image).
    pub crop: CropWindow,
    /// `contain`: the final canvas; the image is centred on it over `background`.
    /// `None` when the resized image already fills the box.
    pub canvas: Option<(u32, u32)>,
    /// Rotation in degrees, clockwise, in -359..=359 (0 = none); corners filled with `background`.
    pub rotate: i32,
    pub greyscale: bool,
    /// Blur sigma in pixels of the output (0.0 = none).
    pub blur_sigma: f32,
    /// Final output size, after padding and rotation.
    pub out_w: u32,
    pub out_h: u32,
    /// Concrete output format, never `Auto`.
    pub format: OutputFormat,
    pub quality: u8,
    /// RGB used for letterbox, rotation corners and alpha flattening.
    pub background: [u8; 3],
    /// Whether padding/corners are transparent instead of `background` (format has alpha and no `bg` was given).
    pub transparent_fill: bool,
    /// Every frame of an animated source runs through the steps and the output is animated: the
    /// source has more than one frame and `format` carries animation (GIF, WebP). Otherwise an
    /// animated source renders its first frame.
    pub animated: bool,
}

/// Plans one render. Pure: the same inputs always give the same plan.
///
/// Fails only when the transform is out of range (a hand-built `Transform` that `parse` would have
/// refused) or the source claims a zero width or height.
/// `auto` is what `f_auto` becomes for this client (see `AutoFormat::from_accept`); it is ignored
/// unless the transform asks for `f_auto`.
pub fn plan(t: &Transform, src: &SourceFacts, auto: AutoFormat) -> Result<Plan, EngineError> {
    t.validate()?;
    if src.width == 0 || src.height == 0 {
        return Err(EngineError::Corrupt(format!("source is {}x{} pixels", src.width, src.height)));
    }
    let (ow, oh) = if (5..=8).contains(&src.orientation) {
        (src.height, src.width)
    } else {
        (src.width, src.height)
    };
    let rotate = t.r.map_or(0, |r| r % 360);
    let mode = t.c.unwrap_or(CropMode::Fit);
    let (tw, th) = (t.target_w(), t.target_h());

    let mut g = layout(ow, oh, mode, tw, th);
    let sized = tw.is_some() || th.is_some();
    let mut k = if sized { shrink_factor(rotated_size(g.pre_w(), g.pre_h(), rotate)) } else { 1.0 };
    if k < 1.0 {
        let base = g;
        // Rounding can leave the first try a pixel over; each retry shrinks a little more, and the
        // sizes bottom out at 1 px, so this ends.
        for _ in 0..10_000 {
            g = shrunk(&base, ow, oh, mode, tw, th, k);
            if fits(rotated_size(g.pre_w(), g.pre_h(), rotate)) {
                break;
            }
            k *= 0.995;
        }
    }
    let (out_w, out_h) = rotated_size(g.pre_w(), g.pre_h(), rotate);

    let mut format = output_format(t.f, src, auto);
    let holds = |f: OutputFormat| out_w <= f.max_side() && out_h <= f.max_side();
    if t.f == Some(OutputFormat::Auto) && !holds(format) {
        // An animation too big for WebP stays animated as GIF (65535 a side).
        format = if src.frames > 1 { OutputFormat::Gif } else { AutoFormat::Fallback.output(src.has_alpha) };
    }
    if !holds(format) {
        return Err(EngineError::OutputTooLarge { width: out_w, height: out_h, format: format.as_str(), max_side: format.max_side() });
    }
    let quality = t.q.unwrap_or(match format {
        OutputFormat::Jpg | OutputFormat::Webp => 80,
        OutputFormat::Avif => 50,
        OutputFormat::Png | OutputFormat::Gif | OutputFormat::Auto => 100,
    });
    let dpr = f32::from(t.dpr.unwrap_or(100)) / 100.0;
    Ok(Plan {
        oriented_w: ow,
        oriented_h: oh,
        resize_w: g.resize.0,
        resize_h: g.resize.1,
        crop: g.crop,
        canvas: g.canvas,
        rotate,
        greyscale: t.gr,
        blur_sigma: t.bl.map_or(0.0, |b| f32::from(b) / 100.0 * dpr),
        out_w,
        out_h,
        format,
        quality,
        background: t.bg.unwrap_or([255, 255, 255]),
        transparent_fill: t.bg.is_none() && format.has_alpha(),
        animated: src.frames > 1 && format.carries_animation(),
    })
}

/// Geometry before rotation.
#[derive(Debug, Clone, Copy)]
struct Layout {
    resize: (u32, u32),
    crop: CropWindow,
    canvas: Option<(u32, u32)>,
}

impl Layout {
    fn only_resize(size: (u32, u32)) -> Layout {
        Layout { resize: size, crop: CropWindow::None, canvas: None }
    }
    fn pre(&self) -> (u32, u32) {
        match (self.canvas, self.crop) {
            (Some(c), _) => c,
            (None, CropWindow::Fixed(r)) => (r.w, r.h),
            (None, CropWindow::Smart { w, h }) => (w, h),
            (None, CropWindow::None) => self.resize,
        }
    }
    fn pre_w(&self) -> u32 { self.pre().0 }
    fn pre_h(&self) -> u32 { self.pre().1 }
}

/// `a * b / c` rounded half up, at least 1, saturating at `u32::MAX`.
fn mul_div(a: u32, b: u32, c: u32) -> u32 {
    let (a, b, c) = (u64::from(a), u64::from(b), u64::from(c));
    ((2 * a * b + c) / (2 * c)).clamp(1, u64::from(u32::MAX)) as u32
}

/// Largest size with the source's aspect inside `bw x bh` (may enlarge).
fn fit_within(ow: u32, oh: u32, bw: u32, bh: u32) -> (u32, u32) {
    if u64::from(bw) * u64::from(oh) <= u64::from(bh) * u64::from(ow) {
        (bw, mul_div(bw, oh, ow).min(bh))
    } else {
        (mul_div(bh, ow, oh).min(bw), bh)
    }
}

/// Smallest size with the source's aspect covering `bw x bh` (may enlarge).
fn cover(ow: u32, oh: u32, bw: u32, bh: u32) -> (u32, u32) {
    if u64::from(bw) * u64::from(oh) >= u64::from(bh) * u64::from(ow) {
        (bw, mul_div(bw, oh, ow).max(bh))
    } else {
        (mul_div(bh, ow, oh).max(bw), bh)
    }
}

fn layout(ow: u32, oh: u32, mode: CropMode, tw: Option<u32>, th: Option<u32>) -> Layout {
    use CropMode::*;
    let (bw, bh) = match (tw, th) {
        (None, None) => return Layout::only_resize((ow, oh)),
        (Some(w), None) => {
            let size = (w, mul_div(w, oh, ow));
            let enlarges = w > ow;
            return Layout::only_resize(if matches!(mode, Fit | Inside) && enlarges { (ow, oh) } else { size });
        }
        (None, Some(h)) => {
            let size = (mul_div(h, ow, oh), h);
            let enlarges = h > oh;
            return Layout::only_resize(if matches!(mode, Fit | Inside) && enlarges { (ow, oh) } else { size });
        }
        (Some(w), Some(h)) => (w, h),
    };
    match mode {
        Fit | Inside => {
            if bw >= ow && bh >= oh {
                Layout::only_resize((ow, oh))
            } else {
                Layout::only_resize(fit_within(ow, oh, bw, bh))
            }
        }
        Outside => Layout::only_resize(cover(ow, oh, bw, bh)),
        Fill | Cover | Thumb => {
            let (rw, rh) = cover(ow, oh, bw, bh);
            let crop = if (rw, rh) == (bw, bh) {
                CropWindow::None
            } else if mode == Thumb {
                CropWindow::Smart { w: bw, h: bh }
            } else {
                CropWindow::Fixed(Rect { x: (rw - bw) / 2, y: (rh - bh) / 2, w: bw, h: bh })
            };
            Layout { resize: (rw, rh), crop, canvas: None }
        }
        Contain => {
            let resize = fit_within(ow, oh, bw, bh);
            let canvas = (resize != (bw, bh)).then_some((bw, bh));
            Layout { resize, crop: CropWindow::None, canvas }
        }
    }
}

/// The layout scaled by `k` < 1: a crop or canvas box keeps its own shape (so fill stays an exact
/// box, just smaller); a plain resize keeps the source's aspect.
fn shrunk(base: &Layout, ow: u32, oh: u32, mode: CropMode, tw: Option<u32>, th: Option<u32>, k: f64) -> Layout {
    let scale = |v: u32| ((f64::from(v) * k).floor() as u32).max(1);
    match (base.crop, base.canvas, tw, th) {
        (CropWindow::None, None, _, _) => {
            let (rw, rh) = base.resize;
            Layout::only_resize(fit_within(ow, oh, scale(rw), scale(rh)))
        }
        (_, _, Some(w), Some(h)) => layout(ow, oh, mode, Some(scale(w)), Some(scale(h))),
        // A crop or canvas only arises with both targets set.
        _ => unreachable!("crop/canvas without both targets"),
    }
}

fn fits((w, h): (u32, u32)) -> bool {
    w <= MAX_SIDE && h <= MAX_SIDE && u64::from(w) * u64::from(h) <= MAX_PIXELS
}

/// The factor (<= 1) that would bring a box inside the output bound, ignoring rounding.
fn shrink_factor((w, h): (u32, u32)) -> f64 {
    if fits((w, h)) {
        return 1.0;
    }
    let (w, h) = (f64::from(w), f64::from(h));
    let side = f64::from(MAX_SIDE);
    (side / w).min(side / h).min((MAX_PIXELS as f64 / (w * h)).sqrt()).min(1.0)
}

/// Bounding box of a `w x h` image turned by `deg` degrees.
fn rotated_size(w: u32, h: u32, deg: i32) -> (u32, u32) {
    match deg.rem_euclid(360) {
        0 | 180 => (w, h),
        90 | 270 => (h, w),
        d => {
            let rad = f64::from(d).to_radians();
            let (s, c) = (rad.sin().abs(), rad.cos().abs());
            let (w, h) = (f64::from(w), f64::from(h));
            let side = |v: f64| ((v - 1e-9).ceil().max(1.0)).min(f64::from(u32::MAX)) as u32;
            (side(w * c + h * s), side(w * s + h * c))
        }
    }
}

/// f given -> that; `f_auto` -> avif, webp, then png/jpg by alpha, or for an animated source a
/// format that keeps the animation (see `AutoFormat::output_animated`); none -> the source's format
/// when the server writes it. TIFF and BMP are not written: they become png when they carry alpha
/// (so transparency survives) and jpg otherwise.
fn output_format(f: Option<OutputFormat>, src: &SourceFacts, auto: AutoFormat) -> OutputFormat {
    match f {
        Some(OutputFormat::Auto) if src.frames > 1 => auto.output_animated(),
        Some(OutputFormat::Auto) => auto.output(src.has_alpha),
        Some(f) => f,
        None => match src.format {
            InputFormat::Jpeg => OutputFormat::Jpg,
            InputFormat::Png => OutputFormat::Png,
            InputFormat::Webp => OutputFormat::Webp,
            InputFormat::Gif => OutputFormat::Gif,
            InputFormat::Avif => OutputFormat::Avif,
            InputFormat::Tiff | InputFormat::Bmp => AutoFormat::Fallback.output(src.has_alpha),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(w: u32, h: u32) -> SourceFacts {
        SourceFacts { width: w, height: h, orientation: 1, has_alpha: false, format: InputFormat::Jpeg, frames: 1 }
    }
    fn pl(t: &str, s: SourceFacts) -> Plan {
        plan(&Transform::parse(t).unwrap(), &s, AutoFormat::Fallback).unwrap()
    }
    /// (resize, crop, canvas, out)
    type Geo = ((u32, u32), CropWindow, Option<(u32, u32)>, (u32, u32));
    fn geo(t: &str, w: u32, h: u32) -> Geo {
        let p = pl(t, src(w, h));
        ((p.resize_w, p.resize_h), p.crop, p.canvas, (p.out_w, p.out_h))
    }
    fn fixed(x: u32, y: u32, w: u32, h: u32) -> CropWindow {
        CropWindow::Fixed(Rect { x, y, w, h })
    }
    const NONE: CropWindow = CropWindow::None;

    #[test]
    fn identity_keeps_source() {
        assert_eq!(geo("", 800, 600), ((800, 600), NONE, None, (800, 600)));
        let p = pl("", src(800, 600));
        assert_eq!((p.rotate, p.greyscale, p.blur_sigma, p.format, p.quality), (0, false, 0.0, OutputFormat::Jpg, 80));
        assert!(!p.transparent_fill);
        assert_eq!(p.background, [255, 255, 255]);
        // c without w/h changes nothing.
        assert_eq!(geo("c_fill", 800, 600), ((800, 600), NONE, None, (800, 600)));
    }

    #[test]
    fn fit_and_inside() {
        for c in ["", ",c_fit", ",c_inside"] {
            // Landscape and portrait into a square box.
            assert_eq!(geo(&format!("w_400,h_400{c}"), 800, 600), ((400, 300), NONE, None, (400, 300)));
            assert_eq!(geo(&format!("w_400,h_400{c}"), 600, 800), ((300, 400), NONE, None, (300, 400)));
            // Never enlarged.
            assert_eq!(geo(&format!("w_1000,h_1000{c}"), 800, 600), ((800, 600), NONE, None, (800, 600)));
            assert_eq!(geo(&format!("w_1600{c}"), 800, 600), ((800, 600), NONE, None, (800, 600)));
            // One box side larger than the source still shrinks by the other.
            assert_eq!(geo(&format!("w_1000,h_300{c}"), 800, 600), ((400, 300), NONE, None, (400, 300)));
        }
    }

    #[test]
    fn outside_covers_and_may_enlarge() {
        assert_eq!(geo("w_400,h_400,c_outside", 800, 600), ((533, 400), NONE, None, (533, 400)));
        assert_eq!(geo("w_400,h_400,c_outside", 600, 800), ((400, 533), NONE, None, (400, 533)));
        assert_eq!(geo("w_1600,h_1000,c_outside", 800, 600), ((1600, 1200), NONE, None, (1600, 1200)));
    }

    #[test]
    fn fill_cover_crop_centred() {
        for c in ["fill", "cover"] {
            assert_eq!(
                geo(&format!("w_400,h_400,c_{c}"), 800, 600),
                ((533, 400), fixed(66, 0, 400, 400), None, (400, 400))
            );
            assert_eq!(
                geo(&format!("w_400,h_400,c_{c}"), 600, 800),
                ((400, 533), fixed(0, 66, 400, 400), None, (400, 400))
            );
            // Enlarges to keep the exact-size promise.
            assert_eq!(
                geo(&format!("w_1000,h_1000,c_{c}"), 800, 600),
                ((1333, 1000), fixed(166, 0, 1000, 1000), None, (1000, 1000))
            );
            // Same aspect: no crop needed.
            assert_eq!(geo(&format!("w_400,h_300,c_{c}"), 800, 600), ((400, 300), NONE, None, (400, 300)));
        }
    }

    #[test]
    fn thumb_uses_smart_window() {
        assert_eq!(
            geo("w_400,h_400,c_thumb", 800, 600),
            ((533, 400), CropWindow::Smart { w: 400, h: 400 }, None, (400, 400))
        );
        assert_eq!(
            geo("w_200,h_100,c_thumb", 600, 800),
            ((200, 267), CropWindow::Smart { w: 200, h: 100 }, None, (200, 100))
        );
    }

    #[test]
    fn contain_letterboxes() {
        assert_eq!(geo("w_400,h_400,c_contain", 800, 600), ((400, 300), NONE, Some((400, 400)), (400, 400)));
        assert_eq!(geo("w_400,h_400,c_contain", 600, 800), ((300, 400), NONE, Some((400, 400)), (400, 400)));
        // Enlarges to the box.
        assert_eq!(geo("w_1000,h_1000,c_contain", 800, 600), ((1000, 750), NONE, Some((1000, 1000)), (1000, 1000)));
        assert_eq!(geo("w_400,h_300,c_contain", 800, 600), ((400, 300), NONE, None, (400, 300)));
        let p = pl("w_400,h_400,c_contain,bg_102030", src(800, 600));
        assert_eq!((p.background, p.transparent_fill), ([16, 32, 48], false));
        let p = pl("w_400,h_400,c_contain,f_png", src(800, 600));
        assert!(p.transparent_fill);
    }

    #[test]
    fn one_sided_follows_aspect_in_every_mode() {
        for c in ["fill", "cover", "thumb", "contain", "outside", "fit", "inside"] {
            assert_eq!(geo(&format!("w_400,c_{c}"), 800, 600), ((400, 300), NONE, None, (400, 300)), "{c}");
            assert_eq!(geo(&format!("h_400,c_{c}"), 600, 800), ((300, 400), NONE, None, (300, 400)), "{c}");
            assert_eq!(geo(&format!("h_300,c_{c}"), 800, 600), ((400, 300), NONE, None, (400, 300)), "{c}");
        }
        // Only fit/inside refuse to enlarge.
        assert_eq!(geo("w_1600,c_fill", 800, 600), ((1600, 1200), NONE, None, (1600, 1200)));
        assert_eq!(geo("h_1200", 800, 600), ((800, 600), NONE, None, (800, 600)));
        // Rounding half up: 333 * 600 / 800 = 249.75.
        assert_eq!(geo("w_333", 800, 600).0, (333, 250));
    }

    #[test]
    fn dpr_multiplies_targets_and_blur() {
        assert_eq!(geo("w_200,h_200,c_fill,dpr_2", 800, 600).3, (400, 400));
        assert_eq!(geo("w_201,dpr_1.5", 800, 600).0, (302, 227));
        let p = pl("w_100,bl_4,dpr_2", src(800, 600));
        assert_eq!(p.blur_sigma, 8.0);
        assert_eq!(pl("bl_0.3", src(10, 10)).blur_sigma, 0.3);
    }

    #[test]
    fn orientation_swaps() {
        for o in 5..=8 {
            let s = SourceFacts { orientation: o, ..src(800, 600) };
            let p = pl("w_300", s);
            assert_eq!((p.oriented_w, p.oriented_h, p.resize_w, p.resize_h), (600, 800, 300, 400));
        }
        for o in [0, 1, 2, 3, 4, 9] {
            let s = SourceFacts { orientation: o, ..src(800, 600) };
            assert_eq!(pl("", s).oriented_w, 800);
        }
    }

    #[test]
    fn format_choice() {
        let accept_avif = "image/avif,image/webp,image/apng,*/*;q=0.8";
        let t = Transform::parse("f_auto").unwrap();
        let f = |acc: Option<&str>, s: SourceFacts| {
            let p = plan(&t, &s, AutoFormat::from_accept(acc)).unwrap();
            (p.format, p.quality)
        };
        assert_eq!(f(Some(accept_avif), src(1, 1)), (OutputFormat::Avif, 50));
        assert_eq!(f(Some("image/webp,*/*"), src(1, 1)), (OutputFormat::Webp, 80));
        assert_eq!(f(Some("IMAGE/AVIF ; q=0.5"), src(1, 1)).0, OutputFormat::Avif);
        assert_eq!(f(Some("image/avif;q=0, image/webp"), src(1, 1)).0, OutputFormat::Webp);
        assert_eq!(f(Some("*/*"), src(1, 1)).0, OutputFormat::Jpg);
        assert_eq!(f(Some("image/avif;é=1;qé"), src(1, 1)).0, OutputFormat::Avif);
        assert_eq!(f(None, src(1, 1)).0, OutputFormat::Jpg);
        let alpha = SourceFacts { has_alpha: true, format: InputFormat::Png, ..src(1, 1) };
        assert_eq!(f(Some("text/html"), alpha).0, OutputFormat::Png);

        let none = |format: InputFormat, has_alpha: bool| {
            pl("", SourceFacts { format, has_alpha, ..src(1, 1) }).format
        };
        assert_eq!(none(InputFormat::Jpeg, false), OutputFormat::Jpg);
        assert_eq!(none(InputFormat::Png, false), OutputFormat::Png);
        assert_eq!(none(InputFormat::Webp, true), OutputFormat::Webp);
        assert_eq!(none(InputFormat::Gif, false), OutputFormat::Gif);
        assert_eq!(none(InputFormat::Avif, false), OutputFormat::Avif);
        assert_eq!(none(InputFormat::Tiff, false), OutputFormat::Jpg);
        assert_eq!(none(InputFormat::Bmp, true), OutputFormat::Png);

        let p = plan(&Transform::parse("f_webp,q_30").unwrap(), &src(1, 1), AutoFormat::Avif).unwrap();
        assert_eq!((p.format, p.quality, p.transparent_fill), (OutputFormat::Webp, 30, true));
        assert_eq!(pl("f_png", src(1, 1)).quality, 100);
    }

    #[test]
    fn unsized_transforms_keep_the_full_size() {
        assert_eq!(geo("", 8000, 6000).3, (8000, 6000));
        assert_eq!(geo("", 5120, 2880).3, (5120, 2880));
        assert_eq!(geo("f_webp", 10000, 10000).3, (10000, 10000));
        assert_eq!(geo("c_fill,q_50,gr_1,dpr_2", 6000, 4000).3, (6000, 4000));
        // Orientation still swaps; a right-angle turn is exact at full size.
        let p = pl("r_90", SourceFacts { orientation: 6, ..src(6000, 4000) });
        assert_eq!(((p.resize_w, p.resize_h), (p.out_w, p.out_h)), ((4000, 6000), (6000, 4000)));
    }

    #[test]
    fn a_format_too_small_for_the_full_size_is_an_error_or_a_fallback() {
        let t = |s: &str| Transform::parse(s).unwrap();
        let wide = src(20000, 1000);
        let e = plan(&t("f_webp"), &wide, AutoFormat::Avif).unwrap_err();
        assert!(matches!(e, EngineError::OutputTooLarge { width: 20000, max_side: 16383, .. }), "{e:?}");
        assert!(e.to_string().contains("w_ or h_"), "{e}");
        // A WebP source rotated past WebP's side, with its own format implied.
        let e = plan(&t("r_45"), &SourceFacts { format: InputFormat::Webp, ..src(16000, 16000) }, AutoFormat::Fallback).unwrap_err();
        assert!(matches!(e, EngineError::OutputTooLarge { .. }), "{e:?}");
        // f_auto picks what the client takes when it can hold the image, else png/jpg.
        assert_eq!(plan(&t("f_auto"), &wide, AutoFormat::Webp).unwrap().format, OutputFormat::Jpg);
        assert_eq!(plan(&t("f_auto"), &SourceFacts { has_alpha: true, ..wide }, AutoFormat::Webp).unwrap().format, OutputFormat::Png);
        assert_eq!(plan(&t("f_auto"), &wide, AutoFormat::Avif).unwrap().format, OutputFormat::Avif);
        assert_eq!(plan(&t("f_auto"), &src(16000, 1000), AutoFormat::Webp).unwrap().format, OutputFormat::Webp);
        // An animation too wide for WebP stays animated, as GIF.
        let anim = SourceFacts { format: InputFormat::Gif, frames: 3, ..wide };
        let p = plan(&t("f_auto"), &anim, AutoFormat::Webp).unwrap();
        assert_eq!((p.format, p.animated), (OutputFormat::Gif, true));
        // Sized requests are bounded first, so they always fit.
        assert_eq!(plan(&t("w_4000,f_webp"), &wide, AutoFormat::Fallback).unwrap().out_w, 4000);
    }

    #[test]
    fn animated_sources_stay_animated_only_in_formats_that_animate() {
        let gif = SourceFacts { format: InputFormat::Gif, frames: 12, ..src(100, 80) };
        let p = |t: &str, auto: AutoFormat| {
            let p = plan(&Transform::parse(t).unwrap(), &gif, auto).unwrap();
            (p.format, p.animated)
        };
        assert_eq!(p("", AutoFormat::Fallback), (OutputFormat::Gif, true));
        assert_eq!(p("w_50,f_webp", AutoFormat::Fallback), (OutputFormat::Webp, true));
        assert_eq!(p("f_gif", AutoFormat::Avif), (OutputFormat::Gif, true));
        for still in ["f_jpg", "f_png", "f_avif"] {
            assert!(!p(still, AutoFormat::Fallback).1, "{still}");
        }
        // f_auto keeps the animation: WebP for clients that take WebP or AVIF, GIF for the rest.
        assert_eq!(p("f_auto", AutoFormat::Avif), (OutputFormat::Webp, true));
        assert_eq!(p("f_auto", AutoFormat::Webp), (OutputFormat::Webp, true));
        assert_eq!(p("f_auto", AutoFormat::Fallback), (OutputFormat::Gif, true));
        // An APNG with no f stays PNG, a still format.
        let apng = SourceFacts { format: InputFormat::Png, ..gif };
        assert_eq!(plan(&Transform::default(), &apng, AutoFormat::Fallback).unwrap().animated, false);
        // One frame is a still, whatever the format.
        let one = SourceFacts { frames: 1, ..gif };
        assert!(!plan(&Transform::default(), &one, AutoFormat::Fallback).unwrap().animated);
    }

    #[test]
    fn bound_clamps_implicit_sizes() {
        // Long thin source with only w: fit never enlarges but 100 x 10000 is over a side.
        assert_eq!(geo("w_4000", 100, 10000).3, (40, 4000));
        // outside on a tiny source.
        assert_eq!(geo("w_4000,h_10,c_outside", 10, 10).3, (4000, 4000));
        let ((rw, rh), _, _, out) = geo("w_4000,h_10,c_outside", 1, 10);
        assert_eq!(((rw, rh), out), ((400, 4000), (400, 4000)));
        // fill keeps its exact box even when the intermediate is huge.
        assert_eq!(geo("w_4000,h_10,c_fill", 1, 4000).3, (4000, 10));
        // Extreme aspect never goes below 1 px.
        let (_, _, _, (w, h)) = geo("w_1", 1, 100_000_000);
        assert_eq!((w, h), (1, 4000));
    }

    #[test]
    fn rotation_sizes() {
        let rot = |t: &str, w, h| {
            let p = pl(t, src(w, h));
            (p.rotate, p.out_w, p.out_h)
        };
        assert_eq!(rot("r_90", 800, 600), (90, 600, 800));
        assert_eq!(rot("r_-90", 800, 600), (-90, 600, 800));
        assert_eq!(rot("r_180", 800, 600), (180, 800, 600));
        assert_eq!(rot("r_270", 800, 600), (270, 600, 800));
        assert_eq!(rot("r_360", 800, 600), (0, 800, 600));
        assert_eq!(rot("r_-360", 800, 600), (0, 800, 600));
        assert_eq!(rot("r_0", 800, 600), (0, 800, 600));
        assert_eq!(rot("r_-270", 800, 600), (-270, 600, 800));
        assert_eq!(rot("r_45", 100, 100), (45, 142, 142));
        // 30 deg: 800 cos + 600 sin = 992.82, 800 sin + 600 cos = 919.62.
        assert_eq!(rot("r_30", 800, 600), (30, 993, 920));
        assert_eq!(rot("r_-30", 800, 600), (-30, 993, 920));
        // Hand-built angles outside the grammar's range are refused, not wrapped.
        let t = Transform { r: Some(390), ..Default::default() };
        assert!(plan(&t, &src(8, 6), AutoFormat::Fallback).is_err());
        // Rotation after crop: the box of the cropped size.
        assert_eq!(rot("w_400,h_400,c_fill,r_90", 800, 600), (90, 400, 400));
        assert_eq!(rot("w_300,h_100,c_contain,r_90", 800, 600), (90, 100, 300));
    }

    #[test]
    fn rotation_shrinks_to_bound() {
        // A 4000 x 4000 fill turned 45 deg would be 5657 a side; the whole geometry shrinks.
        let p = pl("w_4000,h_4000,c_fill,r_45", src(8000, 6000));
        assert!(p.out_w <= 4000 && p.out_h <= 4000, "{p:?}");
        assert!(p.out_w >= 3990, "shrunk more than needed: {p:?}");
        match p.crop {
            CropWindow::Fixed(r) => {
                assert_eq!(r.w, r.h);
                assert!(r.x + r.w <= p.resize_w && r.y + r.h <= p.resize_h);
            }
            other => panic!("{other:?}"),
        }
        // Contain keeps its canvas shape.
        let p = pl("w_4000,h_2000,c_contain,r_10", src(1000, 1000));
        let (cw, ch) = p.canvas.unwrap();
        assert!(cw.abs_diff(2 * ch) <= 1, "{p:?}");
        assert!(p.resize_w <= cw && p.resize_h <= ch);
        assert!(fits((p.out_w, p.out_h)), "{p:?}");
        // Plain resize: 4000 x 3000 turned 30 deg.
        let p = pl("w_4000,r_30", src(4000, 3000));
        assert!(fits((p.out_w, p.out_h)));
        assert!(p.resize_w * 3 >= p.resize_h * 4 - 3 && p.resize_w * 3 <= p.resize_h * 4 + 3);
        // 90 deg of a bounded image never needs a shrink.
        assert_eq!(pl("r_90", src(4000, 3000)).out_w, 3000);
    }

    /// Every plan on a grid of sources and transforms respects the bound and its own geometry.
    #[test]
    fn plans_are_consistent() {
        let sources = [(1, 1), (800, 600), (600, 800), (10, 9000), (9000, 10), (12000, 9000), (4000, 4000)];
        let ts = [
            "", "w_400", "h_400", "w_4000,h_4000", "w_1,h_4000", "w_4000,h_1", "w_333,h_777,dpr_1.5",
            "w_2000,h_2000,dpr_2",
        ];
        let modes = ["", ",c_fit", ",c_inside", ",c_outside", ",c_fill", ",c_cover", ",c_contain", ",c_thumb"];
        let rots = ["", ",r_17", ",r_90", ",r_-135", ",r_360"];
        for (sw, sh) in sources {
            for t in ts {
                for m in modes {
                    for r in rots {
                        let s = format!("{t}{m}{r}").trim_start_matches(',').to_string();
                        let p = pl(&s, src(sw, sh));
                        let ctx = format!("{s} on {sw}x{sh}: {p:?}");
                        if t.is_empty() {
                            // Unsized: the full size, turned; only the format's own side binds.
                            assert_eq!((p.resize_w, p.resize_h), (sw, sh), "{ctx}");
                            assert_eq!((p.out_w, p.out_h), rotated_size(sw, sh, p.rotate), "{ctx}");
                        } else {
                            assert!(fits((p.out_w, p.out_h)), "{ctx}");
                        }
                        assert!(p.resize_w >= 1 && p.resize_h >= 1 && p.out_w >= 1 && p.out_h >= 1, "{ctx}");
                        match p.crop {
                            CropWindow::Fixed(c) => assert!(c.x + c.w <= p.resize_w && c.y + c.h <= p.resize_h, "{ctx}"),
                            CropWindow::Smart { w, h } => assert!(w <= p.resize_w && h <= p.resize_h, "{ctx}"),
                            CropWindow::None => {}
                        }
                        if let Some((cw, ch)) = p.canvas {
                            assert!(p.resize_w <= cw && p.resize_h <= ch, "{ctx}");
                        }
                        if r.is_empty() {
                            let pre = Layout { resize: (p.resize_w, p.resize_h), crop: p.crop, canvas: p.canvas }.pre();
                            assert_eq!(pre, (p.out_w, p.out_h), "{ctx}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn rejects_bad_inputs() {
        let bad = Transform { w: Some(0), ..Default::default() };
        assert!(matches!(plan(&bad, &src(10, 10), AutoFormat::Fallback), Err(EngineError::Transform(_))));
        assert!(matches!(plan(&Transform::default(), &src(0, 10), AutoFormat::Fallback), Err(EngineError::Corrupt(_))));
    }
}
