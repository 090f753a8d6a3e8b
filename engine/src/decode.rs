//! Decoding: bytes to pixels plus the embedded ICC profile, with JPEG shrink-on-load and no panics.
//!
//! Every call into a third-party decoder runs inside `guarded`, so a decoder bug on hostile input
//! becomes `Corrupt` instead of unwinding into the server. Animated GIF and WebP render their
//! first frame only.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::{DynamicImage, ImageDecoder};

use crate::sniff::{InputFormat, JpegFacts, SourceInfo};
use crate::EngineError;

/// Pixels as they came out of the decoder, before colour management.
pub(crate) enum Pixels {
    /// 8-bit (or wider) grey/RGB with or without alpha.
    Image(DynamicImage),
    /// Interleaved 8-bit CMYK with ink values (0 = no ink), as colour management expects.
    Cmyk { width: u32, height: u32, data: Vec<u8> },
}

pub(crate) struct Decoded {
    pub pixels: Pixels,
    pub icc: Option<Vec<u8>>,
}

impl Decoded {
    pub fn dimensions(&self) -> (u32, u32) {
        match &self.pixels {
            Pixels::Image(img) => (img.width(), img.height()),
            Pixels::Cmyk { width, height, .. } => (*width, *height),
        }
    }
}

/// Runs third-party code, turning a panic into `Corrupt`.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, EngineError>) -> Result<T, EngineError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(EngineError::Corrupt("decoder failed on malformed data".into())))
}

fn corrupt(e: impl std::fmt::Display) -> EngineError {
    EngineError::Corrupt(e.to_string())
}

/// The DCT scale denominator (1, 2, 4 or 8) for decoding a `w x h` JPEG so that it still covers
/// `target` (in stored, pre-orientation axes). 1 when the target is less than 2x smaller.
pub(crate) fn jpeg_shrink(w: u32, h: u32, target: (u32, u32)) -> u32 {
    [8, 4, 2]
        .into_iter()
        .find(|d| w.div_ceil(*d) >= target.0.max(1) && h.div_ceil(*d) >= target.1.max(1))
        .unwrap_or(1)
}

/// Decodes `bytes`. `target` is the size the pipeline will resize to (stored axes); JPEGs are
/// DCT-scaled towards it. `max_pixels` bounds the decoded buffer.
pub(crate) fn decode(
    bytes: &[u8],
    info: &SourceInfo,
    jpeg: JpegFacts,
    target: (u32, u32),
    max_pixels: u64,
) -> Result<Decoded, EngineError> {
    let shrink = if info.format == InputFormat::Jpeg { jpeg_shrink(info.width, info.height, target) } else { 1 };
    let (dw, dh) = (info.width.div_ceil(shrink), info.height.div_ceil(shrink));
    let pixels = u64::from(dw) * u64::from(dh);
    if pixels > max_pixels {
        return Err(EngineError::PixelBudget(max_pixels));
    }
    guarded(|| match info.format {
        InputFormat::Jpeg => {
            if !jpeg_is_complete(bytes) {
                return Err(EngineError::Corrupt("JPEG is truncated (no end-of-image marker)".into()));
            }
            if shrink > 1 || jpeg.components == 4 {
                decode_jpeg_scaled(bytes, info, jpeg, shrink, max_pixels)
            } else {
                let dec = image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes)).map_err(corrupt)?;
                with_decoder(dec, max_pixels)
            }
        }
        InputFormat::Png => with_decoder(image::codecs::png::PngDecoder::new(Cursor::new(bytes)).map_err(corrupt)?, max_pixels),
        InputFormat::Webp => with_decoder(image::codecs::webp::WebPDecoder::new(Cursor::new(bytes)).map_err(corrupt)?, max_pixels),
        InputFormat::Gif => with_decoder(image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(corrupt)?, max_pixels),
        InputFormat::Tiff => with_decoder(image::codecs::tiff::TiffDecoder::new(Cursor::new(bytes)).map_err(corrupt)?, max_pixels),
        InputFormat::Bmp => with_decoder(image::codecs::bmp::BmpDecoder::new(Cursor::new(bytes)).map_err(corrupt)?, max_pixels),
        InputFormat::Avif => Err(EngineError::Unsupported("AVIF input is not supported by this build".into())),
    })
}

