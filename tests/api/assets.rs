//! Uploads and the asset catalog through a real socket.
use image::ImageFormat;
use serde_json::{json, Value};

use crate::helpers::*;

#[test]
fn upload_with_every_field_and_generated_ids() {
    let app = spawn_app();
    let admin = app.admin();
    let key = app.api_key(&admin);
    let png = quadrants(64, 48, ImageFormat::Png);
    let r = app.upload(&key, png.clone(), "hero.png", &[("public_id", "marketing/hero"), ("folder", "marketing"), ("tags", "hero,homepage"), ("visibility", "private")]);
    assert_eq!(r.status(), 201);
    let a: Value = r.json().unwrap();
    assert_eq!(a["public_id"], "marketing/hero");
    assert_eq!(a["url"], format!("{}/v1/image/marketing/hero", app.base));
    assert_eq!(a["folder"], "marketing");
    assert_eq!(a["tags"], json!(["hero", "homepage"]));
    assert_eq!(a["visibility"], "private");
    assert_eq!(a["format"], "png");
    assert_eq!((a["width"].as_u64(), a["height"].as_u64()), (Some(64), Some(48)));
    assert_eq!(a["bytes"].as_u64(), Some(png.len() as u64));
    assert_eq!(a["version"], 1);
    for k in ["created_at", "updated_at"] {
        assert!(time::OffsetDateTime::parse(a[k].as_str().unwrap(), &time::format_description::well_known::Rfc3339).is_ok(), "{k}");
    }
    assert!(a["owner"].is_number());

    let jpg = quadrants(40, 40, ImageFormat::Jpeg);
    let a = app.upload_ok(&key, jpg.clone(), "photo.jpg", &[]);
    let id = a["public_id"].as_str().unwrap();
    assert!(id.len() == 18 && id.starts_with("photo-") && id[6..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{id}");
    assert_eq!(a["visibility"], "public");
    let a = app.upload_ok(&key, jpg, "Summer Trip.JPG", &[("folder", "marketing")]);
    assert!(a["public_id"].as_str().unwrap().starts_with("marketing/summer-trip-"), "{a}");

    // Sessions may upload too.
    let r = admin.post(app.url("/v1/upload")).multipart(upload_form(png, "s.png", &[])).send().unwrap();
    assert_eq!(r.status(), 201);
    assert_error(app.client().post(app.url("/v1/upload")).multipart(upload_form(vec![1, 2, 3], "x.png", &[])).send().unwrap(), 401);
}

#[test]
fn conflicts_and_byte_exact_overwrite() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let first = quadrants(32, 32, ImageFormat::Png);
    let second = draw(50, 20, ImageFormat::Png, |_, _| [10, 20, 30, 255]);
    app.upload_ok(&key, first, "a.png", &[("public_id", "logo")]);
    assert!(assert_error(app.upload(&key, second.clone(), "a.png", &[("public_id", "logo")]), 409).contains("overwrite"));
    let r = app.upload(&key, second.clone(), "a.png", &[("public_id", "logo"), ("overwrite", "true")]);
    assert_eq!(r.status(), 200);
    let a: Value = r.json().unwrap();
    assert_eq!(a["version"], 2);
    assert_eq!(a["width"], 50);
    // The stored original is byte-for-byte the upload.
    let originals: Vec<_> = std::fs::read_dir(app.dir.path().join("data/originals")).unwrap().flatten().collect();
    assert_eq!(originals.len(), 1, "old original removed");
    assert_eq!(std::fs::read(originals[0].path()).unwrap(), second);
}

#[test]
fn hostile_and_bad_uploads() {
    let app = spawn_app_with(&[("IMGCLOUD_UPLOAD__MAX_BYTES", "200000")]);
    let key = app.api_key(&app.admin());
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#.to_vec();
    assert!(assert_error(app.upload(&key, svg, "a.svg", &[]), 415).to_lowercase().contains("svg"));
    assert_error(app.upload(&key, b"<!doctype html><html><body>hi</body></html>".to_vec(), "a.png", &[]), 415);
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend(vec![0u8; 100]);
    assert_error(app.upload(&key, zip, "a.jpg", &[]), 415);
    let mut fake_png = b"\x89PNG\r\n\x1a\n".to_vec();
    fake_png.extend(b"this is just text pretending to be a png file".iter());
    assert_error(app.upload(&key, fake_png, "a.png", &[]), 415);
    // Truncated: a real PNG cut in half.
    let png = draw(100, 100, ImageFormat::Png, |x, y| [(x * 2) as u8, (y * 2) as u8, 7, 255]);
    assert_error(app.upload(&key, png[..png.len() / 2].to_vec(), "cut.png", &[]), 415);
    // Over the cap.
    let big = vec![0xFFu8; 300_000];
    assert!(assert_error(app.upload(&key, big, "big.jpg", &[]), 413).contains("cap"));
    // Bad public_ids.
    for bad in ["../etc/passwd", "a//b", "w_100/x", "has space", "a,b"] {
        assert_error(app.upload(&key, quadrants(8, 8, ImageFormat::Png), "a.png", &[("public_id", bad)]), 400);
    }
    assert_error(app.upload(&key, quadrants(8, 8, ImageFormat::Png), "a.png", &[("visibility", "secret")]), 400);
    // Missing file field.
    let r = app.client().post(app.url("/v1/upload")).header("Authorization", &key).multipart(reqwest::blocking::multipart::Form::new().text("folder", "x")).send().unwrap();
    assert!(assert_error(r, 400).contains("file"));
    // Nothing bad was stored.
    let list: Value = app.client().get(app.url("/v1/assets")).header("Authorization", &key).send().unwrap().json().unwrap();
    assert_eq!(list["assets"].as_array().unwrap().len(), 0);
    assert_eq!(std::fs::read_dir(app.dir.path().join("data/originals")).unwrap().count(), 0);
}

/// A JPEG header claiming 64250x64250 pixels in a few hundred bytes.
fn pixel_flood_jpeg() -> Vec<u8> {
    let mut j = quadrants(8, 8, ImageFormat::Jpeg);
    // Rewrite the SOF0 frame size (FFC0, len, precision, height, width).
    let pos = j.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    j[pos + 5..pos + 7].copy_from_slice(&64250u16.to_be_bytes());
    j[pos + 7..pos + 9].copy_from_slice(&64250u16.to_be_bytes());
    j
}

/// CPU seconds (user + system) the process has used so far, from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name start at field 3; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    let out = std::process::Command::new("getconf").arg("CLK_TCK").output().unwrap();
    ticks / String::from_utf8(out.stdout).unwrap().trim().parse::<f64>().unwrap()
}

