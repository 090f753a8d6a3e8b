//! PNG headers: IHDR, tRNS, acTL and the EXIF/XMP orientation from eXIf and text chunks (inflated within a cap).

use super::*;

pub(super) fn png_header(b: &[u8]) -> Result<SourceInfo, EngineError> {
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
