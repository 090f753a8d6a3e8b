//! Pad (`contain`): centre the image on a canvas of the background colour or transparency.

use image::{imageops, DynamicImage, RgbImage, RgbaImage};

use super::{with_alpha_for, Fill};

/// Centres `img` on a `w x h` canvas filled with `fill`.
pub(crate) fn pad(img: DynamicImage, w: u32, h: u32, fill: Fill) -> DynamicImage {
    if (img.width(), img.height()) == (w, h) {
        return img;
    }
    let x = i64::from(w.saturating_sub(img.width()) / 2);
    let y = i64::from(h.saturating_sub(img.height()) / 2);
    match with_alpha_for(img, fill) {
        DynamicImage::ImageRgba8(src) => {
            let mut canvas = RgbaImage::from_pixel(w, h, fill.rgba());
            imageops::replace(&mut canvas, &src, x, y);
            DynamicImage::ImageRgba8(canvas)
        }
        other => {
            let mut canvas = RgbImage::from_pixel(w, h, image::Rgb(fill.rgb));
            imageops::replace(&mut canvas, &other.to_rgb8(), x, y);
            DynamicImage::ImageRgb8(canvas)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, Rgba};

    #[test]
    fn letterboxes_with_colour_or_transparency() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(10, 4, Rgb([0, 0, 0])));
        let out = pad(img.clone(), 10, 10, Fill { rgb: [255, 0, 0], transparent: false }).to_rgb8();
        assert_eq!(out.dimensions(), (10, 10));
        assert_eq!(out.get_pixel(5, 0), &Rgb([255, 0, 0]));
        assert_eq!(out.get_pixel(5, 5), &Rgb([0, 0, 0]));
        let out = pad(img, 10, 10, Fill { rgb: [255, 255, 255], transparent: true });
        assert!(matches!(out, DynamicImage::ImageRgba8(_)));
        assert_eq!(out.to_rgba8().get_pixel(5, 9).0[3], 0);
        assert_eq!(out.to_rgba8().get_pixel(5, 4), &Rgba([0, 0, 0, 255]));
    }
}
