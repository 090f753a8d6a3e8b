//! Fuzzes AVIF input: the HEIF item reader, rav1d and the YUV conversion, with every input made to look like an AVIF.
#![no_main]

use libfuzzer_sys::fuzz_target;

use imgcloud_engine::{probe_with_limit, render, Limits, RenderOptions, Transform};

/// An `ftyp` box with the avif brands: prepended to inputs that lack one, so no run is spent
/// on the magic-byte check and every input reaches the AVIF reader.
const FTYP: &[u8] = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";

fuzz_target!(|data: &[u8]| {
    let owned;
    let bytes = if data.get(4..8) == Some(b"ftyp") {
        data
    } else {
        owned = [FTYP, data].concat();
        &owned
    };
    let limits = Limits { max_input_pixels: 4_000_000, max_work_pixels: 8_000_000, ..Limits::default() };
    let _ = probe_with_limit(bytes, limits.max_input_pixels);
    let opts = RenderOptions { limits, avif_speed: 10, ..RenderOptions::default() };
    let t = Transform::parse("w_32,f_png").expect("a fixed transform parses");
    let _ = render(bytes, &t, &opts);
});
