//! Input sniffing: type from magic bytes, dimensions from the header, pixel-flood refusal before any decode.
//!
//! Everything here reads headers by hand, with bounds checks on every offset, so that a hostile
//! file costs microseconds and never a pixel allocation. Only BMP asks the `image` crate for its
//! colour type, and only after its dimensions passed the limit.
//!
//! AVIF's header facts (`ispe` size, `irot`/`imir` as an EXIF orientation, the alpha item) come
//! from the HEIF item layer in `avif/heif.rs`, read the same way.

use crate::EngineError;

mod bmp;
mod bytes;
mod gif;
mod jpeg;
mod png;
mod tiff;
mod webp;

use self::bytes::{be16, be32, le16, le24, le32};
use self::bmp::bmp_header;
use self::gif::gif_header;
use self::jpeg::jpeg_header;
use self::png::png_header;
use self::tiff::tiff_header;
use self::webp::webp_header;
pub(crate) use self::tiff::{tiff_orientation, tiff_short_entry};

pub use crate::source::{InputFormat, SourceInfo};

/// The default input cap (the limits table's `upload.max_pixels`).
pub const DEFAULT_MAX_INPUT_PIXELS: u64 = crate::limits::INPUT_PIXELS.default;

pub use crate::budget::AnimationLimits;

/// Header facts the decoder needs beyond `SourceInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct JpegFacts {
    pub components: u8,
    /// Bytes of the whole-image coefficient arrays libjpeg allocates for a progressive file (every
    /// component's 8x8 blocks at 64 x 2 bytes, by its sampling factors) before it can output a row;
    /// 0 for a sequential file, which is decoded one MCU row at a time.
    pub coefficient_bytes: u64,
    /// An Adobe APP14 marker is present (its CMYK is stored inverted).
    pub adobe: bool,
}

/// Sniffs `bytes` with the default 100 MP input cap and animation limits.
pub fn probe(bytes: &[u8]) -> Result<SourceInfo, EngineError> {
    probe_with_limit(bytes, DEFAULT_MAX_INPUT_PIXELS)
}

/// Sniffs `bytes`: the type by magic bytes only, the size from the header, refusing anything over
/// `max_pixels` (`TooManyPixels`) before a single pixel is decoded. Animations are held to the
/// default `AnimationLimits`.
pub fn probe_with_limit(bytes: &[u8], max_pixels: u64) -> Result<SourceInfo, EngineError> {
    probe_with_limits(bytes, max_pixels, AnimationLimits::default())
}

/// `probe_with_limit`, and an animation declaring more frames or frame pixels than `animation`
/// allows is refused (`TooManyFrames`), also before any decode.
pub fn probe_with_limits(bytes: &[u8], max_pixels: u64, animation: AnimationLimits) -> Result<SourceInfo, EngineError> {
    probe_full(bytes, max_pixels, animation).map(|(info, _)| info)
}

pub(crate) fn probe_full(bytes: &[u8], max_pixels: u64, animation: AnimationLimits) -> Result<(SourceInfo, JpegFacts), EngineError> {
    let kind = magic(bytes)?;
    let (info, jpeg) = match kind {
        InputFormat::Jpeg => {
            let (info, facts) = jpeg_header(bytes)?;
            (info, facts)
        }
        InputFormat::Png => (png_header(bytes)?, JpegFacts::default()),
        InputFormat::Webp => (webp_header(bytes)?, JpegFacts::default()),
        InputFormat::Gif => (gif_header(bytes, max_pixels)?, JpegFacts::default()),
        InputFormat::Tiff => (tiff_header(bytes)?, JpegFacts::default()),
        InputFormat::Bmp => (bmp_header(bytes, max_pixels)?, JpegFacts::default()),
        InputFormat::Avif => (crate::avif::probe(bytes)?, JpegFacts::default()),
    };
    check_size(info.width, info.height, max_pixels)?;
    check_animation(&info, animation)?;
    Ok((info, jpeg))
}

fn check_animation(info: &SourceInfo, limits: AnimationLimits) -> Result<(), EngineError> {
    if info.frames <= 1 {
        return Ok(());
    }
    let pixels = u64::from(info.width) * u64::from(info.height) * u64::from(info.frames);
    if info.frames > limits.max_frames || pixels > limits.max_pixels {
        return Err(EngineError::TooManyFrames {
            frames: info.frames.into(),
            width: info.width.into(),
            height: info.height.into(),
            pixels,
            max_frames: limits.max_frames.into(),
            max_pixels: limits.max_pixels,
        });
    }
    Ok(())
}

