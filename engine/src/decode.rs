//! Decoding: bytes to pixels plus the embedded ICC profile, with JPEG shrink-on-load and no panics.
//!
//! Every call into a third-party decoder runs inside `guarded`, so a decoder bug on hostile input
//! becomes `Corrupt` instead of unwinding into the server (rav1d, behind `avif/`, too). This is
//! the still path: an animated source decodes its first frame here, and every frame in animation.rs.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder};

use crate::budget::Budget;
use crate::sniff::{InputFormat, JpegFacts, SourceInfo};
use crate::pixels::{guarded, Decoded, Pixels};
use crate::EngineError;



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
/// DCT-scaled towards it. `budget`'s work pixels bound the decoded buffer; its deadline is
/// checked inside decodes made of parts (AVIF grid tiles).
pub(crate) fn decode(
    bytes: &[u8],
    info: &SourceInfo,
    jpeg: JpegFacts,
    target: (u32, u32),
    budget: &Budget,
) -> Result<Decoded, EngineError> {
    let max_pixels = budget.limits.max_work_pixels;
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
            decode_jpeg(bytes, jpeg, shrink, max_pixels)
        }
        InputFormat::Png => with_decoder(image::codecs::png::PngDecoder::new(Cursor::new(bytes)).map_err(corrupt)?, max_pixels),
        InputFormat::Webp => with_decoder(image::codecs::webp::WebPDecoder::new(Cursor::new(bytes)).map_err(corrupt)?, max_pixels),
        InputFormat::Gif => with_decoder(image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(corrupt)?, max_pixels),
        InputFormat::Tiff => decode_tiff(bytes, max_pixels),
        InputFormat::Bmp => with_decoder(image::codecs::bmp::BmpDecoder::new(Cursor::new(bytes)).map_err(corrupt)?, max_pixels),
        InputFormat::Avif => crate::avif::decode(bytes, budget),
    })
}

/// The `image` crate reads RGB(A), grey 1/8/16-bit, float and CMYK TIFFs; palette images and
/// 2/4-bit grey (ordinary in scanners' and old tools' output) are read by `indexed_tiff`.
fn decode_tiff(bytes: &[u8], max_pixels: u64) -> Result<Decoded, EngineError> {
    match image::codecs::tiff::TiffDecoder::new(Cursor::new(bytes)) {
        Ok(dec) => with_decoder(dec, max_pixels),
        Err(image::ImageError::Unsupported(_)) => indexed_tiff(bytes, max_pixels),
        Err(e) => Err(corrupt(e)),
    }
}

/// Palette and low-depth grey TIFFs. The `tiff` crate decompresses (any codec, strips or tiles,
/// predictor) but refuses the palette interpretation, so a copy of the file says BlackIsZero and
/// the samples come back as plain indices; they are then looked up in the ColorMap (or scaled, for
/// grey) here.
fn indexed_tiff(bytes: &[u8], max_pixels: u64) -> Result<Decoded, EngineError> {
    use tiff::decoder::{Decoder, DecodingResult, Limits};
    let unsupported = |what: &str| EngineError::Unsupported(format!("TIFF: {what}"));
    let (at, photometric) = crate::sniff::tiff_short_entry(bytes, 262).ok_or_else(|| unsupported("no readable PhotometricInterpretation"))?;
    if !matches!(photometric, 0 | 1 | 3) {
        return Err(unsupported(&format!("photometric interpretation {photometric} is not supported")));
    }
    let mut patched = bytes.to_vec();
    let little = bytes.starts_with(b"II");
    patched[at..at + 2].copy_from_slice(&if little { 1u16.to_le_bytes() } else { 1u16.to_be_bytes() });

    let mut limits = Limits::default();
    limits.decoding_buffer_size = usize::try_from(max_pixels.saturating_mul(2)).unwrap_or(usize::MAX);
    let mut dec = Decoder::new(Cursor::new(&patched[..])).map_err(corrupt)?.with_limits(limits);
    let (w, h) = dec.dimensions().map_err(corrupt)?;
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(EngineError::PixelBudget(max_pixels));
    }
    let bits = match dec.colortype().map_err(corrupt)? {
        tiff::ColorType::Gray(b @ (1 | 2 | 4 | 8)) => b,
        other => return Err(unsupported(&format!("{other:?} samples are not supported"))),
    };
    let colors = 1usize << bits;
    let map = if photometric == 3 {
        let map = dec.get_tag_u16_vec(tiff::tags::Tag::ColorMap).map_err(corrupt)?;
        if map.len() < 3 * colors {
            return Err(EngineError::Corrupt(format!("TIFF ColorMap has {} entries, {} needed", map.len(), 3 * colors)));
        }
        Some(map)
    } else {
        None
    };
    let DecodingResult::U8(data) = dec.read_image().map_err(corrupt)? else {
        return Err(unsupported("unexpected sample layout"));
    };
    let row_bytes = (w as usize * usize::from(bits)).div_ceil(8);
    if data.len() < row_bytes * h as usize {
        return Err(EngineError::Corrupt("TIFF image data is shorter than its size".into()));
    }
    let index = |x: usize, y: usize| -> usize {
        let bit = x * usize::from(bits);
        let byte = data[y * row_bytes + bit / 8];
        usize::from((byte >> (8 - usize::from(bits) - bit % 8)) & ((1u16 << bits) - 1) as u8)
    };
    let img = match map {
        Some(map) => DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            let i = index(x as usize, y as usize);
            image::Rgb([(map[i] >> 8) as u8, (map[colors + i] >> 8) as u8, (map[2 * colors + i] >> 8) as u8])
        })),
        None => {
            let max = colors - 1;
            DynamicImage::ImageLuma8(image::GrayImage::from_fn(w, h, |x, y| {
                let v = index(x as usize, y as usize) * 255 / max;
                image::Luma([if photometric == 0 { 255 - v as u8 } else { v as u8 }])
            }))
        }
    };
    Ok(Decoded { pixels: Pixels::Image(img), icc: None })
}

