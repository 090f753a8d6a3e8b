//! Delivery through a real socket: transforms with pixel checks, caching headers, signed URLs, access rules.
use image::ImageFormat;
use serde_json::{json, Value};

use crate::formats::sniff_format;
use crate::helpers::*;

fn get(app: &TestApp, path: &str) -> reqwest::blocking::Response {
    app.client().get(app.url(path)).send().unwrap()
}

fn image_of(r: reqwest::blocking::Response) -> (String, image::RgbaImage) {
    assert_eq!(r.status(), 200, "{:?}", r.headers());
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    let len: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let bytes = r.bytes().unwrap();
    assert_eq!(len, bytes.len());
    (ct, decode(&bytes))
}

/// An AVIF's displayed size, read back by uploading it and fetching it as PNG.
fn avif_size(app: &TestApp, key: &str, avif: &[u8]) -> (u32, u32) {
    let a = app.upload_ok(key, avif.to_vec(), "back.avif", &[]);
    let id = a["public_id"].as_str().unwrap();
    let (_, img) = image_of(get(app, &format!("/v1/image/f_png/{id}")));
    img.dimensions()
}

#[test]
fn transforms_change_pixels() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(400, 200, ImageFormat::Png), "q.png", &[("public_id", "quad")]);

    let (ct, img) = image_of(get(&app, "/v1/image/quad"));
    assert_eq!(ct, "image/png");
    assert_eq!(img.dimensions(), (400, 200));
    let (_, img) = image_of(get(&app, "/v1/image/w_100/quad"));
    assert_eq!(img.dimensions(), (100, 50));
    assert!(near(img.get_pixel(10, 10).0, [255, 0, 0, 255], 10));
    assert!(near(img.get_pixel(90, 40).0, [255, 255, 255, 255], 10));
    // fill crops the centre: a 100x100 window over the middle keeps all four quadrants.
    let (_, img) = image_of(get(&app, "/v1/image/w_100,h_100,c_fill/quad"));
    assert_eq!(img.dimensions(), (100, 100));
    assert!(near(img.get_pixel(5, 5).0, [255, 0, 0, 255], 12));
    assert!(near(img.get_pixel(95, 95).0, [255, 255, 255, 255], 12));
    // contain letterboxes on bg.
    let (_, img) = image_of(get(&app, "/v1/image/w_100,h_100,c_contain,bg_00ff00,f_jpg/quad"));
    assert_eq!(img.dimensions(), (100, 100));
    assert!(near(img.get_pixel(50, 2).0, [0, 255, 0, 255], 30), "{:?}", img.get_pixel(50, 2));
    // formats: the bytes themselves, not only the Content-Type, must be the format asked for.
    for (t, f, ct) in [("w_80,f_webp,q_80", "webp", "image/webp"), ("w_80,f_jpg", "jpg", "image/jpeg"), ("w_80,f_gif", "gif", "image/gif"), ("w_80,f_avif", "avif", "image/avif")] {
        let r = get(&app, &format!("/v1/image/{t}/quad"));
        assert_eq!(r.status(), 200, "{t}");
        assert_eq!(r.headers()["content-type"], ct, "{t}");
        let bytes = r.bytes().unwrap();
        assert_eq!(sniff_format(&bytes), Some(f), "{t}");
        // The image crate here has no AVIF decoder: AVIF is read back through the server itself.
        let size = if f == "avif" { avif_size(&app, &key, &bytes) } else { decode(&bytes).dimensions() };
        assert_eq!(size, (80, 40), "{t}");
    }
    // dpr doubles, gr greys, r rotates, bl blurs.
    let (_, img) = image_of(get(&app, "/v1/image/w_50,dpr_2/quad"));
    assert_eq!(img.dimensions(), (100, 50));
    let (_, img) = image_of(get(&app, "/v1/image/w_100,gr_1/quad"));
    let p = img.get_pixel(10, 10).0;
    assert!(p[0].abs_diff(p[1]) < 4 && p[1].abs_diff(p[2]) < 4, "grey: {p:?}");
    let (_, img) = image_of(get(&app, "/v1/image/w_100,r_90/quad"));
    assert_eq!(img.dimensions(), (50, 100));
    assert!(near(img.get_pixel(45, 5).0, [255, 0, 0, 255], 12), "red moves to the top right: {:?}", img.get_pixel(45, 5));
    let (_, img) = image_of(get(&app, "/v1/image/w_100,bl_5/quad"));
    let edge = img.get_pixel(50, 10).0;
    assert!(edge[0] > 40 && edge[1] > 40, "blur mixes red and green at the seam: {edge:?}");
}

