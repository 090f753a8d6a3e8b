//! Crash safety of uploads, single-flight rendering and explicit backpressure.
use std::sync::{Arc, Barrier};
use std::time::Duration;

use image::ImageFormat;
use serde_json::Value;

use crate::helpers::*;

#[test]
fn sigkill_mid_upload_leaves_catalog_and_files_in_agreement() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(64, 64, ImageFormat::Png), "keep.png", &[("public_id", "keep")]);
    let originals = |app: &TestApp| std::fs::read_dir(app.dir.path().join("data/originals")).unwrap().count();
    assert_eq!(originals(&app), 1);
    // Restarted with the test-only pause between rename and commit (debug builds only, catalog.rs),
    // so the kill below lands in that window every run, not by timing luck.
    let app = spawn_in(app.crash(), &[("IMGCLOUD_TEST_PAUSE_AFTER_RENAME_MS", "120000")]);
    let key = app.api_key(&app.admin());
    let (base, k) = (app.base.clone(), key.clone());
    let upload = std::thread::spawn(move || {
        let c = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let _ = c.post(format!("{base}/v1/upload")).header("Authorization", k).multipart(upload_form(noise_png(300, 300, 7), "big.png", &[("public_id", "cut")])).send();
    });
    let t0 = std::time::Instant::now();
    while originals(&app) < 2 {
        assert!(t0.elapsed() < Duration::from_secs(30), "the upload never reached originals/");
        std::thread::sleep(Duration::from_millis(10));
    }
    let list: Value = app.client().get(app.url("/v1/assets?limit=500")).header("Authorization", &key).send().unwrap().json().unwrap();
    assert_eq!(list["assets"].as_array().unwrap().len(), 1, "renamed but not committed: the window the kill must hit");
    let dir = app.crash();
    let _ = upload.join();
    let app = spawn_in(dir, &[]);
    let key = app.api_key(&app.admin());
    let list: Value = app.client().get(app.url("/v1/assets?limit=500")).header("Authorization", &key).send().unwrap().json().unwrap();
    let assets = list["assets"].as_array().unwrap();
    let ids: Vec<_> = assets.iter().map(|a| a["public_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["keep"], "the cut upload has no row");
    // Every row serves its original; every file on disk belongs to a row.
    for a in assets {
        let r = app.client().get(app.url(&format!("/v1/image/{}", a["public_id"].as_str().unwrap()))).send().unwrap();
        assert_eq!(r.status(), 200, "{a}");
    }
    assert_eq!(originals(&app), assets.len(), "the orphan original left by the kill is swept at start");
    assert_eq!(std::fs::read_dir(app.dir.path().join("data/tmp")).unwrap().filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.')).count(), 0);
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn fifty_identical_cold_requests_render_once() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, noise_png(1200, 900, 3), "n.png", &[("public_id", "noise")]);
    let barrier = Arc::new(Barrier::new(50));
    let url = app.url("/v1/image/w_300,h_300,c_fill,f_webp/noise");
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let (b, url) = (barrier.clone(), url.clone());
            std::thread::spawn(move || {
                let c = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
                b.wait();
                let r = c.get(url).send().unwrap();
                let status = r.status().as_u16();
                let body = r.bytes().unwrap();
                (status, body.len(), hex_sha256(&body))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().all(|(s, n, _)| *s == 200 && *n > 0), "{results:?}");
    assert!(results.windows(2).all(|w| w[0].2 == w[1].2), "everyone got the same bytes: {results:?}");
    assert_eq!(app.metric_sum("renders_total"), 1.0, "one render for 50 identical requests");
    let coalesced = app.metric_sum("render_coalesced_total");
    let hits = app.metric_sum("cache_hits_total");
    assert_eq!(coalesced + hits, 49.0, "the rest were coalesced or cache hits");
}

#[test]
fn full_queue_answers_503_with_retry_after_and_nothing_hangs() {
    // The per-client cap off: this is about the global queue, and all requests come from one address.
    let app = spawn_app_with(&[("IMGCLOUD_RENDER__THREADS", "1"), ("IMGCLOUD_RENDER__QUEUE", "1"), ("IMGCLOUD_RENDER__CLIENT_MAX_INFLIGHT", "1000")]);
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, noise_png(1600, 1600, 5), "n.png", &[("public_id", "big")]);
    app.upload_ok(&key, quadrants(16, 16, ImageFormat::Png), "s.png", &[("public_id", "small")]);
    image_ok(&app, "/v1/image/w_8/small"); // warm: hits must keep flowing while renders queue
    let barrier = Arc::new(Barrier::new(12));
    let handles: Vec<_> = (0..12)
        .map(|i| {
            let (b, url) = (barrier.clone(), app.url(&format!("/v1/image/w_{},bl_8,f_avif/big", 200 + i)));
            std::thread::spawn(move || {
                let c = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
                b.wait();
                let r = c.get(url).send().unwrap();
                let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
                let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
                (r.status().as_u16(), retry, ct)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // While renders queue, a cache hit is still answered.
    image_ok(&app, "/v1/image/w_8/small");
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let rejected: Vec<_> = results.iter().filter(|r| r.0 == 503).collect();
    assert!(!rejected.is_empty(), "{results:?}");
    assert!(rejected.iter().all(|r| r.1.as_deref().is_some_and(|v| v.parse::<u64>().is_ok()) && r.2.as_deref() == Some("application/json")));
    assert!(results.iter().all(|r| r.0 == 200 || r.0 == 503), "{results:?}");
    assert!(results.iter().filter(|r| r.0 == 200).count() >= 1);
    assert!(app.metric_sum("render_rejected_total") >= rejected.len() as f64);
}

fn image_ok(app: &TestApp, path: &str) {
    let r = app.client().get(app.url(path)).send().unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn render_over_its_time_budget_is_a_clean_503() {
    // Stored under the default deadline (upload validation has the render deadline too), then
    // rendered by a server whose deadline nothing can meet.
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, noise_png(1500, 1500, 9), "n.png", &[("public_id", "slow")]);
    let app = spawn_in(app.crash(), &[("IMGCLOUD_RENDER__TIMEOUT_MS", "1")]);
    let r = app.client().get(app.url("/v1/image/w_1200,bl_20,f_avif/slow")).send().unwrap();
    assert!(r.headers().get("retry-after").is_some());
    assert!(assert_error(r, 503).contains("budget"));
    assert_eq!(app.client().get(app.url("/healthz")).send().unwrap().status(), 200);
}

#[test]
fn render_over_its_pixel_budget_is_a_clean_400() {
    // Room for the original's decode (validated at upload under the same cap), not for the 2000x2000 output.
    let app = spawn_app_with(&[("IMGCLOUD_RENDER__MAX_WORK_PIXELS", "200000")]);
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(300, 300, ImageFormat::Png), "q.png", &[("public_id", "wide")]);
    let r = app.client().get(app.url("/v1/image/w_2000,h_2000,c_fill/wide")).send().unwrap();
    assert!(r.headers().get("retry-after").is_none(), "the budget is fixed: retrying cannot help");
    assert!(assert_error(r, 400).contains("pixel"));
}

#[test]
fn disk_cache_survives_a_restart() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(200, 100, ImageFormat::Png), "q.png", &[("public_id", "keep")]);
    let first = app.client().get(app.url("/v1/image/w_50,f_webp/keep")).send().unwrap().bytes().unwrap();
    assert_eq!(app.metric_sum("renders_total"), 1.0);
    let dir = app.crash();
    let app = spawn_in(dir, &[]);
    let again = app.client().get(app.url("/v1/image/w_50,f_webp/keep")).send().unwrap().bytes().unwrap();
    assert_eq!(first, again);
    assert_eq!(app.metric_sum("renders_total"), 0.0, "served from disk, not re-rendered");
    assert_eq!(app.metric_sum("cache_hits_total"), 1.0);
}

/// Every file in the rendition cache of a data directory.
fn cached_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let subs = std::fs::read_dir(dir.join("data/cache")).unwrap().flatten();
    subs.flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten().map(|f| f.path()).collect::<Vec<_>>()).collect()
}

