//! Catalog and upload hardening (issue 9): the overwrite race, kept fields, form caps, id checks, multipart details.
use std::io::{Read, Write};
use std::sync::{Arc, Barrier};

use image::ImageFormat;
use serde_json::{json, Value};

use crate::helpers::*;

fn solid(rgb: [u8; 3]) -> Vec<u8> {
    draw(8, 8, ImageFormat::Png, move |_, _| [rgb[0], rgb[1], rgb[2], 255])
}

fn me(app: &TestApp, key: &str) -> i64 {
    let v: Value = app.client().get(app.url("/v1/auth/me")).header("Authorization", key).send().unwrap().json().unwrap();
    v["id"].as_i64().unwrap()
}

fn asset(app: &TestApp, key: &str, id: &str) -> Value {
    let r = app.client().get(app.url(&format!("/v1/assets/{id}"))).header("Authorization", key).send().unwrap();
    assert_eq!(r.status(), 200, "GET asset {id}");
    r.json().unwrap()
}

/// The centre pixel of the asset as delivered to `key`.
fn centre_pixel(app: &TestApp, key: &str, id: &str) -> [u8; 4] {
    let r = app.client().get(app.url(&format!("/v1/image/{id}"))).header("Authorization", key).send().unwrap();
    assert_eq!(r.status(), 200, "deliver {id}");
    decode(&r.bytes().unwrap()).get_pixel(4, 4).0
}

/// Alice creates a private id while Bob overwrites the same id; several such pairs run at once each
/// round (more catalog threads than the default), so some of the 600 races interleave inside the window.
#[test]
fn concurrent_overwrite_never_takes_another_users_asset() {
    const ROUNDS: usize = 150;
    const PAIRS: usize = 4;
    // 1,200 uploads in a few seconds: the per-IP upload limit is not what this test is about.
    let app = spawn_app_with(&[("IMGCLOUD_SERVER__DB_THREADS", "8"), ("IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE", "0")]);
    let akey = app.api_key(&app.user("alice@test.local"));
    let bkey = app.api_key(&app.user("bob@test.local"));
    let (alice_id, bob_id) = (me(&app, &akey), me(&app, &bkey));
    let (red, blue) = (solid([255, 0, 0]), solid([0, 0, 255]));
    let url = app.url("/v1/upload");
    for round in 0..ROUNDS {
        let ids: Vec<String> = (0..PAIRS).map(|p| format!("race/r{round}p{p}")).collect();
        let barrier = Arc::new(Barrier::new(2 * PAIRS));
        // Each request is built first and sent the moment all are ready, so the uploads overlap.
        let send = |key: &str, bytes: &Vec<u8>, fields: Vec<(&str, &str)>| {
            let req = app.client().post(&url).header("Authorization", key).multipart(upload_form(bytes.clone(), "x.png", &fields));
            let barrier = barrier.clone();
            move || {
                barrier.wait();
                req.send().unwrap().status().as_u16()
            }
        };
        let statuses: Vec<(u16, u16)> = std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .iter()
                .map(|id| {
                    let alice = send(&akey, &red, vec![("public_id", id.as_str()), ("visibility", "private")]);
                    let bob = send(&bkey, &blue, vec![("public_id", id.as_str()), ("overwrite", "true"), ("visibility", "public")]);
                    (s.spawn(alice), s.spawn(bob))
                })
                .collect();
            handles.into_iter().map(|(a, b)| (a.join().unwrap(), b.join().unwrap())).collect()
        });
        for (id, st) in ids.iter().zip(statuses) {
            match st {
                // Alice created it; Bob was refused as a stranger.
                (201, 403) => {
                    let v = asset(&app, &akey, id);
                    assert_eq!((v["owner"].as_i64(), &v["version"], &v["visibility"]), (Some(alice_id), &json!(1), &json!("private")), "{id}: {v}");
                    assert!(near(centre_pixel(&app, &akey, id), [255, 0, 0, 255], 8), "{id}: Alice's pixels");
                    assert_error(app.client().get(app.url(&format!("/v1/image/{id}"))).send().unwrap(), 401);
                }
                // Bob's upload created the id first; Alice's create then conflicts.
                (409, 201) => {
                    let v = asset(&app, &bkey, id);
                    assert_eq!((v["owner"].as_i64(), &v["version"], &v["visibility"]), (Some(bob_id), &json!(1), &json!("public")), "{id}: {v}");
                    assert!(near(centre_pixel(&app, &bkey, id), [0, 0, 255, 255], 8), "{id}: Bob's pixels");
                }
                other => panic!("{id}: alice/bob statuses {other:?}"),
            }
        }
    }
}

