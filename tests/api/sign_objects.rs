//! POST /v1/image/sign with `transform` as a JSON object: the shared object vectors (also read by both SDKs) give the same canonical path or a 400 naming the key.
use image::ImageFormat;
use serde_json::{json, Value};

use crate::helpers::*;

fn vectors() -> Vec<Value> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/transform_objects.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn sign_takes_the_object_form_with_the_grammars_rules() {
    let app = spawn_app();
    let admin = app.admin();
    let key = app.api_key(&admin);
    app.upload_ok(&key, quadrants(64, 48, ImageFormat::Png), "v.png", &[("public_id", "v"), ("visibility", "private")]);
    let sign = |transform: Value| app.client().post(app.url("/v1/image/sign")).header("Authorization", &key).json(&json!({ "public_id": "v", "transform": transform })).send().unwrap();
    let vectors = vectors();
    assert!(vectors.len() > 40, "the shared object vectors are there");
    for v in &vectors {
        let object = v["object"].clone();
        if let Some(canonical) = v["canonical"].as_str() {
            let r = sign(object.clone());
            assert_eq!(r.status(), 200, "{object}");
            let url = r.json::<Value>().unwrap()["url"].as_str().unwrap().to_string();
            let path = url.strip_prefix(&app.base).unwrap().split('?').next().unwrap().to_string();
            let want = if canonical.is_empty() { "/v1/image/v".to_string() } else { format!("/v1/image/{canonical}/v") };
            assert_eq!(path, want, "{object}");
        } else {
            let key_name = v["error"].as_str().unwrap();
            let msg = assert_error(sign(object.clone()), 400);
            assert!(msg.contains(key_name), "{object}: error '{msg}' should name '{key_name}'");
        }
    }
    // The object form signs a URL that really serves, and the string form still works.
    let url = sign(json!({ "w": 32, "f": "png" })).json::<Value>().unwrap()["url"].as_str().unwrap().to_string();
    let r = app.client().get(&url).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(decode(&r.bytes().unwrap()).dimensions(), (32, 24));
    let r = sign(json!("f_png,w_32"));
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().unwrap()["url"].as_str().unwrap().contains("/v1/image/w_32,f_png/v?"));
}
