//! GIF headers: the logical screen, every frame's rectangle, the frame count and the NETSCAPE loop count.

use super::*;

/// GIF: the logical screen, every frame's size (a frame may claim more than the screen), the frame
/// count and the NETSCAPE loop count. The walk only hops over data sub-blocks (a byte each per up
/// to 255 bytes), so counting a 1,000-frame bomb costs microseconds, not a decode.
pub(super) fn gif_header(b: &[u8], max_pixels: u64) -> Result<SourceInfo, EngineError> {
    let truncated = || corrupt("truncated GIF header");
    let w = u32::from(le16(b, 6).ok_or_else(truncated)?);
    let h = u32::from(le16(b, 8).ok_or_else(truncated)?);
    let flags = *b.get(10).ok_or_else(truncated)?;
    let mut i = 13;
    if flags & 0x80 != 0 {
        i += 3 << ((flags & 7) + 1);
    }
    let mut has_alpha = false;
    let mut frames = 0u32;
    // None: no NETSCAPE block, so the animation plays once.
    let mut repeat: Option<u16> = None;
    // Until the first frame a malformed file is corrupt; after it, the walk stops where the data
    // does, as decoders (and browsers) show the frames before a truncation or trailing garbage.
    loop {
        let Some(&block) = b.get(i) else {
            if frames == 0 {
                return Err(truncated());
            }
            break;
        };
        match block {
            0x21 => {
                let Some(&label) = b.get(i + 1) else { break };
                if label == 0xF9 && frames == 0 && b.get(i + 3).is_some_and(|p| p & 1 == 1) {
                    has_alpha = true;
                }
                // Application extension: an 11-byte identifier, then NETSCAPE2.0's (or the older
                // ANIMEXTS1.0's) sub-block 1 holding the repeat count. The first one counts, as
                // Pillow and the gif crate read it.
                if label == 0xFF
                    && b.get(i + 2) == Some(&11)
                    && matches!(b.get(i + 3..i + 14), Some(b"NETSCAPE2.0") | Some(b"ANIMEXTS1.0"))
                    && b.get(i + 14) == Some(&3)
                    && b.get(i + 15) == Some(&1)
                    && repeat.is_none()
                {
                    repeat = le16(b, i + 16);
                }
                match skip_sub_blocks(b, i + 2) {
                    Some(next) => i = next,
                    None if frames == 0 => return Err(truncated()),
                    None => break,
                }
            }
            0x2C => {
                let (Some(fw), Some(fh), Some(&lflags)) = (le16(b, i + 5), le16(b, i + 7), b.get(i + 9)) else {
                    if frames == 0 {
                        return Err(truncated());
                    }
                    break;
                };
                check_size(u32::from(fw).max(1), u32::from(fh).max(1), max_pixels)?;
                frames = frames.saturating_add(1);
                i += 10;
                if lflags & 0x80 != 0 {
                    i += 3 << ((lflags & 7) + 1);
                }
                // The LZW minimum code size, then the image data's sub-blocks.
                match skip_sub_blocks(b, i + 1) {
                    Some(next) => i = next,
                    None => break,
                }
            }
            0x3B if frames == 0 => return Err(corrupt("GIF has no image")),
            _ if frames == 0 => return Err(corrupt("bad GIF block")),
            _ => break,
        }
    }
    if frames == 0 {
        return Err(truncated());
    }
    let plays = match repeat {
        None => 1,
        Some(0) => 0,
        Some(n) => u32::from(n) + 1,
    };
    Ok(SourceInfo { format: InputFormat::Gif, width: w, height: h, orientation: 1, has_alpha, frames, plays })
}

/// The offset just past a chain of GIF data sub-blocks starting at `i` (each a length byte and
/// that many bytes, ended by a zero length), or `None` when the data ends first.
fn skip_sub_blocks(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let n = usize::from(*b.get(i)?);
        i += 1 + n;
        if n == 0 {
            return Some(i);
        }
    }
}
