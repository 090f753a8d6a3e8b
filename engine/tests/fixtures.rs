//! Helpers for the golden tests: real third-party fixtures (fetched by scripts/fetch-fixtures.sh) and pixel comparisons.
#![allow(dead_code)]

use std::path::PathBuf;

use image::{DynamicImage, RgbImage};

#[path = "../../tests/support/containers.rs"]
mod containers;
// Each test crate that includes this module uses a different part of it.
#[allow(unused_imports)]
pub use containers::*;

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

/// Width and height from an AVIF's `ispe` box (no AVIF decoder in this build).
pub fn avif_size(b: &[u8]) -> (u32, u32) {
    let at = b.windows(4).position(|w| w == b"ispe").expect("AVIF has an ispe box");
    let be = |o: usize| u32::from_be_bytes(b[o..o + 4].try_into().unwrap());
    (be(at + 8), be(at + 12))
}
