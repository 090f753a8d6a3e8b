//! Gaussian blur approximated by three box blurs, so the cost per pixel does not grow with sigma.
//!
//! Three successive box filters of suitably chosen widths come within a few percent of a true
//! Gaussian (central limit theorem); each box is a running sum, O(1) per pixel for any radius.
//! Work happens in 16-bit fixed point (value x 128) so six passes do not accumulate 8-bit rounding,
//! and RGBA is premultiplied so transparent pixels do not bleed their colour.

use image::{DynamicImage, RgbImage, RgbaImage};

const SCALE: u32 = 128;
/// Columns handled together in the vertical pass: rows long enough for the cache, sums small enough for L1.
const COLS_PER_CHUNK: usize = 256;

/// Box widths (odd) of the three passes for a Gaussian of `sigma`.
pub(crate) fn box_sizes(sigma: f32) -> [usize; 3] {
    let n = 3.0f64;
    let s = f64::from(sigma);
    let w_ideal = (12.0 * s * s / n + 1.0).sqrt();
    let mut wl = w_ideal.floor() as i64;
    if wl % 2 == 0 {
        wl -= 1;
    }
    let wl = wl.max(1);
    let wu = wl + 2;
    let m_ideal = (12.0 * s * s - n * (wl * wl) as f64 - 4.0 * n * wl as f64 - 3.0 * n) / (-4.0 * wl as f64 - 4.0);
    let m = m_ideal.round() as i64;
    std::array::from_fn(|i| if (i as i64) < m { wl as usize } else { wu as usize })
}

pub(crate) fn blur(img: DynamicImage, sigma: f32) -> DynamicImage {
    if !(sigma > 0.0) {
        return img;
    }
    let sizes = box_sizes(sigma);
    if sizes.iter().all(|s| *s <= 1) {
        return img;
    }
    let (w, h) = (img.width() as usize, img.height() as usize);
    match img {
        DynamicImage::ImageRgba8(src) => {
            let mut buf: Vec<u16> = src
                .as_raw()
                .chunks_exact(4)
                .flat_map(|p| {
                    let a = u32::from(p[3]);
                    let pm = move |c: u8| ((u32::from(c) * a * SCALE + 127) / 255) as u16;
                    [pm(p[0]), pm(p[1]), pm(p[2]), (a * SCALE) as u16]
                })
                .collect();
            run(&mut buf, w, h, 4, sizes);
            let out: Vec<u8> = buf
                .chunks_exact(4)
                .flat_map(|p| {
                    let a = u32::from(p[3]);
                    let un = move |c: u16| if a == 0 { 0 } else { ((u32::from(c) * 255 + a / 2) / a).min(255) as u8 };
                    [un(p[0]), un(p[1]), un(p[2]), ((a + SCALE / 2) / SCALE).min(255) as u8]
                })
                .collect();
            DynamicImage::ImageRgba8(RgbaImage::from_raw(w as u32, h as u32, out).expect("sized from dimensions"))
        }
        other => {
            let src = other.into_rgb8();
            let mut buf: Vec<u16> = src.as_raw().iter().map(|v| (u32::from(*v) * SCALE) as u16).collect();
            run(&mut buf, w, h, 3, sizes);
            let out: Vec<u8> = buf.iter().map(|v| ((u32::from(*v) + SCALE / 2) / SCALE).min(255) as u8).collect();
            DynamicImage::ImageRgb8(RgbImage::from_raw(w as u32, h as u32, out).expect("sized from dimensions"))
        }
    }
}

fn run(buf: &mut Vec<u16>, w: usize, h: usize, ch: usize, sizes: [usize; 3]) {
    let mut tmp = vec![0u16; buf.len()];
    for size in sizes {
        let r = size / 2;
        if r == 0 {
            continue;
        }
        horizontal(buf, &mut tmp, w, ch, r);
        vertical(&tmp, buf, w, h, ch, r);
    }
}

