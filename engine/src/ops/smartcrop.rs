//! Smart crop (`thumb`): place a fixed-size window where the image is most interesting.
//!
//! After smartcrop.js: each pixel of a small analysis copy (<= 256 px) scores for detail (luma
//! Laplacian), skin tone and saturation; a summed-area table then scores every window position in
//! O(1), and a mild pull to the centre settles ties and flat images.

use image::DynamicImage;

use crate::plan::Rect;

const ANALYSIS_SIDE: u32 = 256;
const DETAIL_WEIGHT: f32 = 0.2;
const SKIN_WEIGHT: f32 = 1.8;
const SATURATION_WEIGHT: f32 = 0.3;
const SKIN_COLOUR: [f32; 3] = [0.78, 0.57, 0.44];
const SKIN_THRESHOLD: f32 = 0.8;
/// Weight of closeness to the centre, as a fraction of the window's mean score.
const CENTRE_BIAS: f32 = 0.05;

/// The `w x h` window in `img` (already resized) with the highest interest score.
pub(crate) fn smart_window(img: &DynamicImage, w: u32, h: u32) -> Rect {
    let (iw, ih) = (img.width(), img.height());
    let (w, h) = (w.clamp(1, iw), h.clamp(1, ih));
    let centred = Rect { x: (iw - w) / 2, y: (ih - h) / 2, w, h };
    if (w, h) == (iw, ih) {
        return centred;
    }
    let scale = (ANALYSIS_SIDE as f32 / iw.max(ih) as f32).min(1.0);
    let (aw, ah) = (((iw as f32 * scale).round() as u32).max(1), ((ih as f32 * scale).round() as u32).max(1));
    let Some(small) = super::resize::resize_fast(img, aw, ah) else { return centred };
    let scores = score_map(&small);
    let sat = SummedArea::new(&scores, aw as usize, ah as usize);

    // The window in analysis pixels, and the factor back to full size.
    let (fx, fy) = (iw as f32 / aw as f32, ih as f32 / ah as f32);
    let ww = ((w as f32 / fx).round() as usize).clamp(1, aw as usize);
    let wh = ((h as f32 / fy).round() as usize).clamp(1, ah as usize);
    let (max_x, max_y) = (aw as usize - ww, ah as usize - wh);
    let total = sat.sum(0, 0, aw as usize, ah as usize).max(1e-6);
    let mean = total / (aw * ah) as f32 * (ww * wh) as f32;
    let score = |x: usize, y: usize| {
        let dx = if max_x == 0 { 0.0 } else { (x as f32 / max_x as f32 - 0.5).abs() * 2.0 };
        let dy = if max_y == 0 { 0.0 } else { (y as f32 / max_y as f32 - 0.5).abs() * 2.0 };
        sat.sum(x, y, ww, wh) - CENTRE_BIAS * mean * (dx + dy)
    };
    let mut best = (f32::MIN, max_x / 2, max_y / 2);
    for y in 0..=max_y {
        for x in 0..=max_x {
            let s = score(x, y);
            if s > best.0 {
                best = (s, x, y);
            }
        }
    }
    // Analysis pixels are coarse: unless the content clearly wins, keep the exact centre.
    if best.0 <= score(max_x / 2, max_y / 2) + 1e-3 * mean {
        return centred;
    }
    let x = ((best.1 as f32 * fx).round() as u32).min(iw - w);
    let y = ((best.2 as f32 * fy).round() as u32).min(ih - h);
    Rect { x, y, w, h }
}

/// Per-pixel interest of an RGB image: detail + skin + saturation, weighted as smartcrop.js does.
fn score_map(img: &image::RgbImage) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px: Vec<[f32; 3]> = img.pixels().map(|p| p.0.map(|v| f32::from(v) / 255.0)).collect();
    let luma: Vec<f32> = px.iter().map(|p| 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]).collect();
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let l = luma[i];
            let at = |xx: usize, yy: usize| luma[yy * w + xx];
            let detail = if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                0.0
            } else {
                (4.0 * l - at(x - 1, y) - at(x + 1, y) - at(x, y - 1) - at(x, y + 1)).abs()
            };
            let [r, g, b] = px[i];
            let mag = (r * r + g * g + b * b).sqrt().max(1e-6);
            let d = ((r / mag - SKIN_COLOUR[0]).powi(2) + (g / mag - SKIN_COLOUR[1]).powi(2) + (b / mag - SKIN_COLOUR[2]).powi(2)).sqrt();
            let skin_likeness = 1.0 - d;
            let skin = if skin_likeness > SKIN_THRESHOLD && (0.2..=1.0).contains(&l) {
                (skin_likeness - SKIN_THRESHOLD) / (1.0 - SKIN_THRESHOLD)
            } else {
                0.0
            };
            let (mx, mn) = (r.max(g).max(b), r.min(g).min(b));
            let light = (mx + mn) / 2.0;
            let sat = if mx == mn { 0.0 } else if light > 0.5 { (mx - mn) / (2.0 - mx - mn) } else { (mx - mn) / (mx + mn) };
            let saturation = if sat > 0.4 && (0.05..=0.9).contains(&light) { (sat - 0.4) / 0.6 } else { 0.0 };
            out[i] = DETAIL_WEIGHT * detail.min(1.0) + SKIN_WEIGHT * skin + SATURATION_WEIGHT * saturation;
        }
    }
    out
}

/// Summed-area table: the sum over any rectangle in four lookups.
struct SummedArea {
    w: usize,
    table: Vec<f64>,
}

impl SummedArea {
    fn new(v: &[f32], w: usize, h: usize) -> SummedArea {
        let mut table = vec![0.0f64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0.0f64;
            for x in 0..w {
                row += f64::from(v[y * w + x]);
                table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + row;
            }
        }
        SummedArea { w, table }
    }
    fn sum(&self, x: usize, y: usize, w: usize, h: usize) -> f32 {
        let s = self.w + 1;
        let t = &self.table;
        (t[(y + h) * s + x + w] - t[y * s + x + w] - t[(y + h) * s + x] + t[y * s + x]) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn finds_the_busy_corner() {
        // Flat grey with a saturated checkerboard in the right third.
        let img = RgbImage::from_fn(900, 300, |x, y| {
            if x > 650 && y > 50 && y < 250 {
                if (x / 8 + y / 8) % 2 == 0 { Rgb([230, 20, 20]) } else { Rgb([20, 20, 230]) }
            } else {
                Rgb([128, 128, 128])
            }
        });
        let r = smart_window(&DynamicImage::ImageRgb8(img), 300, 300);
        assert_eq!((r.w, r.h, r.y), (300, 300, 0));
        assert!(r.x >= 550, "{r:?}");
    }

    #[test]
    fn flat_image_gives_the_centre() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(600, 200, Rgb([50, 50, 50])));
        assert_eq!(smart_window(&img, 200, 200), Rect { x: 200, y: 0, w: 200, h: 200 });
    }

    #[test]
    fn finds_skin() {
        let img = RgbImage::from_fn(400, 100, |x, _| if x < 100 { Rgb([224, 172, 138]) } else { Rgb([90, 110, 100]) });
        let r = smart_window(&DynamicImage::ImageRgb8(img), 100, 100);
        assert!(r.x < 20, "{r:?}");
    }
}
