//! Golden tests of `render` on real third-party images (Pillow's and gdk-pixbuf's test suites).
//! Fixtures come from scripts/fetch-fixtures.sh; a missing fixture fails, it never skips.

mod fixtures;

use std::time::{Duration, Instant};

use fixtures::*;
use image::{DynamicImage, ImageEncoder, RgbImage};
use imgcloud_engine::{probe, render, AutoFormat, EngineError, Limits, OutputFormat, RenderOptions, Rendered, Transform};

fn tf(s: &str) -> Transform {
    Transform::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn run(bytes: &[u8], t: &str) -> Rendered {
    render(bytes, &tf(t), &RenderOptions::default()).unwrap_or_else(|e| panic!("render {t:?}: {e}"))
}

fn run_err(bytes: &[u8], t: &str, opts: &RenderOptions) -> EngineError {
    match render(bytes, &tf(t), opts) {
        Ok(r) => panic!("render {t:?} should fail, gave {}x{} {:?}", r.width, r.height, r.format),
        Err(e) => e,
    }
}

fn rgb_of(r: &Rendered) -> RgbImage {
    let img = decode(&r.bytes);
    assert_eq!((img.width(), img.height()), (r.width, r.height), "decoded size matches Rendered");
    img.to_rgb8()
}

// ---------- crop modes ----------

/// 428x640 portrait photo (gdk-pixbuf's rotation reference, lossless PNG).
fn portrait() -> Vec<u8> {
    fixture("bug725582-testrotate.png")
}

#[test]
fn fit_and_inside_keep_aspect_within_the_box() {
    for t in ["w_200,h_200", "w_200,h_200,c_fit", "w_200,h_200,c_inside"] {
        let r = run(&portrait(), t);
        assert_eq!((r.width, r.height), (134, 200), "{t}");
        assert_eq!(rgb_of(&r).dimensions(), (134, 200));
    }
    // Never enlarged.
    let r = run(&portrait(), "w_2000,h_2000,c_fit");
    assert_eq!((r.width, r.height), (428, 640));
    // One side only: the other follows the aspect ratio.
    let r = run(&portrait(), "w_214");
    assert_eq!((r.width, r.height), (214, 320));
}

#[test]
fn outside_covers_the_box() {
    let r = run(&portrait(), "w_200,h_200,c_outside");
    assert_eq!((r.width, r.height), (200, 299));
    assert_eq!(rgb_of(&r).dimensions(), (200, 299));
}

#[test]
fn fill_and_cover_crop_around_the_centre() {
    let src = decode(&portrait()).to_rgb8();
    for c in ["fill", "cover"] {
        let r = run(&portrait(), &format!("w_200,h_100,c_{c},f_png"));
        let out = rgb_of(&r);
        assert_eq!(out.dimensions(), (200, 100));
        // Resized to 200x299 and cut to the middle 100 rows: the output centre is the source centre,
        // and the output's top edge is source row (299-100)/2 / 299 * 640 = 213.
        let gap = max_channel_gap(patch_mean(&out, 100, 50, 5), patch_mean(&src, 214, 320, 11));
        assert!(gap < 20.0, "c_{c}: centre differs by {gap}");
        let gap = max_channel_gap(patch_mean(&out, 100, 2, 3), patch_mean(&src, 214, 217, 7));
        assert!(gap < 25.0, "c_{c}: top edge differs by {gap}");
    }
}

#[test]
fn contain_letterboxes_with_bg_white_or_transparency() {
    // bg given: red bars left and right of a 134x200 image on a 200x200 canvas.
    let r = run(&portrait(), "w_200,h_200,c_contain,bg_ff0000,f_png");
    let out = rgb_of(&r);
    assert_eq!(out.dimensions(), (200, 200));
    for (x, y) in [(0, 100), (199, 0), (10, 199), (189, 50)] {
        assert_eq!(out.get_pixel(x, y).0, [255, 0, 0], "bar at ({x},{y})");
    }
    let centre = patch_mean(&out, 100, 100, 5);
    assert!(max_channel_gap(centre, [255.0, 0.0, 0.0]) > 60.0, "centre is photo, not bar");

    // No bg, JPEG output: white.
    let r = run(&portrait(), "w_200,h_200,c_contain,f_jpg");
    let p = rgb_of(&r).get_pixel(2, 100).0;
    assert!(p.iter().all(|v| *v >= 250), "white bar, got {p:?}");

    // No bg, PNG output: transparent.
    let r = run(&portrait(), "w_200,h_200,c_contain,f_png");
    let out = decode(&r.bytes).to_rgba8();
    assert_eq!(out.get_pixel(2, 100).0[3], 0, "transparent bar");
    assert_eq!(out.get_pixel(100, 100).0[3], 255, "opaque photo");
}

#[test]
fn thumb_is_exact_and_follows_the_content() {
    let r = run(&portrait(), "w_150,h_150,c_thumb,f_png");
    assert_eq!(rgb_of(&r).dimensions(), (150, 150));

    // Put the photo in the right third of a wide grey canvas: the smart window must find it.
    let photo = decode(&portrait()).to_rgb8();
    let mut wide = RgbImage::from_pixel(1800, 640, image::Rgb([128, 128, 128]));
    image::imageops::replace(&mut wide, &photo, 1300, 0);
    let mut png = vec![];
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(wide.as_raw(), 1800, 640, image::ExtendedColorType::Rgb8)
        .unwrap();
    let r = run(&png, "w_300,h_300,c_thumb,f_png");
    let out = rgb_of(&r);
    // A centred crop would be flat grey; the smart one shows the photo.
    let grey = out.pixels().filter(|p| p.0.iter().all(|v| v.abs_diff(128) <= 2)).count();
    assert!(grey < out.pixels().len() / 3, "{grey} grey pixels: window missed the photo");
}

// ---------- orientation ----------

#[test]
fn exif_orientations_2_to_8_match_orientation_1() {
    let reference = rgb_of(&run(&fixture("hopper.jpg"), "f_png"));
    for n in 2..=8 {
        let bytes = fixture(&format!("hopper_orientation_{n}.jpg"));
        assert_eq!(probe(&bytes).unwrap().orientation, n as u8);
        let out = rgb_of(&run(&bytes, "f_png"));
        let d = mean_abs_diff(&out, &reference);
        assert!(d < 8.0, "orientation {n}: mean abs diff {d} against orientation 1");
    }
    // The same check must fail for a wrongly oriented image, or it proves nothing.
    let flipped = DynamicImage::ImageRgb8(reference.clone()).fliph().to_rgb8();
    assert!(mean_abs_diff(&flipped, &reference) > 20.0);
}

#[test]
fn rotated_photo_matches_its_upright_reference() {
    let jpg = fixture("bug725582-testrotate.jpg");
    let info = probe(&jpg).unwrap();
    assert_eq!((info.width, info.height, info.orientation), (640, 428, 6));
    let upright = decode(&portrait()).to_rgb8();
    let out = rgb_of(&run(&jpg, "f_png"));
    assert_eq!(out.dimensions(), (428, 640));
    let d = mean_abs_diff(&out, &upright);
    assert!(d < 3.0, "mean abs diff {d}");
    // Through JPEG shrink-on-load (640 -> 107 is a 1/4 DCT decode) the result still matches.
    let small = rgb_of(&run(&jpg, "w_107,f_png"));
    let reference = image::imageops::resize(&upright, small.width(), small.height(), image::imageops::FilterType::Lanczos3);
    let d = mean_abs_diff(&small, &reference);
    assert!(d < 4.0, "shrink-on-load mean abs diff {d}");
}

// ---------- colour ----------

fn srgb_trc() -> lcms2::ToneCurve {
    lcms2::ToneCurve::new_parametric(4, &[2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045]).unwrap()
}

fn rgb_profile(primaries: [(f64, f64); 3], trc: &lcms2::ToneCurve) -> lcms2::Profile {
    let xy = |(x, y): (f64, f64)| lcms2::CIExyY { x, y, Y: 1.0 };
    lcms2::Profile::new_rgb(
        &xy((0.3127, 0.3290)),
        &lcms2::CIExyYTRIPLE { Red: xy(primaries[0]), Green: xy(primaries[1]), Blue: xy(primaries[2]) },
        &[trc, trc, trc],
    )
    .unwrap()
}

fn display_p3() -> lcms2::Profile {
    rgb_profile([(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)], &srgb_trc())
}

/// Ghostscript's Adobe RGB (1998) compatible profile (Debian libgs-common).
fn adobe_rgb() -> lcms2::Profile {
    lcms2::Profile::new_icc(&fixture("a98.icc")).expect("a98.icc parses")
}

fn convert(img: &RgbImage, from: &lcms2::Profile, to: &lcms2::Profile) -> RgbImage {
    let t: lcms2::Transform<u8, u8> =
        lcms2::Transform::new(from, lcms2::PixelFormat::RGB_8, to, lcms2::PixelFormat::RGB_8, lcms2::Intent::Perceptual).unwrap();
    let mut out = img.clone();
    t.transform_in_place(&mut out);
    out
}

fn encode_tagged(img: &RgbImage, icc: Vec<u8>, container: &str) -> Vec<u8> {
    let mut out = vec![];
    let (w, h, raw, ct) = (img.width(), img.height(), img.as_raw(), image::ExtendedColorType::Rgb8);
    match container {
        "png" => {
            let mut e = image::codecs::png::PngEncoder::new(&mut out);
            e.set_icc_profile(icc).unwrap();
            e.write_image(raw, w, h, ct).unwrap();
        }
        "jpg" => {
            let mut e = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 100);
            e.set_icc_profile(icc).unwrap();
            e.write_image(raw, w, h, ct).unwrap();
        }
        _ => {
            let mut e = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
            e.set_icc_profile(icc).unwrap();
            e.write_image(raw, w, h, ct).unwrap();
        }
    }
    out
}

