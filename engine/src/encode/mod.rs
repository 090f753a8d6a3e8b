//! Encoding: fresh encodes only, so no EXIF, XMP, IPTC or ICC from the source can reach the output.
//!
//! - jpg: libjpeg-turbo (the `mozjpeg` crate in its fastest, libjpeg-turbo-compatible profile):
//!   progressive with optimised Huffman tables; 4:2:0 chroma below q 90, 4:4:4 from q 90 up, the
//!   split libvips's jpegsave makes by default.
//! - png: the png crate (as `image` drives it) with fast compression and adaptive filtering.
//! - webp: libwebp lossy at the planned quality, with an alpha plane when the image has one.
//! - avif: ravif (rav1e) at the planned quality and the caller's speed, alpha aware.
//! - gif: `image`'s encoder, one frame, NeuQuant palette (an exact one up to 256 colours).
//!
//! The render deadline (`Budget::time`) is checked inside the still JPEG, PNG and WebP encodes,
//! which give up with the same `Deadline` error a skipped step reports: JPEG between bands of
//! scanlines and on every output buffer libjpeg flushes, PNG between bands of rows, WebP from
//! libwebp's progress hook (about once per macroblock row). rav1e (AVIF) and the GIF quantiser
//! offer no way in, so an AVIF encode is bounded by `avif_speed_for` instead, and a GIF by its size.
//!
//! Animated outputs (`AnimatedEncoder`) take frames one at a time with their delays:
//! - gif: the gif crate, one local palette per frame quantised as above, each frame the full
//!   canvas with disposal "background" (so a transparent pixel never shows the frame before it),
//!   delays in centiseconds rounded to nearest, the loop count in a NETSCAPE2.0 block.
//! - webp: libwebp's WebPAnimEncoder, lossy at the planned quality (alpha in its own plane). It
//!   stores each frame as the rectangle that changed, and an unchanged frame becomes extra time
//!   on the previous one, so a WebP may hold fewer frames than its source with the same timing.


mod avif;
mod gif;
mod jpeg;
mod png;
mod webp;

use image::{DynamicImage, ExtendedColorType};

use self::gif::{gif_side, GIF_SPEED};
use self::png::encode_png;
use self::jpeg::encode_jpeg;
use self::webp::{encode_webp, WebpAnimation};
use crate::budget::Budget;
use crate::transform::OutputFormat;
use crate::EngineError;


/// Input bytes handed to the JPEG and PNG encoders between two deadline checks: a few
/// milliseconds of work, so an abandoned encode stops soon after its deadline, while a check
/// (one clock read) stays lost in the noise.
pub(super) const BAND_BYTES: usize = 1 << 20;

pub(super) fn err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Encode(e.to_string())
}

/// Encodes 8-bit sRGB RGB or RGBA pixels. JPEG callers flatten alpha first; RGBA reaching the JPEG
/// encoder is flattened onto black as a last resort rather than failing. JPEG, PNG and WebP give
/// up with `budget`'s `Deadline` error once its deadline has passed.
pub(crate) fn encode(img: &DynamicImage, format: OutputFormat, quality: u8, avif_speed: u8, budget: &Budget) -> Result<Vec<u8>, EngineError> {
    let (w, h) = (img.width(), img.height());
    let q = quality.clamp(1, 100);
    match format {
        // The planner always resolves `f_auto`; bytes in a guessed format would go out under
        // `OutputFormat::Auto.content_type()`, which names no image type.
        OutputFormat::Auto => Err(EngineError::Encode("f_auto reached the encoder unresolved".into())),
        OutputFormat::Jpg => encode_jpeg(img.to_rgb8().as_raw(), w, h, q, budget),
        OutputFormat::Png => {
            let (buf, ct) = raw(img);
            encode_png(buf, ct, w, h, budget)
        }
        OutputFormat::Gif => gif::encode_gif(img),
        OutputFormat::Webp => match img {
            DynamicImage::ImageRgba8(b) => encode_webp(b.as_raw(), true, w, h, q, budget),
            DynamicImage::ImageRgb8(b) => encode_webp(b.as_raw(), false, w, h, q, budget),
            _ => encode_webp(img.to_rgba8().as_raw(), true, w, h, q, budget),
        },
        OutputFormat::Avif => avif::encode_avif(img, w, h, q, avif_speed),
    }
}

