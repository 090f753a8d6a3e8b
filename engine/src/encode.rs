//! Encoding: fresh encodes only, so no EXIF, XMP, IPTC or ICC from the source can reach the output.
//!
//! - jpg: libjpeg-turbo (the `mozjpeg` crate in its fastest, libjpeg-turbo-compatible profile):
//!   progressive with optimised Huffman tables; 4:2:0 chroma below q 90, 4:4:4 from q 90 up, the
//!   split libvips's jpegsave makes by default.
//! - png: `image`'s encoder with fast compression and adaptive filtering.
//! - webp: libwebp lossy at the planned quality, with an alpha plane when the image has one.
//! - avif: ravif (rav1e) at the planned quality and the caller's speed, alpha aware.
//! - gif: `image`'s encoder, one frame, NeuQuant palette (an exact one up to 256 colours).
//!
//! Animated outputs (`AnimatedEncoder`) take frames one at a time with their delays:
//! - gif: the gif crate, one local palette per frame quantised as above, each frame the full
//!   canvas with disposal "background" (so a transparent pixel never shows the frame before it),
//!   delays in centiseconds rounded to nearest, the loop count in a NETSCAPE2.0 block.
//! - webp: libwebp's WebPAnimEncoder, lossy at the planned quality (alpha in its own plane). It
//!   stores each frame as the rectangle that changed, and an unchanged frame becomes extra time
//!   on the previous one, so a WebP may hold fewer frames than its source with the same timing.

use image::codecs::gif::GifEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{DynamicImage, ExtendedColorType, ImageEncoder};

use crate::transform::OutputFormat;
use crate::EngineError;

/// GIF palette quantisation speed, 1 (best) ..= 30 (fastest); 10 is `image`'s own default.
const GIF_SPEED: i32 = 10;

/// MIME type of an output format.
pub(crate) fn content_type(f: OutputFormat) -> &'static str {
    match f {
        OutputFormat::Jpg => "image/jpeg",
        OutputFormat::Png => "image/png",
        OutputFormat::Webp => "image/webp",
        OutputFormat::Avif => "image/avif",
        OutputFormat::Gif => "image/gif",
        // The planner never leaves Auto; if it did, the bytes are JPEG (see `encode`).
        OutputFormat::Auto => "image/jpeg",
    }
}

fn err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Encode(e.to_string())
}

/// Encodes 8-bit sRGB RGB or RGBA pixels. JPEG callers flatten alpha first; RGBA reaching the JPEG
/// encoder is flattened onto black as a last resort rather than failing.
pub(crate) fn encode(img: &DynamicImage, format: OutputFormat, quality: u8, avif_speed: u8) -> Result<Vec<u8>, EngineError> {
    let (w, h) = (img.width(), img.height());
    let q = quality.clamp(1, 100);
    let mut out = Vec::new();
    match format {
        OutputFormat::Jpg | OutputFormat::Auto => {
            let rgb = img.to_rgb8();
            out = encode_jpeg(rgb.as_raw(), w, h, q)?;
        }
        OutputFormat::Png => {
            let (buf, ct) = raw(img);
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
                .write_image(buf, w, h, ct)
                .map_err(err)?;
        }
        OutputFormat::Gif => {
            let rgba = img.to_rgba8();
            let mut enc = GifEncoder::new_with_speed(&mut out, GIF_SPEED);
            enc.encode(rgba.as_raw(), w, h, ExtendedColorType::Rgba8).map_err(err)?;
        }
        OutputFormat::Webp => {
            out = match img {
                DynamicImage::ImageRgba8(b) => encode_webp(b.as_raw(), true, w, h, q)?,
                DynamicImage::ImageRgb8(b) => encode_webp(b.as_raw(), false, w, h, q)?,
                _ => return encode(&DynamicImage::ImageRgba8(img.to_rgba8()), format, q, avif_speed),
            };
        }
        OutputFormat::Avif => {
            let enc = ravif::Encoder::new()
                .with_quality(f32::from(q))
                .with_alpha_quality(f32::from(q))
                .with_speed(avif_speed_for(u64::from(w) * u64::from(h), avif_speed))
                // One thread per encode: rav1e's tiles otherwise spread over the render pool it runs
                // in, so one client's AVIF held every render thread and a second client's thumbnail
                // waited for it whole (12 s in tests/api/fairness.rs). Concurrent renders keep the
                // cores busy instead; a lone AVIF encode is slower on an idle machine.
                .with_num_threads(Some(1))
                // 8-bit, as libheif/aom (sharp, imgproxy) write by default: ravif's automatic
                // 10-bit sends rav1e down its high-bit-depth paths, about 1.5x the encode time
                // for an 8-bit source, with the same size and PSNR within 0.1 dB in our runs.
                .with_bit_depth(ravif::BitDepth::Eight)
                .with_alpha_color_mode(ravif::AlphaColorMode::UnassociatedClean);
            let encoded = match img {
                DynamicImage::ImageRgba8(b) => {
                    let px: Vec<ravif::RGBA8> = b.pixels().map(|p| ravif::RGBA8::new(p[0], p[1], p[2], p[3])).collect();
                    enc.encode_rgba(ravif::Img::new(&px[..], w as usize, h as usize))
                }
                _ => {
                    let rgb = img.to_rgb8();
                    let px: Vec<ravif::RGB8> = rgb.pixels().map(|p| ravif::RGB8::new(p[0], p[1], p[2])).collect();
                    enc.encode_rgb(ravif::Img::new(&px[..], w as usize, h as usize))
                }
            }
            .map_err(err)?;
            out = encoded.avif_file;
        }
    }
    Ok(out)
}

