//! WebP encoding: every libwebp FFI call (still pictures with the deadline's progress hook, and the animation encoder) lives here.

use image::DynamicImage;

use super::{err, Plays};
use crate::budget::Budget;
use crate::EngineError;

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
    pub(super) fn new(w: u32, h: u32, quality: u8, plays: Plays) -> Result<Self, EngineError> {
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

    pub(super) fn add(&mut self, img: &DynamicImage, delay_ms: u32) -> Result<(), EngineError> {
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

    pub(super) fn finish(self) -> Result<Vec<u8>, EngineError> {
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
pub(super) fn encode_webp(data: &[u8], alpha: bool, w: u32, h: u32, q: u8, budget: &Budget) -> Result<Vec<u8>, EngineError> {
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