/// How many times an animation plays: 0 is forever (WebP's and APNG's convention, see `SourceInfo::plays`).
pub(crate) type Plays = u32;

/// An animated encode in progress: `add` each frame (all the same size) with its display time,
/// then `finish`. Frames are encoded as they arrive, so only the encoder's own state is held.
pub(crate) enum AnimatedEncoder {
    Gif(::gif::Encoder<Vec<u8>>),
    Webp(WebpAnimation),
}

impl AnimatedEncoder {
    /// An encoder for `format` (GIF or WebP; others are not animated formats) of `w x h` frames.
    pub(crate) fn new(format: OutputFormat, w: u32, h: u32, quality: u8, plays: Plays) -> Result<Self, EngineError> {
        match format {
            OutputFormat::Gif => {
                let (w, h) = (gif_side(w)?, gif_side(h)?);
                let mut enc = ::gif::Encoder::new(Vec::new(), w, h, &[]).map_err(err)?;
                // GIF counts repeats after the first play; without the block it plays once.
                match plays {
                    0 => enc.set_repeat(::gif::Repeat::Infinite).map_err(err)?,
                    1 => {}
                    n => enc.set_repeat(::gif::Repeat::Finite(u16::try_from(n - 1).unwrap_or(u16::MAX))).map_err(err)?,
                }
                Ok(AnimatedEncoder::Gif(enc))
            }
            OutputFormat::Webp => Ok(AnimatedEncoder::Webp(WebpAnimation::new(w, h, quality, plays)?)),
            other => Err(err(format!("{other:?} is not an animated format"))),
        }
    }

    /// Adds the next frame, shown for `delay_ms`. 8-bit RGB or RGBA, the encoder's size.
    pub(crate) fn add(&mut self, img: &DynamicImage, delay_ms: u32) -> Result<(), EngineError> {
        match self {
            AnimatedEncoder::Gif(enc) => {
                let mut rgba = img.to_rgba8();
                let mut frame = ::gif::Frame::from_rgba_speed(gif_side(img.width())?, gif_side(img.height())?, &mut rgba, GIF_SPEED);
                frame.delay = u16::try_from(delay_ms.saturating_add(5) / 10).unwrap_or(u16::MAX);
                frame.dispose = ::gif::DisposalMethod::Background;
                enc.write_frame(&frame).map_err(err)
            }
            AnimatedEncoder::Webp(anim) => anim.add(img, delay_ms),
        }
    }

    /// The finished file.
    pub(crate) fn finish(self) -> Result<Vec<u8>, EngineError> {
        match self {
            AnimatedEncoder::Gif(enc) => enc.into_inner().map_err(err),
            AnimatedEncoder::Webp(anim) => anim.finish(),
        }
    }
}

