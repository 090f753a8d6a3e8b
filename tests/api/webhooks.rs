//! Webhooks: registration rules (SSRF, scoping, secret shown once), Standard Webhooks signatures, order and at-least-once delivery across outages and SIGKILL.
use std::collections::HashSet;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::stub::{Recorded, Stub};

const ALLOW: (&str, &str) = ("IMGCLOUD_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true");
const FAST_RETRY: [(&str, &str); 2] = [("IMGCLOUD_OUTBOX__RETRY_BASE_MS", "100"), ("IMGCLOUD_OUTBOX__RETRY_MAX_SECS", "1")];

/// The receiver's own check, written from the Standard Webhooks spec rather than with our code.
fn verify(secret: &str, r: &Recorded) -> bool {
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", r.header("webhook-id"), r.header("webhook-timestamp")).as_bytes());
    mac.update(&r.body);
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    r.header("webhook-signature").split(' ').any(|s| s == expected)
}

fn register(app: &TestApp, c: &reqwest::blocking::Client, url: &str, events: Value) -> Value {
    let r = c.post(app.url("/v1/webhooks")).json(&json!({ "url": url, "events": events })).send().unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text());
    r.json().unwrap()
}

/// Accepted deliveries (answered 2xx), in arrival order.
fn accepted(seen: &[Recorded]) -> Vec<Recorded> { seen.iter().filter(|r| r.status == 200).cloned().collect() }

fn distinct_ids(seen: &[Recorded]) -> usize { accepted(seen).iter().map(|r| r.header("webhook-id").to_string()).collect::<HashSet<_>>().len() }

