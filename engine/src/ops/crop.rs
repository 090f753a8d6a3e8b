//! Crop: cut a window out of the image, clamped to its bounds.

use image::DynamicImage;

use crate::plan::Rect;

/// Cuts `r` out of `img`. A window reaching past the edge is clamped, never a panic.
pub(crate) fn crop(img: DynamicImage, r: Rect) -> DynamicImage {
    let (iw, ih) = (img.width(), img.height());
    let w = r.w.clamp(1, iw);
    let h = r.h.clamp(1, ih);
    let x = r.x.min(iw - w);
    let y = r.y.min(ih - h);
    if (x, y, w, h) == (0, 0, iw, ih) {
        return img;
    }
    img.crop_imm(x, y, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn crops_and_clamps() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(10, 10, |x, y| Rgb([x as u8, y as u8, 0])));
        let out = crop(img.clone(), Rect { x: 2, y: 3, w: 4, h: 5 }).to_rgb8();
        assert_eq!(out.dimensions(), (4, 5));
        assert_eq!(out.get_pixel(0, 0), &Rgb([2, 3, 0]));
        let out = crop(img, Rect { x: 9, y: 9, w: 4, h: 4 }).to_rgb8();
        assert_eq!(out.dimensions(), (4, 4));
        assert_eq!(out.get_pixel(3, 3), &Rgb([9, 9, 0]));
    }
}
