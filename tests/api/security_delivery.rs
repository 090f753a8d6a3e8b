//! Regression tests for delivery holes from issue 9: f_auto cache poisoning, signatures outliving
//! their asset, render-failure statuses and memory, weak ETags, and purging dead renditions.
use std::path::Path;
use std::time::{Duration, Instant};

use image::ImageFormat;
use reqwest::blocking::Response;
use serde_json::{json, Value};

use crate::helpers::*;

/// The output's real format, from its magic bytes (never from Content-Type).
fn magic(bytes: &[u8]) -> &'static str {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => "jpeg",
        [0x89, b'P', b'N', b'G', ..] => "png",
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => "webp",
        [_, _, _, _, b'f', b't', b'y', b'p', b'a', b'v', b'i', b'f', ..] => "avif",
        _ => "unknown",
    }
}

fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = app.client().get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().unwrap()
}

/// (format by magic bytes, ETag) of a 200 response.
fn fetched(r: Response) -> (&'static str, String) {
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    (magic(&r.bytes().unwrap()), etag)
}

/// Polls until `cond` holds, failing with `what` after a generous bound (the purge runs in the background).
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn f_auto_cache_key_follows_the_chosen_format_not_the_raw_header() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Jpeg), "q.jpg", &[("public_id", "p")]);
    let path = "/v1/image/w_20,f_auto/p";

    // Upper case is still an explicit AVIF request; it must be cached under AVIF's key only.
    let (avif, avif_etag) = fetched(get_with(&app, path, &[("Accept", "IMAGE/AVIF")]));
    assert_eq!(avif, "avif");
    let (plain, plain_etag) = fetched(get_with(&app, path, &[("Accept", "*/*")]));
    assert_eq!(plain, "jpeg", "a */* client got the AVIF cached for an IMAGE/AVIF one");
    assert_ne!(avif_etag, plain_etag);
    // Nor can a 304 hand a */* client the AVIF's validator.
    assert_eq!(get_with(&app, path, &[("Accept", "*/*"), ("If-None-Match", avif_etag.as_str())]).status(), 200);

    // q=0 refuses AVIF, whatever its spelling; the next acceptable format wins.
    for refusal in ["image/avif;q=0,image/webp", "image/avif; q=0.0 , image/webp", "image/webp, IMAGE/AVIF;Q=0"] {
        let (f, etag) = fetched(get_with(&app, path, &[("Accept", refusal)]));
        assert_eq!(f, "webp", "{refusal}");
        assert_ne!(etag, avif_etag);
    }
    // Wildcards never select AVIF or WebP, and Accept split over two header lines is read whole.
    assert_eq!(fetched(get_with(&app, path, &[("Accept", "image/*")])).0, "jpeg");
    let r = app.client().get(app.url(path)).header("Accept", "text/html").header("Accept", "image/webp").send().unwrap();
    assert_eq!(fetched(r).0, "webp");
}

#[test]
fn signed_urls_die_with_the_original_they_were_signed_for() {
    let app = spawn_app();
    let alice = app.user("alice@test.local");
    let akey = app.api_key(&alice);
    let bkey = app.api_key(&app.user("bob@test.local"));
    let private = [("public_id", "shared/report"), ("visibility", "private")];
    let overwrite = [("public_id", "shared/report"), ("visibility", "private"), ("overwrite", "true")];
    let sign = |auth: &str| -> String {
        let r = app.client().post(app.url("/v1/image/sign")).header("Authorization", auth).json(&json!({ "public_id": "shared/report", "ttl_seconds": 604800 })).send().unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().unwrap()["url"].as_str().unwrap().to_string()
    };
    let status = |url: &str| app.client().get(url).send().unwrap().status().as_u16();

    app.upload_ok(&akey, quadrants(40, 40, ImageFormat::Png), "a.png", &private);
    let first = sign(&akey);
    assert_eq!(status(&first), 200);

    // Overwrite: the old link is void, a fresh one works.
    app.upload_ok(&akey, quadrants(30, 30, ImageFormat::Png), "a2.png", &overwrite);
    assert_error(app.client().get(&first).send().unwrap(), 403);
    let second = sign(&akey);
    assert_eq!(status(&second), 200);

    // Delete, then another user uploads a private image under the same id: Alice's link must
    // not show Bob's image.
    let r = app.client().delete(app.url("/v1/assets/shared/report")).header("Authorization", &akey).send().unwrap();
    assert_eq!(r.status(), 204);
    app.upload_ok(&bkey, quadrants(20, 20, ImageFormat::Png), "b.png", &private);
    assert_error(app.client().get(&second).send().unwrap(), 403);
    assert_error(app.client().get(&first).send().unwrap(), 403);
    let bobs = sign(&bkey);
    let r = app.client().get(&bobs).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(decode(&r.bytes().unwrap()).width(), 20);
}

