//! Pixel operations, one small step per file, each taking and returning 8-bit sRGB RGB or RGBA.

pub(crate) mod blur;
pub(crate) mod crop;
pub(crate) mod flatten;
pub(crate) mod greyscale;
pub(crate) mod pad;
pub(crate) mod resize;
pub(crate) mod rotate;
pub(crate) mod smartcrop;

use image::{DynamicImage, Rgba};

/// The fill used for letterbox and rotation corners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fill {
    pub rgb: [u8; 3],
    pub transparent: bool,
}

impl Fill {
    pub fn rgba(self) -> Rgba<u8> {
        let [r, g, b] = self.rgb;
        Rgba([r, g, b, if self.transparent { 0 } else { 255 }])
    }
}

/// Transparent fill needs an alpha channel; an opaque one keeps the image's own layout.
pub(crate) fn with_alpha_for(img: DynamicImage, fill: Fill) -> DynamicImage {
    match img {
        DynamicImage::ImageRgb8(rgb) if fill.transparent => DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(rgb).to_rgba8()),
        other => other,
    }
}