/// In entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so an EOI after the
/// first SOS can only be the real end of the image: a file without one was cut short.
fn jpeg_is_complete(b: &[u8]) -> bool {
    let sos = b.windows(2).position(|w| w == [0xFF, 0xDA]);
    let eoi = b.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((sos, eoi), (Some(s), Some(e)) if e > s)
}

fn with_decoder<D: ImageDecoder>(mut dec: D, max_pixels: u64) -> Result<Decoded, EngineError> {
    let (w, h) = dec.dimensions();
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(EngineError::PixelBudget(max_pixels));
    }
    let mut limits = image::Limits::default();
    // Room for the widest layout (RGBA 16-bit), nothing more.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(1 << 20));
    dec.set_limits(limits).map_err(corrupt)?;
    // A broken profile is not worth refusing the image over: it renders untagged.
    let icc = dec.icc_profile().ok().flatten();
    let img = DynamicImage::from_decoder(dec).map_err(corrupt)?;
    Ok(Decoded { pixels: Pixels::Image(img), icc })
}

/// jpeg-decoder handles DCT scaling and gives CMYK untouched, which zune (via `image`) does not.
fn decode_jpeg_scaled(
    bytes: &[u8],
    info: &SourceInfo,
    facts: JpegFacts,
    shrink: u32,
    max_pixels: u64,
) -> Result<Decoded, EngineError> {
    let mut dec = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    dec.set_max_decoding_buffer_size(usize::try_from(max_pixels.saturating_mul(4)).unwrap_or(usize::MAX));
    dec.read_info().map_err(corrupt)?;
    if shrink > 1 {
        let req = |v: u32| u16::try_from(v.div_ceil(shrink)).unwrap_or(u16::MAX);
        dec.scale(req(info.width), req(info.height)).map_err(corrupt)?;
    }
    let data = dec.decode().map_err(corrupt)?;
    let meta = dec.info().ok_or_else(|| corrupt("JPEG without frame info"))?;
    let (w, h) = (u32::from(meta.width), u32::from(meta.height));
    let icc = dec.icc_profile();
    let n = w as usize * h as usize;
    let short = || corrupt("JPEG decoded to fewer pixels than its header declares");
    let pixels = match meta.pixel_format {
        jpeg_decoder::PixelFormat::L8 => {
            Pixels::Image(DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, data).ok_or_else(short)?))
        }
        jpeg_decoder::PixelFormat::L16 => {
            let v: Vec<u16> = data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            Pixels::Image(DynamicImage::ImageLuma16(image::ImageBuffer::from_raw(w, h, v).ok_or_else(short)?))
        }
        jpeg_decoder::PixelFormat::RGB24 => {
            Pixels::Image(DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, data).ok_or_else(short)?))
        }
        jpeg_decoder::PixelFormat::CMYK32 => {
            if data.len() < n * 4 {
                return Err(short());
            }
            let mut data = data;
            // jpeg-decoder assumes Adobe's inverted storage and un-inverts; a file without the Adobe
            // marker stored plain ink values, so undo that.
            if !facts.adobe {
                data.iter_mut().for_each(|v| *v = 255 - *v);
            }
            Pixels::Cmyk { width: w, height: h, data }
        }
    };
    Ok(Decoded { pixels, icc })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_picks_the_largest_scale_still_covering_the_target() {
        assert_eq!(jpeg_shrink(6000, 4000, (400, 267)), 8);
        assert_eq!(jpeg_shrink(3120, 4208, (400, 540)), 4);
        assert_eq!(jpeg_shrink(1000, 800, (600, 480)), 1);
        assert_eq!(jpeg_shrink(1000, 800, (500, 400)), 2);
        assert_eq!(jpeg_shrink(100, 100, (200, 200)), 1);
    }

    #[test]
    fn guarded_turns_panics_into_corrupt() {
        let r: Result<(), _> = guarded(|| panic!("boom"));
        assert!(matches!(r, Err(EngineError::Corrupt(_))));
    }

    #[test]
    fn completeness_needs_eoi_after_sos() {
        assert!(jpeg_is_complete(&[0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 0xFF, 0xD9]));
        assert!(!jpeg_is_complete(&[0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 1, 2]));
    }
}
