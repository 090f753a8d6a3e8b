//! CDN purges through the outbox: the generic HTTP purger (PURGE/BAN with a tag header) and Cloudflare's API, each against a local stub.
use std::time::Duration;

use serde_json::json;
use sha2::Digest;

use crate::helpers::*;
use crate::stub::Stub;

/// The tag the VCL and Cloudflare are asked to purge: "img-" and the first 8 bytes of SHA-256(public_id), in hex.
fn tag(public_id: &str) -> String { format!("img-{}", hex::encode(&sha2::Sha256::digest(public_id.as_bytes())[..8])) }

#[test]
fn overwrite_delete_and_visibility_changes_purge_the_assets_tag() {
    let stub = Stub::start();
    let app = spawn_app_with(&[("IMGCLOUD_CDN_PURGE__KIND", "http"), ("IMGCLOUD_CDN_PURGE__URL", &stub.url("/"))]);
    let c = app.admin();
    let key = app.api_key(&c);
    let png = || quadrants(16, 16, image::ImageFormat::Png);
    app.upload_ok(&key, png(), "p.png", &[("public_id", "cdn/pic")]);
    assert_eq!(c.patch(app.url("/v1/assets/cdn/pic")).json(&json!({ "tags": ["a"] })).send().unwrap().status(), 200);
    app.upload_ok(&key, png(), "p.png", &[("public_id", "cdn/pic"), ("overwrite", "true")]);
    let seen = stub.wait_for(20, "the overwrite's purge", |s| !s.is_empty());
    assert_eq!(seen.len(), 1, "a new upload and a tags-only change purge nothing");
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("PURGE", "/"));
    assert_eq!(seen[0].header("surrogate-key"), tag("cdn/pic"));

    for vis in ["private", "public"] {
        assert_eq!(c.patch(app.url("/v1/assets/cdn/pic")).json(&json!({ "visibility": vis })).send().unwrap().status(), 200);
    }
    // Unchanged visibility: nothing to purge.
    assert_eq!(c.patch(app.url("/v1/assets/cdn/pic")).json(&json!({ "visibility": "public" })).send().unwrap().status(), 200);
    assert_eq!(c.delete(app.url("/v1/assets/cdn/pic")).send().unwrap().status(), 204);
    let seen = stub.wait_for(20, "four purges", |s| s.len() >= 4);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(stub.seen().len(), 4, "overwrite, private, public, delete");
    assert!(seen.iter().all(|r| r.method == "PURGE" && r.header("surrogate-key") == tag("cdn/pic")));
    wait_metric(&app, "outbox_depth", "the outbox drains", |v| v == 0.0);
}

#[test]
fn a_purge_endpoint_outage_is_retried_and_counted() {
    let stub = Stub::start();
    stub.answer(503, "{}");
    let app = spawn_app_with(&[
        ("IMGCLOUD_CDN_PURGE__KIND", "http"),
        ("IMGCLOUD_CDN_PURGE__URL", &stub.url("/ban")),
        ("IMGCLOUD_CDN_PURGE__METHOD", "BAN"),
        ("IMGCLOUD_CDN_PURGE__HEADER", "Cache-Tag"),
        ("IMGCLOUD_OUTBOX__RETRY_BASE_MS", "100"),
        ("IMGCLOUD_OUTBOX__RETRY_MAX_SECS", "1"),
    ]);
    let c = app.admin();
    let key = app.api_key(&c);
    app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "o.png", &[("public_id", "outage")]);
    assert_eq!(c.delete(app.url("/v1/assets/outage")).send().unwrap().status(), 204);
    stub.wait_for(20, "retries", |s| s.len() >= 3);
    wait_metric(&app, "outbox_failures_total", "failures are counted", |v| v >= 3.0);
    assert!(app.metric_sum("outbox_depth") >= 1.0, "the purge waits in the outbox");
    wait_metric(&app, "outbox_oldest_age_seconds", "the waiting purge ages", |v| v > 0.0);

    stub.answer(200, "{}");
    let seen = stub.wait_for(20, "the purge to go through", |s| s.iter().any(|r| r.status == 200));
    assert!(seen.iter().all(|r| r.method == "BAN" && r.path == "/ban" && r.header("cache-tag") == tag("outage")));
    wait_metric(&app, "outbox_depth", "the outbox drains", |v| v == 0.0);
    wait_metric(&app, "outbox_oldest_age_seconds", "nothing pending, nothing old", |v| v == 0.0);
}

#[test]
fn cloudflare_purges_by_tag_with_the_zone_and_token_and_retries_until_success() {
    let stub = Stub::start();
    stub.answer(200, r#"{"success": false, "errors": [{"code": 10000, "message": "try later"}]}"#);
    let app = spawn_app_with(&[
        ("IMGCLOUD_CDN_PURGE__KIND", "cloudflare"),
        ("IMGCLOUD_CDN_PURGE__CLOUDFLARE_ZONE_ID", "zone-123"),
        ("IMGCLOUD_CDN_PURGE__CLOUDFLARE_API_TOKEN", "tok-abc"),
        ("IMGCLOUD_CDN_PURGE__CLOUDFLARE_API_BASE", &stub.url("/client/v4")),
        ("IMGCLOUD_OUTBOX__RETRY_BASE_MS", "100"),
        ("IMGCLOUD_OUTBOX__RETRY_MAX_SECS", "1"),
    ]);
    let c = app.admin();
    let key = app.api_key(&c);
    app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "f.png", &[("public_id", "flare")]);
    app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "f.png", &[("public_id", "flare"), ("overwrite", "true")]);
    let seen = stub.wait_for(20, "a refused purge and its retry", |s| s.len() >= 2);
    for r in &seen {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/client/v4/zones/zone-123/purge_cache"));
        assert_eq!(r.header("authorization"), "Bearer tok-abc");
        assert!(r.header("content-type").starts_with("application/json"));
        assert_eq!(r.json(), json!({ "tags": [tag("flare")] }));
    }
    wait_metric(&app, "outbox_failures_total", "\"success\": false is a failure", |v| v >= 2.0);

    stub.answer(200, r#"{"success": true, "errors": [], "result": {"id": "zone-123"}}"#);
    wait_metric(&app, "outbox_depth", "the purge succeeds and leaves the outbox", |v| v == 0.0);
}