/// A real photo moved into a wide-gamut space and tagged must render back to (nearly) the
/// original sRGB pixels, in every container that carries ICC. No registry ships a Display P3
/// tagged photo, so the P3 profile is built from its published primaries (D65, sRGB curve);
/// the Adobe RGB one is Ghostscript's real profile.
#[test]
fn display_p3_and_adobe_rgb_tagged_sources_render_as_their_srgb_conversion() {
    let photo = decode(&portrait()).to_rgb8();
    let srgb = lcms2::Profile::new_srgb();
    for (name, profile) in [("Display P3", display_p3()), ("Adobe RGB", adobe_rgb())] {
        let wide = convert(&photo, &srgb, &profile);
        let untagged_gap = mean_abs_diff(&wide, &photo);
        eprintln!("{name}: untagged gap {untagged_gap}");
        assert!(untagged_gap > 1.5, "{name}: conversion too small ({untagged_gap}) to test anything");
        for container in ["png", "jpg", "webp"] {
            let bytes = encode_tagged(&wide, profile.icc().unwrap(), container);
            let out = rgb_of(&run(&bytes, "f_png"));
            let d = mean_abs_diff(&out, &photo);
            eprintln!("{name} {container}: {d}");
            let limit = if container == "jpg" { 2.5 } else { 1.5 };
            assert!(d < limit, "{name} in {container}: mean abs diff {d} from the sRGB original (untagged {untagged_gap})");
        }
    }
}