/// Box blur of radius `r` along each row, edges clamped.
fn horizontal(src: &[u16], dst: &mut [u16], w: usize, ch: usize, r: usize) {
    let win = (2 * r + 1) as u32;
    let row_len = w * ch;
    for (out, row) in dst.chunks_mut(row_len).zip(src.chunks(row_len)) {
        for c in 0..ch {
            let at = |x: isize| u32::from(row[(x.clamp(0, w as isize - 1) as usize) * ch + c]);
            let mut sum: u32 = (-(r as isize)..=r as isize).map(at).sum();
            for x in 0..w {
                out[x * ch + c] = ((sum + win / 2) / win) as u16;
                sum = sum + at(x as isize + r as isize + 1) - at(x as isize - r as isize);
            }
        }
    }
}

/// Box blur of radius `r` down each column, a band of columns at a time so rows stay contiguous
/// and the band's running sums stay in cache; each band writes its own columns of `dst`.
fn vertical(src: &[u16], dst: &mut [u16], w: usize, h: usize, ch: usize, r: usize) {
    let win = (2 * r + 1) as u32;
    let row_len = w * ch;
    let band = COLS_PER_CHUNK * ch;
    let mut sums = vec![0u32; band];
    for x0 in (0..row_len).step_by(band) {
        let bw = band.min(row_len - x0);
        let sums = &mut sums[..bw];
        let row = |y: isize| &src[(y.clamp(0, h as isize - 1) as usize) * row_len + x0..][..bw];
        sums.fill(0);
        for y in -(r as isize)..=r as isize {
            for (s, v) in sums.iter_mut().zip(row(y)) {
                *s += u32::from(*v);
            }
        }
        for y in 0..h {
            for (o, s) in dst[y * row_len + x0..][..bw].iter_mut().zip(sums.iter()) {
                *o = ((s + win / 2) / win) as u16;
            }
            let (add, sub) = (row(y as isize + r as isize + 1), row(y as isize - r as isize));
            for ((s, a), b) in sums.iter_mut().zip(add).zip(sub) {
                *s = *s + u32::from(*a) - u32::from(*b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, Rgba};

    #[test]
    fn box_sizes_match_the_reference_construction() {
        assert_eq!(box_sizes(1.0), [1, 1, 3]);
        assert_eq!(box_sizes(4.0), [7, 7, 9]);
        // Variance of three boxes of width w is sum((w^2-1)/12): close to sigma^2.
        for sigma in [2.0f32, 5.0, 25.0, 75.0] {
            let var: f32 = box_sizes(sigma).iter().map(|w| ((w * w - 1) as f32) / 12.0).sum();
            assert!((var.sqrt() - sigma).abs() / sigma < 0.1, "sigma {sigma}: {var}");
        }
    }

    #[test]
    fn flat_image_stays_flat_and_edge_softens() {
        let flat = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 30, Rgb([100, 150, 200])));
        assert_eq!(blur(flat, 5.0).to_rgb8().get_pixel(3, 29), &Rgb([100, 150, 200]));
        let edge = DynamicImage::ImageRgb8(RgbImage::from_fn(60, 10, |x, _| if x < 30 { Rgb([0, 0, 0]) } else { Rgb([255, 255, 255]) }));
        let out = blur(edge, 4.0).to_rgb8();
        let mid = out.get_pixel(30, 5).0[0];
        assert!((110..=150).contains(&mid), "{mid}");
        assert!(out.get_pixel(0, 5).0[0] < 5 && out.get_pixel(59, 5).0[0] > 250);
    }

    #[test]
    fn transparent_neighbours_do_not_darken() {
        let img = RgbaImage::from_fn(40, 40, |x, _| if x < 20 { Rgba([255, 0, 0, 255]) } else { Rgba([0, 0, 0, 0]) });
        let out = blur(DynamicImage::ImageRgba8(img), 3.0).to_rgba8();
        let p = out.get_pixel(20, 20).0;
        assert!(p[0] > 245 && p[3] > 60 && p[3] < 200, "{p:?}");
    }

    #[test]
    fn huge_sigma_is_fast() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(1000, 1000, |x, y| Rgb([x as u8, y as u8, 0])));
        let t = std::time::Instant::now();
        let _ = blur(img, 75.0);
        assert!(t.elapsed().as_secs_f32() < 3.0);
    }
}
