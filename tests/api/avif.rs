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