fn check_size(w: u32, h: u32, max_pixels: u64) -> Result<(), EngineError> {
    if w == 0 || h == 0 {
        return Err(EngineError::Corrupt(format!("header declares a {w}x{h} image")));
    }
    let pixels = u64::from(w) * u64::from(h);
    if pixels > max_pixels {
        return Err(EngineError::TooManyPixels {
            width: w.into(),
            height: h.into(),
            pixels,
            limit: max_pixels,
        });
    }
    Ok(())
}

fn corrupt(what: &str) -> EngineError {
    EngineError::Corrupt(what.to_string())
}

fn unsupported(what: &str) -> EngineError {
    EngineError::Unsupported(what.to_string())
}

fn magic(b: &[u8]) -> Result<InputFormat, EngineError> {
    if b.is_empty() {
        return Err(unsupported("empty file"));
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(InputFormat::Jpeg);
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(InputFormat::Png);
    }
    if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        return Ok(InputFormat::Webp);
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Ok(InputFormat::Gif);
    }
    if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        return Ok(InputFormat::Tiff);
    }
    if b.starts_with(b"BM") && b.len() >= 14 {
        return Ok(InputFormat::Bmp);
    }
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        return iso_bmff(b);
    }
    if b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06") {
        return Err(unsupported("zip archives are not accepted"));
    }
    if b.starts_with(b"%PDF") {
        return Err(unsupported("PDF is not accepted"));
    }
    text_kind(b)
}

