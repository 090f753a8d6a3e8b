//! The edge: JSON errors for 404/405/bad JSON, security headers, request ids, panic containment, health.
use serde_json::{json, Value};

use crate::helpers::*;

fn assert_security_headers(r: &reqwest::blocking::Response) {
    let h = r.headers();
    assert!(h.get("strict-transport-security").unwrap().to_str().unwrap().contains("max-age="));
    assert!(h.get("content-security-policy").unwrap().to_str().unwrap().contains("default-src"));
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert!(h.get("referrer-policy").is_some());
    assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
    assert!(!h.get("x-request-id").unwrap().is_empty());
}

#[test]
fn unknown_route_and_wrong_method_are_json() {
    let app = spawn_app();
    let r = app.client().get(app.url("/v1/nope")).send().unwrap();
    assert_security_headers(&r);
    assert_error(r, 404);
    let r = app.client().get(app.url("/definitely/not/here")).send().unwrap();
    assert_error(r, 404);
    let r = app.client().delete(app.url("/v1/auth/login")).send().unwrap();
    assert_security_headers(&r);
    assert_error(r, 405);
    let r = app.client().post(app.url("/v1/auth/login")).header("content-type", "application/json").body("{not json").send().unwrap();
    assert!(assert_error(r, 400).contains("JSON"));
}

#[test]
fn every_response_has_security_headers_and_request_id() {
    let app = spawn_app();
    let r = app.client().get(app.url("/healthz")).send().unwrap();
    assert_security_headers(&r);
    let r = app.client().get(app.url("/healthz")).header("x-request-id", "abc-123").send().unwrap();
    assert_eq!(r.headers().get("x-request-id").unwrap(), "abc-123");
    let r = app.client().get(app.url("/readyz")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["database"], true);
}

#[test]
fn readyz_names_what_is_not_ready_with_a_code() {
    let app = spawn_app();
    // A data directory that takes no write: its tmp/ replaced by a file (root ignores modes).
    let tmp = app.dir.path().join("data/tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    std::fs::write(&tmp, b"not a directory").unwrap();
    let r = app.client().get(app.url("/readyz")).send().unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().unwrap();
    assert_eq!(v["code"], "not_ready", "{v}");
    assert!(v["error"].as_str().unwrap().contains("data directory"), "{v}");
    assert_eq!((v["database"].clone(), v["data_dir"].clone()), (json!(true), json!(false)), "{v}");
}

/// The dashboard's documents get the policy their pages need; everything else (JSON, images,
/// errors) is never a document that loads anything, so it gets the strictest, shortest one.
#[test]
fn documents_and_resources_get_their_own_content_security_policy() {
    let app = spawn_app();
    let admin = app.admin();
    let key = app.api_key(&admin);
    app.upload_ok(&key, quadrants(64, 48, image::ImageFormat::Png), "q.png", &[("public_id", "csp/q")]);
    let strict = |r: &reqwest::blocking::Response, what: &str| {
        assert_eq!(r.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'", "{what}");
        assert_eq!(r.headers()["referrer-policy"], "no-referrer", "{what}");
        assert_eq!(r.headers()["x-frame-options"], "DENY", "{what}");
    };
    let r = app.client().get(app.url("/v1/image/w_32,f_webp/csp/q")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(decode(&r.bytes().unwrap()).dimensions(), (32, 24));
    let r = app.client().get(app.url("/v1/image/w_32,f_webp/csp/q")).send().unwrap();
    strict(&r, "image");
    strict(&app.client().get(app.url("/healthz")).send().unwrap(), "healthz");
    strict(&app.client().get(app.url("/v1/image/nope/x")).send().unwrap(), "404");
    for path in ["/dashboard/", "/dashboard/app.js", "/dashboard/assets/some/id"] {
        let r = app.client().get(app.url(path)).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("script-src 'self'") && csp.contains("img-src 'self' data: blob:"), "{path}: {csp}");
        assert_eq!(r.headers()["referrer-policy"], "strict-origin-when-cross-origin", "{path}");
    }
}

#[test]
fn each_request_gets_an_access_log_line_without_waiting_for_more_traffic() {
    // The log is written by a background thread; a lone request's line must still reach stderr
    // promptly (the writer flushes whenever its queue drains), carrying method, path, status and id.
    let app = spawn_app();
    let r = app.client().get(app.url("/healthz")).header("x-request-id", "log-probe-42").send().unwrap();
    assert_eq!(r.status(), 200);
    let log = app.dir.path().join("server.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("rid=log-probe-42")) {
            assert!(line.contains("GET /healthz 200"), "{line}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no access line for the request in:\n{text}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn handler_panic_is_a_500_and_server_survives() {
    let app = spawn_app();
    for _ in 0..3 {
        let r = app.client().get(app.url("/v1/_debug/panic")).send().unwrap();
        assert_security_headers(&r);
        assert_error(r, 500);
    }
    assert_eq!(app.client().get(app.url("/healthz")).send().unwrap().status(), 200);
    app.admin();
}

#[test]
fn metrics_expose_request_counts() {
    let app = spawn_app();
    app.client().get(app.url("/healthz")).send().unwrap();
    app.admin();
    let text = app.metrics_text();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("actor_mailbox_depth"), "{text}");
}
