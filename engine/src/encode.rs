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

use std::cell::Cell;
use std::io::Write;

use image::codecs::gif::GifEncoder;
use image::{DynamicImage, ExtendedColorType};

use crate::pipeline::Budget;
use crate::transform::OutputFormat;
use crate::EngineError;

/// GIF palette quantisation speed, 1 (best) ..= 30 (fastest); 10 is `image`'s own default.
const GIF_SPEED: i32 = 10;

/// Input bytes handed to the JPEG and PNG encoders between two deadline checks: a few
/// milliseconds of work, so an abandoned encode stops soon after its deadline, while a check
/// (one clock read) stays lost in the noise.
const BAND_BYTES: usize = 1 << 20;

fn err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Encode(e.to_string())
}

/// Encodes 8-bit sRGB RGB or RGBA pixels. JPEG callers flatten alpha first; RGBA reaching the JPEG
/// encoder is flattened onto black as a last resort rather than failing. JPEG, PNG and WebP give
/// up with `budget`'s `Deadline` error once its deadline has passed.
pub(crate) fn encode(img: &DynamicImage, format: OutputFormat, quality: u8, avif_speed: u8, budget: &Budget) -> Result<Vec<u8>, EngineError> {
    let (w, h) = (img.width(), img.height());
    let q = quality.clamp(1, 100);
    let mut out = Vec::new();
    match format {
        // The planner always resolves `f_auto`; bytes in a guessed format would go out under
        // `OutputFormat::Auto.content_type()`, which names no image type.
        OutputFormat::Auto => return Err(EngineError::Encode("f_auto reached the encoder unresolved".into())),
        OutputFormat::Jpg => {
            let rgb = img.to_rgb8();
            out = encode_jpeg(rgb.as_raw(), w, h, q, budget)?;
        }
        OutputFormat::Png => {
            let (buf, ct) = raw(img);
            out = encode_png(buf, ct, w, h, budget)?;
        }
        OutputFormat::Gif => {
            let rgba = img.to_rgba8();
            let mut enc = GifEncoder::new_with_speed(&mut out, GIF_SPEED);
            enc.encode(rgba.as_raw(), w, h, ExtendedColorType::Rgba8).map_err(err)?;
        }
        OutputFormat::Webp => {
            out = match img {
                DynamicImage::ImageRgba8(b) => encode_webp(b.as_raw(), true, w, h, q, budget)?,
                DynamicImage::ImageRgb8(b) => encode_webp(b.as_raw(), false, w, h, q, budget)?,
                _ => encode_webp(img.to_rgba8().as_raw(), true, w, h, q, budget)?,
            };
        }
        OutputFormat::Avif => {
            let enc = ravif::Encoder::new()
                .with_quality(f32::from(q))
                .with_alpha_quality(f32::from(q))
                .with_speed(avif_speed_for(u64::from(w) * u64::from(h), avif_speed))
                // One thread per encode, the render's own: rav1e's tiles otherwise spread over the
                // render pool, so one client's AVIF held every render thread (12 s for a second
                // client's thumbnail in tests/api/fairness.rs). ravif and rav1e are built without
                // `threading` (Cargo.toml), so rav1e does not start a pool of its own either.
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

/// Outputs above this many pixels are AVIF-encoded at the fastest speed whatever is configured.
const AVIF_FAST_ABOVE_PIXELS: u64 = 4_000_000;

/// The AVIF speed for an output of `pixels`: rav1e's time grows with area and an encode cannot be
/// interrupted (neither ravif 0.13 nor rav1e 0.8 has a way to cancel or a progress callback; the
/// one frame is encoded inside a single `receive_packet`), so a large output trades some bytes for
/// fitting the render deadline.
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
        // The animation encoder diffs frames in ARGB, so the frame is imported as ARGB.
        let mut pic = webp_picture(data, alpha, self.width, self.height, true)?;
        // SAFETY: `pic` holds an imported frame and is freed right after; the encoder copies the
        // frame, so `pic` may go after Add.
        unsafe {
            let added = WebPAnimEncoderAdd(self.enc, &mut pic, self.timestamp_ms, &self.config) != 0;
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

fn encode_jpeg(rgb: &[u8], w: u32, h: u32, q: u8, budget: &Budget) -> Result<Vec<u8>, EngineError> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let stopped = Cell::new(None);
    // libjpeg reports errors by unwinding (see decode.rs); catch it here, next to the call. The
    // deadline stops it the same way: the writer refuses bytes, the mozjpeg crate turns that into
    // libjpeg's write error, which unwinds out through `error_exit` and drops (destroys) the
    // compressor on the way, as any libjpeg error does.
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<u8>, EngineError> {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_fastest_defaults();
        c.set_size(w as usize, h as usize);
        c.set_quality(f32::from(q));
        let chroma = if q >= JPEG_FULL_CHROMA_FROM_Q { (1, 1) } else { (2, 2) };
        c.set_chroma_sampling_pixel_sizes(chroma, chroma);
        c.set_progressive_mode();
        c.set_optimize_coding(true);
        let out = DeadlineWriter { out: Vec::with_capacity(rgb.len() / 8), budget, stopped: &stopped };
        let mut started = c.start_compress(out).map_err(err)?;
        // Progressive: this pass only transforms rows into coefficients (no output yet), so it is
        // fed in bands with a check between; libjpeg sees the same rows in the same order.
        let row = (w as usize * 3).max(1);
        for band in rgb.chunks((BAND_BYTES / row).max(1) * row) {
            budget.time()?;
            started.write_scanlines(band).map_err(err)?;
        }
        // The scans are coded here, each written out through `DeadlineWriter`.
        Ok(started.finish().map_err(err)?.out)
    }))
    .unwrap_or_else(|_| Err(err("libjpeg failed while encoding")));
    match stopped.take() {
        Some(deadline) => Err(deadline),
        None => result,
    }
}

/// The JPEG output: refuses further bytes once the deadline has passed, remembering why.
struct DeadlineWriter<'a> {
    out: Vec<u8>,
    budget: &'a Budget,
    stopped: &'a Cell<Option<EngineError>>,
}