/// In entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so an EOI after the
/// frame's first SOS can only be the real end of the image: a file without one was cut short.
/// libjpeg would only warn and fill the rest with grey. The SOS is found by walking the marker
/// segments, because an EXIF thumbnail in APP1 carries an SOS and EOI of its own.
fn jpeg_is_complete(b: &[u8]) -> bool {
    let Some(sos) = first_sos(b) else { return false };
    // From the end: the EOI is normally the last two bytes, and a forward scan of a large file
    // cost about 5% of a thumbnail render.
    b[sos..].windows(2).rev().any(|w| w == [0xFF, 0xD9])
}

fn first_sos(b: &[u8]) -> Option<usize> {
    let mut i = 2;
    loop {
        let (at, marker) = crate::jpeg_scans::marker_at(b, i)?;
        i = at;
        match marker {
            0xDA => return Some(i),
            0x01 | 0xD0..=0xD8 => i += 2,
            _ => i += 2 + usize::from(u16::from_be_bytes([*b.get(i + 2)?, *b.get(i + 3)?])),
        }
    }
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

/// libjpeg-turbo (through the `mozjpeg` crate, with its SIMD) decodes every JPEG: DCT scaling by
/// 1/2..1/8 makes a 24 MP photo to a thumbnail decode only an eighth of the blocks' pixels, and its
/// entropy decoder is the fastest there is. It reports errors by unwinding (`resume_unwind`, so no
/// panic hook runs); `guarded` around the caller turns that into `Corrupt`.
/// A progressive file shrunk by 8 is first stripped of the scans that cannot change the result
/// (`jpeg_scans`): the same pixels for a fraction of the Huffman decoding.
fn decode_jpeg(bytes: &[u8], facts: JpegFacts, shrink: u32, max_pixels: u64) -> Result<Decoded, EngineError> {
    // A progressive grey or 4:4:4 file at 1/8 needs only its DC scans: read without libjpeg's
    // whole-image coefficient arrays (`jpeg_dc`), the same pixels.
    if shrink == 8 {
        if let Some(eighth) = crate::jpeg_dc::decode_eighth(bytes, max_pixels) {
            let e = eighth?;
            let dec = mozjpeg::Decompress::with_markers(&[mozjpeg::Marker::APP(2)]).from_mem(bytes).map_err(corrupt)?;
            let icc = icc_from_app2(dec.markers().filter(|m| m.marker == mozjpeg::Marker::APP(2)).map(|m| m.data));
            let image = match e.channels {
                1 => image::GrayImage::from_raw(e.width, e.height, e.data).map(DynamicImage::ImageLuma8),
                _ => image::RgbImage::from_raw(e.width, e.height, e.data).map(DynamicImage::ImageRgb8),
            };
            return Ok(Decoded { pixels: Pixels::Image(image.ok_or_else(short)?), icc });
        }
    }
    match crate::jpeg_scans::prune_for_shrink(bytes, shrink) {
        Some(pruned) => decode_jpeg_stream(&pruned, true, facts, shrink, max_pixels),
        None => decode_jpeg_stream(bytes, false, facts, shrink, max_pixels),
    }
}

/// `pruned`: scans were dropped, so block smoothing (which would estimate the AC coefficients
/// those scans held) must stay off for the pixels to equal a full decode's.
fn decode_jpeg_stream(bytes: &[u8], pruned: bool, facts: JpegFacts, shrink: u32, max_pixels: u64) -> Result<Decoded, EngineError> {
    use mozjpeg::{Decompress, Format, Marker};
    let mut dec = Decompress::with_markers(&[Marker::APP(2)]).from_mem(bytes).map_err(corrupt)?;
    if pruned {
        dec.do_block_smoothing(false);
    }
    let icc = icc_from_app2(dec.markers().filter(|m| m.marker == Marker::APP(2)).map(|m| m.data));
    // `jpeg_shrink` gives 1, 2, 4 or 8: libjpeg's SIMD-accelerated scales, the ones libvips uses.
    dec.scale(u8::try_from(8 / shrink.clamp(1, 8)).unwrap_or(8));
    let pixels = match dec.image().map_err(corrupt)? {
        Format::RGB(s) => {
            let (w, h, data) = read_all(s, 3, max_pixels)?;
            Pixels::Image(DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, data).ok_or_else(short)?))
        }
        Format::Gray(s) => {
            let (w, h, data) = read_all(s, 1, max_pixels)?;
            Pixels::Image(DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, data).ok_or_else(short)?))
        }
        Format::CMYK(s) => {
            let (width, height, mut data) = read_all(s, 4, max_pixels)?;
            // libjpeg hands back CMYK as stored (YCCK already turned into it). Adobe's writers
            // store inverted ink (255 = none); colour management wants ink amounts.
            if facts.adobe {
                data.iter_mut().for_each(|v| *v = 255 - *v);
            }
            Pixels::Cmyk { width, height, data }
        }
    };
    Ok(Decoded { pixels, icc })
}

