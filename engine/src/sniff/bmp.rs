//! BMP headers: dimensions and colour type, asked of the `image` crate only after the pixel limit.

use super::*;

pub(super) fn bmp_header(b: &[u8], max_pixels: u64) -> Result<SourceInfo, EngineError> {
    let truncated = || corrupt("truncated BMP header");
    let dib = le32(b, 14).ok_or_else(truncated)?;
    let (w, h) = if dib == 12 {
        (u32::from(le16(b, 18).ok_or_else(truncated)?), u32::from(le16(b, 20).ok_or_else(truncated)?))
    } else {
        let w = le32(b, 18).ok_or_else(truncated)? as i32;
        let h = le32(b, 22).ok_or_else(truncated)? as i32;
        if w < 0 {
            return Err(corrupt("BMP with negative width"));
        }
        (w as u32, h.unsigned_abs())
    };
    check_size(w, h, max_pixels)?;
    // The colour type (32-bit with an alpha mask or not) is subtle; let the decoder read it.
    let has_alpha = crate::pixels::guarded(|| {
        use image::ImageDecoder;
        image::codecs::bmp::BmpDecoder::new(std::io::Cursor::new(b))
            .map(|d| d.color_type().has_alpha())
            .map_err(|e| EngineError::Corrupt(e.to_string()))
    })?;
    Ok(SourceInfo { format: InputFormat::Bmp, width: w, height: h, orientation: 1, has_alpha, frames: 1, plays: 0 })
}
