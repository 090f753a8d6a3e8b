//! Progressive JPEGs at scale 1/8 from their DC scans alone, when every component is full resolution (grey, 4:4:4): libjpeg's pixels without its whole-image coefficient arrays.
//!
//! libjpeg decodes a progressive file into coefficient arrays for the whole image (128 bytes a
//! block whatever the output scale: 88 MB for a 14.7 MP 4:4:4 photo), since any scan may refine any
//! block. At scale 1/8 a full-resolution component's IDCT is 1x1 and reads the DC coefficient alone
//! (`jpeg_scans`), so when every component is full resolution the output needs only the DC scans:
//! 2 bytes a block here. Each pixel is libjpeg's `jpeg_idct_1x1` of its block's DC coefficient
//! and, for colour, libjpeg's integer YCbCr->RGB (jdcolor.c), so the pixels equal libjpeg's at
//! scale 1/8 (`tests::equals_libjpeg_at_an_eighth`). Anything else (4:2:0, whose chroma libjpeg
//! reads through a 2x2 IDCT; CMYK; RGB-coded; arithmetic coding) returns `None` and goes to libjpeg.

use crate::jpeg_scans::{entropy_end, marker_at};
use crate::EngineError;

fn corrupt(what: &str) -> EngineError {
    EngineError::Corrupt(format!("progressive JPEG: {what}"))
}

/// A canonical Huffman table (JPEG F.2.2.3): per code length, the largest code and where its
/// values start.
#[derive(Clone, Default)]
struct Huffman {
    maxcode: [i32; 17],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8], values: &[u8]) -> Self {
        let mut h = Huffman { maxcode: [-1; 17], values: values.to_vec(), ..Default::default() };
        let (mut code, mut k) = (0i32, 0i32);
        for len in 1..=16 {
            let n = i32::from(counts[len - 1]);
            if n > 0 {
                h.valptr[len] = k;
                h.mincode[len] = code;
                code += n;
                k += n;
                h.maxcode[len] = code - 1;
            }
            code <<= 1;
        }
        h
    }
}

/// Entropy-coded bits, with 0xFF00 unstuffed; at a marker it feeds zeros, as libjpeg does.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u32,
    n: u32,
}

impl<'a> Bits<'a> {
    fn bit(&mut self) -> u32 {
        if self.n == 0 {
            let mut byte = 0;
            if let Some(&b) = self.data.get(self.pos) {
                if b != 0xFF {
                    byte = b;
                    self.pos += 1;
                } else if self.data.get(self.pos + 1) == Some(&0) {
                    byte = 0xFF;
                    self.pos += 2;
                }
            }
            self.acc = u32::from(byte);
            self.n = 8;
        }
        self.n -= 1;
        (self.acc >> self.n) & 1
    }

    fn bits(&mut self, n: u32) -> u32 {
        (0..n).fold(0, |v, _| (v << 1) | self.bit())
    }

    fn decode(&mut self, h: &Huffman) -> Result<u8, EngineError> {
        let mut code = 0i32;
        for len in 1..=16 {
            code = (code << 1) | self.bit() as i32;
            if code <= h.maxcode[len] {
                let i = h.valptr[len] + code - h.mincode[len];
                return h.values.get(i as usize).copied().ok_or_else(|| corrupt("bad Huffman code"));
            }
        }
        Err(corrupt("bad Huffman code"))
    }

    /// Past the next RSTn marker (a restart interval's end): the bit buffer and predictions reset.
    fn restart(&mut self) {
        self.n = 0;
        while self.pos + 1 < self.data.len() {
            if self.data[self.pos] == 0xFF && (0xD0..=0xD7).contains(&self.data[self.pos + 1]) {
                self.pos += 2;
                return;
            }
            if self.data[self.pos] == 0xFF && self.data[self.pos + 1] != 0 {
                return;
            }
            self.pos += 1;
        }
    }
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    /// Quantiser of the DC coefficient, latched at the component's first scan as libjpeg does.
    q0: Option<i32>,
    /// DC coefficients, one a block, over the MCU-padded block grid.
    dc: Vec<i32>,
}

/// The decoded image at 1/8 scale: width, height, channels (1 or 3) and interleaved pixels.
pub(crate) struct Eighth {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub data: Vec<u8>,
}

