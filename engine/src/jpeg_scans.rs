//! Progressive JPEG scan pruning for shrink-on-load: at 1/8 scale, drops the AC scans of every
//! component whose scaled IDCT reads only the DC coefficient, so their Huffman data is never decoded.
//!
//! At scale 1/8 libjpeg gives each component the smallest IDCT that avoids upsampling it
//! (`jpeg_core_output_dimensions`): 1x1 for full-resolution components (luma, and every component
//! of a 4:4:4, grey or CMYK image), 2x2 for 4:2:0 chroma. `jpeg_idct_1x1` computes its one pixel
//! from the DC coefficient alone, so the AC coefficients of such a component cannot change the
//! output. A progressive file sends them in scans of their own (an AC scan holds one component and
//! never coefficient 0), and those carry most of the file: 87% of the entropy-coded bytes of a
//! libjpeg-progressive 4:2:0 photo are luma AC. Dropping all of a component's AC scans keeps every
//! remaining scan decodable exactly as before (an AC refinement scan depends only on earlier scans
//! of the same component and band), and with block smoothing off (the decoder would otherwise guess
//! the missing AC coefficients) the decoded pixels are identical to a full decode at the same scale.
//!
//! Baseline files cannot be pruned: all coefficients of an MCU are interleaved in one Huffman stream.

/// JPEG markers that stand alone (no length field).
fn standalone(marker: u8) -> bool {
    matches!(marker, 0x01 | 0xD0..=0xD9)
}

/// The frame's components as (id, horizontal, vertical sampling factor), from a SOF2 segment body.
fn sof_components(body: &[u8]) -> Option<Vec<(u8, u8, u8)>> {
    let n = usize::from(*body.get(5)?);
    let comps = body.get(6..6 + 3 * n)?;
    let out: Vec<(u8, u8, u8)> = comps.chunks_exact(3).map(|c| (c[0], c[1] >> 4, c[1] & 0x0F)).collect();
    if out.is_empty() || out.iter().any(|&(_, h, v)| !(1..=4).contains(&h) || !(1..=4).contains(&v)) {
        return None;
    }
    Some(out)
}

/// The IDCT size libjpeg-turbo picks for a component at scale 1/8 (`min_DCT_scaled_size` 1): it
/// doubles while the component still would not need upsampling (jdmaster.c).
fn idct_size_at_eighth(h: u8, v: u8, max_h: u8, max_v: u8) -> u32 {
    let (h, v, max_h, max_v) = (u32::from(h), u32::from(v), u32::from(max_h), u32::from(max_v));
    let mut s = 1;
    while s < 8 && max_h % (h * s * 2) == 0 && max_v % (v * s * 2) == 0 {
        s *= 2;
    }
    s
}

/// The marker at `i`, after any 0xFF fill bytes: where its 0xFF is and its code, or `None` when the
/// bytes there are not a marker. The one marker step of every JPEG walk (sniff excepted: it keeps
/// its own header-only reader).
pub(crate) fn marker_at(b: &[u8], mut i: usize) -> Option<(usize, u8)> {
    while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
        i += 1;
    }
    if *b.get(i)? != 0xFF {
        return None;
    }
    Some((i, *b.get(i + 1)?))
}

/// End of the entropy-coded data that starts at `from`: the first 0xFF not followed by a stuffed
/// 0x00 or a restart marker.
pub(crate) fn entropy_end(b: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let i = from + b.get(from..)?.iter().position(|&x| x == 0xFF)?;
        match *b.get(i + 1)? {
            0x00 | 0xD0..=0xD7 => from = i + 2,
            _ => return Some(i),
        }
    }
}

