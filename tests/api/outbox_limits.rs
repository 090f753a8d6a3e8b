//! Bounds on the outbox (issue #20 items 4 and 5): a per-endpoint backlog cap, endpoints disabled
//! after sustained failure (reason in the API, re-enabled by PATCH), the WAL cut back by checkpoints,
//! purges in a lane of their own ahead of webhooks, a per-owner in-flight cap, the catalog-write rate limit,
//! dead-lettering after `outbox.max_attempts`, and the endpoint caps (per owner, URL length).
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::*;
use crate::stub::Stub;

const ALLOW: (&str, &str) = ("IMGCLOUD_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true");

fn register(app: &TestApp, c: &reqwest::blocking::Client, url: &str) -> String {
    let r = c.post(app.url("/v1/webhooks")).json(&json!({ "url": url })).send().unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text());
    r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string()
}

fn hooks(app: &TestApp, c: &reqwest::blocking::Client) -> Vec<Value> {
    c.get(app.url("/v1/webhooks")).send().unwrap().json::<Value>().unwrap()["webhooks"].as_array().unwrap().clone()
}

fn wal_len(app: &TestApp) -> u64 { std::fs::metadata(app.dir.path().join("data/imgcloud.sqlite-wal")).map(|m| m.len()).unwrap_or(0) }

/// Waits until the stub has recorded a request matching `pred`; returns how long that took.
fn time_until(stub: &Stub, secs: u64, what: &str, pred: impl Fn(&crate::stub::Recorded) -> bool) -> Duration {
    let t0 = Instant::now();
    stub.wait_for(secs, what, |s| s.iter().any(&pred));
    t0.elapsed()
}

/// A port that refuses connections: bound, then closed.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}/dead")
}

/// Bob's twenty endpoints at a dead address and a flood of PATCHes: each endpoint's backlog stops
/// at the cap, the endpoint is disabled with the reason in its JSON, the WAL is cut back, the
/// gauges stay small, and Alice's purge reaches her CDN at once.
#[test]
fn a_dead_endpoint_flood_is_capped_disabled_and_the_wal_cut_back() {
    let cdn = Stub::start();
    let app = spawn_app_with(&[
        ALLOW,
        ("IMGCLOUD_CDN_PURGE__KIND", "http"),
        ("IMGCLOUD_CDN_PURGE__URL", &cdn.url("/purge")),
        ("IMGCLOUD_WEBHOOKS__MAX_PENDING_PER_ENDPOINT", "25"),
        ("IMGCLOUD_OUTBOX__CHECKPOINT_SECS", "1"),
        ("IMGCLOUD_RATE_LIMIT__CATALOG_WRITES_PER_PRINCIPAL_PER_MINUTE", "0"),
    ]);
    let bob = app.user("bob@flood.io");
    let bob_key = app.api_key(&bob);
    let dead = dead_url();
    for _ in 0..20 {
        register(&app, &bob, &dead);
    }
    app.upload_ok(&bob_key, quadrants(8, 8, image::ImageFormat::Png), "f.png", &[("public_id", "flood")]);
    let wal_before = wal_len(&app);
    for i in 0..300 {
        let r = bob.patch(app.url("/v1/assets/flood")).json(&json!({ "tags": [format!("t{i}")] })).send().unwrap();
        assert_eq!(r.status(), 200);
    }
    let listed = hooks(&app, &bob);
    assert_eq!(listed.len(), 20);
    for h in &listed {
        assert!(h["pending"].as_i64().unwrap() <= 25, "the backlog stops at the cap: {h}");
        assert_eq!(h["enabled"], false, "{h}");
        let reason = h["disabled_reason"].as_str().unwrap_or_default();
        assert!(reason.contains("max_pending_per_endpoint") && reason.contains("dropped"), "the owner is told why: {h}");
        assert!(h["disabled_at"].is_string());
    }
    wait_metric(&app, "outbox_depth", "the dropped backlogs leave the gauges", |v| v <= 20.0 * 25.0);
    assert!(app.metric_sum("webhook_endpoints_disabled_total") >= 0.0);

    // The flood wrote megabytes of WAL frames; the checkpoints cut the file back.
    let deadline = Instant::now() + Duration::from_secs(15);
    while wal_len(&app) > 1 << 20 {
        assert!(Instant::now() < deadline, "the WAL stays at {} bytes (before the flood {wal_before})", wal_len(&app));
        std::thread::sleep(Duration::from_millis(100));
    }

    // Another user's purge is not behind any of it.
    let alice = app.user("alice@flood.io");
    let alice_key = app.api_key(&alice);
    app.upload_ok(&alice_key, quadrants(8, 8, image::ImageFormat::Png), "a.png", &[("public_id", "alice/pic")]);
    let r = alice.patch(app.url("/v1/assets/alice/pic")).json(&json!({ "visibility": "private" })).send().unwrap();
    assert_eq!(r.status(), 200);
    let took = time_until(&cdn, 10, "Alice's purge", |r| r.path == "/purge");
    assert!(took < Duration::from_secs(1), "Alice's purge took {took:?}");
}

