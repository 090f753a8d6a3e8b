//! Caching headers for CDNs: versioned URLs, Cache-Control per access kind, cache tags, errors that are never cached.
use image::ImageFormat;
use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::helpers::*;

/// Follows no redirects, so a stale version's 302 is seen as such.
fn plain() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn header(r: &reqwest::blocking::Response, name: &str) -> String {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// The tag the server must name: `img-` and 16 hex digits of the public_id's SHA-256 (actors' cache_tag).
fn expected_tag(public_id: &str) -> String {
    use sha2::Digest;
    format!("img-{}", hex::encode(&sha2::Sha256::digest(public_id.as_bytes())[..8]))
}

#[test]
fn versioned_urls_in_asset_json_and_their_cache_headers() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let a = app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "gallery/hero")]);
    assert_eq!(a["url"], format!("{}/v1/image/gallery/hero", app.base), "url stays as the docs show it");
    assert_eq!(a["versioned_url"], format!("{}/v1/image/v1/gallery/hero", app.base));
    let tag = expected_tag("gallery/hero");

    // Unversioned public: the short configurable max-age, with an ETag to revalidate.
    let r = plain().get(app.url("/v1/image/w_20/gallery/hero")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "cache-control"), "public, max-age=300");
    let etag = header(&r, "etag");
    assert!(!etag.is_empty());
    assert_eq!(header(&r, "cache-tag"), tag);
    assert_eq!(header(&r, "surrogate-key"), tag);
    let r = plain().get(app.url("/v1/image/w_20/gallery/hero")).header("If-None-Match", &etag).send().unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "cache-tag"), tag, "304s carry the tag too");

    // Versioned public: a year, immutable; same bytes and ETag as the unversioned URL of that version.
    let r = plain().get(app.url("/v1/image/w_20/v1/gallery/hero")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(header(&r, "etag"), etag);
    assert_eq!(header(&r, "surrogate-key"), tag);
    assert_eq!(decode(&r.bytes().unwrap()).width(), 20);
    let r = plain().head(app.url("/v1/image/v1/gallery/hero")).send().unwrap();
    assert_eq!((r.status().as_u16(), header(&r, "content-type")), (200, "image/png".to_string()));

    // Overwrite: version 2. The old versioned URL redirects to the new one; a future version is 404.
    let a = app.upload_ok(&key, quadrants(60, 60, ImageFormat::Png), "q.png", &[("public_id", "gallery/hero"), ("overwrite", "true")]);
    assert_eq!(a["version"], 2);
    assert_eq!(a["versioned_url"], format!("{}/v1/image/v2/gallery/hero", app.base));
    let r = plain().get(app.url("/v1/image/w_20/v1/gallery/hero")).send().unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(header(&r, "location"), "/v1/image/w_20/v2/gallery/hero");
    assert_eq!(header(&r, "cache-control"), "public, max-age=300", "a redirect follows the asset, so it is cached briefly");
    assert_eq!(header(&r, "cache-tag"), tag);
    let r = app.client().get(app.url("/v1/image/v1/gallery/hero")).send().unwrap();
    assert_eq!((r.status().as_u16(), r.url().path().to_string()), (200, "/v1/image/v2/gallery/hero".to_string()));
    assert_eq!(decode(&r.bytes().unwrap()).width(), 60);
    let r = plain().get(app.url("/v1/image/v3/gallery/hero")).send().unwrap();
    assert_eq!(header(&r, "cache-control"), "no-store");
    let msg = assert_error(r, 404);
    assert!(msg.contains("version 3"), "{msg}");

    // The JSON of get and list carries versioned_url too.
    let got: Value = app.client().get(app.url("/v1/assets/gallery/hero")).header("Authorization", &key).send().unwrap().json().unwrap();
    assert_eq!(got["versioned_url"], format!("{}/v1/image/v2/gallery/hero", app.base));
    let list: Value = app.client().get(app.url("/v1/assets")).header("Authorization", &key).send().unwrap().json().unwrap();
    let listed = &list["assets"].as_array().or_else(|| list["items"].as_array()).expect("a list of assets")[0];
    assert_eq!(listed["versioned_url"], got["versioned_url"]);
    assert_eq!(listed["url"], format!("{}/v1/image/gallery/hero", app.base));
}

