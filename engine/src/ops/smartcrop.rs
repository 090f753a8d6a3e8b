//! Smart crop (`thumb`): place a fixed-size window where the image is most interesting.
//!
//! After smartcrop.js: each pixel of a small analysis copy (<= 256 px) scores for detail (positive
//! luma Laplacian), skin tone and saturation; the maps are pooled into a coarse grid, and each
//! candidate window is scored over the whole grid with smartcrop's importance function (rule of
//! thirds inside, a penalty near the window's border, and a negative weight for what the window
//! cuts away). The work is bounded: a grid of at most 64 cells a side, at most ~24 steps per axis.

use image::DynamicImage;

use crate::plan::Rect;

const ANALYSIS_SIDE: u32 = 256;
/// Analysis pixels per grid cell side.
const POOL: usize = 4;
/// Most candidate positions tried along one axis.
const MAX_STEPS: usize = 24;
const DETAIL_WEIGHT: f32 = 0.2;
const SKIN_WEIGHT: f32 = 1.8;
const SATURATION_WEIGHT: f32 = 0.1;
const SKIN_BIAS: f32 = 0.01;
const SATURATION_BIAS: f32 = 0.2;
const SKIN_COLOUR: [f32; 3] = [0.78, 0.57, 0.44];
const SKIN_THRESHOLD: f32 = 0.8;
const SATURATION_THRESHOLD: f32 = 0.4;
const EDGE_RADIUS: f32 = 0.4;
const EDGE_WEIGHT: f32 = -20.0;
const OUTSIDE_IMPORTANCE: f32 = -0.5;

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
    let grid = Grid::pool(&features(&small), aw as usize, ah as usize);

    // The window in grid cells, and the factor from cells back to full-size pixels.
    let (fx, fy) = (iw as f32 / grid.w as f32, ih as f32 / grid.h as f32);
    let ww = ((w as f32 / fx).round() as usize).clamp(1, grid.w);
    let wh = ((h as f32 / fy).round() as usize).clamp(1, grid.h);
    let (max_x, max_y) = (grid.w - ww, grid.h - wh);
    let (sx, sy) = (max_x.div_ceil(MAX_STEPS).max(1), max_y.div_ceil(MAX_STEPS).max(1));
    let positions = |max: usize, step: usize| {
        let mut v: Vec<usize> = (0..=max).step_by(step).collect();
        if v.last() != Some(&max) {
            v.push(max);
        }
        v
    };
    let (cx, cy) = (max_x / 2, max_y / 2);
    let centre_score = grid.score(cx, cy, ww, wh);
    let mut best = (centre_score, cx, cy);
    for &y in &positions(max_y, sy) {
        for &x in &positions(max_x, sx) {
            let s = grid.score(x, y, ww, wh);
            if s > best.0 {
                best = (s, x, y);
            }
        }
    }
    // Grid cells are coarse: unless the content clearly wins, keep the exact centre.
    if best.0 <= centre_score + 1e-4 * centre_score.abs().max(1e-3) {
        return centred;
    }
    let x = ((best.1 as f32 * fx).round() as u32).min(iw - w);
    let y = ((best.2 as f32 * fy).round() as u32).min(ih - h);
    Rect { x, y, w, h }
}

/// Per-pixel (detail, skin, saturation), each 0..=1, as smartcrop.js computes them.
fn features(img: &image::RgbImage) -> Vec<[f32; 3]> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px: Vec<[f32; 3]> = img.pixels().map(|p| p.0.map(|v| f32::from(v) / 255.0)).collect();
    let luma: Vec<f32> = px.iter().map(|p| 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]).collect();
    let mut out = vec![[0.0f32; 3]; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let l = luma[i];
            // Only the positive part of the Laplacian counts (smartcrop clamps to 0..255).
            let detail = if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                0.0
            } else {
                4.0 * l - luma[i - 1] - luma[i + 1] - luma[i - w] - luma[i + w]
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
            let saturation = if sat > SATURATION_THRESHOLD && (0.05..=0.9).contains(&light) {
                (sat - SATURATION_THRESHOLD) / (1.0 - SATURATION_THRESHOLD)
            } else {
                0.0
            };
            out[i] = [detail.clamp(0.0, 1.0), skin, saturation];
        }
    }
    out
}

