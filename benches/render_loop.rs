//! A plain timing loop over `imgcloud_engine::render`, for `bench/compare/compare.js`: the same
//! measurement shape as the sharp side (bytes already in memory, output kept in memory, one render
//! at a time, wall clock per render), printed as one JSON line.
//!
//!   cargo bench --bench render_loop -- [--runs N] [--warmup W] [--avif-speed S] [--out FILE] INPUT TRANSFORM
//!
//! Threads: a render runs on the calling thread alone (the engine has no parallel loops, issue
//! #21), like one of the server's render threads; the `rayon_threads` field only echoes RAYON_NUM_THREADS.
//! Not a criterion bench (harness = false, no statistics): compare.js takes medians itself.

use std::time::Instant;

use imgcloud_engine::{render, RenderOptions, Transform};

fn usage() -> ! {
    eprintln!("usage: render_loop [--runs N] [--warmup W] [--avif-speed S] [--out FILE] INPUT TRANSFORM");
    std::process::exit(2)
}

fn main() {
    let mut runs = 15usize;
    let mut warmup = 2usize;
    let mut out: Option<String> = None;
    let mut opts = RenderOptions::default();
    let mut pos = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()),
            "--warmup" => warmup = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()),
            "--avif-speed" => opts.avif_speed = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()),
            "--out" => out = Some(args.next().unwrap_or_else(|| usage())),
            s if s.starts_with("--") => usage(),
            _ => pos.push(a),
        }
    }
    if pos.len() != 2 || runs <= warmup {
        usage();
    }
    let bytes = std::fs::read(&pos[0]).unwrap_or_else(|e| {
        eprintln!("cannot read {}: {e} (make inputs with bench/compare/make-inputs.js)", pos[0]);
        std::process::exit(2)
    });
    let t = Transform::parse(&pos[1]).unwrap_or_else(|e| {
        eprintln!("bad transform {:?}: {e:?}", pos[1]);
        std::process::exit(2)
    });
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let r = render(&bytes, &t, &opts);
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        match r {
            Ok(r) => last = Some(r),
            Err(e) => {
                println!("{{\"error\":{:?}}}", e.to_string());
                std::process::exit(1);
            }
        }
        times.push(ms);
    }
    let r = last.expect("at least one run");
    if let Some(path) = out {
        std::fs::write(&path, &r.bytes).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    }
    let kept: Vec<String> = times[warmup..].iter().map(|t| format!("{t:.3}")).collect();
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_default();
    println!(
        "{{\"times_ms\":[{}],\"warmup\":{warmup},\"bytes\":{},\"width\":{},\"height\":{},\"content_type\":{:?},\"rayon_threads\":{:?}}}",
        kept.join(","),
        r.bytes.len(),
        r.width,
        r.height,
        r.content_type(),
        threads
    );
}
