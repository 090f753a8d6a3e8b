//! Resize with fast_image_resize: Lanczos3 convolution, alpha premultiplied so edges do not halo.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

use crate::EngineError;

/// Scales `img` to exactly `w x h`. Returns the input untouched when the size already matches.
pub(crate) fn resize(img: DynamicImage, w: u32, h: u32) -> Result<DynamicImage, EngineError> {
    if (img.width(), img.height()) == (w, h) {
        return Ok(img);
    }
    let mut dst = match &img {
        DynamicImage::ImageRgba8(_) => DynamicImage::ImageRgba8(image::RgbaImage::new(w, h)),
        _ => DynamicImage::ImageRgb8(image::RgbImage::new(w, h)),
    };
    let src = match img {
        DynamicImage::ImageRgba8(_) | DynamicImage::ImageRgb8(_) => img,
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)).use_alpha(true);
    Resizer::new()
        .resize(&src, &mut dst, &opts)
        .map_err(|e| EngineError::Encode(format!("resize failed: {e}")))?;
    Ok(dst)
}

/// A quick, lower-quality resize for analysis copies (smartcrop), not for output.
pub(crate) fn resize_fast(img: &DynamicImage, w: u32, h: u32) -> Option<image::RgbImage> {
    let src = DynamicImage::ImageRgb8(img.to_rgb8());
    let mut dst = DynamicImage::ImageRgb8(image::RgbImage::new(w.max(1), h.max(1)));
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new().resize(&src, &mut dst, &opts).ok()?;
    Some(dst.into_rgb8())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    #[test]
    fn resizes_to_exact_size_keeping_flat_colour() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 200, Rgb([10, 200, 30])));
        let out = resize(img, 75, 50).unwrap().to_rgb8();
        assert_eq!(out.dimensions(), (75, 50));
        assert_eq!(out.get_pixel(37, 25), &Rgb([10, 200, 30]));
    }

    #[test]
    fn transparent_pixels_do_not_bleed_colour() {
        // Left half opaque red, right half transparent green: premultiplied resizing must not
        // tint the opaque side green.
        let img = RgbaImage::from_fn(64, 8, |x, _| if x < 32 { Rgba([255, 0, 0, 255]) } else { Rgba([0, 255, 0, 0]) });
        let out = resize(DynamicImage::ImageRgba8(img), 16, 2).unwrap().to_rgba8();
        let p = out.get_pixel(7, 0).0;
        assert!(p[1] < 8 && p[0] > 240, "{p:?}");
    }
}