#[test]
fn bad_urls_are_400_and_missing_is_404() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(20, 20, ImageFormat::Png), "q.png", &[("public_id", "p")]);
    for (path, needle) in [("/v1/image/w_0/p", "w"), ("/v1/image/w_4001/p", "w"), ("/v1/image/w_10,w_20/p", "w"), ("/v1/image/q_101/p", "q"), ("/v1/image/bl_26/p", "bl")] {
        let msg = assert_error(get(&app, path), 400);
        assert!(msg.contains(needle), "{path}: {msg}");
    }
    assert_error(get(&app, "/v1/image/w_10/a//b"), 400);
    assert_error(get(&app, "/v1/image/nope"), 404);
    assert_error(get(&app, "/v1/image/w_10/nope"), 404);
}

#[test]
fn etag_304_head_and_headers() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "p")]);
    let r = get(&app, "/v1/image/w_20/p");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"));
    assert!(r.headers()["cache-control"].to_str().unwrap().starts_with("public, max-age="));
    assert_eq!(r.headers()["cross-origin-resource-policy"], "cross-origin");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers().get("vary").is_none());
    // Reordered keys are the same rendition.
    let r2 = get(&app, "/v1/image/h_20,w_20/p");
    assert_ne!(r2.headers()["etag"].to_str().unwrap(), etag, "h_20,w_20 is a different transform from w_20");
    let a = get(&app, "/v1/image/w_20,h_20/p").headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(r2.headers()["etag"].to_str().unwrap(), a);
    let r = app.client().get(app.url("/v1/image/w_20/p")).header("If-None-Match", &etag).send().unwrap();
    assert_eq!(r.status(), 304);
    let r = app.client().head(app.url("/v1/image/w_20/p")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
}

#[test]
fn f_auto_follows_accept_and_varies() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Jpeg), "q.jpg", &[("public_id", "p")]);
    let fetch = |accept: &str| {
        let r = app.client().get(app.url("/v1/image/w_20,f_auto/p")).header("Accept", accept).send().unwrap();
        assert_eq!(r.headers()["vary"], "Accept");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        (ct, sniff_format(&r.bytes().unwrap()))
    };
    assert_eq!(fetch("image/avif,image/webp,*/*"), ("image/avif".into(), Some("avif")));
    assert_eq!(fetch("image/webp,*/*"), ("image/webp".into(), Some("webp")));
    assert_eq!(fetch("*/*"), ("image/jpeg".into(), Some("jpg")));
}

#[test]
fn signed_urls_and_private_assets() {
    let app = spawn_app();
    let alice = app.user("alice@test.local");
    let akey = app.api_key(&alice);
    let bkey = app.api_key(&app.user("bob@test.local"));
    app.upload_ok(&akey, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "private/contract-001"), ("visibility", "private")]);
    app.upload_ok(&akey, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "private/other"), ("visibility", "private")]);

    assert_error(get(&app, "/v1/image/private/contract-001"), 401);
    assert_error(get(&app, "/v1/image/w_20/private/contract-001"), 401);
    // The owner's credentials work, and are never publicly cacheable.
    let r = app.client().get(app.url("/v1/image/w_20/private/contract-001")).header("Authorization", &akey).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    assert_error(app.client().get(app.url("/v1/image/private/contract-001")).header("Authorization", &bkey).send().unwrap(), 403);

    let sign = |auth: &str, body: Value| app.client().post(app.url("/v1/image/sign")).header("Authorization", auth).json(&body).send().unwrap();
    assert_error(sign(&bkey, json!({ "public_id": "private/contract-001" })), 403);
    assert_error(sign(&akey, json!({ "public_id": "private/nope" })), 404);
    assert_error(sign(&akey, json!({ "public_id": "private/contract-001", "ttl_seconds": 0 })), 400);
    assert_error(sign(&akey, json!({ "public_id": "private/contract-001", "ttl_seconds": 604801 })), 400);
    assert_error(sign(&akey, json!({ "public_id": "private/contract-001", "transform": "w_0" })), 400);
    let s: Value = sign(&akey, json!({ "public_id": "private/contract-001", "transform": "q_80,w_30", "ttl_seconds": 3600 })).json().unwrap();
    let url = s["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/v1/image/w_30,q_80/private/contract-001?expires=", app.base)), "{url}");
    assert!(s["expires_at"].is_string());
    let r = app.client().get(&url).send().unwrap();
    assert_eq!(r.status(), 200);
    let max_age: i64 = r.headers()["cache-control"].to_str().unwrap().trim_start_matches("public, max-age=").parse().unwrap();
    assert!((3590..=3600).contains(&max_age), "{max_age}");
    assert_eq!(decode(&r.bytes().unwrap()).width(), 30);

    let sig = url.split("sig=").nth(1).unwrap();
    let mut flipped: Vec<char> = sig.chars().collect();
    flipped[3] = if flipped[3] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();
    assert_error(app.client().get(url.replace(sig, &flipped)).send().unwrap(), 403);
    assert_error(app.client().get(url.replace("w_30", "w_31")).send().unwrap(), 403);
    assert_error(app.client().get(url.replace("contract-001", "other")).send().unwrap(), 403);
    let expires = url.split("expires=").nth(1).unwrap().split('&').next().unwrap();
    assert_error(app.client().get(url.replace(expires, &(expires.parse::<i64>().unwrap() + 100).to_string())).send().unwrap(), 403);

    let s: Value = sign(&akey, json!({ "public_id": "private/contract-001", "ttl_seconds": 1 })).json().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let msg = assert_error(app.client().get(s["url"].as_str().unwrap()).send().unwrap(), 403);
    assert!(msg.contains("expired"), "{msg}");
}