fn short() -> EngineError {
    corrupt("JPEG decoded to fewer pixels than its header declares")
}

/// Reads every scanline of a started decode (`channels` bytes a pixel) after checking the output
/// size against the pixel budget, so the buffer is never allocated over it.
fn read_all(
    mut s: mozjpeg::decompress::DecompressStarted<&[u8]>,
    channels: usize,
    max_pixels: u64,
) -> Result<(u32, u32, Vec<u8>), EngineError> {
    let (w, h) = (s.width(), s.height());
    if (w as u64).saturating_mul(h as u64) > max_pixels {
        return Err(EngineError::PixelBudget(max_pixels));
    }
    let data: Vec<u8> = s.read_scanlines().map_err(corrupt)?;
    s.finish().map_err(corrupt)?;
    if data.len() < w * h * channels {
        return Err(short());
    }
    Ok((u32::try_from(w).map_err(corrupt)?, u32::try_from(h).map_err(corrupt)?, data))
}

/// Reassembles an ICC profile split over APP2 `ICC_PROFILE` chunks (each: the tag, a 1-based
/// sequence number, the chunk count, then data). A missing or repeated chunk drops the profile:
/// the image then renders untagged rather than with half a profile.
fn icc_from_app2<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    const TAG: &[u8] = b"ICC_PROFILE\0";
    let mut parts: Vec<(u8, &[u8])> = Vec::new();
    let mut total = 0u8;
    for c in chunks {
        if c.len() < TAG.len() + 2 || &c[..TAG.len()] != TAG {
            continue;
        }
        let (seq, count) = (c[TAG.len()], c[TAG.len() + 1]);
        if seq == 0 || count == 0 || seq > count || (total != 0 && count != total) {
            return None;
        }
        total = count;
        parts.push((seq, &c[TAG.len() + 2..]));
    }
    if parts.is_empty() || parts.len() != usize::from(total) {
        return None;
    }
    parts.sort_by_key(|p| p.0);
    if parts.iter().enumerate().any(|(i, p)| usize::from(p.0) != i + 1) {
        return None;
    }
    Some(parts.into_iter().flat_map(|p| p.1.iter().copied()).collect())
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

    /// A JPEG of busy pseudo-random texture (so every scan carries data) with the given colour
    /// space and chroma sampling; progressive ones use libjpeg's standard progression, or with
    /// `mozjpeg` set mozjpeg's own scan search (DC per component, luma AC split in several bands).
    fn texture_jpeg(cs: mozjpeg::ColorSpace, chroma: (u8, u8), progressive: bool, mozjpeg: bool, w: usize, h: usize) -> Vec<u8> {
        use mozjpeg::ColorSpaceExt;
        let n = cs.num_components();
        let mut seed = 0x2545_F491u32;
        let px: Vec<u8> = (0..w * h * n)
            .map(|i| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                ((i / n % w + i / n / w) as u32 * 3 / 2 + (seed >> 26)) as u8
            })
            .collect();
        let mut c = mozjpeg::Compress::new(cs);
        if !mozjpeg {
            c.set_fastest_defaults();
        }
        c.set_size(w, h);
        c.set_quality(85.0);
        if n == 3 {
            c.set_chroma_sampling_pixel_sizes(chroma, chroma);
        }
        if progressive {
            c.set_progressive_mode();
        }
        c.set_optimize_coding(true);
        let mut started = c.start_compress(Vec::new()).unwrap();
        started.write_scanlines(&px).unwrap();
        started.finish().unwrap()
    }

    fn pixels(d: Decoded) -> (u32, u32, Vec<u8>) {
        match d.pixels {
            Pixels::Image(img) => (img.width(), img.height(), img.into_bytes()),
            Pixels::Cmyk { width, height, data } => (width, height, data),
        }
    }

    #[test]
    fn pruned_progressive_decodes_equal_full_decodes_at_one_eighth() {
        use mozjpeg::ColorSpace::{JCS_CMYK, JCS_GRAYSCALE, JCS_RGB};
        let facts = JpegFacts { components: 3, adobe: false, coefficient_bytes: 0 };
        // 4:2:0 (luma AC dropped, chroma kept), 4:2:2, 4:4:4, grey and CMYK (every AC scan dropped);
        // odd sizes, so the last MCU row and column are partial.
        let cases = [
            (JCS_RGB, (2, 2), false),
            (JCS_RGB, (2, 2), true),
            (JCS_RGB, (2, 1), false),
            (JCS_RGB, (1, 1), false),
            (JCS_GRAYSCALE, (1, 1), false),
            (JCS_CMYK, (1, 1), false),
        ];
        for (cs, chroma, mozjpeg) in cases {
            let jpeg = texture_jpeg(cs, chroma, true, mozjpeg, 203, 157);
            let pruned = crate::jpeg_scans::prune_for_shrink(&jpeg, 8).expect("a progressive file at 1/8 has scans to drop");
            assert!(pruned.len() < jpeg.len() * 2 / 3, "{cs:?} {chroma:?}: {} of {} bytes kept", pruned.len(), jpeg.len());
            let fast = pixels(decode_jpeg(&jpeg, facts, 8, u64::MAX).unwrap());
            let full = pixels(decode_jpeg_stream(&jpeg, false, facts, 8, u64::MAX).unwrap());
            assert_eq!((fast.0, fast.1), (26, 20));
            assert!(fast == full, "{cs:?} {chroma:?} mozjpeg {mozjpeg}: pruned decode differs from the full decode");
            // Larger scales read AC coefficients: nothing is dropped.
            assert_eq!(crate::jpeg_scans::prune_for_shrink(&jpeg, 4), None);
        }
    }

    #[test]
    fn baseline_jpegs_are_never_pruned() {
        let baseline = texture_jpeg(mozjpeg::ColorSpace::JCS_RGB, (2, 2), false, false, 64, 48);
        assert_eq!(crate::jpeg_scans::prune_for_shrink(&baseline, 8), None);
    }

    #[test]
    fn guarded_turns_panics_into_corrupt() {
        let r: Result<(), _> = guarded(|| panic!("boom"));
        assert!(matches!(r, Err(EngineError::Corrupt(_))));
    }

    #[test]
    fn icc_chunks_are_joined_in_sequence_order_and_incomplete_sets_dropped() {
        let chunk = |seq: u8, n: u8, d: &[u8]| [b"ICC_PROFILE\0".as_slice(), &[seq, n], d].concat();
        let (a, b) = (chunk(2, 2, b"world"), chunk(1, 2, b"hello "));
        assert_eq!(icc_from_app2([a.as_slice(), b.as_slice()].into_iter()).as_deref(), Some(&b"hello world"[..]));
        assert_eq!(icc_from_app2([a.as_slice()].into_iter()), None);
        assert_eq!(icc_from_app2([b.as_slice(), b.as_slice()].into_iter()), None);
        assert_eq!(icc_from_app2([&b"Exif\0\0"[..]].into_iter()), None);
    }

    #[test]
    fn completeness_needs_eoi_after_sos() {
        assert!(jpeg_is_complete(&[0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 0xFF, 0xD9]));
        assert!(!jpeg_is_complete(&[0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 1, 2]));
        // An APP1 segment holding a whole thumbnail (SOS ... EOI) does not count.
        let thumb = [0xFF, 0xD8, 0xFF, 0xE1, 0, 7, 0xFF, 0xDA, 9, 0xFF, 0xD9, 0xFF, 0xDA, 1, 2];
        assert_eq!(first_sos(&thumb), Some(11));
        assert!(!jpeg_is_complete(&thumb));
        assert!(jpeg_is_complete(&[&thumb[..], &[0xFF, 0xD9]].concat()));
    }
}