/// Pillow's xmp_test.jpg is a real camera file tagged Adobe RGB (1998).
#[test]
fn adobe_rgb_camera_file_matches_lcms_reference() {
    let bytes = fixture("xmp_test.jpg");
    let src = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&bytes)).unwrap();
    let mut src = src;
    let icc = image::ImageDecoder::icc_profile(&mut src).unwrap().expect("xmp_test.jpg carries ICC");
    let profile = lcms2::Profile::new_icc(&icc).unwrap();
    let desc = profile.info(lcms2::InfoType::Description, lcms2::Locale::none()).unwrap_or_default();
    assert!(desc.contains("Adobe RGB"), "profile is {desc:?}");
    let raw = DynamicImage::from_decoder(src).unwrap().to_rgb8();
    let reference = convert(&raw, &profile, &lcms2::Profile::new_srgb());
    let untagged_gap = mean_abs_diff(&raw, &reference);
    eprintln!("xmp_test untagged gap {untagged_gap}");

    // Full size and shrink-on-load (libjpeg DCT scaling: 2000 -> 500 is 1/4); the profile must
    // survive both.
    let out = rgb_of(&run(&bytes, "f_png"));
    let d = mean_abs_diff(&out, &reference);
    eprintln!("xmp_test full {d}");
    // The photo is muted, so the conversion moves pixels by ~1.3 on average: the render must be
    // far closer to the converted reference than the unconverted pixels are.
    assert!(d < untagged_gap / 3.0, "full size: {d} (unconverted: {untagged_gap})");
    let out = rgb_of(&run(&bytes, "w_500,f_png"));
    let small = image::imageops::resize(&reference, out.width(), out.height(), image::imageops::FilterType::Lanczos3);
    let d = mean_abs_diff(&out, &small);
    // Resampling differences dominate a per-pixel comparison here, so compare the colour balance:
    // the average colour is insensitive to the resampler but moves with the profile conversion.
    let means = |img: &RgbImage| -> [f64; 3] {
        let n = f64::from(img.width() * img.height());
        let mut m = [0.0; 3];
        img.pixels().for_each(|p| (0..3).for_each(|c| m[c] += f64::from(p[c]) / n));
        m
    };
    let (got, want, unconverted) = (means(&out), means(&small), means(&raw));
    eprintln!("xmp_test small {d}; means {got:?} {want:?} {unconverted:?}");
    let off = max_channel_gap(got, want);
    assert!(off < max_channel_gap(unconverted, want) / 3.0, "shrink-on-load colour balance off by {off}: {got:?} vs {want:?}");
    assert!(d < 3.0, "shrink-on-load: {d}");
}

