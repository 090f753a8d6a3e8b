//! JPEG headers: markers up to the first SOF, EXIF orientation, the Adobe marker and libjpeg's coefficient arrays.

use super::*;

/// Walks JPEG markers up to the first SOF, collecting EXIF orientation and the Adobe marker.
pub(super) fn jpeg_header(b: &[u8]) -> Result<(SourceInfo, JpegFacts), EngineError> {
    let truncated = || corrupt("truncated JPEG header");
    let mut i = 2;
    let mut orientation = 1;
    let mut adobe = false;
    loop {
        // Fill bytes (0xFF runs) may precede any marker.
        if *b.get(i).ok_or_else(truncated)? != 0xFF {
            return Err(corrupt("JPEG marker expected"));
        }
        while b.get(i) == Some(&0xFF) {
            i += 1;
        }
        let marker = *b.get(i).ok_or_else(truncated)?;
        i += 1;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => return Err(corrupt("JPEG has no frame header before its scan")),
            _ => {}
        }
        let len = be16(b, i).ok_or_else(truncated)? as usize;
        if len < 2 {
            return Err(corrupt("JPEG segment length is invalid"));
        }
        let seg = b.get(i + 2..i + len).ok_or_else(truncated)?;
        match marker {
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if seg.len() < 6 {
                    return Err(truncated());
                }
                let h = u32::from(be16(seg, 1).unwrap_or(0));
                let w = u32::from(be16(seg, 3).unwrap_or(0));
                let components = seg[5];
                if !matches!(components, 1 | 3 | 4) {
                    return Err(corrupt("JPEG with an unsupported number of components"));
                }
                let info = SourceInfo { format: InputFormat::Jpeg, width: w, height: h, orientation, has_alpha: false, frames: 1, plays: 0 };
                // SOF2/6/10/14 are progressive (Huffman or arithmetic).
                let progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                let coefficient_bytes = if progressive { jpeg_coefficient_bytes(w, h, &seg[6..]) } else { 0 };
                return Ok((info, JpegFacts { components, adobe, coefficient_bytes }));
            }
            0xE1 if seg.starts_with(b"Exif\0\0") => {
                orientation = tiff_orientation(&seg[6..]).unwrap_or(1);
            }
            0xEE if seg.starts_with(b"Adobe") => adobe = true,
            _ => {}
        }
        i += len;
    }
}

/// libjpeg's coefficient arrays for a `w x h` frame whose SOF component entries (id, HV, Tq per
/// component) are `comps`: each component is ceil(w x H / Hmax / 8) x ceil(h x V / Vmax / 8) blocks
/// of 64 16-bit coefficients. Missing or zero factors count as 1 (errs high).
fn jpeg_coefficient_bytes(w: u32, h: u32, comps: &[u8]) -> u64 {
    let factors: Vec<(u64, u64)> = comps.chunks_exact(3).map(|c| (u64::from((c[1] >> 4).max(1)), u64::from((c[1] & 15).max(1)))).collect();
    let hmax = factors.iter().map(|f| f.0).max().unwrap_or(1);
    let vmax = factors.iter().map(|f| f.1).max().unwrap_or(1);
    let (w, h) = (u64::from(w), u64::from(h));
    factors.iter().map(|&(hs, vs)| (w * hs).div_ceil(hmax).div_ceil(8) * (h * vs).div_ceil(vmax).div_ceil(8) * 128).sum()
}