/// An endpoint that keeps failing is disabled (reason with the last error, backlog dropped), only
/// its owner or an admin may turn it back on, and once on it gets the events from then on.
#[test]
fn sustained_failure_disables_an_endpoint_and_patch_reenables_it() {
    let stub = Stub::start();
    stub.answer(500, "{}");
    let app = spawn_app_with(&[
        ALLOW,
        ("IMGCLOUD_OUTBOX__RETRY_BASE_MS", "50"),
        ("IMGCLOUD_OUTBOX__RETRY_MAX_SECS", "1"),
        ("IMGCLOUD_WEBHOOKS__DISABLE_AFTER_FAILURES", "3"),
        ("IMGCLOUD_WEBHOOKS__DISABLE_AFTER_SECS", "0"),
    ]);
    let carol = app.user("carol@flood.io");
    let key = app.api_key(&carol);
    let id = register(&app, &carol, &stub.url("/flaky"));
    assert_eq!(hooks(&app, &carol)[0]["enabled"], true);
    assert!(hooks(&app, &carol)[0]["disabled_reason"].is_null());
    for i in 0..2 {
        app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "c.png", &[("public_id", &format!("c{i}"))]);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let hook = loop {
        let h = hooks(&app, &carol)[0].clone();
        if h["enabled"] == false {
            break h;
        }
        assert!(Instant::now() < deadline, "never disabled: {h}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let reason = hook["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("3 consecutive deliveries failed") && reason.contains("500"), "{reason}");
    assert_eq!(hook["pending"], 0, "its backlog is dropped: {hook}");
    let attempts = stub.seen().len();
    assert_eq!(attempts, 3, "no attempt after the third failure");
    app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "c.png", &[("public_id", "c-while-off")]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(stub.seen().len(), 3, "a disabled endpoint gets nothing");
    assert_eq!(hooks(&app, &carol)[0]["pending"], 0, "and nothing is queued for it");

    let other = app.user("mallory@flood.io");
    assert_error(other.patch(app.url(&format!("/v1/webhooks/{id}"))).json(&json!({ "enabled": true })).send().unwrap(), 404);
    assert_error(carol.patch(app.url(&format!("/v1/webhooks/{id}"))).json(&json!({ "enabled": "yes" })).send().unwrap(), 400);
    stub.answer(200, "{}");
    let r = carol.patch(app.url(&format!("/v1/webhooks/{id}"))).json(&json!({ "enabled": true })).send().unwrap();
    assert_eq!(r.status(), 200);
    let h: Value = r.json().unwrap();
    assert_eq!((h["enabled"].clone(), h["disabled_reason"].clone()), (json!(true), Value::Null));
    app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "c.png", &[("public_id", "c-back")]);
    let seen = stub.wait_for(20, "a delivery after re-enabling", |s| s.iter().any(|r| r.status == 200));
    let ok: Vec<_> = seen.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok[0].json()["data"]["public_id"], "c-back", "events from then on, not the dropped backlog");
}