#[test]
fn cmyk_jpeg_renders_like_its_rgb_sibling() {
    let cmyk = fixture("pil_sample_cmyk.jpg");
    let rgb = decode(&fixture("pil_sample_rgb.jpg")).to_rgb8();
    let out = rgb_of(&run(&cmyk, "f_png"));
    let d = mean_abs_diff(&out, &rgb);
    assert!(d < 6.0, "CMYK render differs from the RGB sibling by {d}");
    // Inverted (no Adobe handling) would be wildly off.
    let inverted = RgbImage::from_fn(rgb.width(), rgb.height(), |x, y| image::Rgb(rgb.get_pixel(x, y).0.map(|v| 255 - v)));
    assert!(mean_abs_diff(&out, &inverted) > 60.0);
}

/// CMYK JPEGs with an embedded press profile (Ghostscript's default_cmyk.icc), stored the way
/// Photoshop does (Adobe marker, inverted; plain CMYK and YCCK), render as Little CMS converts them.
#[test]
fn cmyk_jpeg_with_embedded_profile_uses_it() {
    let photo = decode(&portrait()).to_rgb8();
    let icc = fixture("default_cmyk.icc");
    let cmyk_profile = lcms2::Profile::new_icc(&icc).unwrap();
    let srgb = lcms2::Profile::new_srgb();
    let to_cmyk: lcms2::Transform<u8, u8> =
        lcms2::Transform::new(&srgb, lcms2::PixelFormat::RGB_8, &cmyk_profile, lcms2::PixelFormat::CMYK_8, lcms2::Intent::Perceptual).unwrap();
    let mut cmyk = vec![0u8; photo.as_raw().len() / 3 * 4];
    to_cmyk.transform_pixels(photo.as_raw(), &mut cmyk);
    let to_rgb: lcms2::Transform<u8, u8> =
        lcms2::Transform::new(&cmyk_profile, lcms2::PixelFormat::CMYK_8, &srgb, lcms2::PixelFormat::RGB_8, lcms2::Intent::Perceptual).unwrap();
    let mut reference = photo.clone();
    to_rgb.transform_pixels(&cmyk, &mut reference);
    // What ignoring the profile (the naive ink formula) would give: must be clearly worse.
    let naive = RgbImage::from_fn(photo.width(), photo.height(), |x, y| {
        let i = ((y * photo.width() + x) * 4) as usize;
        let k = 255 - u32::from(cmyk[i + 3]);
        image::Rgb(std::array::from_fn(|c| ((255 - u32::from(cmyk[i + c])) * k / 255) as u8))
    });
    let naive_gap = mean_abs_diff(&naive, &reference);
    for ct in [jpeg_encoder::ColorType::Cmyk, jpeg_encoder::ColorType::CmykAsYcck] {
        let mut jpg = vec![];
        let mut enc = jpeg_encoder::Encoder::new(&mut jpg, 100);
        enc.add_icc_profile(&icc).unwrap();
        enc.encode(&cmyk, photo.width() as u16, photo.height() as u16, ct).unwrap();
        for t in ["f_png", "w_107,f_png"] {
            let out = rgb_of(&run(&jpg, t));
            let want = if t == "f_png" {
                reference.clone()
            } else {
                image::imageops::resize(&reference, out.width(), out.height(), image::imageops::FilterType::Lanczos3)
            };
            let d = mean_abs_diff(&out, &want);
            assert!(d < 4.0 && d < naive_gap / 3.0, "{ct:?} {t}: {d} from the lcms reference (naive: {naive_gap})");
        }
    }
}

