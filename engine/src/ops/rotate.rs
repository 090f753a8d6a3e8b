//! Rotate by any angle: quarter turns exactly, other angles bilinear onto the planned expanded canvas.

use image::{DynamicImage, Rgb, RgbImage, RgbaImage};
use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};

use super::{with_alpha_for, Fill};

/// Rotates `img` clockwise by `degrees`. Arbitrary angles land centred on an `out_w x out_h`
/// canvas (the rotated bounding box from the plan) whose uncovered corners get `fill`.
pub(crate) fn rotate(img: DynamicImage, degrees: i32, out_w: u32, out_h: u32, fill: Fill) -> DynamicImage {
    match degrees.rem_euclid(360) {
        0 => img,
        90 => img.rotate90(),
        180 => img.rotate180(),
        270 => img.rotate270(),
        d => {
            let theta = (d as f32).to_radians();
            let (cx, cy) = (img.width() as f32 / 2.0, img.height() as f32 / 2.0);
            let (ox, oy) = (out_w as f32 / 2.0, out_h as f32 / 2.0);
            let proj = Projection::translate(ox, oy) * Projection::rotate(theta) * Projection::translate(-cx, -cy);
            match with_alpha_for(img, fill) {
                DynamicImage::ImageRgba8(src) => {
                    let mut out = RgbaImage::new(out_w, out_h);
                    warp_into(&src, proj, Interpolation::Bilinear, Border::Constant(fill.rgba()), &mut out);
                    DynamicImage::ImageRgba8(out)
                }
                other => {
                    let src = other.to_rgb8();
                    let mut out = RgbImage::new(out_w, out_h);
                    warp_into(&src, proj, Interpolation::Bilinear, Border::Constant(Rgb(fill.rgb)), &mut out);
                    DynamicImage::ImageRgb8(out)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked() -> DynamicImage {
        // 4x2, top-left pixel red.
        DynamicImage::ImageRgb8(RgbImage::from_fn(4, 2, |x, y| if (x, y) == (0, 0) { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) }))
    }
    const WHITE: Fill = Fill { rgb: [255, 255, 255], transparent: false };

    #[test]
    fn quarter_turns_are_exact_and_clockwise() {
        let r = rotate(marked(), 90, 2, 4, WHITE).to_rgb8();
        assert_eq!(r.dimensions(), (2, 4));
        assert_eq!(r.get_pixel(1, 0), &Rgb([255, 0, 0]));
        let r = rotate(marked(), -90, 2, 4, WHITE).to_rgb8();
        assert_eq!(r.get_pixel(0, 3), &Rgb([255, 0, 0]));
        let r = rotate(marked(), 180, 4, 2, WHITE).to_rgb8();
        assert_eq!(r.get_pixel(3, 1), &Rgb([255, 0, 0]));
    }

    #[test]
    fn arbitrary_angle_fills_corners() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(100, 100, Rgb([0, 0, 0])));
        let r = rotate(img.clone(), 45, 142, 142, Fill { rgb: [0, 255, 0], transparent: false }).to_rgb8();
        assert_eq!(r.dimensions(), (142, 142));
        assert_eq!(r.get_pixel(0, 0), &Rgb([0, 255, 0]));
        assert_eq!(r.get_pixel(71, 71), &Rgb([0, 0, 0]));
        let r = rotate(img, 30, 137, 137, Fill { rgb: [0, 0, 0], transparent: true });
        assert_eq!(r.to_rgba8().get_pixel(0, 0).0[3], 0);
        assert_eq!(r.to_rgba8().get_pixel(68, 68).0[3], 255);
    }
}