/// Bob's twenty tarpits (accept, read, never answer) hold at most his share of delivery slots:
/// Alice's CDN purge and her own webhook arrive at once.
#[test]
fn tarpit_endpoints_do_not_delay_another_users_purge_or_webhook() {
    let (tarpit, cdn, alice_hook) = (Stub::start(), Stub::start(), Stub::start());
    tarpit.hold();
    let app = spawn_app_with(&[ALLOW, ("IMGCLOUD_CDN_PURGE__KIND", "http"), ("IMGCLOUD_CDN_PURGE__URL", &cdn.url("/purge"))]);
    let bob = app.user("bob@tarpit.io");
    let bob_key = app.api_key(&bob);
    for i in 0..20 {
        register(&app, &bob, &tarpit.url(&format!("/t{i}")));
    }
    let alice = app.user("alice@tarpit.io");
    let alice_key = app.api_key(&alice);
    app.upload_ok(&alice_key, quadrants(8, 8, image::ImageFormat::Png), "a.png", &[("public_id", "alice/secret")]);
    register(&app, &alice, &alice_hook.url("/mine"));

    for i in 0..3 {
        app.upload_ok(&bob_key, quadrants(8, 8, image::ImageFormat::Png), "b.png", &[("public_id", &format!("bob{i}"))]);
    }
    tarpit.wait_for(10, "Bob's deliveries held in the tarpit", |s| s.len() >= 4);
    std::thread::sleep(Duration::from_millis(300));
    let held = tarpit.seen().len();
    assert!(held <= 4, "at most webhooks.max_in_flight_per_owner of Bob's deliveries in flight, saw {held}");

    let r = alice.patch(app.url("/v1/assets/alice/secret")).json(&json!({ "visibility": "private" })).send().unwrap();
    assert_eq!(r.status(), 200);
    let t0 = Instant::now();
    cdn.wait_for(10, "Alice's purge", |s| s.iter().any(|r| r.path == "/purge"));
    let purge = t0.elapsed();
    alice_hook.wait_for(10, "Alice's webhook", |s| s.iter().any(|r| r.json()["type"] == "asset.updated"));
    let hook = t0.elapsed();
    assert!(purge < Duration::from_secs(1), "Alice's purge took {purge:?}");
    assert!(hook < Duration::from_secs(1), "Alice's webhook took {hook:?}");
    tarpit.answer(200, "{}");
}

/// PATCH and DELETE are limited per signed-in user, session and API key alike; another user is unaffected.
#[test]
fn catalog_writes_are_rate_limited_per_principal() {
    let app = spawn_app_with(&[("IMGCLOUD_RATE_LIMIT__CATALOG_WRITES_PER_PRINCIPAL_PER_MINUTE", "5")]);
    let (alice, bob) = (app.user("alice@limit.io"), app.user("bob@limit.io"));
    let (alice_key, bob_key) = (app.api_key(&alice), app.api_key(&bob));
    app.upload_ok(&alice_key, quadrants(8, 8, image::ImageFormat::Png), "a.png", &[("public_id", "a1")]);
    app.upload_ok(&bob_key, quadrants(8, 8, image::ImageFormat::Png), "b.png", &[("public_id", "b1")]);
    for i in 0..5 {
        let r = alice.patch(app.url("/v1/assets/a1")).json(&json!({ "tags": [format!("t{i}")] })).send().unwrap();
        assert_eq!(r.status(), 200, "write {i} is within the limit");
    }
    let r = alice.patch(app.url("/v1/assets/a1")).json(&json!({ "tags": ["over"] })).send().unwrap();
    let retry: u64 = r.headers().get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let msg = assert_error(r, 429);
    assert!(!msg.is_empty());
    let by_key = reqwest::blocking::Client::new().delete(app.url("/v1/assets/a1")).header("Authorization", &alice_key).send().unwrap();
    assert_error(by_key, 429);
    assert_eq!(alice.get(app.url("/v1/assets/a1")).send().unwrap().json::<Value>().unwrap()["tags"], json!(["t4"]), "the refused writes changed nothing");
    let r = bob.patch(app.url("/v1/assets/b1")).json(&json!({ "tags": ["fine"] })).send().unwrap();
    assert_eq!(r.status(), 200, "Bob has his own bucket");
    assert_eq!(bob.delete(app.url("/v1/assets/b1")).send().unwrap().status(), 204);
}