/// ISO-BMFF (`ftyp`): AVIF by its brands; HEIC is named in the refusal; other brands are unknown.
fn iso_bmff(b: &[u8]) -> Result<InputFormat, EngineError> {
    let size = be32(b, 0).unwrap_or(0) as usize;
    let end = size.clamp(16, 256).min(b.len());
    let mut brands = vec![&b[8..12]];
    let mut i = 16;
    while i + 4 <= end {
        brands.push(&b[i..i + 4]);
        i += 4;
    }
    if brands.iter().any(|br| *br == b"avif" || *br == b"avis") {
        return Ok(InputFormat::Avif);
    }
    if brands.iter().any(|br| matches!(*br, b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1")) {
        return Err(unsupported("HEIC/HEIF input is not supported"));
    }
    Err(unsupported("unrecognised file type"))
}

/// Text that looks like SVG, XML or HTML gets a specific message; any other bytes are unknown.
fn text_kind(b: &[u8]) -> Result<InputFormat, EngineError> {
    let head = &b[..b.len().min(4096)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(head.len());
    let text = String::from_utf8_lossy(&head[start..]).to_ascii_lowercase();
    if text.contains("<svg") {
        return Err(unsupported("SVG is not accepted"));
    }
    if text.starts_with("<!doctype html") || text.starts_with("<html") || text.contains("<body") {
        return Err(unsupported("HTML is not an image"));
    }
    if text.starts_with("<?xml") || text.starts_with('<') {
        return Err(unsupported("XML is not an image"));
    }
    Err(unsupported("unrecognised file type"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsupported_msg(b: &[u8]) -> String {
        match probe(b) {
            Err(EngineError::Unsupported(m)) => m,
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }

    #[test]
    fn refuses_non_images_by_content() {
        assert_eq!(unsupported_msg(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "SVG is not accepted");
        assert_eq!(unsupported_msg(b"\xEF\xBB\xBF  <?xml version='1.0'?>\n<svg/>"), "SVG is not accepted");
        assert_eq!(unsupported_msg(b"<!DOCTYPE html><html></html>"), "HTML is not an image");
        assert_eq!(unsupported_msg(b"PK\x03\x04rest"), "zip archives are not accepted");
        assert_eq!(unsupported_msg(b"hello world"), "unrecognised file type");
        assert_eq!(unsupported_msg(b""), "empty file");
    }

    #[test]
    fn avif_is_recognised_and_heic_refused() {
        // An AVIF ftyp with nothing after it is a broken AVIF; a sequence-only one is unsupported.
        let mut b = vec![0, 0, 0, 28];
        b.extend_from_slice(b"ftypavif\0\0\0\0avifmif1miaf");
        assert!(matches!(probe(&b), Err(EngineError::Corrupt(m)) if m.contains("AVIF")));
        let mut s = vec![0, 0, 0, 24];
        s.extend_from_slice(b"ftypavis\0\0\0\0avismsf1");
        assert!(unsupported_msg(&s).contains("sequences"));
        let mut h = vec![0, 0, 0, 24];
        h.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
        assert_eq!(unsupported_msg(&h), "HEIC/HEIF input is not supported");
    }

    fn jpeg_with_sof(w: u16, h: u16, exif_orientation: Option<u16>) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        if let Some(o) = exif_orientation {
            let mut tiff = b"MM\0*\0\0\0\x08\0\x01".to_vec();
            tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
            tiff.extend_from_slice(&o.to_be_bytes());
            tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            let mut seg = b"Exif\0\0".to_vec();
            seg.extend_from_slice(&tiff);
            b.extend_from_slice(&[0xFF, 0xE1]);
            b.extend_from_slice(&((seg.len() + 2) as u16).to_be_bytes());
            b.extend_from_slice(&seg);
        }
        b.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8]);
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[1, 1, 0x11, 0]);
        b.extend_from_slice(&[0xFF, 0xDA]);
        b
    }

    #[test]
    fn jpeg_header_and_orientation() {
        let info = probe(&jpeg_with_sof(640, 480, Some(6))).unwrap();
        assert_eq!((info.format, info.width, info.height, info.orientation), (InputFormat::Jpeg, 640, 480, 6));
        assert!(!info.has_alpha);
        assert_eq!(probe(&jpeg_with_sof(10, 10, None)).unwrap().orientation, 1);
    }

    #[test]
    fn pixel_flood_is_refused_from_the_header() {
        // A header with no pixel data at all: the refusal cannot have come from a decode.
        match probe(&jpeg_with_sof(64250, 64250, None)) {
            Err(EngineError::TooManyPixels { width: 64250, height: 64250, limit: 100_000_000, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert!(matches!(probe_with_limit(&jpeg_with_sof(100, 100, None), 9_999), Err(EngineError::TooManyPixels { .. })));
    }

    #[test]
    fn truncated_headers_are_corrupt() {
        let full = jpeg_with_sof(640, 480, Some(3));
        for n in 3..full.len() - 8 {
            assert!(matches!(probe(&full[..n]), Err(EngineError::Corrupt(_))), "cut at {n}");
        }
        assert!(matches!(probe(b"\x89PNG\r\n\x1a\n\0\0"), Err(EngineError::Corrupt(_))));
        assert!(matches!(probe(b"GIF89a\x01"), Err(EngineError::Corrupt(_))));
        assert!(matches!(probe(b"RIFF\0\0\0\0WEBPVP8 "), Err(EngineError::Corrupt(_))));
        assert!(matches!(probe(b"II*\0\xff\xff\0\0"), Err(EngineError::Corrupt(_))));
    }

    #[test]
    fn orientation_of_any_integer_type() {
        // Little-endian IFD with one entry: tag 0x0112, given type, count 1, value 6.
        for ty in [3u16, 4, 8, 9] {
            let mut t = b"II*\0\x08\0\0\0\x01\0".to_vec();
            t.extend_from_slice(&0x0112u16.to_le_bytes());
            t.extend_from_slice(&ty.to_le_bytes());
            t.extend_from_slice(&1u32.to_le_bytes());
            t.extend_from_slice(&6u32.to_le_bytes());
            assert_eq!(tiff_orientation(&t), Some(6), "type {ty}");
        }
        assert_eq!(tiff_orientation(b"II*\0\xff\xff\xff\xff"), None);
    }

    /// A real GIF of `frames` 4x3 frames on a `screen` canvas, from the gif crate's encoder.
    fn gif_of(screen: (u16, u16), frames: usize, repeat: Option<::gif::Repeat>) -> Vec<u8> {
        let mut out = vec![];
        {
            let mut e = ::gif::Encoder::new(&mut out, screen.0, screen.1, &[0, 0, 0, 255, 255, 255]).unwrap();
            if let Some(r) = repeat {
                e.set_repeat(r).unwrap();
            }
            for i in 0..frames {
                let f = ::gif::Frame { width: 4, height: 3, delay: 7, buffer: vec![(i % 2) as u8; 12].into(), ..Default::default() };
                e.write_frame(&f).unwrap();
            }
        }
        out
    }

    #[test]
    fn gif_frames_and_plays_from_the_blocks() {
        let facts = |b: &[u8]| probe(b).map(|i| (i.frames, i.plays)).unwrap();
        assert_eq!(facts(&gif_of((4, 3), 1, None)), (1, 1));
        // No NETSCAPE block: the animation plays once; repeat n: n + 1 plays; 0: forever.
        assert_eq!(facts(&gif_of((4, 3), 5, None)), (5, 1));
        assert_eq!(facts(&gif_of((4, 3), 5, Some(::gif::Repeat::Infinite))), (5, 0));
        assert_eq!(facts(&gif_of((4, 3), 5, Some(::gif::Repeat::Finite(2)))), (5, 3));
        // Cut anywhere after the first frame's descriptor: the frames seen so far count, no error,
        // and the count only grows with the length.
        let full = gif_of((4, 3), 5, None);
        let first = full.iter().position(|b| *b == 0x2C).unwrap() + 10;
        let counts: Vec<u32> = (first..full.len()).map(|n| facts(&full[..n]).0).collect();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]) && counts[0] == 1 && counts.contains(&3), "{counts:?}");
    }

    #[test]
    fn frame_bombs_are_refused_from_the_headers() {
        let bomb = gif_of((4, 3), 1000, Some(::gif::Repeat::Infinite));
        match probe(&bomb) {
            Err(EngineError::TooManyFrames { frames: 1000, max_frames: 500, pixels: 12_000, .. }) => {}
            other => panic!("{other:?}"),
        }
        // Few frames on a big canvas: 100 x 2000 x 2000 = 400 MP composed, over 300 MP.
        let wide = gif_of((2000, 2000), 100, None);
        assert!(matches!(probe(&wide), Err(EngineError::TooManyFrames { frames: 100, pixels: 400_000_000, .. })));
        // The caller's limits, either of them.
        let ten = gif_of((4, 3), 10, None);
        let lim = |max_frames, max_pixels| probe_with_limits(&ten, 1_000_000, AnimationLimits { max_frames, max_pixels });
        assert!(matches!(lim(9, 1_000), Err(EngineError::TooManyFrames { .. })));
        assert!(matches!(lim(10, 119), Err(EngineError::TooManyFrames { .. })));
        assert_eq!(lim(10, 120).unwrap().frames, 10);
        // A still image is never judged by the animation limits.
        assert_eq!(probe_with_limits(&gif_of((4, 3), 1, None), 1_000_000, AnimationLimits { max_frames: 0, max_pixels: 0 }).unwrap().frames, 1);
    }

    #[test]
    fn webp_anim_and_anmf_chunks() {
        let chunk = |id: &[u8], data: &[u8]| [id, &(data.len() as u32).to_le_bytes(), data].concat();
        let mut vp8x = vec![0x12, 0, 0, 0];
        vp8x.extend_from_slice(&[99, 0, 0, 49, 0, 0]);
        let anim = [0, 0, 0, 0, 3, 0];
        let body = [chunk(b"VP8X", &vp8x), chunk(b"ANIM", &anim), chunk(b"ANMF", &[0; 16]), chunk(b"ANMF", &[0; 16])].concat();
        let file = [b"RIFF".as_slice(), &((body.len() + 4) as u32).to_le_bytes(), b"WEBP", &body].concat();
        let info = probe(&file).unwrap();
        assert_eq!((info.width, info.height, info.has_alpha, info.frames, info.plays), (100, 50, true, 2, 3));
        // Without the animation flag, ANMF chunks do not make an animation.
        let mut still = file.clone();
        still[20] = 0x10;
        assert_eq!(probe(&still).unwrap().frames, 1);
    }

    #[test]
    fn apng_actl_before_idat() {
        let chunk = |id: &[u8], data: &[u8]| [&(data.len() as u32).to_be_bytes(), id, data, &[0; 4]].concat();
        let ihdr = [&300u32.to_be_bytes()[..], &200u32.to_be_bytes(), &[8, 6, 0, 0, 0]].concat();
        let actl = [&7u32.to_be_bytes()[..], &2u32.to_be_bytes()].concat();
        let png = |chunks: &[Vec<u8>]| [b"\x89PNG\r\n\x1a\n".to_vec(), chunks.concat()].concat();
        let info = probe(&png(&[chunk(b"IHDR", &ihdr), chunk(b"acTL", &actl), chunk(b"IDAT", &[])])).unwrap();
        assert_eq!((info.frames, info.plays), (7, 2));
        // After IDAT, acTL is invalid and the file is a still PNG.
        let late = probe(&png(&[chunk(b"IHDR", &ihdr), chunk(b"IDAT", &[]), chunk(b"acTL", &actl)])).unwrap();
        assert_eq!(late.frames, 1);
    }

    #[test]
    fn png_ihdr_and_trns() {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&300u32.to_be_bytes());
        b.extend_from_slice(&200u32.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        let info = probe(&b).unwrap();
        assert_eq!((info.width, info.height, info.has_alpha), (300, 200, false));
        b.extend_from_slice(b"\0\0\0\x02tRNS\0\0\0\0\0\0");
        assert!(probe(&b).unwrap().has_alpha);
    }
}
