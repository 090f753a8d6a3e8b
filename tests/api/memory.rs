//! Admission by memory: small files that decode to huge images, rendered and uploaded at once, keep the server's peak RSS under its memory budget.
use std::time::Duration;

use crate::helpers::*;

const MIB: u64 = 1 << 20;
/// The budget the server runs with here: room for the 10000x10000 GIF (about 800 MB estimated)
/// alone, so it and the 16-bit PNG cannot decode at the same time.
const BUDGET: u64 = 900 * MIB;
/// What the process holds besides reserved decodes: code, threads' stacks, SQLite, the (small,
/// here) rendition caches, allocator slack and the request bodies in flight.
const OVERHEAD: u64 = 200 * MIB;

/// 35 bytes: a 1x1 frame on a 10000x10000 logical screen, which decoders compose onto a full canvas.
fn huge_canvas_gif() -> Vec<u8> {
    let mut b = b"GIF89a".to_vec();
    b.extend_from_slice(&10_000u16.to_le_bytes());
    b.extend_from_slice(&10_000u16.to_le_bytes());
    b.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    b.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
    b.extend_from_slice(&[2, 2, 0x4c, 0x01, 0, 0x3b]);
    assert_eq!(b.len(), 35);
    b
}

/// Only the header of a 16-bit RGBA 10000x10000 PNG: within the 100 MP cap, but its decode
/// (about 1.2 GB) is larger than the whole budget, which the header alone tells.
fn wider_than_the_budget_png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&10_000u32.to_be_bytes());
    b.extend_from_slice(&10_000u32.to_be_bytes());
    b.extend_from_slice(&[16, 6, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(b"IEND");
    b.extend_from_slice(&[0xae, 0x42, 0x60, 0x82]);
    b
}

fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// 200/201, or 503 with Retry-After: never a dropped connection, never another error.
fn served_or_deferred(r: reqwest::Result<reqwest::blocking::Response>, what: &str) -> u16 {
    let r = r.unwrap_or_else(|e| panic!("{what}: no response: {e}"));
    let status = r.status().as_u16();
    if status == 503 {
        assert!(r.headers().contains_key("retry-after"), "{what}: 503 without Retry-After");
    } else {
        assert!(status == 200 || status == 201, "{what}: {status} {:?}", r.text());
    }
    status
}

#[test]
fn decompression_bombs_in_flood_stay_under_the_memory_budget() {
    let budget = BUDGET.to_string();
    // One client floods on purpose: fair rendering (tests/api/fairness.rs) is widened so that
    // memory, not the per-client cap, is what holds the flood back here.
    let app = spawn_app_with(&[
        ("IMGCLOUD_RENDER__MEMORY_BUDGET_BYTES", &budget),
        ("IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE", "1000"),
        ("IMGCLOUD_RENDER__CLIENT_MAX_INFLIGHT", "64"),
        ("IMGCLOUD_RENDER__CLIENT_RENDER_SECONDS_PER_MINUTE", "0"),
    ]);
    let c = app.admin();
    let key = app.api_key(&c);

    // A progressive 24 MP JPEG, made by the server's own encoder (progressive mozjpeg).
    app.upload_ok(&key, draw(6000, 4000, image::ImageFormat::Png, |x, y| [(x / 24) as u8, (y / 16) as u8, 90, 255]), "big.png", &[("public_id", "big")]);
    let jpeg = c.get(app.url("/v1/image/f_jpg,q_80/big")).send().unwrap();
    assert_eq!(jpeg.status(), 200);
    let jpeg = jpeg.bytes().unwrap().to_vec();
    let sof = jpeg.windows(2).find(|w| w[0] == 0xff && (0xc0..=0xc2).contains(&w[1])).unwrap()[1];
    assert_eq!(sof, 0xc2, "the JPEG is progressive");

    let gif = huge_canvas_gif();
    let png16 = sixteen_bit_png(7000, 5000);
    app.upload_ok(&key, gif.clone(), "canvas.gif", &[("public_id", "canvas")]);
    app.upload_ok(&key, png16.clone(), "deep.png", &[("public_id", "deep")]);
    app.upload_ok(&key, jpeg.clone(), "prog.jpg", &[("public_id", "prog")]);
    app.upload_ok(&key, fixture("hopper.jpg"), "small.jpg", &[("public_id", "small")]);
    assert_eq!(c.get(app.url("/v1/image/w_64/small")).send().unwrap().status(), 200);

    // Larger than the whole budget: refused from its header, never decoded.
    let msg = assert_error(app.upload(&key, wider_than_the_budget_png(), "wide.png", &[]), 413);
    assert!(msg.contains("memory budget"), "{msg}");

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (stop, health, cached) = (stop.clone(), app.url("/healthz"), app.url("/v1/image/w_64/small"));
        let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        std::thread::spawn(move || {
            let mut answered = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                for url in [&health, &cached] {
                    let r = client.get(url).send().unwrap_or_else(|e| panic!("{url} during the flood: {e}"));
                    assert_eq!(r.status(), 200, "{url} during the flood");
                    answered += 1;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            answered
        })
    };

    let flood: Vec<_> = (0..16u32)
        .map(|i| {
            let (client, key) = (app.client(), key.clone());
            let (render_url, upload) = match i % 4 {
                0 => (app.url(&format!("/v1/image/w_{},f_webp/canvas", 300 + i)), None),
                1 => (app.url(&format!("/v1/image/w_{},f_webp/deep", 300 + i)), None),
                2 => (app.url(&format!("/v1/image/w_{},f_webp/prog", 300 + i)), None),
                _ => (app.url("/v1/upload"), Some(if i % 8 == 3 { (gif.clone(), "g.gif") } else { (png16.clone(), "d.png") })),
            };
            std::thread::spawn(move || match upload {
                None => served_or_deferred(client.get(&render_url).send(), &render_url),
                Some((bytes, name)) => {
                    served_or_deferred(client.post(&render_url).header("Authorization", key).multipart(upload_form(bytes, name, &[])).send(), name)
                }
            })
        })
        .collect();
    let statuses: Vec<u16> = flood.into_iter().map(|t| t.join().unwrap()).collect();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let answered = watcher.join().unwrap();

    assert!(answered >= 2, "health and cached hits were checked during the flood");
    assert!(statuses.iter().any(|s| *s != 503), "some of the flood was served: {statuses:?}");
    let peak = peak_rss(app.pid());
    eprintln!("flood statuses {statuses:?}; peak RSS {} MiB (budget {} MiB)", peak / MIB, BUDGET / MIB);
    assert!(peak < BUDGET + OVERHEAD, "peak RSS {} MiB over the budget {} MiB + {} MiB", peak / MIB, BUDGET / MIB, OVERHEAD / MIB);
}

/// Validating an upload holds what the file's own data needs: the 35-byte GIF's one 1x1 frame,
/// not the 10000x10000 logical screen (400 MB RGBA) that a render composes and reserves ~800 MB for.
#[test]
fn a_huge_canvas_gif_upload_costs_its_frames_not_its_canvas() {
    let app = spawn_app();
    let c = app.admin();
    let key = app.api_key(&c);
    // Settle the process's own allocations (first request, first validation) before measuring.
    app.upload_ok(&key, fixture("hopper.jpg"), "small.jpg", &[("public_id", "small")]);
    let before = peak_rss(app.pid());
    let asset = app.upload_ok(&key, huge_canvas_gif(), "canvas.gif", &[("public_id", "canvas")]);
    assert_eq!((asset["width"].as_u64(), asset["height"].as_u64()), (Some(10_000), Some(10_000)), "{asset}");
    let grown = peak_rss(app.pid()).saturating_sub(before);
    eprintln!("peak RSS grew by {} MiB validating the 35-byte 10000x10000 GIF", grown / MIB);
    // The render budget of this file is ~800 MB (its canvas and the canvas's sRGB copy); its
    // validation must not come near even the canvas alone.
    assert!(grown < 64 * MIB, "validating a 35-byte GIF grew the peak RSS by {} MiB", grown / MIB);
}