/// Decodes `bytes` at scale 1/8 from its DC scans, or `None` when this path does not apply (see the
/// module docs); a file it does apply to but cannot read is `Corrupt`. `max_pixels` bounds the output.
pub(crate) fn decode_eighth(bytes: &[u8], max_pixels: u64) -> Option<Result<Eighth, EngineError>> {
    let (mut width, mut height) = (0usize, 0usize);
    let mut comps: Vec<Component> = Vec::new();
    let mut qt = [[0i32; 1]; 4];
    let mut dc_tables: [Option<Huffman>; 4] = Default::default();
    let mut restart_interval = 0usize;
    let mut adobe_transform: Option<u8> = None;
    let mut progressive = false;
    let (mut mcux, mut mcuy, mut hmax, mut vmax) = (0usize, 0usize, 1usize, 1usize);
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    loop {
        let (at, marker) = marker_at(bytes, i)?;
        i = at;
        if marker == 0xD9 {
            break;
        }
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            i += 2;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
        let body = bytes.get(i + 4..i + 2 + len)?;
        i += 2 + len;
        match marker {
            0xC2 => {
                if body.first() != Some(&8) || !comps.is_empty() {
                    return None;
                }
                height = usize::from(u16::from_be_bytes([*body.get(1)?, *body.get(2)?]));
                width = usize::from(u16::from_be_bytes([*body.get(3)?, *body.get(4)?]));
                let n = usize::from(*body.get(5)?);
                for c in body.get(6..6 + 3 * n)?.chunks_exact(3) {
                    let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
                    if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
                        return None;
                    }
                    comps.push(Component { id: c[0], h, v, tq: usize::from(c[2]), q0: None, dc: Vec::new() });
                }
                // Grey or three components, all at full resolution (same sampling factors).
                if !matches!(comps.len(), 1 | 3) || comps.iter().any(|c| (c.h, c.v) != (comps[0].h, comps[0].v)) || width == 0 || height == 0 {
                    return None;
                }
                let (out_w, out_h) = (width.div_ceil(8) as u64, height.div_ceil(8) as u64);
                if out_w * out_h > max_pixels {
                    return Some(Err(EngineError::PixelBudget(max_pixels)));
                }
                // RGB-coded three-component files (Adobe transform 0, or ids R, G, B) are libjpeg's.
                if comps.len() == 3 && (adobe_transform == Some(0) || comps.iter().map(|c| c.id).eq(*b"RGB")) {
                    return None;
                }
                (hmax, vmax) = (comps[0].h, comps[0].v);
                mcux = width.div_ceil(8 * hmax);
                mcuy = height.div_ceil(8 * vmax);
                for c in &mut comps {
                    c.dc = vec![0; mcux * c.h * mcuy * c.v];
                }
                progressive = true;
            }
            0xC0 | 0xC1 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xEE if body.starts_with(b"Adobe") => adobe_transform = body.get(11).copied(),
            0xDB => {
                let mut b = body;
                while let Some(&pq_tq) = b.first() {
                    let (wide, t) = (pq_tq >> 4 == 1, usize::from(pq_tq & 15));
                    let size = if wide { 128 } else { 64 };
                    let table = b.get(1..1 + size)?;
                    if t > 3 {
                        return None;
                    }
                    qt[t][0] = if wide { i32::from(u16::from_be_bytes([table[0], table[1]])) } else { i32::from(table[0]) };
                    b = &b[1 + size..];
                }
            }
            0xC4 => {
                let mut b = body;
                while let Some(&tc_th) = b.first() {
                    let counts = b.get(1..17)?;
                    let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let values = b.get(17..17 + n)?;
                    if tc_th >> 4 == 0 && usize::from(tc_th & 15) < 4 {
                        dc_tables[usize::from(tc_th & 15)] = Some(Huffman::new(counts, values));
                    }
                    b = &b[17 + n..];
                }
            }
            0xDD => restart_interval = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?])),
            0xDA => {
                if !progressive {
                    return None;
                }
                let ns = usize::from(*body.first()?);
                let sel = body.get(1..1 + 2 * ns)?;
                let spectral = body.get(1 + 2 * ns..4 + 2 * ns)?;
                let (ss, ah, al) = (spectral[0], spectral[2] >> 4, u32::from(spectral[2] & 15));
                let end = entropy_end(bytes, i).unwrap_or(bytes.len());
                if ss == 0 {
                    let mut scan = Vec::with_capacity(ns);
                    for s in sel.chunks_exact(2) {
                        let Some(k) = comps.iter().position(|c| c.id == s[0]) else { return Some(Err(corrupt("scan names an unknown component"))) };
                        let c = &mut comps[k];
                        c.q0.get_or_insert(qt[c.tq][0]);
                        scan.push((k, usize::from(s[1] >> 4)));
                    }
                    let data = &bytes[i..end];
                    if let Err(e) = dc_scan(&mut comps, &scan, &dc_tables, data, ah, al, restart_interval, (mcux, mcuy), (width, height, hmax, vmax)) {
                        return Some(Err(e));
                    }
                }
                i = end;
            }
            _ => {}
        }
    }
    if !progressive {
        return None;
    }
    Some(Ok(pixels(&comps, width, height, mcux)))
}