#[test]
fn greyscale_and_blur() {
    let out = rgb_of(&run(&portrait(), "w_200,gr_1,f_png"));
    assert!(out.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
    let sharp = rgb_of(&run(&portrait(), "w_200,f_png"));
    let blurred = rgb_of(&run(&portrait(), "w_200,bl_6,f_png"));
    let energy = |img: &RgbImage| -> f64 {
        img.enumerate_pixels().filter(|(x, _, _)| *x > 0).map(|(x, y, p)| f64::from(p[1].abs_diff(img.get_pixel(x - 1, y)[1]))).sum()
    };
    assert!(energy(&blurred) < energy(&sharp) / 3.0, "blur must remove most detail");
    assert!(max_channel_gap(patch_mean(&blurred, 100, 150, 41), patch_mean(&sharp, 100, 150, 41)) < 12.0, "blur keeps local colour");
}

#[test]
fn rotation_any_angle() {
    let r = run(&portrait(), "w_200,r_90,f_png");
    assert_eq!((r.width, r.height), (299, 200));
    let r = run(&portrait(), "w_200,h_200,c_fill,r_45,bg_00ff00,f_png");
    let out = rgb_of(&r);
    assert_eq!(out.dimensions(), (283, 283));
    assert_eq!(out.get_pixel(0, 0).0, [0, 255, 0], "corner filled with bg");
    let r = run(&portrait(), "w_200,h_200,c_fill,r_30,f_png");
    assert_eq!(decode(&r.bytes).to_rgba8().get_pixel(0, 0).0[3], 0, "transparent corner without bg");
}

// ---------- metadata ----------

#[test]
fn no_metadata_in_any_output() {
    // xmp_test.jpg has EXIF, XMP and ICC; hopper_orientation_6.jpg has EXIF.
    for src in ["xmp_test.jpg", "hopper_orientation_6.jpg"] {
        let bytes = fixture(src);
        for f in ["jpg", "png", "webp", "avif", "gif"] {
            // Also with no transform at all: served bytes are always a fresh encode.
            for t in [format!("f_{f}"), format!("w_120,f_{f}")] {
                let r = run(&bytes, &t);
                let b = &r.bytes;
                let ctx = format!("{src} {t}");
                match f {
                    "jpg" => {
                        for (m, payload) in jpeg_segments(b) {
                            assert!(!(0xE1..=0xEF).contains(&m), "{ctx}: APP{} segment {:?}", m - 0xE0, &payload[..payload.len().min(12)]);
                        }
                    }
                    "png" => {
                        let chunks = png_chunks(b);
                        for bad in ["iCCP", "eXIf", "tEXt", "zTXt", "iTXt", "sRGB", "gAMA", "cHRM"] {
                            assert!(!chunks.iter().any(|c| c == bad), "{ctx}: {bad} in {chunks:?}");
                        }
                    }
                    "webp" => {
                        let chunks = webp_chunks(b);
                        for bad in ["ICCP", "EXIF", "XMP "] {
                            assert!(!chunks.iter().any(|c| c == bad), "{ctx}: {bad} in {chunks:?}");
                        }
                    }
                    _ => {}
                }
                for needle in [&b"Exif\0"[..], b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"Photoshop 3.0", b"prof"] {
                    assert!(!b.windows(needle.len()).any(|w| w == needle), "{ctx}: {:?} found", String::from_utf8_lossy(needle));
                }
            }
        }
    }
}

// ---------- refusals ----------

/// The pixel-flood guard must act on the header alone. That is proven by outcomes, not by a clock
/// (a loaded CI box makes any tight time bound flaky): issue205.jpg declares 64250x64250 in under
/// 2 KB, so it cannot hold that image's pixels, and a decoder that ran first would report a
/// corrupt file or try to allocate 12 GB, never `TooManyPixels`.
#[test]
fn pixel_flood_refused_from_the_header_alone() {
    let bytes = fixture("issue205.jpg");
    assert!(bytes.len() < 2048);
    let e = probe(&bytes).unwrap_err();
    assert!(matches!(e, EngineError::TooManyPixels { width: 64250, height: 64250, .. }), "{e:?}");
    let e = run_err(&bytes, "w_100", &RenderOptions::default());
    assert!(matches!(e, EngineError::TooManyPixels { .. }), "{e:?}");
}

/// `probe` reads no pixel data: a real photo cut just before its first scan still probes to its
/// size and orientation, while rendering the same bytes (which must decode) is refused as corrupt.
#[test]
fn probe_needs_no_pixel_data() {
    let photo = fixture("bug725582-testrotate.jpg");
    // The frame's own SOS, found by walking the segments (the EXIF thumbnail carries another).
    let segments = jpeg_segments(&photo);
    assert_eq!(segments.last().map(|(m, _)| *m), Some(0xDA), "walk reached the scan");
    let sos = 2 + segments[..segments.len() - 1].iter().map(|(_, p)| 4 + p.len()).sum::<usize>();
    assert_eq!(&photo[sos..sos + 2], [0xFF, 0xDA]);
    let header_only = &photo[..sos];
    let info = probe(header_only).unwrap_or_else(|e| panic!("probe of the header alone: {e:?}"));
    assert_eq!((info.width, info.height, info.orientation), (640, 428, 6));
    let e = run_err(header_only, "w_100", &RenderOptions::default());
    assert!(matches!(e, EngineError::Corrupt(_)), "{e:?}");
}

#[test]
fn truncated_files_are_corrupt_not_panics() {
    let e = run_err(&fixture("truncated_jpeg.jpg"), "w_50", &RenderOptions::default());
    assert!(matches!(e, EngineError::Corrupt(_)), "Pillow's truncated_jpeg.jpg: {e:?}");
    for name in ["hopper.jpg", "hopper.png", "hopper.webp", "hopper.gif", "hopper.bmp", "hopper.tif", "xmp_test.jpg"] {
        let full = fixture(name);
        // Cut inside the header and inside the pixel data.
        for cut in [20, 60, full.len() / 2, full.len() * 9 / 10] {
            let cut = cut.min(full.len() - 1);
            match render(&full[..cut], &tf("w_64"), &RenderOptions::default()) {
                Err(EngineError::Corrupt(_)) => {}
                other => panic!("{name} cut at {cut}: expected Corrupt, got {:?}", other.map(|r| (r.width, r.height))),
            }
        }
    }
    // gdk-pixbuf's premature-end.jpg (CMYK, cut short) must fail cleanly too.
    let e = run_err(&fixture("premature-end.jpg"), "", &RenderOptions::default());
    assert!(matches!(e, EngineError::Corrupt(_)), "{e:?}");
}

#[test]
fn non_images_are_unsupported() {
    let cases: [(&[u8], &str); 4] = [
        (b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>", "SVG is not accepted"),
        (b"<!DOCTYPE html>\n<html><body><img src=x onerror=alert(1)></body></html>", "HTML is not an image"),
        (b"PK\x03\x04\x14\0\0\0\x08\0payload.jpg", "zip archives are not accepted"),
        (b"just some text", "unrecognised file type"),
    ];
    for (bytes, msg) in cases {
        match run_err(bytes, "", &RenderOptions::default()) {
            EngineError::Unsupported(m) => assert_eq!(m, msg),
            e => panic!("{msg}: got {e:?}"),
        }
    }
}

#[test]
fn deadline_in_the_past_and_pixel_budget() {
    let opts = RenderOptions {
        limits: Limits { deadline: Some(Instant::now() - Duration::from_millis(1)), ..Limits::default() },
        ..RenderOptions::default()
    };
    assert!(matches!(run_err(&portrait(), "w_100", &opts), EngineError::Deadline(_)));
    let opts = RenderOptions { limits: Limits { max_work_pixels: 10_000, ..Limits::default() }, ..RenderOptions::default() };
    assert!(matches!(run_err(&portrait(), "w_100", &opts), EngineError::PixelBudget(10_000)));
    let opts = RenderOptions { limits: Limits { max_input_pixels: 1000, ..Limits::default() }, ..RenderOptions::default() };
    assert!(matches!(run_err(&portrait(), "w_100", &opts), EngineError::TooManyPixels { .. }));
}

// ---------- formats ----------

fn with_accept(accept: &str) -> RenderOptions {
    RenderOptions { auto: AutoFormat::from_accept(Some(accept)), ..RenderOptions::default() }
}

#[test]
fn f_auto_choices() {
    let jpg = fixture("hopper.jpg");
    let alpha = fixture("transparent.png");
    let cases = [
        (&jpg, "image/avif,image/webp,*/*", OutputFormat::Avif, "image/avif", "avif"),
        (&jpg, "image/webp,*/*", OutputFormat::Webp, "image/webp", "webp"),
        (&jpg, "*/*", OutputFormat::Jpg, "image/jpeg", "jpg"),
        (&alpha, "*/*", OutputFormat::Png, "image/png", "png"),
        (&alpha, "image/webp", OutputFormat::Webp, "image/webp", "webp"),
    ];
    for (bytes, accept, format, ct, magic) in cases {
        let r = render(bytes, &tf("w_64,f_auto"), &with_accept(accept)).unwrap();
        assert_eq!((r.format, r.content_type()), (format, ct), "{accept}");
        assert_eq!(sniff_format(&r.bytes), Some(magic), "{accept}: bytes agree with the reported format");
    }
    // Without f, the source's format.
    let r = run(&jpg, "w_64");
    assert_eq!((r.format, r.content_type()), (OutputFormat::Jpg, "image/jpeg"));
    assert_eq!(sniff_format(&r.bytes), Some("jpg"));
    // Transparency survives f_auto to webp.
    let r = render(&alpha, &tf("f_auto"), &with_accept("image/webp")).unwrap();
    let img = decode(&r.bytes);
    assert!(img.color().has_alpha() && img.to_rgba8().pixels().any(|p| p[3] == 0));
}

#[test]
fn every_output_format_decodes_to_the_planned_size() {
    let inputs = ["hopper.jpg", "hopper.png", "hopper.webp", "hopper.gif", "hopper.bmp", "hopper.tif", "transparent.png"];
    for name in inputs {
        let bytes = fixture(name);
        for f in ["jpg", "png", "webp", "gif", "avif"] {
            let r = run(&bytes, &format!("w_90,h_60,c_fill,f_{f}"));
            assert_eq!(sniff_format(&r.bytes), Some(f), "{name} -> f_{f}: the bytes are what was asked for");
            let size = if f == "avif" {
                avif_size(&r.bytes)
            } else {
                let img = decode(&r.bytes);
                (img.width(), img.height())
            };
            assert_eq!(size, (90, 60), "{name} -> {f}");
            assert_eq!((r.width, r.height), (90, 60));
        }
    }
}

/// `q_` reaches every lossy encoder: on a real photo, q_20 is far smaller than q_95 and q_50 lies
/// between. An encoder that ignored `q_` would give the same size for all three.
#[test]
fn quality_changes_the_size_of_lossy_outputs() {
    let photo = portrait();
    for f in ["jpg", "webp", "avif"] {
        let size = |q: u8| {
            let r = run(&photo, &format!("f_{f},q_{q}"));
            assert_eq!(sniff_format(&r.bytes), Some(f), "f_{f},q_{q}");
            r.bytes.len()
        };
        let (low, mid, high) = (size(20), size(50), size(95));
        eprintln!("f_{f}: q_20 {low} B, q_50 {mid} B, q_95 {high} B");
        assert!(low < mid && mid < high, "f_{f}: sizes must grow with q ({low}, {mid}, {high})");
        assert!(low * 3 < high, "f_{f}: q_20 ({low} B) is not much smaller than q_95 ({high} B)");
    }
}

#[test]
fn alpha_is_flattened_onto_bg_for_jpg() {
    let alpha = fixture("transparent.png");
    let src = decode(&alpha).to_rgba8();
    let (x, y) = src.enumerate_pixels().find(|(_, _, p)| p[3] == 0).map(|(x, y, _)| (x, y)).expect("has a transparent pixel");
    let out = rgb_of(&run(&alpha, "f_jpg,bg_0000ff"));
    let p = out.get_pixel(x, y).0;
    assert!(p[2] > 230 && p[0] < 25 && p[1] < 25, "transparent pixel became {p:?}, expected blue");
}


/// A deterministic stand-in for the libFuzzer target (fuzz/fuzz_targets/render.rs): real files
/// with flipped bits, overwritten bytes and cuts must give a result or a typed error, never a
/// panic escaping `render`.
#[test]
fn mutated_real_files_never_panic() {
    let sources = [
        "hopper.jpg", "hopper.png", "hopper.webp", "hopper.gif", "hopper.bmp", "hopper.tif",
        "pil_sample_cmyk.jpg", "hopper_orientation_6.jpg", "transparent.png",
    ];
    let transforms = ["w_32,h_32,c_fill,f_png", "w_40,h_20,c_contain,r_30,f_jpg", "w_24,h_24,c_thumb,gr_1,bl_2,f_webp", "w_16,f_gif"];
    let opts = RenderOptions {
        limits: Limits { max_input_pixels: 4_000_000, max_work_pixels: 8_000_000, ..Limits::default() },
        ..RenderOptions::default()
    };
    // xorshift: reproducible without a dependency.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut outcomes = [0usize; 2];
    for (i, name) in sources.iter().cycle().take(sources.len() * 30).enumerate() {
        let mut bytes = fixture(name);
        match next() % 3 {
            0 => {
                for _ in 0..1 + next() % 8 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] ^= 1 << (next() % 8);
                }
            }
            1 => {
                // Overwrite near the start, where headers live.
                let at = (next() as usize) % bytes.len().min(512);
                let len = (1 + next() % 16) as usize;
                for b in bytes.iter_mut().skip(at).take(len) {
                    *b = next() as u8;
                }
            }
            _ => bytes.truncate(1 + (next() as usize) % bytes.len()),
        }
        let t = tf(transforms[i % transforms.len()]);
        let result = std::panic::catch_unwind(|| render(&bytes, &t, &opts));
        match result {
            Ok(Ok(_)) => outcomes[0] += 1,
            Ok(Err(_)) => outcomes[1] += 1,
            Err(_) => panic!("render panicked on mutated {name} (case {i})"),
        }
    }
    eprintln!("mutations: {} rendered, {} refused", outcomes[0], outcomes[1]);
}

