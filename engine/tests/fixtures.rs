//! Helpers for the golden tests: real third-party fixtures (fetched by scripts/fetch-fixtures.sh) and pixel comparisons.
#![allow(dead_code)]

use std::path::PathBuf;

use image::{DynamicImage, RgbImage};

pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cache")
}

/// The bytes of a cached fixture. Missing fixtures fail the test, never skip it.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = cache_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!("fixture {} is missing ({e}): run scripts/fetch-fixtures.sh from the repository root", path.display())
    })
}

/// The container `b` really is, read from its magic numbers, named as in `f_`. Written apart from
/// the engine's own sniffer so that a wrong `Rendered::format` or content type cannot vouch for itself.
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

pub fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).unwrap_or_else(|e| panic!("output does not decode: {e}"))
}

/// Mean absolute difference per channel over two same-size RGB images.
pub fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "compared images differ in size");
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.as_raw().len() as f64
}

/// Mean colour of a `size x size` square centred on (x, y).
pub fn patch_mean(img: &RgbImage, x: u32, y: u32, size: u32) -> [f64; 3] {
    let mut acc = [0.0; 3];
    let mut n = 0.0;
    for yy in y.saturating_sub(size / 2)..(y + size / 2 + 1).min(img.height()) {
        for xx in x.saturating_sub(size / 2)..(x + size / 2 + 1).min(img.width()) {
            let p = img.get_pixel(xx, yy).0;
            for c in 0..3 {
                acc[c] += f64::from(p[c]);
            }
            n += 1.0;
        }
    }
    acc.map(|v| v / n)
}

pub fn max_channel_gap(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|c| (a[c] - b[c]).abs()).fold(0.0, f64::max)
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

/// Width and height from an AVIF's `ispe` box (no AVIF decoder in this build).
pub fn avif_size(b: &[u8]) -> (u32, u32) {
    let at = b.windows(4).position(|w| w == b"ispe").expect("AVIF has an ispe box");
    let be = |o: usize| u32::from_be_bytes(b[o..o + 4].try_into().unwrap());
    (be(at + 8), be(at + 12))
}