#[test]
fn changes_take_effect_immediately() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, draw(30, 30, ImageFormat::Png, |_, _| [255, 0, 0, 255]), "r.png", &[("public_id", "swap")]);
    let (_, img) = image_of(get(&app, "/v1/image/w_10/swap"));
    assert!(near(img.get_pixel(5, 5).0, [255, 0, 0, 255], 8));
    image_of(get(&app, "/v1/image/w_10/swap")); // now cached

    // Visibility flip: the cached rendition is not served without credentials.
    let c = app.client();
    assert_eq!(c.patch(app.url("/v1/assets/swap")).header("Authorization", &key).json(&json!({ "visibility": "private" })).send().unwrap().status(), 200);
    assert_error(get(&app, "/v1/image/w_10/swap"), 401);
    c.patch(app.url("/v1/assets/swap")).header("Authorization", &key).json(&json!({ "visibility": "public" })).send().unwrap();

    // Overwrite: new pixels at once.
    app.upload_ok(&key, draw(30, 30, ImageFormat::Png, |_, _| [0, 0, 255, 255]), "b.png", &[("public_id", "swap"), ("overwrite", "true")]);
    let (_, img) = image_of(get(&app, "/v1/image/w_10/swap"));
    assert!(near(img.get_pixel(5, 5).0, [0, 0, 255, 255], 8), "{:?}", img.get_pixel(5, 5));

    // Delete: 404.
    assert_eq!(c.delete(app.url("/v1/assets/swap")).header("Authorization", &key).send().unwrap().status(), 204);
    assert_error(get(&app, "/v1/image/w_10/swap"), 404);
    assert_error(get(&app, "/v1/image/swap"), 404);
}

#[test]
fn bandwidth_counts_cache_hits() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "p")]);
    let mut total = 0;
    for _ in 0..3 {
        total += get(&app, "/v1/image/w_20/p").bytes().unwrap().len() as i64;
    }
    let u: Value = app.client().get(app.url("/v1/usage/summary")).header("Authorization", &key).send().unwrap().json().unwrap();
    assert_eq!(u["bandwidth_bytes"].as_i64().unwrap(), total);
    assert_eq!(u["requests"].as_i64().unwrap(), 3);
}

fn mean_rgb(img: &image::RgbaImage) -> [f64; 3] {
    let n = (img.width() * img.height()) as f64;
    let mut s = [0f64; 3];
    for p in img.pixels() {
        for c in 0..3 {
            s[c] += p.0[c] as f64;
        }
    }
    s.map(|v| v / n)
}

#[test]
fn real_photo_through_every_key() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let photo = fixture("bug725582-testrotate.jpg");
    let a = app.upload_ok(&key, photo.clone(), "street.jpg", &[]);
    let id = a["public_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("street-"));
    let src = decode(&photo);
    let (w, h) = (a["width"].as_u64().unwrap() as u32, a["height"].as_u64().unwrap() as u32);
    let src_mean = mean_rgb(&src);
    for (t, dims) in [
        ("w_200", Some((200, (200.0 * h as f64 / w as f64).round() as u32))),
        ("w_120,h_120,c_fill,q_80,f_webp", Some((120, 120))),
        ("w_120,h_120,c_thumb", Some((120, 120))),
        ("w_120,h_120,c_contain,bg_000000,f_png", Some((120, 120))),
        ("h_90,c_outside", None),
        ("w_100,dpr_1.5,f_webp", Some((150, (150.0 * h as f64 / w as f64).round() as u32))),
        ("w_100,r_45,bg_ffffff,f_jpg", None),
        ("w_100,bl_3", None),
    ] {
        let r = app.client().get(app.url(&format!("/v1/image/{t}/{id}"))).send().unwrap();
        assert_eq!(r.status(), 200, "{t}");
        let img = decode(&r.bytes().unwrap());
        if let Some(d) = dims {
            assert_eq!(img.dimensions(), d, "{t}");
        }
        // Same scene: the average colour stays close to the source's (no channel swaps, no colour shift).
        if !t.contains("contain") && !t.contains("r_45") {
            let m = mean_rgb(&img);
            assert!((0..3).all(|c| (m[c] - src_mean[c]).abs() < 25.0), "{t}: {m:?} vs {src_mean:?}");
        }
    }
    let r = app.client().get(app.url(&format!("/v1/image/w_100,gr_1/{id}"))).send().unwrap();
    let img = decode(&r.bytes().unwrap());
    assert!(img.pixels().all(|p| p.0[0].abs_diff(p.0[1]) <= 3 && p.0[1].abs_diff(p.0[2]) <= 3), "greyscale");
}
