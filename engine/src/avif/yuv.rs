//! YUV to 8-bit RGB (and alpha planes to 8-bit) for decoded AV1 frames: matrix, range, bit depth, chroma upsampling.
//!
//! Arithmetic is in f32 from the samples of any depth straight to 8 bits, so 10- and 12-bit
//! sources round once. Subsampled chroma is upsampled bilinearly with centred siting (weights
//! 3/4 and 1/4, as libyuv and libavif's built-in path do): nearest-neighbour chroma leaves
//! visible colour fringes on edges.


use super::av1::{Frame, Layout, Plane};

/// The YUV to RGB conversion of a matrix_coefficients code point (ITU-T H.273).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Matrix {
    /// Y'CbCr with luma weights kr and kb.
    YCbCr { kr: f32, kb: f32 },
    /// 0: the planes are G, B, R.
    Identity,
    /// 8: YCgCo.
    YCgCo,
}

impl Matrix {
    /// Unspecified, reserved and rarely used code points take BT.601, as libavif does for
    /// unspecified. 10 (BT.2020 constant luminance) is approximated by its non-constant form;
    /// 12 and 13 (derived from the primaries) by BT.709, whose primaries nearly every such file has.
    pub fn from_cicp(mc: u16) -> Matrix {
        match mc {
            0 => Matrix::Identity,
            1 | 12 | 13 => Matrix::YCbCr { kr: 0.2126, kb: 0.0722 },
            4 => Matrix::YCbCr { kr: 0.30, kb: 0.11 },
            7 => Matrix::YCbCr { kr: 0.212, kb: 0.087 },
            8 => Matrix::YCgCo,
            9 | 10 => Matrix::YCbCr { kr: 0.2627, kb: 0.0593 },
            _ => Matrix::YCbCr { kr: 0.299, kb: 0.114 },
        }
    }
}

/// Maps samples of `depth` bits to 0..=1 (luma) or -0.5..=0.5 (chroma), full or limited range.
#[derive(Clone, Copy)]
struct Range {
    y_off: f32,
    y_scale: f32,
    c_off: f32,
    c_scale: f32,
}

impl Range {
    fn new(depth: u8, full: bool) -> Range {
        let max = f32::from((1u16 << depth) - 1);
        let s = f32::from(1u16 << (depth - 8));
        let mid = f32::from(1u16 << (depth - 1));
        if full {
            Range { y_off: 0.0, y_scale: 1.0 / max, c_off: mid, c_scale: 1.0 / max }
        } else {
            Range { y_off: 16.0 * s, y_scale: 1.0 / (219.0 * s), c_off: mid, c_scale: 1.0 / (224.0 * s) }
        }
    }
    #[inline]
    fn y(&self, v: f32) -> f32 {
        (v - self.y_off) * self.y_scale
    }
    #[inline]
    fn c(&self, v: f32) -> f32 {
        (v - self.c_off) * self.c_scale
    }
}

#[inline]
fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
}

/// The two source positions and the second one's weight for output position `i` of a plane
/// subsampled by `shift` (0 or 1) with `n` samples: centred siting.
#[inline]
fn taps(i: usize, n: usize, shift: u32) -> (usize, usize, f32) {
    if shift == 0 {
        return (i.min(n - 1), i.min(n - 1), 0.0);
    }
    let k = (i >> 1).min(n - 1);
    let other = if i & 1 == 0 { k.saturating_sub(1) } else { (k + 1).min(n - 1) };
    (k, other, 0.25)
}