/// A receiver that answers 500 to everything: the delivery is tried exactly `outbox.max_attempts`
/// times (one webhook-id), then kept as dead and counted, and never tried again.
#[test]
fn a_delivery_is_kept_as_dead_after_max_attempts() {
    let stub = Stub::start();
    stub.answer(500, "{}");
    let app = spawn_app_with(&[
        ALLOW,
        ("IMGCLOUD_OUTBOX__MAX_ATTEMPTS", "3"),
        ("IMGCLOUD_OUTBOX__RETRY_BASE_MS", "50"),
        ("IMGCLOUD_OUTBOX__RETRY_MAX_SECS", "1"),
    ]);
    let dana = app.user("dana@dead.io");
    let key = app.api_key(&dana);
    register(&app, &dana, &stub.url("/down"));
    app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "d.png", &[("public_id", "d0")]);
    wait_metric(&app, "outbox_dead", "the failing delivery is kept as dead", |v| v == 1.0);
    // Longer than retry_max_secs: a fourth attempt, were there one, would have come by now.
    std::thread::sleep(Duration::from_millis(2500));
    let seen = stub.seen();
    assert_eq!(seen.len(), 3, "exactly max_attempts attempts");
    assert!(seen.iter().all(|r| r.status == 500 && r.header("webhook-id") == seen[0].header("webhook-id")), "one delivery, retried");
    assert_eq!(app.metric_sum("outbox_dead"), 1.0, "still counted, not dropped");
    assert_eq!(app.metric_sum("outbox_depth"), 0.0, "and no longer pending");
    let h = &hooks(&app, &dana)[0];
    assert_eq!((h["enabled"].clone(), h["pending"].clone()), (json!(true), json!(0)), "a dead delivery does not disable its endpoint: {h}");
}

/// `webhooks::MAX_PER_OWNER` endpoints per user: the 21st is 409 until one is deleted, another user unaffected.
#[test]
fn endpoints_are_capped_per_owner() {
    let app = spawn_app_with(&[ALLOW, ("IMGCLOUD_RATE_LIMIT__CATALOG_WRITES_PER_PRINCIPAL_PER_MINUTE", "0")]);
    let erin = app.user("erin@caps.io");
    let ids: Vec<String> = (0..20).map(|i| register(&app, &erin, &format!("http://127.0.0.1:9/h{i}"))).collect();
    let over = erin.post(app.url("/v1/webhooks")).json(&json!({ "url": "http://127.0.0.1:9/h20" })).send().unwrap();
    let msg = assert_error(over, 409);
    assert!(msg.contains("at most 20"), "{msg}");
    let frank = app.user("frank@caps.io");
    register(&app, &frank, "http://127.0.0.1:9/f");
    assert_eq!(erin.delete(app.url(&format!("/v1/webhooks/{}", ids[0]))).send().unwrap().status(), 204);
    register(&app, &erin, "http://127.0.0.1:9/h20");
}

#[test]
fn endpoint_urls_are_capped_in_length() {
    let app = spawn_app_with(&[ALLOW]);
    let frank = app.user("frank@caps.io");
    // `webhooks::MAX_URL_LEN` bytes: 2048 accepted and stored whole, 2049 refused with 400.
    let prefix = "http://127.0.0.1:9/";
    let at_cap = format!("{prefix}{}", "a".repeat(2048 - prefix.len()));
    register(&app, &frank, &at_cap);
    let long = frank.post(app.url("/v1/webhooks")).json(&json!({ "url": format!("{at_cap}a") })).send().unwrap();
    let msg = assert_error(long, 400);
    assert!(msg.contains("2048"), "{msg}");
    assert_eq!(hooks(&app, &frank).iter().filter(|h| h["url"] == at_cap).count(), 1, "the 2048-byte URL is stored whole");
}