#[test]
fn a_cut_short_cache_file_is_never_served_after_a_restart() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, noise_png(300, 200, 5), "n.png", &[("public_id", "cut")]);
    let path = "/v1/image/w_120,f_png/cut";
    let first = app.client().get(app.url(path)).send().unwrap().bytes().unwrap();
    let dir = app.crash();
    // What a crash can leave when a rename reached the disk before the data did.
    let files = cached_files(dir.path());
    assert_eq!(files.len(), 1);
    let len = std::fs::metadata(&files[0]).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&files[0]).unwrap().set_len(len - 100).unwrap();

    let app = spawn_in(dir, &[]);
    for _ in 0..2 {
        let r = app.client().get(app.url(path)).send().unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().unwrap(), first, "the whole rendition, made again");
    }
    assert_eq!(app.metric_sum("renders_total"), 1.0, "rendered once, then served from the cache");
    assert_eq!(std::fs::metadata(&cached_files(app.dir.path())[0]).unwrap().len(), len, "the file is whole again");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).unwrap().parse().unwrap()
}

#[test]
fn oversized_streamed_body_is_refused_without_buffering_it() {
    let app = spawn_app_with(&[("IMGCLOUD_UPLOAD__MAX_BYTES", "1000000")]);
    let key = app.api_key(&app.admin());
    let before = rss_kib(app.pid());
    // 150 MB of multipart body sent chunked, with no Content-Length to refuse it early.
    let boundary = "XyZbOuNdArY";
    let head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n");
    let chunks = std::iter::once(Ok::<_, std::io::Error>(head.into_bytes()))
        .chain((0..150).map(|_| Ok(vec![0xAB; 1_000_000])))
        .chain(std::iter::once(Ok(format!("\r\n--{boundary}--\r\n").into_bytes())));
    let body = reqwest::blocking::Body::new(ChunkReader { it: Box::new(chunks), cur: vec![], pos: 0 });
    let r = app
        .client()
        .post(app.url("/v1/upload"))
        .header("Authorization", &key)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send();
    // The server may answer 413 and close before the client finishes sending.
    if let Ok(r) = r {
        assert_error(r, 413);
    }
    let after = rss_kib(app.pid());
    assert!(after < before + 60_000, "server RSS grew from {before} KiB to {after} KiB");
    assert_eq!(app.client().get(app.url("/healthz")).send().unwrap().status(), 200);
}

struct ChunkReader {
    it: Box<dyn Iterator<Item = std::io::Result<Vec<u8>>> + Send>,
    cur: Vec<u8>,
    pos: usize,
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.cur.len() {
            match self.it.next() {
                Some(c) => {
                    self.cur = c?;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