/// The contract refuses only a first segment that reads as a transform, so `v2/photo` is a valid
/// public_id (and `v2024` a folder): managed through /v1/assets and delivered by its `url` and its
/// `versioned_url` (the same, versioned, URL). `/v1/image/v2/photo` reads as version 2 of `photo` while `photo` exists
/// (versioned URLs never change meaning), else as the asset `v2/photo` (README, "Versioned URLs").
#[test]
fn public_ids_and_folders_may_start_with_a_version_segment() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let auth = |r: reqwest::blocking::RequestBuilder| r.header("Authorization", &key).send().unwrap();
    let c = app.client();
    let width = |path: &str| -> (u16, String, u32) {
        let r = plain().get(app.url(path)).send().unwrap();
        let (status, cc) = (r.status().as_u16(), header(&r, "cache-control"));
        (status, cc, if status == 200 { decode(&r.bytes().unwrap()).width() } else { 0 })
    };
    let (short, year) = ("public, max-age=300".to_string(), "public, max-age=31536000, immutable".to_string());

    let a = app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "v2/photo")]);
    assert_eq!((a["public_id"].as_str(), a["version"].as_i64()), (Some("v2/photo"), Some(1)));
    // Its `url` names the version too: unversioned, it would read as version 2 of any `photo`.
    assert_eq!(a["url"], format!("{}/v1/image/v1/v2/photo", app.base));
    assert_eq!(a["versioned_url"], format!("{}/v1/image/v1/v2/photo", app.base));
    let b = app.upload_ok(&key, quadrants(30, 30, ImageFormat::Png), "q.png", &[("public_id", "v7/a/b")]);
    assert_eq!(b["versioned_url"], format!("{}/v1/image/v1/v7/a/b", app.base));
    let g = app.upload_ok(&key, quadrants(20, 20, ImageFormat::Png), "held.png", &[("folder", "v2024")]);
    assert_eq!(g["folder"], "v2024");
    assert!(g["public_id"].as_str().unwrap().starts_with("v2024/held-"), "{g}");

    // Management by public_id.
    assert_eq!(auth(c.get(app.url("/v1/assets/v2/photo"))).json::<Value>().unwrap()["public_id"], "v2/photo");
    let r = auth(c.patch(app.url("/v1/assets/v7/a/b")).json(&json!({ "tags": ["t"], "folder": "v1" })));
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["folder"], "v1");
    let list: Value = auth(c.get(app.url("/v1/assets?folder=v2024"))).json().unwrap();
    assert_eq!(list["assets"].as_array().or_else(|| list["items"].as_array()).unwrap().len(), 1);

    // Delivery by url and versioned_url, with and without a transform; tagged with the asset's own tag.
    assert_eq!(width("/v1/image/v2/photo"), (200, short.clone(), 40));
    assert_eq!(width("/v1/image/v1/v2/photo"), (200, year.clone(), 40));
    assert_eq!(width("/v1/image/w_20/v2/photo"), (200, short.clone(), 20));
    assert_eq!(width("/v1/image/w_20/v1/v2/photo"), (200, year.clone(), 20));
    assert_eq!(width("/v1/image/v7/a/b"), (200, short.clone(), 30));
    assert_eq!(width("/v1/image/v1/v7/a/b"), (200, year.clone(), 30));
    assert_eq!(width(&format!("/v1/image/{}", g["public_id"].as_str().unwrap())).0, 200);
    let r = plain().get(app.url("/v1/image/v2/photo")).send().unwrap();
    assert_eq!(header(&r, "cache-tag"), expected_tag("v2/photo"));
    assert_eq!(width("/v1/image/v2/v2/photo").0, 404, "a future version of v2/photo");
    let r = plain().get(app.url("/v1/image/v1/v9/none")).send().unwrap();
    assert!(assert_error(r, 404).contains("v1/v9/none"), "neither reading names an asset");

    // A private one: signed URLs carry the version, whose reading is always this asset.
    assert_eq!(auth(c.patch(app.url("/v1/assets/v7/a/b")).json(&json!({ "visibility": "private" }))).status(), 200);
    let s: Value = auth(c.post(app.url("/v1/image/sign")).json(&json!({ "public_id": "v7/a/b", "transform": "w_10" }))).json().unwrap();
    let signed = s["url"].as_str().unwrap();
    assert!(signed.starts_with(&format!("{}/v1/image/w_10/v1/v7/a/b?expires=", app.base)), "{signed}");
    let r = plain().get(signed).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(decode(&r.bytes().unwrap()).width(), 10);
    assert_eq!(width("/v1/image/v7/a/b").0, 401);

    // The collision: once an asset `photo` exists, `/v1/image/v2/photo` is version 2 of `photo`
    // (404 while it has only version 1). `v2/photo` stays reachable by its versioned_url.
    app.upload_ok(&key, quadrants(60, 60, ImageFormat::Png), "q.png", &[("public_id", "photo")]);
    assert_eq!(width("/v1/image/v2/photo").0, 404);
    assert_eq!(width("/v1/image/v1/photo"), (200, year.clone(), 60));
    assert_eq!(width("/v1/image/v1/v2/photo"), (200, year.clone(), 40));
    app.upload_ok(&key, quadrants(70, 70, ImageFormat::Png), "q.png", &[("public_id", "photo"), ("overwrite", "true")]);
    assert_eq!(width("/v1/image/v2/photo"), (200, year.clone(), 70), "version 2 of photo, immutable");
    let s: Value = auth(c.post(app.url("/v1/image/sign")).json(&json!({ "public_id": "v2/photo" }))).json().unwrap();
    let r = plain().get(s["url"].as_str().unwrap()).send().unwrap();
    assert_eq!((r.status().as_u16(), decode(&r.bytes().unwrap()).width()), (200, 40), "the signed URL names v2/photo, not photo");
    // With `photo` gone, the path names `v2/photo` again.
    assert_eq!(auth(c.delete(app.url("/v1/assets/photo"))).status(), 204);
    assert_eq!(width("/v1/image/v2/photo"), (200, short.clone(), 40));

    // Deletion through /v1/assets, then neither URL serves it.
    assert_eq!(auth(c.delete(app.url("/v1/assets/v2/photo"))).status(), 204);
    assert_eq!(width("/v1/image/v1/v2/photo").0, 404);
    assert_eq!(width("/v1/image/v2/photo").0, 404);
    assert_eq!(auth(c.get(app.url("/v1/assets/v2/photo"))).status(), 404);
    // Inside a path, or not of the form v<digits>, a segment was never a version.
    app.upload_ok(&key, quadrants(8, 8, ImageFormat::Png), "q.png", &[("public_id", "albums/v2")]);
    assert_eq!(width("/v1/image/v1/albums/v2").0, 200);
}