// ---------- orientation outside EXIF, ordinary TIFFs ----------

#[test]
fn png_orientation_kept_in_xmp_or_imagemagick_text_is_applied() {
    // Pillow's test files: orientation 3 only in XMP (attribute and element spellings), or only in
    // ImageMagick's "Raw profile type exif" text chunk. Pillow reads 3 from each.
    for f in ["xmp_tags_orientation.png", "xmp_tags_orientation_exiftool.png", "exif_imagemagick_orientation.png"] {
        let bytes = fixture(f);
        assert_eq!(probe(&bytes).unwrap().orientation, 3, "{f}");
        // Lightness only: the files carry a wide-gamut ICC profile, which the render converts to sRGB.
        let luma = |img: &RgbImage| DynamicImage::ImageRgb8(img.clone()).to_luma8();
        let stored = luma(&decode(&bytes).to_rgb8());
        let upright = image::imageops::rotate180(&stored);
        let out = luma(&rgb_of(&run(&bytes, "f_png")));
        assert_eq!(out.dimensions(), upright.dimensions(), "{f}");
        let diff = |a: &image::GrayImage, b: &image::GrayImage| {
            a.pixels().zip(b.pixels()).map(|(p, q)| f64::from(p[0].abs_diff(q[0]))).sum::<f64>() / f64::from(a.width() * a.height())
        };
        let (turned, as_stored) = (diff(&out, &upright), diff(&out, &stored));
        assert!(turned * 3.0 < as_stored, "{f}: {turned} against the turned image, {as_stored} against the stored one");
    }
    // The unedited ImageMagick file says 1.
    assert_eq!(probe(&fixture("exif_imagemagick.png")).unwrap().orientation, 1);
}