#[test]
fn each_event_arrives_once_signed_with_the_asset_json() {
    let stub = Stub::start();
    let app = spawn_app_with(&[ALLOW]);
    let alice = app.user("alice@hooks.io");
    let key = app.api_key(&alice);
    let hook = register(&app, &alice, &stub.url("/hook"), json!([]));
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(hook["id"].as_str().unwrap().starts_with("we_"));
    assert_eq!(hook["events"], json!(["asset.uploaded", "asset.overwritten", "asset.updated", "asset.deleted"]), "empty means all");

    let png = quadrants(16, 16, image::ImageFormat::Png);
    app.upload_ok(&key, png.clone(), "a.png", &[("public_id", "hooked")]);
    app.upload_ok(&key, png, "a.png", &[("public_id", "hooked"), ("overwrite", "true")]);
    let r = alice.patch(app.url("/v1/assets/hooked")).json(&json!({ "tags": ["x", "y"] })).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(alice.delete(app.url("/v1/assets/hooked")).send().unwrap().status(), 204);

    let seen = stub.wait_for(30, "four events", |s| distinct_ids(s) >= 4);
    let got = accepted(&seen);
    assert_eq!(got.len(), 4, "each delivery id once when every attempt succeeds");
    let types: Vec<String> = got.iter().map(|r| r.json()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(types, ["asset.uploaded", "asset.overwritten", "asset.updated", "asset.deleted"]);
    for r in &got {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/hook"));
        assert!(r.header("webhook-id").starts_with("msg_"));
        assert!(r.header("content-type").starts_with("application/json"));
        assert!(verify(&secret, r), "signature of {} verifies", r.header("webhook-id"));
        assert!(!verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", r), "and not with another secret");
        let body = r.json();
        let ts = r.header("webhook-timestamp").parse::<i64>().unwrap();
        assert!((ts - time::OffsetDateTime::now_utc().unix_timestamp()).abs() < 300);
        time::OffsetDateTime::parse(body["timestamp"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
        assert_eq!(body["data"]["public_id"], "hooked");
        assert_eq!(body["data"]["url"], app.url("/v1/image/hooked"), "data is the asset JSON clients see");
        assert!(body["data"].get("storage_key").is_none());
    }
    let data = |i: usize| got[i].json()["data"].clone();
    assert_eq!((data(0)["version"].as_i64(), data(1)["version"].as_i64()), (Some(1), Some(2)));
    assert_eq!(data(2)["tags"], json!(["x", "y"]));
    assert_eq!(data(3)["version"], 2, "deleted carries the asset as it was");
}

#[test]
fn a_receiver_that_was_down_gets_the_backlog_in_order() {
    let stub = Stub::start();
    stub.answer(500, "{}");
    let app = spawn_app_with(&[ALLOW, FAST_RETRY[0], FAST_RETRY[1]]);
    let c = app.user("bob@hooks.io");
    let key = app.api_key(&c);
    register(&app, &c, &stub.url("/in"), json!(["asset.uploaded"]));
    let ids: Vec<String> = (0..5).map(|i| format!("backlog-{i}")).collect();
    for id in &ids {
        app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "b.png", &[("public_id", id)]);
    }
    let failed = stub.wait_for(30, "three failed attempts", |s| s.len() >= 3);
    let first = failed[0].header("webhook-id").to_string();
    assert!(failed.iter().all(|r| r.header("webhook-id") == first), "an endpoint's later events wait behind its first");
    assert_eq!(failed[0].json()["data"]["public_id"], "backlog-0");
    assert!(app.metric_sum("outbox_failures_total") >= 3.0);
    assert!(app.metric_sum("outbox_depth") >= 5.0);
    wait_metric(&app, "outbox_oldest_age_seconds", "the oldest pending event ages while the receiver is down", |v| v > 0.0);

    stub.answer(200, "{}");
    let seen = stub.wait_for(30, "the backlog", |s| distinct_ids(s) >= 5);
    let order: Vec<String> = accepted(&seen).iter().map(|r| r.json()["data"]["public_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(order, ids, "delivered in the order the changes happened");
    assert_eq!(accepted(&seen)[0].header("webhook-id"), first, "a retry keeps its webhook-id");
    wait_metric(&app, "outbox_depth", "the outbox drains", |v| v == 0.0);
    wait_metric(&app, "outbox_oldest_age_seconds", "nothing pending, nothing old", |v| v == 0.0);
}

#[test]
fn sigkill_mid_delivery_redelivers_the_same_webhook_id_and_loses_no_event() {
    let stub = Stub::start();
    stub.hold();
    let env = [ALLOW, FAST_RETRY[0], FAST_RETRY[1]];
    let app = spawn_app_with(&env);
    let c = app.user("carol@hooks.io");
    let key = app.api_key(&c);
    let hook = register(&app, &c, &stub.url("/k"), json!([]));
    let secret = hook["secret"].as_str().unwrap().to_string();
    for i in 0..3 {
        app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "k.png", &[("public_id", &format!("kill-{i}"))]);
    }
    let held = stub.wait_for(30, "a delivery held in flight", |s| !s.is_empty());
    assert_eq!((held.len(), held[0].status), (1, 0), "one delivery, unanswered; the others wait behind it");
    let in_flight = held[0].header("webhook-id").to_string();
    assert_eq!(held[0].json()["data"]["public_id"], "kill-0");
    assert!(verify(&secret, &held[0]));
    let dir = app.crash();

    stub.answer(200, "{}");
    let app = spawn_in(dir, &env);
    let seen = stub.wait_for(30, "every event after the restart", |s| distinct_ids(s) >= 3);
    let got = accepted(&seen);
    assert_eq!(got[0].header("webhook-id"), in_flight, "the delivery cut off by SIGKILL comes again with its webhook-id");
    let ids: Vec<String> = got.iter().map(|r| r.json()["data"]["public_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, ["kill-0", "kill-1", "kill-2"], "no event lost, order kept");
    assert!(got.iter().all(|r| verify(&secret, r)));
    drop(app);
}

#[test]
fn private_loopback_and_metadata_targets_are_refused_by_default() {
    let app = spawn_app();
    let c = app.admin();
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8080/",
        "http://metadata.google.internal/",
    ] {
        let msg = assert_error(c.post(app.url("/v1/webhooks")).json(&json!({ "url": url })).send().unwrap(), 400);
        assert!(msg.contains("allow_private_targets") || msg.contains("refused"), "{url}: {msg}");
    }
    for url in ["ftp://example.com/", "https://user:pw@example.com/", "not a url"] {
        assert_error(c.post(app.url("/v1/webhooks")).json(&json!({ "url": url })).send().unwrap(), 400);
    }
    assert_eq!(c.get(app.url("/v1/webhooks")).send().unwrap().json::<Value>().unwrap()["webhooks"], json!([]));
}

/// RFC 8215's local-use NAT64 prefix reaches whatever the operator's translator maps it to
/// (loopback, the metadata address), so the whole /48 is refused; and no refusal names the address a
/// host resolved to, which would make registration a probe of the server's DNS.
#[test]
fn local_use_nat64_is_refused_and_refusals_do_not_echo_the_resolved_address() {
    let app = spawn_app();
    let c = app.admin();
    for url in ["http://[64:ff9b:1::7f00:1]/", "http://[64:ff9b:1::a9fe:a9fe]/latest/meta-data/", "http://[64:ff9b:1:ffff::808:808]/"] {
        let msg = assert_error(c.post(app.url("/v1/webhooks")).json(&json!({ "url": url })).send().unwrap(), 400);
        assert!(msg.contains("not allowed"), "{url}: {msg}");
    }
    for (url, addrs) in [("http://localhost:8080/", &["127.0.0.1", "::1"][..]), ("http://10.1.2.3/", &["10.1.2.3"][..])] {
        let msg = assert_error(c.post(app.url("/v1/webhooks")).json(&json!({ "url": url })).send().unwrap(), 400);
        assert!(msg.contains("not allowed"), "{url}: {msg}");
        for a in addrs {
            assert!(!msg.contains(a), "{url}: the refusal names the address {a}: {msg}");
        }
    }
    assert_eq!(c.get(app.url("/v1/webhooks")).send().unwrap().json::<Value>().unwrap()["webhooks"], json!([]));
}

#[test]
fn the_delivery_checks_the_target_again() {
    let stub = Stub::start();
    let app = spawn_app_with(&[ALLOW]);
    let c = app.user("dave@hooks.io");
    let key = app.api_key(&c);
    register(&app, &c, &stub.url("/late"), json!([]));
    // The same endpoint, now on a server that refuses private targets (as if DNS had changed since).
    let dir = app.crash();
    let app = spawn_in(dir, &[FAST_RETRY[0], FAST_RETRY[1]]);
    app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "l.png", &[("public_id", "late")]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while app.metric_sum("outbox_failures_total") < 2.0 {
        assert!(std::time::Instant::now() < deadline, "refused deliveries count as failures");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(stub.seen().is_empty(), "nothing reached the private address");
    assert!(app.metric_sum("outbox_depth") >= 1.0, "the event is kept, not dropped");
}

/// The rebinding case: an endpoint registered by name (`localhost`) while private targets were
/// allowed, delivered by a server that refuses them. The name is resolved again at delivery and its
/// loopback answer refused: no request reaches the receiver, each attempt is a counted failure with
/// the reason logged, and the event stays in the outbox (pending, retried), not marked delivered.
#[test]
fn a_named_endpoint_that_resolves_to_loopback_is_refused_at_delivery() {
    let stub = Stub::start();
    let app = spawn_app_with(&[ALLOW]);
    let c = app.user("rebind@hooks.io");
    let key = app.api_key(&c);
    let url = format!("http://localhost:{}/rebind", stub.port);
    assert_eq!(register(&app, &c, &url, json!([]))["url"], url.as_str());
    let dir = app.crash();
    let app = spawn_in(dir, &[FAST_RETRY[0], FAST_RETRY[1]]);
    app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "r.png", &[("public_id", "rebound")]);
    wait_metric(&app, "outbox_failures_total", "refused deliveries count as failures", |v| v >= 2.0);
    assert!(stub.seen().is_empty(), "nothing reached the loopback receiver");
    assert!(app.metric_sum("outbox_depth") >= 1.0, "the event is kept, not counted as delivered");
    assert_eq!(app.metric_sum("outbox_delivered_total"), 0.0);
    // The log is written by a background thread: give the line a moment to land.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let log = std::fs::read_to_string(app.dir.path().join("server.log")).unwrap_or_default();
        if log.lines().any(|l| l.contains("webhook url target is not allowed") && l.contains("allow_private_targets")) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the refusal is logged with its reason:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn endpoints_are_owner_scoped_and_the_secret_is_shown_once() {
    let app = spawn_app_with(&[ALLOW]);
    let (a, b, admin) = (app.user("erin@hooks.io"), app.user("frank@hooks.io"), app.admin());
    let hook = register(&app, &a, "http://127.0.0.1:9/a", json!(["asset.deleted", "asset.uploaded"]));
    let id = hook["id"].as_str().unwrap();
    assert_eq!(hook["events"], json!(["asset.uploaded", "asset.deleted"]));
    assert_eq!(hook["url"], "http://127.0.0.1:9/a");

    let mine: Value = a.get(app.url("/v1/webhooks")).send().unwrap().json().unwrap();
    assert_eq!(mine["webhooks"].as_array().unwrap().len(), 1);
    assert_eq!(mine["webhooks"][0]["id"], id);
    assert!(mine["webhooks"][0].get("secret").is_none(), "listings never show the secret");
    let theirs: Value = b.get(app.url("/v1/webhooks")).send().unwrap().json().unwrap();
    assert_eq!(theirs["webhooks"], json!([]));
    assert_error(b.delete(app.url(&format!("/v1/webhooks/{id}"))).send().unwrap(), 404);
    let all: Value = admin.get(app.url("/v1/webhooks")).send().unwrap().json().unwrap();
    let me: Value = a.get(app.url("/v1/auth/me")).send().unwrap().json().unwrap();
    let listed = all["webhooks"].as_array().unwrap().iter().find(|w| w["id"] == id).expect("admin sees it").clone();
    assert_eq!(listed["owner"], me["id"]);
    assert!(listed.get("secret").is_none());

    assert_error(a.post(app.url("/v1/webhooks")).json(&json!({ "url": "http://127.0.0.1:9/", "events": ["asset.renamed"] })).send().unwrap(), 400);
    assert_error(app.client().get(app.url("/v1/webhooks")).send().unwrap(), 401);
    assert_eq!(admin.delete(app.url(&format!("/v1/webhooks/{id}"))).send().unwrap().status(), 204);
    assert_eq!(a.get(app.url("/v1/webhooks")).send().unwrap().json::<Value>().unwrap()["webhooks"], json!([]));
    assert_error(a.delete(app.url(&format!("/v1/webhooks/{id}"))).send().unwrap(), 404);
}

#[test]
fn an_admins_endpoint_hears_of_every_users_assets_and_subscriptions_filter() {
    let stub = Stub::start();
    let app = spawn_app_with(&[ALLOW]);
    let admin = app.admin();
    register(&app, &admin, &stub.url("/all"), json!([]));
    let u = app.user("gina@hooks.io");
    register(&app, &u, &stub.url("/mine"), json!(["asset.deleted"]));
    let key = app.api_key(&u);
    app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "g.png", &[("public_id", "gina")]);
    assert_eq!(u.delete(app.url("/v1/assets/gina")).send().unwrap().status(), 204);
    let seen = stub.wait_for(30, "three deliveries", |s| accepted(s).len() >= 3);
    std::thread::sleep(Duration::from_millis(500));
    let seen = if stub.seen().len() > seen.len() { stub.seen() } else { seen };
    let mut got: Vec<(String, String)> = accepted(&seen).iter().map(|r| (r.path.clone(), r.json()["type"].as_str().unwrap().to_string())).collect();
    got.sort();
    assert_eq!(got, [("/all".to_string(), "asset.deleted".to_string()), ("/all".into(), "asset.uploaded".into()), ("/mine".into(), "asset.deleted".into())]);
}
