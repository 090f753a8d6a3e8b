//! Colour management: every decoded image leaves here as 8-bit sRGB (RGB or RGBA).
//!
//! Tagged RGB (Display P3, Adobe RGB, ...) and CMYK with a profile go through Little CMS; CMYK
//! without one uses the naive ink formula. Output never carries a profile, so the pixels must be
//! sRGB already for colours not to shift.

use image::{DynamicImage, RgbImage};
use lcms2::{ColorSpaceSignature, Flags, GlobalContext, InfoType, Intent, Locale, PixelFormat, Profile, Transform};
use rayon::prelude::*;

use crate::decode::{Decoded, Pixels};

/// Rows per parallel chunk handed to Little CMS.
const ROWS_PER_CHUNK: usize = 64;

/// Converts decoded pixels to 8-bit sRGB. Profiles that cannot be parsed, or that do not match the
/// pixel layout, are ignored: the image renders as if untagged rather than failing.
pub(crate) fn to_srgb(decoded: Decoded) -> DynamicImage {
    let profile = decoded.icc.as_deref().and_then(|icc| Profile::new_icc(icc).ok());
    match decoded.pixels {
        Pixels::Cmyk { width, height, data } => cmyk_to_srgb(width, height, data, profile.as_ref()),
        Pixels::Image(img) => {
            let mut img = normalise(img);
            if let Some(p) = profile.filter(|p| p.color_space() == ColorSpaceSignature::RgbData && !is_srgb(p)) {
                rgb_to_srgb(&mut img, &p);
            }
            img
        }
    }
}

/// Narrows to 8-bit RGB or RGBA: grey becomes RGB so later steps handle two layouts only.
fn normalise(img: DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => img,
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

/// sRGB-tagged sources are the common case; skipping them saves a full pass over the pixels.
fn is_srgb(p: &Profile) -> bool {
    p.info(InfoType::Description, Locale::none())
        .is_some_and(|d| d.contains("sRGB") || d.contains("IEC 61966-2") || d.contains("IEC61966-2"))
}

fn rgb_to_srgb(img: &mut DynamicImage, src: &Profile) {
    let srgb = Profile::new_srgb();
    let (fmt, bpp) = match img {
        DynamicImage::ImageRgba8(_) => (PixelFormat::RGBA_8, 4),
        _ => (PixelFormat::RGB_8, 3),
    };
    // NO_CACHE makes the transform shareable across rayon workers; alpha bytes of RGBA_8 are
    // left untouched by an in-place transform.
    let Ok(t) = Transform::<u8, u8, _, _>::new_flags_context(GlobalContext::new(), src, fmt, &srgb, fmt, Intent::Perceptual, Flags::NO_CACHE) else {
        return;
    };
    let width = img.width() as usize;
    let buf: &mut [u8] = match img {
        DynamicImage::ImageRgba8(b) => b,
        DynamicImage::ImageRgb8(b) => b,
        _ => return,
    };
    buf.par_chunks_mut(width * bpp * ROWS_PER_CHUNK).for_each(|chunk| t.transform_in_place(chunk));
}

fn cmyk_to_srgb(width: u32, height: u32, cmyk: Vec<u8>, profile: Option<&Profile>) -> DynamicImage {
    let n = width as usize * height as usize;
    let mut rgb = vec![0u8; n * 3];
    let srgb = Profile::new_srgb();
    let transform = profile
        .filter(|p| p.color_space() == ColorSpaceSignature::CmykData)
        .and_then(|p| {
            Transform::<u8, u8, _, _>::new_flags_context(GlobalContext::new(), p, PixelFormat::CMYK_8, &srgb, PixelFormat::RGB_8, Intent::Perceptual, Flags::NO_CACHE)
                .ok()
        });
    let rows = width as usize * ROWS_PER_CHUNK;
    match transform {
        Some(t) => rgb
            .par_chunks_mut(rows * 3)
            .zip(cmyk[..n * 4].par_chunks(rows * 4))
            .for_each(|(dst, src)| t.transform_pixels(src, dst)),
        None => rgb.par_chunks_mut(rows * 3).zip(cmyk[..n * 4].par_chunks(rows * 4)).for_each(|(dst, src)| {
            for (d, s) in dst.chunks_exact_mut(3).zip(src.chunks_exact(4)) {
                let k = 255 - u32::from(s[3]);
                for c in 0..3 {
                    d[c] = (((255 - u32::from(s[c])) * k + 127) / 255) as u8;
                }
            }
        }),
    }
    DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, rgb).expect("buffer sized from dimensions"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(img: DynamicImage, icc: Option<Vec<u8>>) -> Decoded {
        Decoded { pixels: Pixels::Image(img), icc }
    }

    #[test]
    fn naive_cmyk_formula() {
        let data = vec![0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 0, 128, 255, 0];
        let out = to_srgb(Decoded { pixels: Pixels::Cmyk { width: 4, height: 1, data }, icc: None }).to_rgb8();
        assert_eq!(out.as_raw(), &[255, 255, 255, 0, 255, 255, 0, 0, 0, 255, 127, 0]);
    }

    #[test]
    fn srgb_and_broken_profiles_leave_pixels_alone() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(3, 2, image::Rgb([200, 30, 60])));
        let srgb = Profile::new_srgb().icc().unwrap();
        assert_eq!(to_srgb(decoded(img.clone(), Some(srgb))).to_rgb8(), img.to_rgb8());
        assert_eq!(to_srgb(decoded(img.clone(), Some(vec![1, 2, 3]))).to_rgb8(), img.to_rgb8());
    }

    #[test]
    fn adobe_rgb_green_converts_to_srgb_green() {
        // Adobe RGB primaries with gamma 563/256: its green is wider than sRGB green, so the
        // converted pixel stays green with red and blue near 0.
        let adobe = Profile::new_rgb(
            &lcms2::CIExyY { x: 0.3127, y: 0.3290, Y: 1.0 },
            &lcms2::CIExyYTRIPLE {
                Red: lcms2::CIExyY { x: 0.64, y: 0.33, Y: 1.0 },
                Green: lcms2::CIExyY { x: 0.21, y: 0.71, Y: 1.0 },
                Blue: lcms2::CIExyY { x: 0.15, y: 0.06, Y: 1.0 },
            },
            &[&lcms2::ToneCurve::new(563.0 / 256.0), &lcms2::ToneCurve::new(563.0 / 256.0), &lcms2::ToneCurve::new(563.0 / 256.0)],
        )
        .unwrap();
        let img = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(2, 2, image::Rgba([0, 200, 0, 77])));
        let out = to_srgb(decoded(img, Some(adobe.icc().unwrap()))).to_rgba8();
        let p = out.get_pixel(1, 1).0;
        assert_eq!(p[3], 77, "alpha untouched");
        assert!(p[0] < 60 && p[1] > 150 && p[2] < 60, "{p:?}");
    }
}