#[test]
fn private_signed_and_owner_responses() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "doc"), ("visibility", "private")]);
    let tag = expected_tag("doc");

    // Owner credentials: never in a shared cache, versioned or not; still tagged.
    for path in ["/v1/image/doc", "/v1/image/v1/doc"] {
        let r = plain().get(app.url(path)).header("Authorization", &key).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "cache-control"), "private, no-store", "{path}");
        assert_eq!(header(&r, "surrogate-key"), tag, "{path}");
    }
    // Refusals are errors: never cached, and they do not name the asset's tag.
    for path in ["/v1/image/doc", "/v1/image/v1/doc", "/v1/image/v9/doc"] {
        let r = plain().get(app.url(path)).send().unwrap();
        assert_eq!(header(&r, "cache-control"), "no-store", "{path}");
        assert_eq!(header(&r, "cache-tag"), "", "{path}");
        assert_error(r, 401);
    }
    // Signed: cacheable until expiry, tagged.
    let s: Value = app.client().post(app.url("/v1/image/sign")).header("Authorization", &key).json(&json!({ "public_id": "doc", "ttl_seconds": 120 })).send().unwrap().json().unwrap();
    let r = plain().get(s["url"].as_str().unwrap()).send().unwrap();
    assert_eq!(r.status(), 200);
    let cc = header(&r, "cache-control");
    let left: i64 = cc.strip_prefix("public, max-age=").unwrap_or_else(|| panic!("{cc}")).parse().unwrap();
    assert!((110..=120).contains(&left), "{cc}");
    assert_eq!(header(&r, "cache-tag"), tag);
}