#[test]
fn pixel_flood_is_413_without_decoding() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let before = cpu_seconds(app.pid());
    let msg = assert_error(app.upload(&key, pixel_flood_jpeg(), "flood.jpg", &[]), 413);
    assert!(msg.contains("pixels"), "{msg}");
    // Server CPU time, not wall-clock time, so a loaded CI box cannot fail this: decoding
    // 64250x64250 pixels would cost many CPU seconds, the header check a few milliseconds.
    let spent = cpu_seconds(app.pid()) - before;
    assert!(spent < 1.5, "the refusal cost {spent:.2} s of server CPU: the image was decoded");
}

#[test]
fn listing_filters_and_cursor_paging() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let img = quadrants(8, 8, ImageFormat::Png);
    for i in 0..7 {
        let folder = if i % 2 == 0 { "shop/shoes" } else { "blog" };
        let tags = if i < 3 { "a,b" } else { "a" };
        let vis = if i == 6 { "private" } else { "public" };
        app.upload_ok(&key, img.clone(), "x.png", &[("public_id", &format!("item-{i}")), ("folder", folder), ("tags", tags), ("visibility", vis)]);
    }
    let get = |q: &str| -> Value { app.client().get(app.url(&format!("/v1/assets{q}"))).header("Authorization", &key).send().unwrap().json().unwrap() };
    let ids = |v: &Value| v["assets"].as_array().unwrap().iter().map(|a| a["public_id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(ids(&get("?folder=blog")).len(), 3);
    assert_eq!(ids(&get("?folder=shop")).len(), 0);
    assert_eq!(ids(&get("?folder_prefix=shop")).len(), 4);
    assert_eq!(ids(&get("?tags=a,b")), vec!["item-2", "item-1", "item-0"]);
    assert_eq!(ids(&get("?visibility=private")), vec!["item-6"]);
    assert_eq!(ids(&get("?prefix=item-1")), vec!["item-1"]);
    assert_eq!(ids(&get("?created_after=2000-01-01T00:00:00Z")).len(), 7);
    assert_eq!(ids(&get("?created_before=2000-01-01T00:00:00Z")).len(), 0);
    assert_error(app.client().get(app.url("/v1/assets?limit=0")).header("Authorization", &key).send().unwrap(), 400);
    assert_error(app.client().get(app.url("/v1/assets?limit=501")).header("Authorization", &key).send().unwrap(), 400);

    // Pages of 2 over 7 assets, with an upload landing mid-way: no duplicates, no gaps.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor { Some(c) => format!("?limit=2&cursor={c}"), None => "?limit=2".into() };
        let page = get(&q);
        seen.extend(ids(&page));
        pages += 1;
        if pages == 2 {
            app.upload_ok(&key, img.clone(), "late.png", &[("public_id", "late")]);
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen, (0..7).rev().map(|i| format!("item-{i}")).collect::<Vec<_>>());
}

#[test]
fn owners_admins_and_strangers() {
    let app = spawn_app();
    let admin = app.admin();
    let alice = app.user("alice@test.local");
    let bob = app.user("bob@test.local");
    let akey = app.api_key(&alice);
    let bkey = app.api_key(&bob);
    app.upload_ok(&akey, quadrants(8, 8, ImageFormat::Png), "a.png", &[("public_id", "alice/pic")]);
    let bob_list: Value = app.client().get(app.url("/v1/assets")).header("Authorization", &bkey).send().unwrap().json().unwrap();
    assert_eq!(bob_list["assets"].as_array().unwrap().len(), 0, "users see only their own");
    let admin_list: Value = admin.get(app.url("/v1/assets")).send().unwrap().json().unwrap();
    assert_eq!(admin_list["assets"].as_array().unwrap().len(), 1, "admins see all");

    let c = app.client();
    assert_error(c.get(app.url("/v1/assets/alice/pic")).header("Authorization", &bkey).send().unwrap(), 403);
    assert_error(c.patch(app.url("/v1/assets/alice/pic")).header("Authorization", &bkey).json(&json!({ "tags": "x" })).send().unwrap(), 403);
    assert_error(c.delete(app.url("/v1/assets/alice/pic")).header("Authorization", &bkey).send().unwrap(), 403);
    assert_error(c.get(app.url("/v1/assets/nobody/here")).header("Authorization", &akey).send().unwrap(), 404);
    assert_error(app.upload(&bkey, quadrants(8, 8, ImageFormat::Png), "a.png", &[("public_id", "alice/pic"), ("overwrite", "true")]), 403);

    let r = c.patch(app.url("/v1/assets/alice/pic")).header("Authorization", &akey).json(&json!({ "tags": ["x", "y"], "folder": "alice", "visibility": "private" })).send().unwrap();
    assert_eq!(r.status(), 200);
    let a: Value = r.json().unwrap();
    assert_eq!(a["tags"], json!(["x", "y"]));
    assert_eq!(a["folder"], "alice");
    assert_eq!(a["visibility"], "private");
    let r = admin.patch(app.url("/v1/assets/alice/pic")).json(&json!({ "tags": "archived,old" })).send().unwrap();
    assert_eq!(r.json::<Value>().unwrap()["tags"], json!(["archived", "old"]));

    // Usage before delete.
    let u: Value = c.get(app.url("/v1/usage/summary")).header("Authorization", &akey).send().unwrap().json().unwrap();
    assert_eq!(u["asset_count"], 1);
    assert!(u["storage_bytes"].as_u64().unwrap() > 0);
    assert_error(c.get(app.url("/v1/usage/summary?all=true")).header("Authorization", &akey).send().unwrap(), 403);
    let all: Value = admin.get(app.url("/v1/usage/summary?all=true")).send().unwrap().json().unwrap();
    assert_eq!(all["users"].as_array().unwrap().len(), 3);
    assert_eq!(all["totals"]["asset_count"], 1);

    assert_eq!(c.delete(app.url("/v1/assets/alice/pic")).header("Authorization", &akey).send().unwrap().status(), 204);
    assert_error(c.get(app.url("/v1/assets/alice/pic")).header("Authorization", &akey).send().unwrap(), 404);
    assert_eq!(std::fs::read_dir(app.dir.path().join("data/originals")).unwrap().count(), 0);
}

/// Folder, tags and visibility have one validation for upload and PATCH: the same bad value gets
/// the same 400 and message either way, and an upload is refused for it before its file is decoded
/// (a bad field with a file that is no image is still the field's 400, not the file's 415).
#[test]
fn upload_and_patch_refuse_the_same_fields_alike() {
    let app = spawn_app();
    let admin = app.admin();
    let key = app.api_key(&admin);
    app.upload_ok(&key, quadrants(16, 16, ImageFormat::Png), "f.png", &[("public_id", "fields/one")]);
    let long_tag = "t".repeat(65);
    for (field, value, json_value) in [
        ("visibility", "Private", json!("Private")),
        ("visibility", "secret", json!("secret")),
        ("tags", long_tag.as_str(), json!([long_tag])),
        ("folder", "/a//b", json!("/a//b")),
    ] {
        let patched = assert_error(
            admin.patch(app.url("/v1/assets/fields/one")).json(&json!({ field: json_value })).send().unwrap(),
            400,
        );
        for file in [quadrants(16, 16, ImageFormat::Png), b"not an image at all".to_vec()] {
            let uploaded = assert_error(app.upload(&key, file, "f.png", &[(field, value)]), 400);
            assert_eq!(uploaded, patched, "{field}={value}");
        }
    }
}