/// libwebp lossy at quality `q` with its default settings (method 4, lossless alpha plane when
/// `alpha`), the picture imported straight into YUV as libvips's webpsave does. The `webp` crate
/// imports into ARGB first (`use_argb = 1`) and WebPEncode then converts that to YUV with the same
/// function, so the bytes are the same for one pass and one picture-sized buffer less.
fn encode_webp(data: &[u8], alpha: bool, w: u32, h: u32, q: u8) -> Result<Vec<u8>, EngineError> {
    use libwebp_sys::*;
    let (wi, hi) = (i32::try_from(w).map_err(err)?, i32::try_from(h).map_err(err)?);
    let bpp = if alpha { 4 } else { 3 };
    if data.len() < w as usize * h as usize * bpp {
        return Err(err("webp: pixel buffer shorter than its size"));
    }
    // SAFETY: config and picture are initialised by libwebp before use; the import reads h rows of
    // w * bpp bytes from `data`, checked above; the memory writer collects the output, which is
    // copied out before the writer and the picture are freed on every path.
    unsafe {
        let mut config = std::mem::MaybeUninit::<WebPConfig>::uninit();
        if WebPConfigInitInternal(config.as_mut_ptr(), WebPPreset::WEBP_PRESET_DEFAULT, f32::from(q), WEBP_ENCODER_ABI_VERSION as i32) == 0 {
            return Err(err("libwebp: encoder version mismatch"));
        }
        let config = config.assume_init();
        if WebPValidateConfig(&config) == 0 {
            return Err(err("libwebp: invalid encoder configuration"));
        }
        let mut pic = std::mem::MaybeUninit::<WebPPicture>::uninit();
        if WebPPictureInitInternal(pic.as_mut_ptr(), WEBP_ENCODER_ABI_VERSION as i32) == 0 {
            return Err(err("libwebp: picture version mismatch"));
        }
        let mut pic = pic.assume_init();
        pic.use_argb = 0;
        pic.width = wi;
        pic.height = hi;
        let mut writer = std::mem::MaybeUninit::<WebPMemoryWriter>::uninit();
        WebPMemoryWriterInit(writer.as_mut_ptr());
        let mut writer = writer.assume_init();
        pic.writer = Some(WebPMemoryWrite);
        pic.custom_ptr = (&mut writer as *mut WebPMemoryWriter).cast();
        let imported = if alpha {
            WebPPictureImportRGBA(&mut pic, data.as_ptr(), wi * 4)
        } else {
            WebPPictureImportRGB(&mut pic, data.as_ptr(), wi * 3)
        };
        let ok = imported != 0 && WebPEncode(&config, &mut pic) != 0;
        let code = pic.error_code;
        let out = if ok && !writer.mem.is_null() { std::slice::from_raw_parts(writer.mem, writer.size).to_vec() } else { Vec::new() };
        WebPMemoryWriterClear(&mut writer);
        WebPPictureFree(&mut pic);
        if !ok || out.is_empty() {
            return Err(err(format!("webp: encoding failed ({code:?})")));
        }
        Ok(out)
    }
}