#[test]
fn errors_are_never_cached() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    for (r, status) in [
        (plain().get(app.url("/v1/image/nope")).send().unwrap(), 404),
        (plain().get(app.url("/v1/image/w_0/nope")).send().unwrap(), 400),
        (plain().get(app.url("/v1/nothing-here")).send().unwrap(), 404),
        (plain().delete(app.url("/v1/image/nope")).send().unwrap(), 405),
        (plain().get(app.url("/v1/assets")).send().unwrap(), 401),
        (plain().get(app.url("/v1/assets/nope")).header("Authorization", &key).send().unwrap(), 404),
    ] {
        assert_eq!(header(&r, "cache-control"), "no-store", "{status}");
        assert_error(r, status);
    }
}

#[test]
fn cache_tag_headers_and_max_ages_are_configurable() {
    let app = spawn_app_with(&[
        ("IMGCLOUD_DELIVERY__CACHE_TAG_HEADERS", "Edge-Cache-Tag"),
        ("IMGCLOUD_DELIVERY__MAX_AGE_SECS", "60"),
        ("IMGCLOUD_DELIVERY__VERSIONED_MAX_AGE_SECS", "86400"),
    ]);
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(8, 8, ImageFormat::Png), "q.png", &[("public_id", "p")]);
    let r = plain().get(app.url("/v1/image/p")).send().unwrap();
    assert_eq!(header(&r, "cache-control"), "public, max-age=60");
    assert_eq!(header(&r, "edge-cache-tag"), expected_tag("p"));
    assert_eq!((header(&r, "cache-tag"), header(&r, "surrogate-key")), (String::new(), String::new()));
    let r = plain().get(app.url("/v1/image/v1/p")).send().unwrap();
    assert_eq!(header(&r, "cache-control"), "public, max-age=86400, immutable");
}

#[test]
fn a_reused_public_id_never_repeats_a_version() {
    // Versioned URLs are immutable in every cache: after delete and re-upload, v1 must not come back.
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let red = draw(20, 20, image::ImageFormat::Png, |_, _| [255, 0, 0, 255]);
    let blue = draw(20, 20, image::ImageFormat::Png, |_, _| [0, 0, 255, 255]);
    assert_eq!(app.upload_ok(&key, red.clone(), "a.png", &[("public_id", "reused")])["version"], 1);
    assert_eq!(app.upload_ok(&key, red, "a.png", &[("public_id", "reused"), ("overwrite", "true")])["version"], 2);
    let r = app.client().delete(app.url("/v1/assets/reused")).header("Authorization", &key).send().unwrap();
    assert_eq!(r.status(), 204);
    let a = app.upload_ok(&key, blue, "b.png", &[("public_id", "reused")]);
    assert_eq!(a["version"], 3, "{a}");
    assert!(a["versioned_url"].as_str().unwrap().ends_with("/v1/image/v3/reused"), "{a}");
    // The old versions now redirect to the new image rather than serving anything of their own.
    let r = plain().get(app.url("/v1/image/v1/reused")).send().unwrap();
    assert_eq!(r.status(), 302);
    let body = plain().get(app.url("/v1/image/v3/reused")).send().unwrap().bytes().unwrap();
    assert!(near(decode(&body).get_pixel(10, 10).0, [0, 0, 255, 255], 8));
}
