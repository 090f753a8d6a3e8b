//! Shared by the engine benches: where the inputs live and which render paths are measured.
//! `bench/compare/compare.js` measures the same ids against sharp; keep the two lists in step.

use std::path::PathBuf;

/// One measured render path: a stable id (criterion's bench name), an input file under
/// `target/bench-inputs/`, and the transform string.
pub struct Path {
    pub id: &'static str,
    pub input: &'static str,
    pub transform: &'static str,
}

pub const PATHS: &[Path] = &[
    Path { id: "jpeg24_fill400_webp", input: "photo-24mp.jpg", transform: "w_400,h_400,c_fill,f_webp,q_80" },
    Path { id: "jpeg6_fill400_webp", input: "photo-6mp.jpg", transform: "w_400,h_400,c_fill,f_webp,q_80" },
    Path { id: "jpeg24_w800_jpg", input: "photo-24mp.jpg", transform: "w_800,f_jpg,q_80" },
    Path { id: "jpeg24_w400_avif", input: "photo-24mp.jpg", transform: "w_400,f_avif" },
    Path { id: "png_alpha_w800_webp", input: "cutout-alpha.png", transform: "w_800,f_webp" },
    Path { id: "progjpeg24_fill400_webp", input: "photo-24mp-progressive.jpg", transform: "w_400,h_400,c_fill,f_webp,q_80" },
    Path { id: "smooth24_fill400_webp", input: "photo-smooth-24mp.jpg", transform: "w_400,h_400,c_fill,f_webp,q_80" },
];

pub fn inputs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-inputs")
}

/// Reads a generated input, or stops with instructions for making it.
pub fn read_input(name: &str) -> Vec<u8> {
    let p = inputs_dir().join(name);
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "benchmark input {} is missing ({e}).\n\
             Make the inputs first:\n  \
             bash scripts/fetch-fixtures.sh\n  \
             (cd bench/compare && npm install && node make-inputs.js)\n\
             or run everything with  bash bench/compare/run.sh",
            p.display()
        )
    })
}
