//! WebP headers: VP8, VP8L and VP8X canvases, alpha, animation frames and loop count, EXIF orientation.

use super::*;

pub(super) fn webp_header(b: &[u8]) -> Result<SourceInfo, EngineError> {
    let truncated = || corrupt("truncated WebP header");
    let mut size = None;
    let mut has_alpha = false;
    let mut orientation = 1;
    let (mut animated, mut frames, mut plays) = (false, 0u32, 0);
    let mut i = 12;
    while let (Some(kind), Some(len)) = (b.get(i..i + 4), le32(b, i + 4)) {
        let data_at = i + 8;
        let len = len as usize;
        match kind {
            b"VP8 " if size.is_none() => {
                // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit sizes.
                if b.get(data_at + 3..data_at + 6) != Some(&[0x9d, 0x01, 0x2a][..]) {
                    return Err(if b.len() < data_at + 10 { truncated() } else { corrupt("bad VP8 start code") });
                }
                let w = u32::from(le16(b, data_at + 6).ok_or_else(truncated)? & 0x3fff);
                let h = u32::from(le16(b, data_at + 8).ok_or_else(truncated)? & 0x3fff);
                size = Some((w, h));
            }
            b"VP8L" if size.is_none() => {
                if b.get(data_at) != Some(&0x2f) {
                    return Err(if b.len() <= data_at { truncated() } else { corrupt("bad VP8L signature") });
                }
                let bits = le32(b, data_at + 1).ok_or_else(truncated)?;
                let w = (bits & 0x3fff) + 1;
                let h = ((bits >> 14) & 0x3fff) + 1;
                has_alpha = bits >> 28 & 1 == 1;
                size = Some((w, h));
            }
            b"VP8X" => {
                let flags = *b.get(data_at).ok_or_else(truncated)?;
                has_alpha = flags & 0x10 != 0;
                animated = flags & 0x02 != 0;
                let w = le24(b, data_at + 4).ok_or_else(truncated)? + 1;
                let h = le24(b, data_at + 7).ok_or_else(truncated)? + 1;
                size = Some((w, h));
            }
            b"EXIF" => {
                if let Some(data) = b.get(data_at..data_at.saturating_add(len)) {
                    let data = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
                    orientation = tiff_orientation(data).unwrap_or(1);
                }
            }
            // ANIM: background colour (4 bytes), then the loop count (0 = forever).
            b"ANIM" => plays = u32::from(le16(b, data_at + 4).unwrap_or(0)),
            b"ANMF" => frames = frames.saturating_add(1),
            _ => {}
        }
        // Chunks are padded to even length.
        i = match data_at.checked_add(len + (len & 1)) {
            Some(n) => n,
            None => break,
        };
    }
    let (w, h) = size.ok_or_else(truncated)?;
    // Frames outside an animated file (or an animated one with none) leave a still image to the decoder.
    let frames = if animated { frames.max(1) } else { 1 };
    Ok(SourceInfo { format: InputFormat::Webp, width: w, height: h, orientation, has_alpha, frames, plays })
}
