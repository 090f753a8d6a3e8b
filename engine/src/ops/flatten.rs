//! Flatten: composite alpha onto the background for formats without alpha, and drop alpha that
//! is fully opaque (smaller encodes, no needless alpha plane).

use image::{DynamicImage, RgbImage};

/// Composites RGBA over `bg`, giving RGB. RGB input is returned as is.
pub(crate) fn flatten(img: DynamicImage, bg: [u8; 3]) -> DynamicImage {
    let DynamicImage::ImageRgba8(src) = img else { return img };
    let (w, h) = src.dimensions();
    let mut out = vec![0u8; w as usize * h as usize * 3];
    for (d, s) in out.chunks_exact_mut(3).zip(src.as_raw().chunks_exact(4)) {
        let a = u32::from(s[3]);
        for c in 0..3 {
            d[c] = ((u32::from(s[c]) * a + u32::from(bg[c]) * (255 - a) + 127) / 255) as u8;
        }
    }
    DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, out).expect("sized from dimensions"))
}

/// Drops the alpha channel when every pixel is opaque.
pub(crate) fn drop_opaque_alpha(img: DynamicImage) -> DynamicImage {
    match &img {
        DynamicImage::ImageRgba8(b) if b.as_raw().chunks_exact(4).all(|p| p[3] == 255) => flatten(img, [0, 0, 0]),
        _ => img,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, Rgba, RgbaImage};

    #[test]
    fn composites_over_background() {
        let img = RgbaImage::from_fn(3, 1, |x, _| match x {
            0 => Rgba([0, 0, 0, 0]),
            1 => Rgba([0, 0, 0, 255]),
            _ => Rgba([0, 0, 0, 128]),
        });
        let out = flatten(DynamicImage::ImageRgba8(img), [255, 255, 255]).to_rgb8();
        assert_eq!(out.get_pixel(0, 0), &Rgb([255, 255, 255]));
        assert_eq!(out.get_pixel(1, 0), &Rgb([0, 0, 0]));
        assert_eq!(out.get_pixel(2, 0), &Rgb([127, 127, 127]));
    }

    #[test]
    fn opaque_alpha_is_dropped_translucent_kept() {
        let opaque = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 2, Rgba([1, 2, 3, 255])));
        assert!(matches!(drop_opaque_alpha(opaque), DynamicImage::ImageRgb8(_)));
        let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 2, Rgba([1, 2, 3, 254])));
        assert!(matches!(drop_opaque_alpha(clear), DynamicImage::ImageRgba8(_)));
    }
}
