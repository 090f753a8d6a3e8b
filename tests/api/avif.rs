//! AVIF uploads through the real binary: accepted with their displayed size, delivered in every format with the right pixels.
use crate::helpers::*;

// The one copy of the shared container reader in this test crate lives in formats.rs.
use crate::formats::containers::sniff_format;

fn get_ok(app: &TestApp, path: &str) -> Vec<u8> {
    let r = app.client().get(app.url(path)).send().unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.bytes().unwrap().to_vec()
}

fn mean_abs_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.as_raw().len() as f64
}

#[test]
fn avif_uploads_and_renders_to_every_format() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let a = app.upload_ok(&key, fixture("hopper.avif"), "hopper.avif", &[("public_id", "hopper")]);
    assert_eq!(a["format"], "avif");
    assert_eq!((a["width"].as_u64(), a["height"].as_u64()), (Some(128), Some(128)));
    // Pillow's hopper.png is what hopper.avif was encoded from.
    let original = image::load_from_memory(&fixture("hopper.png")).unwrap().to_rgb8();
    for f in ["jpg", "png", "webp"] {
        let body = get_ok(&app, &format!("/v1/image/f_{f}/hopper"));
        assert_eq!(sniff_format(&body), Some(f), "f_{f}");
        let img = image::load_from_memory(&body).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (128, 128), "f_{f}");
        let diff = mean_abs_diff(&img, &original);
        assert!(diff < 10.0, "f_{f} differs from the source photo by {diff}");
    }
    let body = get_ok(&app, "/v1/image/w_64,f_avif/hopper");
    assert_eq!(sniff_format(&body), Some("avif"));
}

#[test]
fn rotated_avif_reports_and_serves_its_displayed_size() {
    // Pillow's rot1mir1.avif: stored 427x640 with irot/imir, displayed 640x427.
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let a = app.upload_ok(&key, fixture("rot1mir1.avif"), "phone.avif", &[("public_id", "phone")]);
    assert_eq!((a["width"].as_u64(), a["height"].as_u64()), (Some(640), Some(427)));
    let img = image::load_from_memory(&get_ok(&app, "/v1/image/w_320,f_png/phone")).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (320, 214));
    // Upright: sky at the top, grass at the bottom.
    let (sky, grass) = (img.get_pixel(50, 10).0, img.get_pixel(30, 150).0);
    assert!(sky[2] > 150 && sky[2] > sky[0] + 30, "top is not sky: {sky:?}");
    assert!(grass[1] > grass[2] + 30, "bottom is not grass: {grass:?}");
}

#[test]
fn avif_with_alpha_keeps_it_in_png() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, fixture("transparency.avif"), "t.avif", &[("public_id", "t")]);
    let img = image::load_from_memory(&get_ok(&app, "/v1/image/f_png/t")).unwrap().to_rgba8();
    // Pillow's test_load_transparent_rgb: 876 fully transparent pixels.
    assert_eq!(img.pixels().filter(|p| p[3] == 0).count(), 876);
}

/// A hand-made container bomb checked in under fuzz/seeds/avif/ (made by
/// engine/tests/support/avif_bombs.rs).
fn bomb(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/avif").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A `Vm*` line of the server's /proc status, in bytes.
fn vm_bytes(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no {key}"));
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[test]
fn avif_container_bombs_are_refused_at_once_without_growing_the_server() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    // A real AVIF first, so the high-water mark already holds an ordinary decode.
    app.upload_ok(&key, fixture("hopper.avif"), "hopper.avif", &[]);
    let hwm = vm_bytes(app.pid(), "VmHWM:");
    for (name, status, says) in [
        // 393 KB asking a trusting reader for 64 GiB of extents.
        ("iloc-extents-64gib.avif", 413, "extents"),
        ("iloc-extents-1gb.avif", 413, "extents"),
        // One 2048x2048 tile a hundred times over a 1x1 output.
        ("grid-1x100-one-tile.avif", 415, "more than once"),
        // 65,280 tiles that are all one item.
        ("grid-255x256-one-item.avif", 413, "tiles"),
        ("grid-40x40-distinct.avif", 413, "tiles"),
        // Claims 1x1, carries 2048x2048.
        ("ispe-lie-1x1.avif", 415, "ispe"),
        ("grid-tile-ispe-lie.avif", 415, "ispe"),
    ] {
        let started = std::time::Instant::now();
        let msg = assert_error(app.upload(&key, bomb(name), name, &[]), status);
        let took = started.elapsed();
        assert!(msg.contains("AVIF") && msg.contains(says), "{name}: {msg}");
        assert!(took < std::time::Duration::from_secs(3), "{name} took {took:?}");
    }
    let grew = vm_bytes(app.pid(), "VmHWM:").saturating_sub(hwm);
    assert!(grew < 8 << 20, "the server's peak RSS grew by {} KiB", grew >> 10);
    // Nothing of them was stored.
    let list: serde_json::Value = app.client().get(app.url("/v1/assets")).header("Authorization", &key).send().unwrap().json().unwrap();
    assert_eq!(list["assets"].as_array().map(Vec::len), Some(1), "{list}");
}