/// One scan's DC bits for its components' blocks: `scan` holds (component index, DC table).
#[allow(clippy::too_many_arguments)]
fn dc_scan(
    comps: &mut [Component],
    scan: &[(usize, usize)],
    tables: &[Option<Huffman>; 4],
    data: &[u8],
    ah: u8,
    al: u32,
    restart_interval: usize,
    (mcux, mcuy): (usize, usize),
    (width, height, hmax, vmax): (usize, usize, usize, usize),
) -> Result<(), EngineError> {
    let mut d = DcScan { bits: Bits { data, pos: 0, acc: 0, n: 0 }, pred: vec![0; scan.len()], units: 0, restart_interval, ah, al };
    let table = |td: usize| tables.get(td).and_then(|t| t.as_ref()).ok_or_else(|| corrupt("scan uses an undefined Huffman table"));
    if let [(k, td)] = *scan {
        // Non-interleaved: the component's own block grid, without MCU padding.
        let t = table(td)?;
        let (h, v) = (comps[k].h, comps[k].v);
        let (bw, bh) = ((width * h).div_ceil(hmax).div_ceil(8), (height * v).div_ceil(vmax).div_ceil(8));
        let stride = mcux * h;
        for by in 0..bh {
            for bx in 0..bw {
                d.block(t, 0, &mut comps[k].dc[by * stride + bx])?;
                d.unit_done();
            }
        }
        return Ok(());
    }
    for my in 0..mcuy {
        for mx in 0..mcux {
            for (s, &(k, td)) in scan.iter().enumerate() {
                let t = table(td)?;
                let (h, v) = (comps[k].h, comps[k].v);
                for y in 0..v {
                    for x in 0..h {
                        d.block(t, s, &mut comps[k].dc[(my * v + y) * mcux * h + mx * h + x])?;
                    }
                }
            }
            d.unit_done();
        }
    }
    Ok(())
}

struct DcScan<'a> {
    bits: Bits<'a>,
    /// The DC prediction of each of the scan's components.
    pred: Vec<i32>,
    units: usize,
    restart_interval: usize,
    ah: u8,
    al: u32,
}

impl DcScan<'_> {
    /// A first DC scan's difference (JPEG F.2.2.1), or a refinement scan's one bit (G.1.2.1).
    fn block(&mut self, t: &Huffman, s: usize, dc: &mut i32) -> Result<(), EngineError> {
        if self.ah != 0 {
            *dc |= (self.bits.bit() as i32) << self.al;
            return Ok(());
        }
        let size = u32::from(self.bits.decode(t)?);
        if size > 16 {
            return Err(corrupt("bad DC difference"));
        }
        let mut diff = self.bits.bits(size) as i32;
        if size > 0 && diff < (1 << (size - 1)) {
            diff -= (1 << size) - 1;
        }
        self.pred[s] = self.pred[s].wrapping_add(diff);
        *dc = self.pred[s].wrapping_shl(self.al);
        Ok(())
    }

    fn unit_done(&mut self) {
        self.units += 1;
        if self.restart_interval > 0 && self.units % self.restart_interval == 0 {
            self.bits.restart();
            self.pred.iter_mut().for_each(|p| *p = 0);
        }
    }
}