#[test]
fn palette_and_low_depth_grey_tiffs_decode() {
    // AFL's seed: a 4-bit palette, Deflate-compressed TIFF; its PNG seed is the same picture.
    let tif = rgb_of(&run(&fixture("not_kitty.tiff"), "f_png"));
    let png = rgb_of(&run(&fixture("not_kitty.png"), "f_png"));
    assert_eq!(tif.dimensions(), (32, 32));
    let d = mean_abs_diff(&tif, &png);
    assert!(d < 8.0, "palette TIFF differs from its PNG sibling by {d}");

    // Pillow's 4-bit grey hopper against hopper.png made grey: 16 levels, so within a level or so.
    let grey4 = rgb_of(&run(&fixture("hopper_gray_4bpp.tif"), "f_png"));
    let grey = rgb_of(&run(&fixture("hopper.png"), "gr_1,f_png"));
    assert_eq!(grey4.dimensions(), grey.dimensions());
    let d = mean_abs_diff(&grey4, &grey);
    assert!(d < 14.0, "4-bit grey TIFF differs from grey hopper by {d}");
    assert!(grey4.pixels().all(|p| p[0] == p[1] && p[1] == p[2] && p[0] % 17 == 0), "16 grey levels, 0..=255 in steps of 17");

    // Pillow's 8-bit palette multipage file: the first page, as its ColorMap says.
    let page = rgb_of(&run(&fixture("multipage-mmap.tiff"), "f_png"));
    assert_eq!(page.dimensions(), (10, 10));
}
