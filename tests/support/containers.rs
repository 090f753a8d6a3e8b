//! Test-side readers of image containers (magic numbers, JPEG segments, PNG and WebP chunks, animation frames and timing), shared by the engine's and the API's tests.

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

/// An animation's structure as its container states it, read without decoding a pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Animation {
    /// Frames stored (GIF image descriptors, WebP ANMF chunks, APNG fcTL chunks; 1 for a still file).
    pub frames: usize,
    /// Each frame's display time in ms (GIF: centiseconds x 10; APNG: the fraction, rounded).
    pub delays_ms: Vec<u32>,
    /// The loop field as written: GIF's NETSCAPE2.0 repeat count (`None` without the block),
    /// WebP's ANIM loop count, APNG's num_plays (0 = forever in all three).
    pub loop_field: Option<u32>,
}

/// Reads the frame count, delays and loop field of a GIF, WebP or PNG/APNG.
pub fn animation(b: &[u8]) -> Animation {
    match sniff_format(b) {
        Some("gif") => gif_animation(b),
        Some("webp") => webp_animation(b),
        Some("png") => png_animation(b),
        other => panic!("not an animation container: {other:?}"),
    }
}

fn gif_animation(b: &[u8]) -> Animation {
    let le16 = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let skip_blocks = |mut i: usize| {
        while b[i] != 0 {
            i += 1 + usize::from(b[i]);
        }
        i + 1
    };
    let mut out = Animation { frames: 0, delays_ms: vec![], loop_field: None };
    let mut i = 13;
    if b[10] & 0x80 != 0 {
        i += 3 << ((b[10] & 7) + 1);
    }
    let mut delay = 0;
    loop {
        match b[i] {
            0x21 if b[i + 1] == 0xF9 => {
                delay = u32::from(le16(i + 4)) * 10;
                i = skip_blocks(i + 2);
            }
            0x21 if b[i + 1] == 0xFF && &b[i + 3..i + 14] == b"NETSCAPE2.0" => {
                out.loop_field = Some(u32::from(le16(i + 16)));
                i = skip_blocks(i + 2);
            }
            0x21 => i = skip_blocks(i + 2),
            0x2C => {
                out.frames += 1;
                out.delays_ms.push(delay);
                delay = 0;
                let flags = b[i + 9];
                i += 10;
                if flags & 0x80 != 0 {
                    i += 3 << ((flags & 7) + 1);
                }
                i = skip_blocks(i + 1);
            }
            0x3B => return out,
            x => panic!("bad GIF block {x:#x} at {i}"),
        }
    }
}

fn webp_animation(b: &[u8]) -> Animation {
    let mut out = Animation { frames: 0, delays_ms: vec![], loop_field: None };
    let mut i = 12;
    while i + 8 <= b.len() {
        let len = u32::from_le_bytes(b[i + 4..i + 8].try_into().unwrap()) as usize;
        let d = &b[i + 8..i + 8 + len];
        match &b[i..i + 4] {
            b"ANIM" => out.loop_field = Some(u32::from(u16::from_le_bytes([d[4], d[5]]))),
            b"ANMF" => {
                out.frames += 1;
                out.delays_ms.push(u32::from(d[12]) | u32::from(d[13]) << 8 | u32::from(d[14]) << 16);
            }
            _ => {}
        }
        i += 8 + len + (len & 1);
    }
    if out.frames == 0 {
        out.frames = 1;
    }
    out
}

fn png_animation(b: &[u8]) -> Animation {
    let be32 = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    let mut out = Animation { frames: 0, delays_ms: vec![], loop_field: None };
    let mut i = 8;
    while i + 8 <= b.len() {
        let len = be32(i) as usize;
        match &b[i + 4..i + 8] {
            b"acTL" => out.loop_field = Some(be32(i + 12)),
            b"fcTL" => {
                let d = i + 8;
                let (num, den) = (u32::from(u16::from_be_bytes([b[d + 20], b[d + 21]])), u32::from(u16::from_be_bytes([b[d + 22], b[d + 23]])));
                let den = if den == 0 { 100 } else { den };
                out.frames += 1;
                out.delays_ms.push((num * 1000 + den / 2) / den);
            }
            _ => {}
        }
        i += 12 + len;
    }
    if out.frames == 0 {
        out.frames = 1;
    }
    out
}
