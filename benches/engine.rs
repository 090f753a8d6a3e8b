//! Criterion benches of the image engine, in process (no HTTP, no caches, no file IO in the loop).
//!
//!   cargo bench --bench engine                    # everything (a few minutes on 2 cores)
//!   cargo bench --bench engine -- render/jpeg24   # one group or path
//!   RAYON_NUM_THREADS=1 cargo bench --bench engine   # single-threaded engine
//!
//! Inputs come from `bench/compare/make-inputs.js` (target/bench-inputs/); see docs/performance.md.
//! The render paths are listed in `benches/common.rs` and shared with the sharp comparison.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use imgcloud_engine::{render, RenderOptions, Transform};

mod common;
use common::{read_input, PATHS};

fn render_paths(c: &mut Criterion) {
    let opts = RenderOptions::default();
    let mut g = c.benchmark_group("render");
    // Each iteration is 50 ms to 1 s; ten samples keep the whole run to a few minutes.
    g.sample_size(10).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(10));
    for p in PATHS {
        let bytes = read_input(p.input);
        let t = Transform::parse(p.transform).unwrap_or_else(|e| panic!("{}: bad transform: {e:?}", p.transform));
        // Fail loudly (not inside the timing loop) if the engine cannot render this path.
        let first = render(&bytes, &t, &opts).unwrap_or_else(|e| panic!("{} ({}): render failed: {e}", p.id, p.transform));
        eprintln!(
            "{}: {} ({} bytes) -> {} -> {}x{} {} bytes",
            p.id,
            p.input,
            bytes.len(),
            p.transform,
            first.width,
            first.height,
            first.bytes.len()
        );
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(p.id), &bytes, |b, bytes| {
            b.iter(|| render(black_box(bytes), black_box(&t), &opts).expect("render"))
        });
    }
    g.finish();
}

fn grammar(c: &mut Criterion) {
    let cases = [
        ("simple", "w_400,h_400,c_fill,f_webp,q_80"),
        ("reordered", "q_80,f_webp,c_fill,h_400,w_400"),
        ("full", "w_640,h_480,c_thumb,q_75,f_auto,dpr_1.5,gr_1,bl_2.5,r_90,bg_ff8800"),
    ];
    let mut g = c.benchmark_group("grammar");
    g.sample_size(50).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for (name, s) in cases {
        g.bench_with_input(BenchmarkId::new("parse", name), s, |b, s| b.iter(|| Transform::parse(black_box(s))));
        match Transform::parse(s) {
            Ok(t) => {
                g.bench_with_input(BenchmarkId::new("canonical", name), &t, |b, t| b.iter(|| black_box(t).to_string()));
            }
            // Grammar drift: still bench parsing (the error path), say so once.
            Err(e) => eprintln!("grammar/{name}: {s:?} does not parse ({e:?}); benching the error path only"),
        }
    }
    g.finish();
}

criterion_group!(benches, grammar, render_paths);
criterion_main!(benches);