/// Interleaved 8-bit RGB of a decoded frame. `matrix` and `full_range` are the container's
/// (`colr` nclx) when it has them, else the sequence header's.
pub(crate) fn to_rgb(frame: &Frame, matrix: Matrix, full_range: bool) -> Vec<u8> {
    let (w, h) = (frame.width, frame.height);
    let range = Range::new(frame.bit_depth, full_range);
    let mut out = vec![0u8; w * h * 3];
    let luma = frame.plane(0).expect("checked when the frame was built");
    if frame.layout == Layout::Monochrome {
        out.chunks_exact_mut(w * 3).enumerate().for_each(|(y, row)| {
            for (x, px) in row.chunks_exact_mut(3).enumerate() {
                let v = to_u8(range.y(f32::from(luma.get(x, y))));
                px.copy_from_slice(&[v, v, v]);
            }
        });
        return out;
    }
    let (u, v) = (frame.plane(1).expect("checked"), frame.plane(2).expect("checked"));
    let (sx, sy) = frame.layout.shifts();
    let xtaps: Vec<_> = (0..w).map(|x| taps(x, u.width, sx)).collect();
    out.chunks_exact_mut(w * 3).enumerate().for_each(|(y, row)| {
        let (r0, r1, wy) = taps(y, u.height, sy);
        let chroma = |p: &Plane, x: usize| -> f32 {
            let (c0, c1, wx) = xtaps[x];
            let top = f32::from(p.get(c0, r0)) * (1.0 - wx) + f32::from(p.get(c1, r0)) * wx;
            let bottom = f32::from(p.get(c0, r1)) * (1.0 - wx) + f32::from(p.get(c1, r1)) * wx;
            top * (1.0 - wy) + bottom * wy
        };
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let yy = f32::from(luma.get(x, y));
            let (cb, cr) = (chroma(&u, x), chroma(&v, x));
            let (r, g, b) = match matrix {
                Matrix::YCbCr { kr, kb } => {
                    let (yy, cb, cr) = (range.y(yy), range.c(cb), range.c(cr));
                    let r = yy + (2.0 - 2.0 * kr) * cr;
                    let b = yy + (2.0 - 2.0 * kb) * cb;
                    let g = (yy - kr * r - kb * b) / (1.0 - kr - kb);
                    (r, g, b)
                }
                // G, B and R are stored as they are: every plane scales like luma.
                Matrix::Identity => (range.y(cr), range.y(yy), range.y(cb)),
                Matrix::YCgCo => {
                    let (yy, cg, co) = (range.y(yy), range.c(cb), range.c(cr));
                    let t = yy - cg;
                    (t + co, yy + cg, t - co)
                }
            };
            px.copy_from_slice(&[to_u8(r), to_u8(g), to_u8(b)]);
        }
    });
    out
}

/// An alpha item's luma plane as 8-bit alpha (limited-range alpha is stretched, as libavif does).
pub(crate) fn to_alpha(frame: &Frame, full_range: bool) -> Vec<u8> {
    let (w, h) = (frame.width, frame.height);
    let range = Range::new(frame.bit_depth, full_range);
    let luma = frame.plane(0).expect("checked when the frame was built");
    let mut out = vec![0u8; w * h];
    out.chunks_exact_mut(w).enumerate().for_each(|(y, row)| {
        for (x, a) in row.iter_mut().enumerate() {
            *a = to_u8(range.y(f32::from(luma.get(x, y))));
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_map_the_extremes_to_black_and_white() {
        for depth in [8u8, 10, 12] {
            let s = f32::from(1u16 << (depth - 8));
            let full = Range::new(depth, true);
            assert_eq!(to_u8(full.y(0.0)), 0);
            assert_eq!(to_u8(full.y(f32::from((1u16 << depth) - 1))), 255);
            let limited = Range::new(depth, false);
            assert_eq!(to_u8(limited.y(16.0 * s)), 0);
            assert_eq!(to_u8(limited.y(235.0 * s)), 255);
            assert!(limited.c(128.0 * s).abs() < 1e-6);
            assert!((limited.c(240.0 * s) - 0.5).abs() < 1e-6);
        }
    }

    #[test]
    fn taps_are_centred_and_clamped() {
        assert_eq!(taps(0, 4, 1), (0, 0, 0.25));
        assert_eq!(taps(1, 4, 1), (0, 1, 0.25));
        assert_eq!(taps(2, 4, 1), (1, 0, 0.25));
        assert_eq!(taps(7, 4, 1), (3, 3, 0.25));
        // An odd luma width: the last chroma sample covers the last pixel.
        assert_eq!(taps(8, 5, 1), (4, 3, 0.25));
        assert_eq!(taps(3, 4, 0), (3, 3, 0.0));
    }
}
