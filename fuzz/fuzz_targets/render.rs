//! Fuzzes the engine's byte path: arbitrary bytes through `probe` and `render` must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

use imgcloud_engine::{probe_with_limit, render, AnimationLimits, Limits, RenderOptions, Transform};

fuzz_target!(|data: &[u8]| {
    // Tight limits keep each run fast and show that budgets, not memory, stop big inputs.
    let animation = AnimationLimits { max_frames: 64, max_pixels: 16_000_000 };
    let limits = Limits { max_input_pixels: 4_000_000, max_work_pixels: 8_000_000, animation, deadline: None };
    let _ = probe_with_limit(data, limits.max_input_pixels);
    let opts = RenderOptions { limits, avif_speed: 10, ..RenderOptions::default() };
    // The first byte picks a small transform so crop, pad, rotate and every encoder get exercised.
    let t = match data.first().map(|b| b % 6) {
        Some(0) => "w_32,h_32,c_fill,f_png",
        Some(1) => "w_40,h_20,c_contain,r_30,f_jpg",
        Some(2) => "w_24,h_24,c_thumb,gr_1,bl_2,f_webp",
        Some(3) => "w_16,h_16,c_fill,f_gif",
        Some(4) => "w_16,f_avif",
        _ => "w_48",
    };
    let t = Transform::parse(t).expect("fixed transforms parse");
    let _ = render(data, &t, &opts);
    // Animated GIF, WebP and APNG: every frame through the frame decoders and the animated encoder.
    let animated = Transform::parse("w_20,h_20,c_thumb,f_webp").expect("fixed transforms parse");
    let _ = render(data, &animated, &opts);
});