/// libjpeg's `jpeg_idct_1x1` (DC dequantised, descaled by 8, centred, clamped), then for colour its
/// integer YCbCr->RGB with 16-bit fixed-point tables.
fn pixels(comps: &[Component], width: usize, height: usize, mcux: usize) -> Eighth {
    let (w, h) = (width.div_ceil(8), height.div_ceil(8));
    let sample = |c: &Component, x: usize, y: usize| -> i32 {
        let v = (i64::from(c.dc[y * mcux * c.h + x]) * i64::from(c.q0.unwrap_or(0)) + 4) >> 3;
        (v + 128).clamp(0, 255) as i32
    };
    let channels = comps.len();
    let mut data = Vec::with_capacity(w * h * channels);
    const ONE_HALF: i64 = 1 << 15;
    let fix = |f: f64| (f * 65536.0 + 0.5) as i64;
    for y in 0..h {
        for x in 0..w {
            let l = sample(&comps[0], x, y);
            if channels == 1 {
                data.push(l as u8);
                continue;
            }
            let (cb, cr) = (i64::from(sample(&comps[1], x, y) - 128), i64::from(sample(&comps[2], x, y) - 128));
            let r = l + ((fix(1.40200) * cr + ONE_HALF) >> 16) as i32;
            let g = l + ((-fix(0.34414) * cb - fix(0.71414) * cr + ONE_HALF) >> 16) as i32;
            let b = l + ((fix(1.77200) * cb + ONE_HALF) >> 16) as i32;
            data.extend([r, g, b].map(|v| v.clamp(0, 255) as u8));
        }
    }
    Eighth { width: w as u32, height: h as u32, channels: channels as u8, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A progressive JPEG from mozjpeg with every component at `sampling`.
    fn progressive(w: usize, h: usize, grey: bool, sampling: (u8, u8)) -> Vec<u8> {
        let px: Vec<u8> = (0..w * h).flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [(x * 255 / w) as u8, (y * 255 / h) as u8, ((x * y) % 251) as u8]
        }).collect();
        let mut c = mozjpeg::Compress::new(if grey { mozjpeg::ColorSpace::JCS_GRAYSCALE } else { mozjpeg::ColorSpace::JCS_RGB });
        c.set_size(w, h);
        c.set_quality(85.0);
        c.set_progressive_mode();
        if !grey {
            c.set_color_space(mozjpeg::ColorSpace::JCS_YCbCr);
            for comp in c.components_mut() {
                comp.h_samp_factor = i32::from(sampling.0);
                comp.v_samp_factor = i32::from(sampling.1);
            }
        }
        let mut c = c.start_compress(Vec::new()).unwrap();
        if grey {
            let g: Vec<u8> = px.chunks_exact(3).map(|p| p[0]).collect();
            c.write_scanlines(&g).unwrap();
        } else {
            c.write_scanlines(&px).unwrap();
        }
        c.finish().unwrap()
    }

    fn libjpeg_eighth(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        let mut d = mozjpeg::Decompress::new_mem(bytes).unwrap();
        d.scale(1);
        let grey = d.color_space() == mozjpeg::ColorSpace::JCS_GRAYSCALE;
        let mut s = if grey { d.grayscale().unwrap() } else { d.rgb().unwrap() };
        let (w, h) = (s.width(), s.height());
        let data: Vec<u8> = s.read_scanlines().unwrap();
        (w, h, data)
    }

    #[test]
    fn equals_libjpeg_at_an_eighth() {
        for (w, h, grey, sampling) in [(403, 301, false, (1, 1)), (640, 480, false, (1, 1)), (257, 99, true, (1, 1)), (1000, 9, false, (1, 1))] {
            let jpeg = progressive(w, h, grey, sampling);
            let ours = decode_eighth(&jpeg, u64::MAX).expect("applies").unwrap();
            let (lw, lh, theirs) = libjpeg_eighth(&jpeg);
            assert_eq!((ours.width as usize, ours.height as usize), (lw, lh));
            assert_eq!(ours.data, theirs, "{w}x{h} grey {grey} sampling {sampling:?}");
        }
    }

    #[test]
    fn four_two_zero_and_baseline_go_to_libjpeg() {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_size(64, 64);
        c.set_progressive_mode();
        let mut c = c.start_compress(Vec::new()).unwrap();
        c.write_scanlines(&vec![90u8; 64 * 64 * 3]).unwrap();
        let four_two_zero = c.finish().unwrap();
        assert!(decode_eighth(&four_two_zero, u64::MAX).is_none());
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_size(64, 64);
        let mut c = c.start_compress(Vec::new()).unwrap();
        c.write_scanlines(&vec![90u8; 64 * 64 * 3]).unwrap();
        assert!(decode_eighth(&c.finish().unwrap(), u64::MAX).is_none());
    }

    #[test]
    fn a_bad_dc_table_is_corrupt_never_a_panic() {
        let jpeg = progressive(64, 64, false, (1, 1));
        // Flip bits all over the entropy-coded data after the headers.
        for step in [7usize, 13, 31] {
            let mut bad = jpeg.clone();
            let start = bad.len() / 3;
            for k in (start..bad.len() - 2).step_by(step) {
                if bad[k] != 0xFF && bad[k] != 0x00 {
                    bad[k] ^= 0x5A;
                }
            }
            let _ = decode_eighth(&bad, u64::MAX);
        }
        assert!(matches!(decode_eighth(&jpeg, 10), Some(Err(EngineError::PixelBudget(10)))));
    }
}