fn raw(img: &DynamicImage) -> (&[u8], ExtendedColorType) {
    match img {
        DynamicImage::ImageRgba8(b) => (b.as_raw(), ExtendedColorType::Rgba8),
        DynamicImage::ImageRgb8(b) => (b.as_raw(), ExtendedColorType::Rgb8),
        // The pipeline only produces the two layouts above.
        _ => (&[], ExtendedColorType::Rgb8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use super::avif::{avif_speed_for, AVIF_FAST_ABOVE_PIXELS};
    use super::jpeg::JPEG_FULL_CHROMA_FROM_Q;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    use crate::pipeline::Limits;
    use crate::test_containers as containers;

    fn no_deadline() -> Budget {
        Budget::new(Limits::default())
    }

    /// Deterministic noise (xorshift), the slowest kind of picture to encode; alpha varies too.
    fn noise(w: u32, h: u32, alpha: bool) -> DynamicImage {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s.to_le_bytes()
        };
        if alpha {
            DynamicImage::ImageRgba8(RgbaImage::from_fn(w, h, |_, _| {
                let b = next();
                Rgba([b[0], b[1], b[2], b[3] | 0x80])
            }))
        } else {
            DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |_, _| {
                let b = next();
                Rgb([b[0], b[1], b[2]])
            }))
        }
    }

    const STOPPABLE: [OutputFormat; 3] = [OutputFormat::Jpg, OutputFormat::Png, OutputFormat::Webp];

    #[test]
    fn encodes_give_up_when_the_deadline_has_passed_at_their_start() {
        let img = noise(1200, 900, false);
        for f in STOPPABLE {
            let past = Budget::new(Limits { deadline: Some(std::time::Instant::now()), ..Limits::default() });
            assert!(matches!(encode(&img, f, 90, 8, &past), Err(EngineError::Deadline(_))), "{f:?}");
        }
    }

    #[test]
    fn encodes_give_up_at_the_first_check_that_finds_the_deadline_passed() {
        for (f, img) in STOPPABLE.iter().flat_map(|&f| [(f, noise(1200, 900, false)), (f, noise(1200, 900, true))]) {
            // How often this encode looks at the deadline when it never passes.
            let counting = Budget::passing_after_checks(u32::MAX);
            let whole = encode(&img, f, 90, 8, &counting).unwrap();
            let checks = u32::MAX - counting.checks_left();
            assert!(checks >= 4, "{f:?} checked its deadline {checks} times");
            assert_eq!(encode(&img, f, 90, 8, &Budget::passing_after_checks(checks)).unwrap(), whole, "{f:?}");
            // Passing half way through, or just before the last check: abandoned with the deadline error.
            for n in [checks / 2, checks - 1] {
                let budget = Budget::passing_after_checks(n);
                assert!(matches!(encode(&img, f, 90, 8, &budget), Err(EngineError::Deadline(_))), "{f:?} after {n} of {checks} checks");
                assert_eq!(budget.checks_left(), 0, "{f:?} made every check it was allowed");
            }
        }
    }

    #[test]
    fn webp_output_is_the_webp_crates_byte_for_byte() {
        // The crate imports into ARGB, ours straight into YUV: same bytes at every quality.
        for img in [noise(301, 199, false), noise(301, 199, true)] {
            let (w, h) = (img.width(), img.height());
            for q in [50u8, 77, 95] {
                let theirs = match &img {
                    DynamicImage::ImageRgba8(b) => ::webp::Encoder::from_rgba(b.as_raw(), w, h).encode_simple(false, f32::from(q)).unwrap().to_vec(),
                    DynamicImage::ImageRgb8(b) => ::webp::Encoder::from_rgb(b.as_raw(), w, h).encode_simple(false, f32::from(q)).unwrap().to_vec(),
                    _ => unreachable!(),
                };
                assert!(encode(&img, OutputFormat::Webp, q, 8, &no_deadline()).unwrap() == theirs, "{:?} q{q}", img.color());
            }
        }
        assert!(encode_webp(&[0; 10], false, 4, 4, 80, &no_deadline()).is_err(), "a short buffer is refused, not read past");
    }

    #[test]
    fn jpeg_fed_in_bands_is_the_one_call_encode_byte_for_byte() {
        let img = noise(1000, 1500, false).to_rgb8();
        for q in [80, 95] {
            let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
            c.set_fastest_defaults();
            c.set_size(1000, 1500);
            c.set_quality(f32::from(q));
            let chroma = if q >= JPEG_FULL_CHROMA_FROM_Q { (1, 1) } else { (2, 2) };
            c.set_chroma_sampling_pixel_sizes(chroma, chroma);
            c.set_progressive_mode();
            c.set_optimize_coding(true);
            let mut started = c.start_compress(Vec::new()).unwrap();
            started.write_scanlines(img.as_raw()).unwrap();
            let whole = started.finish().unwrap();
            assert_eq!(encode_jpeg(img.as_raw(), 1000, 1500, q, &no_deadline()).unwrap(), whole, "q {q}");
        }
    }

    #[test]
    fn png_streamed_in_bands_keeps_every_pixel() {
        use image::codecs::png::{CompressionType, FilterType, PngEncoder};
        use image::ImageEncoder;
        let gradient = DynamicImage::ImageRgb8(RgbImage::from_fn(900, 800, |x, y| Rgb([(x / 4) as u8, (y / 4) as u8, ((x + y) / 8) as u8])));
        for img in [noise(900, 800, false), noise(900, 800, true), gradient] {
            let ours = encode(&img, OutputFormat::Png, 80, 8, &no_deadline()).unwrap();
            assert_eq!(image::load_from_memory(&ours).unwrap(), img, "{:?}", img.color());
            // Against `image`'s own PngEncoder with the same settings (what was used before).
            let (buf, ct) = raw(&img);
            let mut theirs = Vec::new();
            PngEncoder::new_with_quality(&mut theirs, CompressionType::Fast, FilterType::Adaptive).write_image(buf, img.width(), img.height(), ct).unwrap();
            eprintln!("{:?}: ours {} bytes, image's {} bytes", img.color(), ours.len(), theirs.len());
            assert!(ours.len() as f64 <= theirs.len() as f64 * 1.01, "{:?}: {} vs {}", img.color(), ours.len(), theirs.len());
        }
    }

    #[test]
    fn large_avif_outputs_are_encoded_at_the_fastest_speed() {
        assert_eq!(avif_speed_for(400 * 400, 8), 8, "thumbnails keep the configured speed");
        assert_eq!(avif_speed_for(AVIF_FAST_ABOVE_PIXELS, 6), 6);
        assert_eq!(avif_speed_for(AVIF_FAST_ABOVE_PIXELS + 1, 6), 10);
        assert_eq!(avif_speed_for(6000 * 4000, 9), 10);
        assert_eq!(avif_speed_for(100, 0), 1, "out-of-range settings are clamped");
        assert_eq!(avif_speed_for(100, 99), 10);
    }

    #[test]
    fn every_format_round_trips_its_size() {
        let rgb = DynamicImage::ImageRgb8(RgbImage::from_fn(33, 17, |x, y| Rgb([x as u8 * 7, y as u8 * 13, 90])));
        let rgba = DynamicImage::ImageRgba8(RgbaImage::from_fn(33, 17, |x, _| Rgba([200, 10, 10, if x < 10 { 0 } else { 255 }])));
        for f in [OutputFormat::Jpg, OutputFormat::Png, OutputFormat::Webp, OutputFormat::Avif, OutputFormat::Gif] {
            for img in [&rgb, &rgba] {
                let b = encode(img, f, 80, 10, &no_deadline()).unwrap();
                // The image crate has no AVIF decoder here; our own (rav1d) reads it back.
                let back = match f {
                    OutputFormat::Avif => match crate::avif::decode(&b, &no_deadline()).unwrap().pixels {
                        crate::pixels::Pixels::Image(img) => img,
                        crate::pixels::Pixels::Cmyk { .. } => unreachable!("AVIF is never CMYK"),
                    },
                    _ => image::load_from_memory(&b).unwrap(),
                };
                assert_eq!((back.width(), back.height()), (33, 17), "{f:?}");
                if img.color().has_alpha() && f != OutputFormat::Jpg {
                    assert_eq!(back.to_rgba8().get_pixel(2, 2).0[3], 0, "{f:?} keeps alpha");
                }
            }
        }
    }

    #[test]
    fn every_format_is_labelled_with_the_type_its_encoder_writes() {
        // The test side reads magic numbers (tests/support), so the engine's sniffer cannot vouch for itself.
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(16, 16, |x, y| Rgb([x as u8 * 9, y as u8 * 5, 40])));
        for f in OutputFormat::ALL {
            match encode(&img, f, 80, 10, &no_deadline()) {
                Ok(bytes) => {
                    let written = match containers::sniff_format(&bytes) {
                        Some("jpg") => "image/jpeg",
                        Some("png") => "image/png",
                        Some("webp") => "image/webp",
                        Some("avif") => "image/avif",
                        Some("gif") => "image/gif",
                        other => panic!("{f:?}: unrecognised bytes ({other:?})"),
                    };
                    assert_eq!(f.content_type(), written, "{f:?}");
                }
                // Only a format whose type names no image may have no encoder (`Auto`, resolved by the planner).
                Err(e) => assert!(!f.content_type().starts_with("image/"), "{f:?} ({}) does not encode: {e}", f.content_type()),
            }
        }
    }

    #[test]
    fn animated_gif_and_webp_keep_frames_delays_and_plays() {
        use image::AnimationDecoder;
        let colours = [[220u8, 20, 20, 255], [20, 200, 20, 255], [20, 20, 220, 0]];
        let delays = [100u32, 250, 40];
        let frames: Vec<DynamicImage> = colours.iter().map(|c| DynamicImage::ImageRgba8(RgbaImage::from_pixel(24, 16, Rgba(*c)))).collect();
        for (format, plays) in [(OutputFormat::Gif, 0), (OutputFormat::Gif, 3), (OutputFormat::Webp, 0), (OutputFormat::Webp, 2)] {
            let mut enc = AnimatedEncoder::new(format, 24, 16, 90, plays).unwrap();
            for (f, d) in frames.iter().zip(delays) {
                enc.add(f, d).unwrap();
            }
            let bytes = enc.finish().unwrap();
            let decoded: Vec<image::Frame> = match format {
                OutputFormat::Gif => image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&bytes)).unwrap().into_frames().collect_frames().unwrap(),
                _ => {
                    // Transparent disposal, as browsers do (image-webp ignores it without a colour).
                    let mut d = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&bytes)).unwrap();
                    d.set_background_color(Rgba([0, 0, 0, 0])).unwrap();
                    d.into_frames().collect_frames().unwrap()
                }
            };
            assert_eq!(decoded.len(), 3, "{format:?}");
            for ((f, c), d) in decoded.iter().zip(colours).zip(delays) {
                assert_eq!(f.delay().numer_denom_ms(), (d, 1), "{format:?}");
                let p = f.buffer().get_pixel(12, 8).0;
                if c[3] == 0 {
                    assert_eq!(p[3], 0, "{format:?}: transparent frame");
                } else {
                    assert!((0..3).all(|k| p[k].abs_diff(c[k]) < 12) && p[3] == 255, "{format:?}: {p:?} for {c:?}");
                }
            }
            // The loop field as each format writes it: GIF counts repeats after the first play.
            let field = match format {
                OutputFormat::Gif => bytes.windows(11).position(|w| w == b"NETSCAPE2.0").map(|i| u32::from(u16::from_le_bytes([bytes[i + 13], bytes[i + 14]]))),
                _ => bytes.windows(4).position(|w| w == b"ANIM").map(|i| u32::from(u16::from_le_bytes([bytes[i + 12], bytes[i + 13]]))),
            };
            let want = match (format, plays) {
                (OutputFormat::Gif, 0) => Some(0),
                (OutputFormat::Gif, n) => Some(n - 1),
                (_, n) => Some(n),
            };
            assert_eq!(field, want, "{format:?} plays {plays}");
        }
        assert!(AnimatedEncoder::new(OutputFormat::Jpg, 4, 4, 80, 0).is_err());
    }

    /// The SOF marker's type byte and each component's (h, v) sampling factors.
    fn jpeg_frame(b: &[u8]) -> (u8, Vec<(u8, u8)>) {
        let mut i = 2;
        while i + 4 < b.len() {
            let (m, len) = (b[i + 1], usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]])));
            if (0xC0..=0xC2).contains(&m) {
                let n = usize::from(b[i + 9]);
                let comps = (0..n).map(|k| (b[i + 11 + 3 * k] >> 4, b[i + 11 + 3 * k] & 15)).collect();
                return (m, comps);
            }
            i += 2 + len;
        }
        panic!("no SOF marker");
    }

    #[test]
    fn jpeg_is_progressive_with_chroma_subsampling_matched_to_quality() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(64, 48, |x, y| Rgb([x as u8 * 4, y as u8 * 5, 128])));
        let low = encode(&img, OutputFormat::Jpg, 80, 8, &no_deadline()).unwrap();
        let (sof, comps) = jpeg_frame(&low);
        assert_eq!(sof, 0xC2, "progressive (SOF2)");
        assert_eq!(comps, vec![(2, 2), (1, 1), (1, 1)], "4:2:0 below q 90");
        let high = encode(&img, OutputFormat::Jpg, 90, 8, &no_deadline()).unwrap();
        assert_eq!(jpeg_frame(&high), (0xC2, vec![(1, 1), (1, 1), (1, 1)]), "4:4:4 from q 90");
        // Quality reaches the quantiser: the q 90 file is larger.
        assert!(high.len() > low.len());
        let back = image::load_from_memory(&low).unwrap().to_rgb8();
        let p = back.get_pixel(32, 24);
        assert!((i32::from(p[0]) - 128).abs() < 8 && (i32::from(p[1]) - 120).abs() < 8, "{p:?}");
    }
}
