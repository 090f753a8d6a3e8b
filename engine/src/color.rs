//! Colour management: every decoded image leaves here as 8-bit sRGB (RGB or RGBA).
//!
//! Tagged RGB (Display P3, Adobe RGB, ...) and CMYK with a profile go through Little CMS; CMYK
//! without one uses the naive ink formula. Output never carries a profile, so the pixels must be
//! sRGB already for colours not to shift.

use image::{DynamicImage, RgbImage};
use lcms2::{ColorSpaceSignature, Flags, GlobalContext, Intent, PixelFormat, Profile, Tag, TagSignature, Transform};

use crate::pixels::{Decoded, Pixels};

/// Rows per chunk handed to Little CMS (a 64-row strip stays in cache between source and destination).
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

/// Largest difference from sRGB's D50-adapted colorants (XYZ, white Y = 1) still taken as sRGB.
/// Real sRGB profiles differ from lcms's by about 1e-4 (s15.16 rounding, adaptation method);
/// 0.002 moves no 8-bit value by more than about one level.
const COLORANT_TOLERANCE: f64 = 0.002;

/// Encoded values at which a tone curve is compared with sRGB's, shadows included (where a pure
/// gamma 2.2 and sRGB part most).
const CURVE_PROBES: [f32; 8] = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0];

/// Largest difference, re-encoded with the sRGB curve, still taken as sRGB: half an 8-bit level.
const CURVE_TOLERANCE: f32 = 0.5 / 255.0;

/// sRGB-tagged sources are the common case; skipping them saves a full pass over the pixels.
/// The decision rests on what the profile does, not on its name (a "Linear sRGB" profile is
/// named sRGB and needs converting): a matrix/TRC profile whose colorants and tone curves match
/// sRGB's converts to the identity. Profiles with LUTs (which lcms prefers over the matrix) are
/// always converted.
fn is_srgb(p: &Profile) -> bool {
    use TagSignature::*;
    if !p.is_matrix_shaper() || [AToB0Tag, AToB1Tag, AToB2Tag, DToB0Tag].into_iter().any(|t| p.has_tag(t)) {
        return false;
    }
    let srgb = Profile::new_srgb();
    let colorants_match = [RedColorantTag, GreenColorantTag, BlueColorantTag].into_iter().all(|t| match (p.read_tag(t), srgb.read_tag(t)) {
        (Tag::CIEXYZ(a), Tag::CIEXYZ(b)) => [a.X - b.X, a.Y - b.Y, a.Z - b.Z].iter().all(|d| d.abs() <= COLORANT_TOLERANCE),
        _ => false,
    });
    colorants_match
        && [RedTRCTag, GreenTRCTag, BlueTRCTag].into_iter().all(|t| match p.read_tag(t) {
            Tag::ToneCurve(c) => CURVE_PROBES.iter().all(|&x| (srgb_encode(c.eval(x)) - x).abs() <= CURVE_TOLERANCE),
            _ => false,
        })
}

/// The sRGB transfer function (IEC 61966-2-1), linear light to encoded, both in 0..=1.
fn srgb_encode(linear: f32) -> f32 {
    let l = linear.clamp(0.0, 1.0);
    if l <= 0.003_130_8 { 12.92 * l } else { 1.055 * l.powf(1.0 / 2.4) - 0.055 }
}