#[test]
fn overwrite_keeps_visibility_folder_and_tags_unless_set() {
    let app = spawn_app();
    let key = app.api_key(&app.user("alice@test.local"));
    let fields = [("public_id", "keep/me"), ("folder", "albums/2024"), ("tags", "a,b"), ("visibility", "private")];
    app.upload_ok(&key, solid([255, 0, 0]), "a.png", &fields);

    let v = app.upload_ok(&key, solid([0, 255, 0]), "a.png", &[("public_id", "keep/me"), ("overwrite", "true")]);
    assert_eq!(v["version"], 2);
    assert_eq!((&v["visibility"], &v["folder"], &v["tags"]), (&json!("private"), &json!("albums/2024"), &json!(["a", "b"])), "{v}");
    assert_error(app.client().get(app.url("/v1/image/keep/me")).send().unwrap(), 401);

    let set = [("public_id", "keep/me"), ("overwrite", "true"), ("visibility", "public"), ("folder", "other"), ("tags", "c")];
    let v = app.upload_ok(&key, solid([0, 0, 255]), "a.png", &set);
    assert_eq!((&v["version"], &v["visibility"], &v["folder"], &v["tags"]), (&json!(3), &json!("public"), &json!("other"), &json!(["c"])), "{v}");
    assert_eq!(app.client().get(app.url("/v1/image/keep/me")).send().unwrap().status(), 200);
    // An empty tags field is a set field: it clears them.
    let v = app.upload_ok(&key, solid([0, 0, 255]), "a.png", &[("public_id", "keep/me"), ("overwrite", "true"), ("tags", "")]);
    assert_eq!((&v["tags"], &v["folder"], &v["visibility"]), (&json!([]), &json!("other"), &json!("public")), "{v}");
}