/// Features pooled into cells of `POOL x POOL` pixels (half mean, half max, as smartcrop does).
struct Grid {
    w: usize,
    h: usize,
    cells: Vec<[f32; 3]>,
}

impl Grid {
    fn pool(f: &[[f32; 3]], w: usize, h: usize) -> Grid {
        let (gw, gh) = (w.div_ceil(POOL), h.div_ceil(POOL));
        let mut cells = vec![[0.0f32; 3]; gw * gh];
        for gy in 0..gh {
            for gx in 0..gw {
                let (mut sum, mut max, mut n) = ([0.0f32; 3], [0.0f32; 3], 0.0f32);
                for y in gy * POOL..((gy + 1) * POOL).min(h) {
                    for x in gx * POOL..((gx + 1) * POOL).min(w) {
                        let v = f[y * w + x];
                        for c in 0..3 {
                            sum[c] += v[c];
                            max[c] = max[c].max(v[c]);
                        }
                        n += 1.0;
                    }
                }
                cells[gy * gw + gx] = std::array::from_fn(|c| 0.5 * sum[c] / n + 0.5 * max[c]);
            }
        }
        Grid { w: gw, h: gh, cells }
    }

    /// smartcrop's score of the window at (x, y) sized `ww x wh` cells, over the whole grid.
    fn score(&self, x: usize, y: usize, ww: usize, wh: usize) -> f32 {
        let (mut detail, mut skin, mut saturation) = (0.0f32, 0.0f32, 0.0f32);
        for gy in 0..self.h {
            for gx in 0..self.w {
                let [d, s, sat] = self.cells[gy * self.w + gx];
                let imp = importance(x, y, ww, wh, gx, gy);
                detail += d * imp;
                skin += s * (d + SKIN_BIAS) * imp;
                saturation += sat * (d + SATURATION_BIAS) * imp;
            }
        }
        (DETAIL_WEIGHT * detail + SKIN_WEIGHT * skin + SATURATION_WEIGHT * saturation) / (ww * wh) as f32
    }
}

/// How much a cell at (px, py) counts for the window at (x, y): rule of thirds inside, a penalty
/// near the window's border, and a negative weight outside (cutting away interest costs).
fn importance(x: usize, y: usize, ww: usize, wh: usize, px: usize, py: usize) -> f32 {
    if px < x || px >= x + ww || py < y || py >= y + wh {
        return OUTSIDE_IMPORTANCE;
    }
    let fx = ((px - x) as f32 + 0.5) / ww as f32;
    let fy = ((py - y) as f32 + 0.5) / wh as f32;
    let (ax, ay) = ((0.5 - fx).abs() * 2.0, (0.5 - fy).abs() * 2.0);
    let dx = (ax - 1.0 + EDGE_RADIUS).max(0.0);
    let dy = (ay - 1.0 + EDGE_RADIUS).max(0.0);
    let d = (dx * dx + dy * dy) * EDGE_WEIGHT;
    let s = 1.41 - (ax * ax + ay * ay).sqrt();
    s + (s + d + 0.5).max(0.0) * 1.2 * (thirds(ax) + thirds(ay)) + d
}

fn thirds(v: f32) -> f32 {
    let v = ((v - 1.0 / 3.0 + 1.0) % 2.0) * 0.5 - 0.5;
    (1.0 - v * v * 16.0).max(0.0)
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
        // Equal texture everywhere (skin scores with detail, as in smartcrop); skin tone on the left.
        let img = RgbImage::from_fn(400, 100, |x, y| {
            let t = if (x / 2 + y / 2) % 2 == 0 { 12 } else { 0 };
            if x < 100 { Rgb([212 + t, 160 + t, 128 + t]) } else { Rgb([80 + t, 100 + t, 90 + t]) }
        });
        let r = smart_window(&DynamicImage::ImageRgb8(img), 100, 100);
        assert!(r.x < 20, "{r:?}");
    }
}
