//! Input sniffing: type from magic bytes, dimensions from the header, pixel-flood refusal before any decode.
//!
//! Everything here reads headers by hand, with bounds checks on every offset, so that a hostile
//! file costs microseconds and never a pixel allocation. Only BMP asks the `image` crate for its
//! colour type, and only after its dimensions passed the limit.
//!
//! AVIF's header facts (`ispe` size, `irot`/`imir` as an EXIF orientation, the alpha item) come
//! from the HEIF item layer in `avif/heif.rs`, read the same way.

use crate::EngineError;

/// Image types accepted as originals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat { Jpeg, Png, Webp, Gif, Tiff, Bmp, Avif }

/// Facts read from the header without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub format: InputFormat,
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1..=8 (1 when absent).
    pub orientation: u8,
    pub has_alpha: bool,
    /// Frames of an animated GIF, WebP or APNG as its headers declare them; 1 for a still image.
    pub frames: u32,
    /// How many times an animation plays, 0 meaning forever (WebP's and APNG's convention; a GIF's
    /// NETSCAPE repeat count n is n + 1 plays, and a GIF without one plays once).
    pub plays: u32,
}

impl SourceInfo {
    /// What the planner needs from these facts.
    pub fn facts(&self) -> crate::plan::SourceFacts {
        crate::plan::SourceFacts {
            width: self.width,
            height: self.height,
            orientation: self.orientation,
            has_alpha: self.has_alpha,
            format: self.format,
            frames: self.frames,
        }
    }
}

/// The default input cap: 100 megapixels.
pub const DEFAULT_MAX_INPUT_PIXELS: u64 = 100_000_000;

/// Caps on an animated source, judged from its headers before any decode, so a frame bomb costs a
/// header walk (config `upload.max_frames` and `upload.max_animation_pixels`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnimationLimits {
    /// Most frames an animation may declare.
    pub max_frames: u32,
    /// Most pixels over all frames: canvas width x height x frames, what a full decode composes.
    pub max_pixels: u64,
}

impl Default for AnimationLimits {
    fn default() -> Self {
        AnimationLimits { max_frames: 500, max_pixels: 300_000_000 }
    }
}

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

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