/// `bytes` without the scans that cannot change a decode at scale 1/8 (`shrink` 8), or `None` when
/// there is nothing to drop: another scale, a non-progressive or arithmetic-coded frame, or a
/// stream this walk does not understand (then the decoder gets the original and reports as usual).
pub(crate) fn prune_for_shrink(bytes: &[u8], shrink: u32) -> Option<Vec<u8>> {
    if shrink != 8 || bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    // For each component id, whether its AC coefficients are unused; known once the SOF2 is read.
    let mut dc_only: Option<Vec<(u8, bool)>> = None;
    let mut out = Vec::with_capacity(bytes.len() / 2);
    out.extend_from_slice(&bytes[..2]);
    let mut dropped = false;
    let mut i = 2;
    loop {
        let (at, marker) = marker_at(bytes, i)?;
        i = at;
        if marker == 0xD9 {
            out.extend_from_slice(&[0xFF, 0xD9]);
            return dropped.then_some(out);
        }
        if standalone(marker) {
            out.extend_from_slice(&bytes[i..i + 2]);
            i += 2;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
        let seg_end = i + 2 + len;
        let body = bytes.get(i + 4..seg_end)?;
        match marker {
            0xC2 => {
                let comps = sof_components(body)?;
                let max_h = comps.iter().map(|c| c.1).max()?;
                let max_v = comps.iter().map(|c| c.2).max()?;
                dc_only = Some(comps.iter().map(|&(id, h, v)| (id, idct_size_at_eighth(h, v, max_h, max_v) == 1)).collect());
            }
            // Any other frame type: baseline, extended, lossless, hierarchical or arithmetic.
            0xC0 | 0xC1 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            _ => {}
        }
        if marker != 0xDA {
            out.extend_from_slice(bytes.get(i..seg_end)?);
            i = seg_end;
            continue;
        }
        // SOS: Ns, Ns x (id, tables), Ss, Se, Ah/Al, then entropy-coded data.
        let comps = dc_only.as_ref()?;
        let ns = usize::from(*body.first()?);
        let ss = *body.get(1 + 2 * ns)?;
        let end = entropy_end(bytes, seg_end)?;
        let drop = ns == 1 && ss > 0 && comps.iter().any(|&(id, dc)| dc && id == body[1]);
        if drop {
            dropped = true;
        } else {
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idct_sizes_match_libjpeg_at_one_eighth() {
        // 4:2:0: luma 1x1, chroma 2x2 (no upsampling needed).
        assert_eq!(idct_size_at_eighth(2, 2, 2, 2), 1);
        assert_eq!(idct_size_at_eighth(1, 1, 2, 2), 2);
        // 4:2:2: chroma cannot double in one axis only, so it stays 1x1 and is upsampled.
        assert_eq!(idct_size_at_eighth(1, 1, 2, 1), 1);
        // 4:4:4 and grey: everything 1x1.
        assert_eq!(idct_size_at_eighth(1, 1, 1, 1), 1);
        // 4:1:1 style 4x1 chroma in a 4x2 frame.
        assert_eq!(idct_size_at_eighth(1, 1, 4, 2), 2);
        assert_eq!(idct_size_at_eighth(1, 1, 4, 4), 4);
    }

    #[test]
    fn entropy_data_ends_at_the_first_real_marker() {
        let b = [1, 0xFF, 0x00, 2, 0xFF, 0xD3, 3, 0xFF, 0xC4, 0];
        assert_eq!(entropy_end(&b, 0), Some(7));
        assert_eq!(entropy_end(&b[..6], 0), None);
    }

    #[test]
    fn nothing_is_pruned_for_other_scales_or_garbage() {
        assert_eq!(prune_for_shrink(&[0xFF, 0xD8, 0xFF, 0xD9], 4), None);
        assert_eq!(prune_for_shrink(&[0xFF, 0xD8, 0xFF, 0xD9], 8), None);
        assert_eq!(prune_for_shrink(&[0xFF, 0xD8, 0xFF, 0xC2, 0xFF], 8), None);
        assert_eq!(prune_for_shrink(b"not a jpeg", 8), None);
    }
}