#[test]
fn a_transform_over_the_pixel_budget_is_a_client_error_without_retry_after() {
    // Stored under the default cap (upload validation decodes under the same cap), rendered under a tighter one.
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(100, 100, ImageFormat::Png), "q.png", &[("public_id", "p")]);
    let app = spawn_in(app.crash(), &[("IMGCLOUD_RENDER__MAX_WORK_PIXELS", "1000")]);
    for _ in 0..2 {
        let r = get_with(&app, "/v1/image/w_50/p", &[]);
        assert!(r.headers().get("retry-after").is_none(), "retrying can never help");
        let msg = assert_error(r, 400);
        assert!(msg.contains("pixel budget"), "{msg}");
    }
    assert_eq!(app.metric_sum("render_failures_total"), 1.0, "the repeat was answered from memory");
}

#[test]
fn a_render_past_its_deadline_is_remembered_not_rerun() {
    // Stored under the default deadline (upload validation has the render deadline too), rendered under 1 ms.
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, noise_png(1200, 900, 7), "n.png", &[("public_id", "n")]);
    let app = spawn_in(app.crash(), &[("IMGCLOUD_RENDER__TIMEOUT_MS", "1")]);
    for attempt in 0..3 {
        let r = get_with(&app, "/v1/image/w_300/n", &[]);
        let retry_after: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "attempt {attempt}: Retry-After {retry_after}");
        let msg = assert_error(r, 503);
        assert!(msg.contains("time budget"), "{msg}");
    }
    assert_eq!(app.metric_sum("render_failures_total"), 1.0, "one render ran; the repeats did not");
    assert_eq!(app.metric_sum("render_failures_remembered_total"), 2.0);
    assert_eq!(app.metric_sum("renders_total"), 0.0);
}

#[test]
fn weak_if_none_match_gets_304() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "p")]);
    let (_, etag) = fetched(get_with(&app, "/v1/image/w_20/p", &[]));
    let weak = format!("W/{etag}");
    for header in [weak.clone(), format!("\"a\", {weak}"), format!("W/\"b\" ,{etag}")] {
        let r = get_with(&app, "/v1/image/w_20/p", &[("If-None-Match", header.as_str())]);
        assert_eq!(r.status(), 304, "{header}");
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    }
    assert_eq!(get_with(&app, "/v1/image/w_20/p", &[("If-None-Match", "W/\"other\"")]).status(), 200);
}

fn cached_files(data: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for dir in std::fs::read_dir(data.join("cache")).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(dir.path()).into_iter().flatten().flatten() {
            names.push(format!("{}/{}", dir.file_name().to_string_lossy(), f.file_name().to_string_lossy()));
        }
    }
    names
}

#[test]
fn overwrite_and_delete_purge_old_renditions_from_memory_and_disk() {
    let app = spawn_app();
    let data = app.dir.path().join("data");
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "p")]);
    fetched(get_with(&app, "/v1/image/w_10/p", &[]));
    fetched(get_with(&app, "/v1/image/w_20/p", &[]));
    let old = cached_files(&data);
    assert_eq!(old.len(), 2, "{old:?}");
    eventually("the cache gauges count 2 renditions in each tier", || app.metric_sum("rendition_cache_entries") == 4.0);

    app.upload_ok(&key, quadrants(30, 30, ImageFormat::Png), "q2.png", &[("public_id", "p"), ("overwrite", "true")]);
    eventually("both tiers drop the old renditions", || app.metric_sum("renditions_purged_total") == 4.0);
    eventually("the old files and gauges reach zero", || cached_files(&data).is_empty() && app.metric_sum("rendition_cache_entries") == 0.0);

    fetched(get_with(&app, "/v1/image/w_10/p", &[]));
    let new = cached_files(&data);
    assert_eq!(new.len(), 1);
    assert!(!old.contains(&new[0]), "the new original renders under a new storage key");

    let r = app.client().delete(app.url("/v1/assets/p")).header("Authorization", &key).send().unwrap();
    assert_eq!(r.status(), 204);
    eventually("delete purges too", || app.metric_sum("renditions_purged_total") == 6.0);
    eventually("no file is left", || cached_files(&data).is_empty() && app.metric_sum("rendition_cache_entries") == 0.0);
}