/// A multipart body with the file first, sent chunked (no Content-Length), so only the streaming count can stop it.
fn raw_form(file: &[u8], fields: impl Iterator<Item = (String, String)>) -> (String, Vec<u8>) {
    let boundary = "imgcloud-test-boundary-7f3a";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
    body.extend_from_slice(file);
    for (name, value) in fields {
        body.extend(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}").into_bytes());
    }
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn post_chunked(app: &TestApp, key: &str, (content_type, body): (String, Vec<u8>)) -> reqwest::blocking::Response {
    let body = reqwest::blocking::Body::new(std::io::Cursor::new(body));
    app.client().post(app.url("/v1/upload")).header("Authorization", key).header("Content-Type", content_type).body(body).send().unwrap()
}

#[test]
fn whole_form_is_capped_in_bytes_and_parts() {
    let app = spawn_app_with(&[("IMGCLOUD_UPLOAD__MAX_BYTES", "200000")]);
    let key = app.api_key(&app.admin());
    let png = noise_png(200, 200, 7);
    assert!(png.len() > 100_000 && png.len() < 200_000, "{}", png.len());

    // Thousands of tiny fields.
    let many = raw_form(&solid([1, 2, 3]), (0..5000).map(|i| (format!("x{i}"), "y".to_string())));
    assert!(assert_error(post_chunked(&app, &key, many), 400).contains("at most 64 fields"));
    // Few fields, each under the per-field limit, with a file under the cap: together far over it.
    let filler = "z".repeat(4000);
    let big = raw_form(&png, (0..40).map(|i| (format!("note{i}"), filler.clone())));
    assert!(assert_error(post_chunked(&app, &key, big), 413).contains("cap"));
    // The same file with a normal form is fine, and the server is healthy.
    let ok = post_chunked(&app, &key, raw_form(&png, [("tags".to_string(), "t".to_string())].into_iter()));
    assert_eq!(ok.status(), 201);
    assert_eq!(app.client().get(app.url("/healthz")).send().unwrap().status(), 200);
}

/// A request written by hand, so paths like `../x` reach the server unnormalised. Returns (status, JSON body).
fn raw_request(app: &TestApp, method: &str, path: &str, key: &str) -> (u16, Value) {
    let addr = app.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let body = if method == "PATCH" { r#"{"tags":"x"}"# } else { "" };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, rest) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    assert!(head.to_lowercase().contains("content-type: application/json"), "{method} {path}: {head}");
    let json = rest.find('{').zip(rest.rfind('}')).map(|(a, b)| serde_json::from_str(&rest[a..=b]).unwrap()).unwrap_or(Value::Null);
    (status, json)
}

#[test]
fn invalid_public_ids_on_assets_are_400() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, solid([9, 9, 9]), "a.png", &[("public_id", "a/b")]);
    let long = "a".repeat(300);
    for method in ["GET", "PATCH", "DELETE"] {
        for bad in ["a//b", "../x", "a/./b", "a/../b", long.as_str(), "bad%20id", "w_100/x"] {
            let (status, body) = raw_request(&app, method, &format!("/v1/assets/{bad}"), &key);
            assert_eq!(status, 400, "{method} {bad}: {body}");
            assert!(body["error"].as_str().unwrap_or_default().contains("public_id"), "{method} {bad}: {body}");
        }
        // A valid id that does not exist is still 404.
        assert_eq!(raw_request(&app, method, "/v1/assets/nobody/here", &key).0, 404, "{method}");
    }
    // The asset the bad paths resemble is untouched.
    assert_eq!(asset(&app, &key, "a/b")["tags"], json!([]));
}

#[test]
fn repeated_tags_fields_add_up() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let v = app.upload_ok(&key, solid([1, 1, 1]), "a.png", &[("tags", "a"), ("tags", "b,c"), ("tags", "a")]);
    assert_eq!(v["tags"], json!(["a", "b", "c"]));
    let v = app.upload_ok(&key, solid([1, 1, 1]), "a.png", &[("tags[]", "x"), ("tags[]", "y"), ("tags", "z")]);
    assert_eq!(v["tags"], json!(["x", "y", "z"]));
}

#[test]
fn missing_file_is_reported_whatever_else_came() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let form = reqwest::blocking::multipart::Form::new()
        .text("overwrite", "maybe")
        .text("visibility", "secret")
        .text("folder", "../bad")
        .text("notes", "n".repeat(5000));
    let r = app.client().post(app.url("/v1/upload")).header("Authorization", &key).multipart(form).send().unwrap();
    let msg = assert_error(r, 400);
    assert!(msg.contains("multipart field 'file' is required"), "{msg}");
    // With the file present, the bad field is what is reported.
    let msg = assert_error(app.upload(&key, solid([1, 1, 1]), "a.png", &[("overwrite", "maybe")]), 400);
    assert!(msg.contains("overwrite"), "{msg}");
}

#[test]
fn long_generated_public_ids_are_shortened() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let folder = format!("{}/{}", "f".repeat(99), "g".repeat(100));
    let v = app.upload_ok(&key, solid([1, 1, 1]), &format!("{}.png", "s".repeat(100)), &[("folder", &folder)]);
    let id = v["public_id"].as_str().unwrap();
    assert_eq!(id.len(), 255, "{id}");
    let (head, hex) = id.rsplit_once('-').unwrap();
    assert!(head.starts_with(&format!("{folder}/sss")) && head.trim_start_matches(&format!("{folder}/")).bytes().all(|b| b == b's'), "{id}");
    assert!(hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(v["folder"], json!(folder));
    assert_eq!(asset(&app, &key, id)["public_id"], json!(id));
}