/// Outputs above this many pixels are AVIF-encoded at the fastest speed whatever is configured.
const AVIF_FAST_ABOVE_PIXELS: u64 = 4_000_000;

/// The AVIF speed for an output of `pixels`: rav1e's time grows with area and a single encode cannot
/// be interrupted, so a large output trades some bytes for fitting the render deadline.
pub(crate) fn avif_speed_for(pixels: u64, configured: u8) -> u8 {
    let speed = configured.clamp(1, 10);
    if pixels > AVIF_FAST_ABOVE_PIXELS { 10 } else { speed }
}

/// How many times an animation plays: 0 is forever (WebP's and APNG's convention, see `SourceInfo::plays`).
pub(crate) type Plays = u32;

/// An animated encode in progress: `add` each frame (all the same size) with its display time,
/// then `finish`. Frames are encoded as they arrive, so only the encoder's own state is held.
pub(crate) enum AnimatedEncoder {
    Gif(gif::Encoder<Vec<u8>>),
    Webp(WebpAnimation),
}

impl AnimatedEncoder {
    /// An encoder for `format` (GIF or WebP; others are not animated formats) of `w x h` frames.
    pub(crate) fn new(format: OutputFormat, w: u32, h: u32, quality: u8, plays: Plays) -> Result<Self, EngineError> {
        match format {
            OutputFormat::Gif => {
                let (w, h) = (gif_side(w)?, gif_side(h)?);
                let mut enc = gif::Encoder::new(Vec::new(), w, h, &[]).map_err(err)?;
                // GIF counts repeats after the first play; without the block it plays once.
                match plays {
                    0 => enc.set_repeat(gif::Repeat::Infinite).map_err(err)?,
                    1 => {}
                    n => enc.set_repeat(gif::Repeat::Finite(u16::try_from(n - 1).unwrap_or(u16::MAX))).map_err(err)?,
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
                let mut frame = gif::Frame::from_rgba_speed(gif_side(img.width())?, gif_side(img.height())?, &mut rgba, GIF_SPEED);
                frame.delay = u16::try_from(delay_ms.saturating_add(5) / 10).unwrap_or(u16::MAX);
                frame.dispose = gif::DisposalMethod::Background;
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

fn gif_side(v: u32) -> Result<u16, EngineError> {
    u16::try_from(v).map_err(|_| err(format!("{v} px is over GIF's 65535 px a side")))
}

/// libwebp's animation encoder, driven directly: the `webp` crate's `AnimEncoder` ends the
/// stream with a timestamp of 0, which libwebp refuses, so the last frame gets the average
/// duration of the others instead of its own.
pub(crate) struct WebpAnimation {
    enc: *mut libwebp_sys::WebPAnimEncoder,
    config: libwebp_sys::WebPConfig,
    width: u32,
    height: u32,
    /// Start of the next frame: the sum of the delays so far, in ms.
    timestamp_ms: i32,
}

impl WebpAnimation {
    fn new(w: u32, h: u32, quality: u8, plays: Plays) -> Result<Self, EngineError> {
        use libwebp_sys::*;
        let (wi, hi) = (i32::try_from(w).map_err(err)?, i32::try_from(h).map_err(err)?);
        // SAFETY: the init functions fill the structs they are given; a zero return (ABI
        // mismatch) is checked before either struct is used.
        unsafe {
            let mut opts = std::mem::MaybeUninit::<WebPAnimEncoderOptions>::uninit();
            if WebPAnimEncoderOptionsInitInternal(opts.as_mut_ptr(), WebPGetMuxABIVersion()) == 0 {
                return Err(err("libwebp: animation encoder version mismatch"));
            }
            let mut opts = opts.assume_init();
            opts.anim_params.loop_count = i32::try_from(plays.min(65535)).unwrap_or(0);
            // Transparent, as GIF and APNG start out.
            opts.anim_params.bgcolor = 0;
            let mut config = std::mem::MaybeUninit::<WebPConfig>::uninit();
            let q = f32::from(quality.clamp(1, 100));
            if WebPConfigInitInternal(config.as_mut_ptr(), WebPPreset::WEBP_PRESET_DEFAULT, q, WEBP_ENCODER_ABI_VERSION as i32) == 0 {
                return Err(err("libwebp: encoder version mismatch"));
            }
            let config = config.assume_init();
            if WebPValidateConfig(&config) == 0 {
                return Err(err("libwebp: invalid encoder configuration"));
            }
            let enc = WebPAnimEncoderNewInternal(wi, hi, &opts, WebPGetMuxABIVersion());
            if enc.is_null() {
                return Err(err("libwebp: could not create the animation encoder"));
            }
            Ok(WebpAnimation { enc, config, width: w, height: h, timestamp_ms: 0 })
        }
    }

    fn add(&mut self, img: &DynamicImage, delay_ms: u32) -> Result<(), EngineError> {
        use libwebp_sys::*;
        if (img.width(), img.height()) != (self.width, self.height) {
            return Err(err("animation frames differ in size"));
        }
        let rgba;
        let (data, alpha) = match img {
            DynamicImage::ImageRgba8(b) => (b.as_raw().as_slice(), true),
            DynamicImage::ImageRgb8(b) => (b.as_raw().as_slice(), false),
            _ => {
                rgba = img.to_rgba8();
                (rgba.as_raw().as_slice(), true)
            }
        };
        let (w, h) = (self.width as i32, self.height as i32);
        // SAFETY: `pic` is initialised by WebPPictureInitInternal before use and freed on every
        // path; the import reads exactly `h` rows of `stride` bytes from `data`, which holds
        // w x h pixels of that layout; the encoder copies the frame, so `pic` may go after Add.
        unsafe {
            let mut pic = std::mem::MaybeUninit::<WebPPicture>::uninit();
            if WebPPictureInitInternal(pic.as_mut_ptr(), WEBP_ENCODER_ABI_VERSION as i32) == 0 {
                return Err(err("libwebp: picture version mismatch"));
            }
            let mut pic = pic.assume_init();
            pic.use_argb = 1;
            pic.width = w;
            pic.height = h;
            let imported = if alpha {
                WebPPictureImportRGBA(&mut pic, data.as_ptr(), w * 4)
            } else {
                WebPPictureImportRGB(&mut pic, data.as_ptr(), w * 3)
            };
            let added = imported != 0 && WebPAnimEncoderAdd(self.enc, &mut pic, self.timestamp_ms, &self.config) != 0;
            WebPPictureFree(&mut pic);
            if !added {
                return Err(self.error("adding a frame"));
            }
        }
        self.timestamp_ms = self.timestamp_ms.saturating_add(i32::try_from(delay_ms).unwrap_or(i32::MAX));
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>, EngineError> {
        use libwebp_sys::*;
        // SAFETY: `self.enc` is live until `Drop`; `data` is filled by Assemble and released with
        // WebPDataClear after its bytes are copied out.
        unsafe {
            // The end of the last frame, so it keeps its own duration.
            if WebPAnimEncoderAdd(self.enc, std::ptr::null_mut(), self.timestamp_ms, std::ptr::null()) == 0 {
                return Err(self.error("ending the animation"));
            }
            let mut data = WebPData::default();
            if WebPAnimEncoderAssemble(self.enc, &mut data) == 0 {
                return Err(self.error("assembling"));
            }
            if data.bytes.is_null() {
                return Err(err("libwebp animation encoder returned no data"));
            }
            let out = std::slice::from_raw_parts(data.bytes, data.size).to_vec();
            WebPDataClear(&mut data);
            Ok(out)
        }
    }

    fn error(&self, doing: &str) -> EngineError {
        // SAFETY: `self.enc` is live; the message is a C string owned by the encoder.
        let msg = unsafe {
            let p = libwebp_sys::WebPAnimEncoderGetError(self.enc);
            if p.is_null() { String::new() } else { std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned() }
        };
        err(format!("libwebp animation encoder, {doing}: {msg}"))
    }
}

impl Drop for WebpAnimation {
    fn drop(&mut self) {
        // SAFETY: created non-null in `new` and deleted only here.
        unsafe { libwebp_sys::WebPAnimEncoderDelete(self.enc) }
    }
}

/// Quality from which chroma keeps full resolution: below it, 4:2:0 costs little visible detail and
/// saves about a third of the bytes; at 90 and above users ask for fidelity.
const JPEG_FULL_CHROMA_FROM_Q: u8 = 90;

fn encode_jpeg(rgb: &[u8], w: u32, h: u32, q: u8) -> Result<Vec<u8>, EngineError> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    // libjpeg reports errors by unwinding (see decode.rs); catch it here, next to the call.
    catch_unwind(AssertUnwindSafe(|| -> Result<Vec<u8>, EngineError> {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_fastest_defaults();
        c.set_size(w as usize, h as usize);
        c.set_quality(f32::from(q));
        let chroma = if q >= JPEG_FULL_CHROMA_FROM_Q { (1, 1) } else { (2, 2) };
        c.set_chroma_sampling_pixel_sizes(chroma, chroma);
        c.set_progressive_mode();
        c.set_optimize_coding(true);
        let mut started = c.start_compress(Vec::with_capacity(rgb.len() / 8)).map_err(err)?;
        started.write_scanlines(rgb).map_err(err)?;
        started.finish().map_err(err)
    }))
    .unwrap_or_else(|_| Err(err("libjpeg failed while encoding")))
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
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    #[test]
    fn webp_bytes_match_the_webp_crates_argb_path() {
        // Textured RGB, and RGBA with a soft alpha ramp and fully transparent pixels.
        let (w, h) = (157u32, 93u32);
        let rgb = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 7 + y) as u8, (x * y) as u8, (y * 11 ^ x) as u8]));
        let rgba = RgbaImage::from_fn(w, h, |x, y| {
            let p = rgb.get_pixel(x, y).0;
            Rgba([p[0], p[1], p[2], if x < 20 { 0 } else { (x * 2) as u8 }])
        });
        for q in [50, 80, 95] {
            let ours = encode_webp(rgb.as_raw(), false, w, h, q).unwrap();
            let theirs = webp::Encoder::from_rgb(rgb.as_raw(), w, h).encode_simple(false, f32::from(q)).unwrap().to_vec();
            assert!(ours == theirs, "RGB q{q}: {} vs {} bytes", ours.len(), theirs.len());
            let ours = encode_webp(rgba.as_raw(), true, w, h, q).unwrap();
            let theirs = webp::Encoder::from_rgba(rgba.as_raw(), w, h).encode_simple(false, f32::from(q)).unwrap().to_vec();
            assert!(ours == theirs, "RGBA q{q}: {} vs {} bytes", ours.len(), theirs.len());
        }
        assert!(encode_webp(&[0; 10], false, 4, 4, 80).is_err(), "a short buffer is refused, not read past");
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
                let b = encode(img, f, 80, 10).unwrap();
                // The image crate has no AVIF decoder here; our own (rav1d) reads it back.
                let back = match f {
                    OutputFormat::Avif => match crate::avif::decode(&b, u64::MAX).unwrap().pixels {
                        crate::decode::Pixels::Image(img) => img,
                        crate::decode::Pixels::Cmyk { .. } => unreachable!("AVIF is never CMYK"),
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
        let low = encode(&img, OutputFormat::Jpg, 80, 8).unwrap();
        let (sof, comps) = jpeg_frame(&low);
        assert_eq!(sof, 0xC2, "progressive (SOF2)");
        assert_eq!(comps, vec![(2, 2), (1, 1), (1, 1)], "4:2:0 below q 90");
        let high = encode(&img, OutputFormat::Jpg, 90, 8).unwrap();
        assert_eq!(jpeg_frame(&high), (0xC2, vec![(1, 1), (1, 1), (1, 1)]), "4:4:4 from q 90");
        // Quality reaches the quantiser: the q 90 file is larger.
        assert!(high.len() > low.len());
        let back = image::load_from_memory(&low).unwrap().to_rgb8();
        let p = back.get_pixel(32, 24);
        assert!((i32::from(p[0]) - 128).abs() < 8 && (i32::from(p[1]) - 120).abs() < 8, "{p:?}");
    }
}
