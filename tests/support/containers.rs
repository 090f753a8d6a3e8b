//! Test-side readers of image containers (magic numbers, JPEG segments, PNG and WebP chunks), shared by the engine's and the API's tests.

/// The container `b` really is, read from its magic numbers, named as in `f_`. Written apart from
/// the engine's own sniffer (and from any Content-Type) so that a wrong `Rendered::format` or content type cannot vouch for itself.
pub fn sniff_format(b: &[u8]) -> Option<&'static str> {
    let at = |range: std::ops::Range<usize>| b.get(range).unwrap_or_default();
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if at(0..4) == b"RIFF" && at(8..12) == b"WEBP" {
        Some("webp")
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some("gif")
    } else if at(4..8) == b"ftyp" && matches!(at(8..12), b"avif" | b"avis") {
        Some("avif")
    } else {
        None
    }
}

/// The segments of a JPEG before its first scan, as (marker, payload).
pub fn jpeg_segments(b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = vec![];
    let mut i = 2;
    while i + 4 <= b.len() && b[i] == 0xFF {
        let m = b[i + 1];
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        out.push((m, b[i + 4..(i + 2 + len).min(b.len())].to_vec()));
        if m == 0xDA {
            break;
        }
        i += 2 + len;
    }
    out
}

/// PNG chunk types, in order.
pub fn png_chunks(b: &[u8]) -> Vec<String> {
    let mut out = vec![];
    let mut i = 8;
    while i + 8 <= b.len() {
        let len = u32::from_be_bytes(b[i..i + 4].try_into().unwrap()) as usize;
        out.push(String::from_utf8_lossy(&b[i + 4..i + 8]).into_owned());
        i += 12 + len;
    }
    out
}

/// RIFF chunk FourCCs of a WebP file, in order.
pub fn webp_chunks(b: &[u8]) -> Vec<String> {
    let mut out = vec![];
    let mut i = 12;
    while i + 8 <= b.len() {
        let len = u32::from_le_bytes(b[i + 4..i + 8].try_into().unwrap()) as usize;
        out.push(String::from_utf8_lossy(&b[i..i + 4]).into_owned());
        i += 8 + len + (len & 1);
    }
    out
}
