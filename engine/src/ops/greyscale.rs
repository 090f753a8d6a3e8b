//! Greyscale (`gr_1`): Rec. 709 luma on the sRGB values, alpha kept.

use image::DynamicImage;

/// Replaces R, G and B by their luma; the layout (RGB or RGBA) stays so alpha survives.
pub(crate) fn greyscale(mut img: DynamicImage) -> DynamicImage {
    let bpp = if img.color().has_alpha() { 4 } else { 3 };
    let buf: &mut [u8] = match &mut img {
        DynamicImage::ImageRgba8(b) => b,
        DynamicImage::ImageRgb8(b) => b,
        _ => return DynamicImage::ImageRgb8(DynamicImage::ImageLuma8(img.to_luma8()).to_rgb8()),
    };
    for p in buf.chunks_exact_mut(bpp) {
        // Integer weights of 0.2126, 0.7152, 0.0722 scaled by 2^16.
        let y = (13933 * u32::from(p[0]) + 46871 * u32::from(p[1]) + 4732 * u32::from(p[2]) + 32768) >> 16;
        let y = y.min(255) as u8;
        p[0] = y;
        p[1] = y;
        p[2] = y;
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn luma_and_alpha() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_fn(3, 1, |x, _| match x {
            0 => Rgba([255, 255, 255, 10]),
            1 => Rgba([0, 255, 0, 255]),
            _ => Rgba([255, 0, 0, 0]),
        }));
        let out = greyscale(img).to_rgba8();
        assert_eq!(out.get_pixel(0, 0), &Rgba([255, 255, 255, 10]));
        assert_eq!(out.get_pixel(1, 0), &Rgba([182, 182, 182, 255]));
        assert_eq!(out.get_pixel(2, 0), &Rgba([54, 54, 54, 0]));
    }
}