/// Walks JPEG markers up to the first SOF, collecting EXIF orientation and the Adobe marker.
fn jpeg_header(b: &[u8]) -> Result<(SourceInfo, JpegFacts), EngineError> {
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

fn png_header(b: &[u8]) -> Result<SourceInfo, EngineError> {
    let truncated = || corrupt("truncated PNG header");
    if b.get(12..16) != Some(b"IHDR") {
        return Err(if b.len() < 16 { truncated() } else { corrupt("PNG does not start with IHDR") });
    }
    let w = be32(b, 16).ok_or_else(truncated)?;
    let h = be32(b, 20).ok_or_else(truncated)?;
    let color_type = *b.get(25).ok_or_else(truncated)?;
    let mut has_alpha = matches!(color_type, 4 | 6);
    // Orientation, in the order libvips and Pillow trust it: the eXIf chunk, then ImageMagick's
    // "Raw profile type exif" text, then XMP's tiff:Orientation.
    let (mut exif, mut raw_profile, mut xmp) = (None, None, None);
    let (mut frames, mut plays) = (1, 0);
    let mut seen_idat = false;
    // Walk chunk headers to IEND (jumping over data): text chunks may follow the image data.
    let mut i = 8;
    while let (Some(len), Some(kind)) = (be32(b, i), b.get(i + 4..i + 8)) {
        let len = len as usize;
        let data = b.get(i + 8..(i + 8).saturating_add(len));
        match (kind, data) {
            (b"IEND", _) => break,
            (b"IDAT", _) => seen_idat = true,
            (b"tRNS", _) => has_alpha = true,
            // acTL makes an APNG; after IDAT it is invalid and ignored, as the png crate and
            // browsers do. num_frames counts the animation's frames (a default image outside the
            // animation is not one of them); 0 frames is invalid: a still PNG.
            (b"acTL", _) if len >= 8 && !seen_idat => {
                frames = be32(b, i + 8).unwrap_or(1).max(1);
                plays = be32(b, i + 12).unwrap_or(0);
            }
            (b"eXIf", Some(d)) => exif = exif.or(tiff_orientation(d)),
            (b"tEXt" | b"zTXt" | b"iTXt", Some(d)) => match png_text(kind, d) {
                Some((PngText::RawExif, text)) => raw_profile = raw_profile.or_else(|| raw_profile_orientation(&text)),
                Some((PngText::Xmp, text)) => xmp = xmp.or_else(|| xmp_orientation(&text)),
                None => {}
            },
            _ => {}
        }
        i = match i.checked_add(12 + len) {
            Some(n) => n,
            None => break,
        };
    }
    let orientation = exif.or(raw_profile).or(xmp).filter(|o| (1..=8).contains(o)).unwrap_or(1);
    Ok(SourceInfo { format: InputFormat::Png, width: w, height: h, orientation, has_alpha, frames, plays })
}

enum PngText {
    RawExif,
    Xmp,
}

/// Longest text chunk inflated while probing: real EXIF/XMP is a few KiB, and a deflate bomb in
/// a text chunk must not cost memory before the pixel cap is even checked.
const MAX_PNG_TEXT: u64 = 1 << 20;

/// The text of a tEXt/zTXt/iTXt chunk whose keyword names EXIF or XMP; None for any other.
fn png_text(kind: &[u8], d: &[u8]) -> Option<(PngText, Vec<u8>)> {
    let nul = d.iter().position(|&c| c == 0)?;
    let which = match &d[..nul] {
        b"Raw profile type exif" | b"Raw profile type APP1" => PngText::RawExif,
        b"XML:com.adobe.xmp" => PngText::Xmp,
        _ => return None,
    };
    let rest = &d[nul + 1..];
    let (compressed, text) = match kind {
        b"tEXt" => (false, rest),
        // compression method byte, then the zlib stream
        b"zTXt" => (true, rest.get(1..)?),
        _ => {
            // iTXt: compression flag, method, language tag\0, translated keyword\0, text
            let flag = *rest.first()?;
            let after = rest.get(2..)?;
            let lang = after.iter().position(|&c| c == 0)?;
            let after = &after[lang + 1..];
            let tr = after.iter().position(|&c| c == 0)?;
            (flag == 1, &after[tr + 1..])
        }
    };
    if !compressed {
        return Some((which, text.to_vec()));
    }
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(text).take(MAX_PNG_TEXT).read_to_end(&mut out).ok()?;
    Some((which, out))
}

/// ImageMagick's raw profile: "\nexif\n<spaces><decimal length>\n<hex digits over lines>", the
/// bytes being an APP1 payload ("Exif\0\0" then TIFF).
fn raw_profile_orientation(text: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(text).ok()?;
    let mut lines = text.trim_start_matches('\n').splitn(3, '\n');
    let (_name, len, hex) = (lines.next()?, lines.next()?, lines.next()?);
    let len: usize = len.trim().parse().ok()?;
    let digits: Vec<u8> = hex.bytes().filter(u8::is_ascii_hexdigit).take(len.min(1 << 20) * 2).collect();
    let bytes: Vec<u8> = digits
        .chunks_exact(2)
        .filter_map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect();
    let tiff = bytes.strip_prefix(b"Exif\0\0").unwrap_or(&bytes);
    tiff_orientation(tiff)
}

/// `tiff:Orientation` in an XMP packet, as an attribute (`tiff:Orientation="6"`) or an element
/// (`<tiff:Orientation>6</tiff:Orientation>`).
fn xmp_orientation(text: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(text).ok()?;
    let at = text.find("tiff:Orientation")? + "tiff:Orientation".len();
    let rest = text[at..].trim_start();
    let rest = rest.strip_prefix('=').map(|r| r.trim_start().trim_start_matches(['"', '\''])).or_else(|| rest.strip_prefix('>'))?;
    let digits: String = rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn webp_header(b: &[u8]) -> Result<SourceInfo, EngineError> {
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

/// GIF: the logical screen, every frame's size (a frame may claim more than the screen), the frame
/// count and the NETSCAPE loop count. The walk only hops over data sub-blocks (a byte each per up
/// to 255 bytes), so counting a 1,000-frame bomb costs microseconds, not a decode.
fn gif_header(b: &[u8], max_pixels: u64) -> Result<SourceInfo, EngineError> {
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

/// A minimal reader of a TIFF structure's first IFD, shared by TIFF files and EXIF payloads.
struct Ifd<'a> {
    b: &'a [u8],
    le: bool,
    entries: usize,
    at: usize,
}

impl<'a> Ifd<'a> {
    fn first(b: &'a [u8]) -> Option<Ifd<'a>> {
        let le = match b.get(0..4)? {
            b"II*\0" => true,
            b"MM\0*" => false,
            _ => return None,
        };
        let mut ifd = Ifd { b, le, entries: 0, at: 0 };
        let off = ifd.u32(4)? as usize;
        ifd.entries = ifd.u16(off)? as usize;
        ifd.at = off + 2;
        Some(ifd)
    }
    fn u16(&self, at: usize) -> Option<u16> {
        if self.le { le16(self.b, at) } else { be16(self.b, at) }
    }
    fn u32(&self, at: usize) -> Option<u32> {
        if self.le { le32(self.b, at) } else { be32(self.b, at) }
    }
    /// The first value of an integer tag. Writers disagree on the type (orientation has been seen
    /// as SLONG in the wild), so signed and byte types are read too.
    fn value(&self, tag: u16) -> Option<u32> {
        (0..self.entries.min(4096)).find_map(|n| {
            let e = self.at + n * 12;
            if self.u16(e)? != tag {
                return None;
            }
            match self.u16(e + 2)? {
                1 | 6 | 7 => self.b.get(e + 8).map(|v| u32::from(*v)),
                3 | 8 => self.u16(e + 8).map(u32::from),
                4 | 9 => self.u32(e + 8),
                _ => None,
            }
        })
    }
    fn has(&self, tag: u16) -> bool {
        (0..self.entries.min(4096)).any(|n| self.u16(self.at + n * 12) == Some(tag))
    }
}

/// Where IFD0's SHORT entry `tag` keeps its value (a byte offset into `b`), and the value.
pub(crate) fn tiff_short_entry(b: &[u8], tag: u16) -> Option<(usize, u16)> {
    let ifd = Ifd::first(b)?;
    let e = (0..ifd.entries.min(4096)).map(|n| ifd.at + n * 12).find(|&e| ifd.u16(e) == Some(tag) && ifd.u16(e + 2) == Some(3))?;
    Some((e + 8, ifd.u16(e + 8)?))
}

/// EXIF orientation (tag 0x0112) from TIFF-structured data, when it is 1..=8.
pub(crate) fn tiff_orientation(b: &[u8]) -> Option<u8> {
    let o = Ifd::first(b)?.value(0x0112)?;
    (1..=8).contains(&o).then_some(o as u8)
}

fn tiff_header(b: &[u8]) -> Result<SourceInfo, EngineError> {
    let ifd = Ifd::first(b).ok_or_else(|| corrupt("truncated TIFF header"))?;
    let w = ifd.value(256).ok_or_else(|| corrupt("TIFF without ImageWidth"))?;
    let h = ifd.value(257).ok_or_else(|| corrupt("TIFF without ImageLength"))?;
    let orientation = ifd.value(0x0112).filter(|o| (1..=8).contains(o)).unwrap_or(1) as u8;
    // ExtraSamples marks an alpha (or other extra) channel.
    let has_alpha = ifd.has(338);
    Ok(SourceInfo { format: InputFormat::Tiff, width: w, height: h, orientation, has_alpha, frames: 1, plays: 0 })
}

fn bmp_header(b: &[u8], max_pixels: u64) -> Result<SourceInfo, EngineError> {
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
    let has_alpha = crate::decode::guarded(|| {
        use image::ImageDecoder;
        image::codecs::bmp::BmpDecoder::new(std::io::Cursor::new(b))
            .map(|d| d.color_type().has_alpha())
            .map_err(|e| EngineError::Corrupt(e.to_string()))
    })?;
    Ok(SourceInfo { format: InputFormat::Bmp, width: w, height: h, orientation: 1, has_alpha, frames: 1, plays: 0 })
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
    fn gif_of(screen: (u16, u16), frames: usize, repeat: Option<gif::Repeat>) -> Vec<u8> {
        let mut out = vec![];
        {
            let mut e = gif::Encoder::new(&mut out, screen.0, screen.1, &[0, 0, 0, 255, 255, 255]).unwrap();
            if let Some(r) = repeat {
                e.set_repeat(r).unwrap();
            }
            for i in 0..frames {
                let f = gif::Frame { width: 4, height: 3, delay: 7, buffer: vec![(i % 2) as u8; 12].into(), ..Default::default() };
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
        assert_eq!(facts(&gif_of((4, 3), 5, Some(gif::Repeat::Infinite))), (5, 0));
        assert_eq!(facts(&gif_of((4, 3), 5, Some(gif::Repeat::Finite(2)))), (5, 3));
        // Cut anywhere after the first frame's descriptor: the frames seen so far count, no error,
        // and the count only grows with the length.
        let full = gif_of((4, 3), 5, None);
        let first = full.iter().position(|b| *b == 0x2C).unwrap() + 10;
        let counts: Vec<u32> = (first..full.len()).map(|n| facts(&full[..n]).0).collect();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]) && counts[0] == 1 && counts.contains(&3), "{counts:?}");
    }

    #[test]
    fn frame_bombs_are_refused_from_the_headers() {
        let bomb = gif_of((4, 3), 1000, Some(gif::Repeat::Infinite));
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