fn rgb_to_srgb(img: &mut DynamicImage, src: &Profile) {
    let srgb = Profile::new_srgb();
    let (fmt, bpp) = match img {
        DynamicImage::ImageRgba8(_) => (PixelFormat::RGBA_8, 4),
        _ => (PixelFormat::RGB_8, 3),
    };
    // Alpha bytes of RGBA_8 are left untouched by an in-place transform.
    let Ok(t) = Transform::<u8, u8, _, _>::new_flags_context(GlobalContext::new(), src, fmt, &srgb, fmt, Intent::Perceptual, Flags::NO_CACHE) else {
        return;
    };
    let width = img.width() as usize;
    let buf: &mut [u8] = match img {
        DynamicImage::ImageRgba8(b) => b,
        DynamicImage::ImageRgb8(b) => b,
        _ => return,
    };
    buf.chunks_mut(width * bpp * ROWS_PER_CHUNK).for_each(|chunk| t.transform_in_place(chunk));
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
            .chunks_mut(rows * 3)
            .zip(cmyk[..n * 4].chunks(rows * 4))
            .for_each(|(dst, src)| t.transform_pixels(src, dst)),
        None => rgb.chunks_mut(rows * 3).zip(cmyk[..n * 4].chunks(rows * 4)).for_each(|(dst, src)| {
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

    const D65: lcms2::CIExyY = lcms2::CIExyY { x: 0.3127, y: 0.3290, Y: 1.0 };
    const SRGB_PRIMARIES: lcms2::CIExyYTRIPLE = lcms2::CIExyYTRIPLE {
        Red: lcms2::CIExyY { x: 0.64, y: 0.33, Y: 1.0 },
        Green: lcms2::CIExyY { x: 0.30, y: 0.60, Y: 1.0 },
        Blue: lcms2::CIExyY { x: 0.15, y: 0.06, Y: 1.0 },
    };

    /// An RGB profile with the given primaries and one curve for all channels, and a description.
    fn rgb_profile(primaries: &lcms2::CIExyYTRIPLE, curve: &lcms2::ToneCurve, description: &str) -> Profile {
        let mut p = Profile::new_rgb(&D65, primaries, &[curve, curve, curve]).unwrap();
        let mut mlu = lcms2::MLU::new(1);
        mlu.set_text_ascii(description, lcms2::Locale::none());
        assert!(p.write_tag(TagSignature::ProfileDescriptionTag, Tag::MLU(&mlu)));
        assert_eq!(p.info(lcms2::InfoType::Description, lcms2::Locale::none()).as_deref(), Some(description));
        p
    }

    fn grey(v: u8) -> DynamicImage { DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 4, image::Rgb([v, v, v]))) }

    #[test]
    fn linear_srgb_is_converted_despite_its_name() {
        // sRGB primaries with a linear tone curve: 128 is 50% light, which sRGB encodes near 188.
        let linear = rgb_profile(&SRGB_PRIMARIES, &lcms2::ToneCurve::new(1.0), "Linear sRGB");
        assert!(!is_srgb(&linear));
        let out = to_srgb(decoded(grey(128), Some(linear.icc().unwrap()))).to_rgb8();
        let p = out.get_pixel(2, 2).0;
        assert!(p.iter().all(|&c| (180..=196).contains(&c)), "mid-grey became {p:?}");
    }

    #[test]
    fn srgb_is_recognised_by_colorants_and_curves_not_by_name() {
        // lcms's own sRGB, and the IEC 61966-2-1 parametric curve under an unrelated name.
        assert!(is_srgb(&Profile::new_srgb()));
        let curve = lcms2::ToneCurve::new_parametric(4, &[2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045]).unwrap();
        let camera = rgb_profile(&SRGB_PRIMARIES, &curve, "Camera RGB Profile");
        assert!(is_srgb(&camera));
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(16, 1, |x, _| image::Rgb([x as u8 * 16, 255 - x as u8 * 16, 77])));
        assert_eq!(to_srgb(decoded(img.clone(), Some(camera.icc().unwrap()))).to_rgb8(), img.to_rgb8(), "skipped: pixels unchanged");
        // Plain gamma 2.2 with sRGB primaries differs in the shadows by more than half a level.
        assert!(!is_srgb(&rgb_profile(&SRGB_PRIMARIES, &lcms2::ToneCurve::new(2.2), "sRGB-ish")));
    }

    #[test]
    fn wide_gamut_named_srgb_is_still_converted() {
        let adobe_primaries = lcms2::CIExyYTRIPLE {
            Red: lcms2::CIExyY { x: 0.64, y: 0.33, Y: 1.0 },
            Green: lcms2::CIExyY { x: 0.21, y: 0.71, Y: 1.0 },
            Blue: lcms2::CIExyY { x: 0.15, y: 0.06, Y: 1.0 },
        };
        let curve = lcms2::ToneCurve::new_parametric(4, &[2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045]).unwrap();
        let p = rgb_profile(&adobe_primaries, &curve, "sRGB IEC61966-2.1");
        assert!(!is_srgb(&p));
        // A muted in-gamut colour: in sRGB its red channel drops well below the 120 it had.
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(2, 2, image::Rgb([120, 160, 90])));
        let out = to_srgb(decoded(img.clone(), Some(p.icc().unwrap()))).to_rgb8();
        let q = out.get_pixel(1, 1).0;
        assert!(q[0] < 110, "converted as Adobe RGB (red drops), not skipped as sRGB: {q:?}");
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