impl Write for DeadlineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Err(e) = self.budget.time() {
            self.stopped.set(Some(e));
            return Err(std::io::Error::other("render deadline passed"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
}

/// PNG as `image`'s `PngEncoder` with `CompressionType::Fast` and `FilterType::Adaptive` writes it
/// (fdeflate, adaptive filter per row; stored uncompressed instead when that is smaller, as for
/// noise), streamed in bands of rows with a deadline check between. The pixels are the same; the
/// IDAT data comes in 256 KiB chunks rather than one.
fn encode_png(buf: &[u8], ct: ExtendedColorType, w: u32, h: u32, budget: &Budget) -> Result<Vec<u8>, EngineError> {
    let (color, bpp) = match ct {
        ExtendedColorType::Rgba8 => (png::ColorType::Rgba, 4),
        _ => (png::ColorType::Rgb, 3),
    };
    let out = png_stream(buf, color, bpp, w, h, png::Compression::Fast, png::Filter::Adaptive, budget)?;
    // Rows with their filter bytes: what a stored (uncompressed) stream holds, plus a few bytes.
    let stored = (w as usize * bpp + 1) * h as usize;
    if out.len() > stored {
        return png_stream(buf, color, bpp, w, h, png::Compression::NoCompression, png::Filter::NoFilter, budget);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn png_stream(
    buf: &[u8],
    color: png::ColorType,
    bpp: usize,
    w: u32,
    h: u32,
    compression: png::Compression,
    filter: png::Filter,
    budget: &Budget,
) -> Result<Vec<u8>, EngineError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(compression);
    enc.set_filter(filter);
    let mut writer = enc.write_header().map_err(err)?;
    let mut stream = writer.stream_writer_with_size(PNG_IDAT_BYTES).map_err(err)?;
    let row = (w as usize * bpp).max(1);
    for band in buf.chunks((BAND_BYTES / row).max(1) * row) {
        budget.time()?;
        stream.write_all(band).map_err(err)?;
    }
    stream.finish().map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

/// Size of a PNG IDAT chunk: large enough that chunk headers cost nothing measurable.
const PNG_IDAT_BYTES: usize = 256 * 1024;

/// What libwebp's progress hook sees through `WebPPicture::user_data`.
struct WebpProgress<'a> {
    budget: &'a Budget,
    stopped: Option<EngineError>,
}

/// libwebp's progress hook: 0 (abort with `VP8_ENC_ERROR_USER_ABORT`) once the deadline has passed.
unsafe extern "C" fn webp_progress(_percent: std::ffi::c_int, pic: *const libwebp_sys::WebPPicture) -> std::ffi::c_int {
    // SAFETY: `user_data` points at the `WebpProgress` on `encode_webp`'s stack, which outlives
    // the `WebPEncode` call that runs this hook and is not touched by anything else meanwhile.
    let progress = unsafe { &mut *(*pic).user_data.cast::<WebpProgress>() };
    match progress.budget.time() {
        Ok(()) => 1,
        Err(e) => {
            progress.stopped = Some(e);
            0
        }
    }
}

/// A libwebp picture of `data` (w x h pixels, RGBA when `alpha`, else RGB), imported as ARGB or
/// straight into YUV; the caller frees it with `WebPPictureFree`. The one place both WebP encoders
/// (still and animated) hand pixels to libwebp.
fn webp_picture(data: &[u8], alpha: bool, w: u32, h: u32, use_argb: bool) -> Result<libwebp_sys::WebPPicture, EngineError> {
    use libwebp_sys::*;
    let bpp = if alpha { 4 } else { 3 };
    let (wi, hi) = (i32::try_from(w).map_err(err)?, i32::try_from(h).map_err(err)?);
    if data.len() < w as usize * h as usize * bpp {
        return Err(err("webp: pixel buffer smaller than the image"));
    }
    let mut pic = WebPPicture::new().map_err(|()| err("libwebp: picture version mismatch"))?;
    pic.use_argb = i32::from(use_argb);
    pic.width = wi;
    pic.height = hi;
    // SAFETY: `pic` is initialised by WebPPicture::new (WebPPictureInit); the import reads `h`
    // rows of `w * bpp` bytes, which `data` holds (checked above); on failure `pic` is freed here.
    unsafe {
        let imported = if alpha {
            WebPPictureImportRGBA(&mut pic, data.as_ptr(), wi * 4)
        } else {
            WebPPictureImportRGB(&mut pic, data.as_ptr(), wi * 3)
        };
        if imported == 0 {
            WebPPictureFree(&mut pic);
            return Err(err(format!("webp: {:?}", pic.error_code)));
        }
    }
    Ok(pic)
}

/// Still WebP through libwebp directly, with the settings the `webp` crate's `encode_simple(false, q)`
/// uses (default config, lossy, compressed alpha plane) and so the same bytes; only libwebp's
/// picture carries the progress hook the deadline needs, which that crate does not expose. The
/// picture is imported straight into YUV (`use_argb = 0`), as libvips's webpsave does: the crate
/// imports into ARGB and WebPEncode then converts that to YUV with the same function, so the bytes
/// are the same for one pass and one picture-sized buffer less.
fn encode_webp(data: &[u8], alpha: bool, w: u32, h: u32, q: u8, budget: &Budget) -> Result<Vec<u8>, EngineError> {
    use libwebp_sys::*;
    let mut config = WebPConfig::new().map_err(|()| err("libwebp: encoder version mismatch"))?;
    config.lossless = 0;
    config.alpha_compression = 1;
    config.quality = f32::from(q);
    let mut progress = WebpProgress { budget, stopped: None };
    // SAFETY: `config` is validated first; `pic` holds the imported picture and is freed on every
    // path; `writer` and `progress` live on this stack across WebPEncode, and the writer's memory
    // is released with WebPMemoryWriterClear after its bytes are copied out.
    unsafe {
        if WebPValidateConfig(&config) == 0 {
            return Err(err("webp: VP8_ENC_ERROR_INVALID_CONFIGURATION"));
        }
        let mut pic = webp_picture(data, alpha, w, h, false)?;
        let mut writer = std::mem::MaybeUninit::<WebPMemoryWriter>::uninit();
        WebPMemoryWriterInit(writer.as_mut_ptr());
        let mut writer = writer.assume_init();
        pic.writer = Some(WebPMemoryWrite);
        pic.custom_ptr = std::ptr::addr_of_mut!(writer).cast();
        pic.progress_hook = Some(webp_progress);
        pic.user_data = std::ptr::addr_of_mut!(progress).cast();
        let ok = WebPEncode(&config, &mut pic) != 0;
        let code = pic.error_code;
        WebPPictureFree(&mut pic);
        let out = if ok && !writer.mem.is_null() { Some(std::slice::from_raw_parts(writer.mem, writer.size).to_vec()) } else { None };
        WebPMemoryWriterClear(&mut writer);
        match (out, progress.stopped) {
            (_, Some(deadline)) => Err(deadline),
            (Some(out), None) => Ok(out),
            (None, None) => Err(err(format!("webp: {code:?}"))),
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
                    DynamicImage::ImageRgba8(b) => webp::Encoder::from_rgba(b.as_raw(), w, h).encode_simple(false, f32::from(q)).unwrap().to_vec(),
                    DynamicImage::ImageRgb8(b) => webp::Encoder::from_rgb(b.as_raw(), w, h).encode_simple(false, f32::from(q)).unwrap().to_vec(),
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
