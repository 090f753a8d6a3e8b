//! The HTTP edge under hostile input: metric labels, /metrics access, slow bodies, long URIs, 405/HEAD, error codes.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

/// Status, and the JSON body's `code` (which every error must carry).
fn error_code(r: reqwest::blocking::Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status, "unexpected status");
    let v: Value = r.json().expect("error body is JSON");
    assert!(!v["error"].as_str().unwrap_or_default().is_empty(), "no message in {v}");
    v["code"].as_str().unwrap_or_else(|| panic!("no code in {v}")).to_string()
}

fn series(text: &str, name: &str) -> Vec<String> {
    text.lines().filter(|l| l.starts_with(&format!("{name}{{"))).map(str::to_string).collect()
}

#[test]
fn made_up_methods_and_paths_never_become_metric_labels() {
    let app = spawn_app();
    let c = app.client();
    for i in 0..300 {
        let method = Method::from_bytes(format!("ZZMETHOD{i}").as_bytes()).unwrap();
        let path = if i % 2 == 0 { "/healthz".to_string() } else { format!("/zzpath{i}/x") };
        let r = c.request(method, app.url(&path)).send().unwrap();
        assert!(r.status() == 404 || r.status() == 405, "{}", r.status());
    }
    let text = app.metrics_text();
    assert!(!text.contains("ZZMETHOD"), "a made-up method became a label");
    assert!(!text.contains("zzpath"), "a raw path became a label");
    let requests = series(&text, "http_requests_total");
    // Routes x fixed methods x statuses seen: a handful here, never one per request.
    assert!(requests.len() < 20, "{} series:\n{}", requests.len(), requests.join("\n"));
    let other: f64 = requests
        .iter()
        .filter(|l| l.contains("method=\"other\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(other, 300.0, "every made-up method counted as \"other\"");
    assert!(requests.iter().any(|l| l.contains("route=\"unmatched\"")));
    assert!(requests.iter().any(|l| l.contains("route=\"/healthz\"") && l.contains("method=\"other\"")));
}

#[test]
fn public_metrics_need_an_admin() {
    let app = spawn_app();
    assert_eq!(error_code(app.client().get(app.url("/metrics")).send().unwrap(), 401), "unauthenticated");
    let user = app.user("metrics-user@test.local");
    assert_eq!(error_code(user.get(app.url("/metrics")).send().unwrap(), 403), "forbidden");
    let key = app.api_key(&app.admin());
    let r = app.client().get(app.url("/metrics")).header("Authorization", key).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("http_requests_total"));
    assert!(app.metrics_base.is_none(), "no second listener unless configured");
}

#[test]
fn metrics_listener_serves_prometheus_without_credentials_and_nothing_else() {
    let app = spawn_app_with(&[("IMGCLOUD_SERVER__METRICS_LISTEN", "127.0.0.1:0")]);
    let mbase = app.metrics_base.clone().expect("metrics listener announced on stdout");
    assert_ne!(mbase, app.base);
    app.client().get(app.url("/healthz")).send().unwrap();
    let r = app.client().get(format!("{mbase}/metrics")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("http_requests_total"));
    assert_eq!(app.client().get(format!("{mbase}/healthz")).send().unwrap().status(), 200);
    // The API is not reachable there, and the main address still guards /metrics.
    assert_eq!(error_code(app.client().post(format!("{mbase}/v1/auth/login")).send().unwrap(), 404), "not_found");
    assert_eq!(error_code(app.client().get(app.url("/metrics")).send().unwrap(), 401), "unauthenticated");
}

/// Sends `head` and then nothing more; returns everything the server sends before closing.
fn stall_after(base: &str, head: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    // Ends at EOF: the server closed the connection. A read timeout here means it never did.
    s.read_to_end(&mut out).expect("server closed the stalled connection");
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn stalled_request_bodies_end_in_408_json_and_a_closed_connection() {
    let app = spawn_app_with(&[("IMGCLOUD_SERVER__BODY_READ_TIMEOUT_SECS", "1")]);
    let host = app.base.trim_start_matches("http://").to_string();
    // A JSON body: promised 200 bytes, one arrives.
    let res = stall_after(&app.base, &format!("POST /v1/auth/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{"));
    assert!(res.starts_with("HTTP/1.1 408"), "{res}");
    assert!(res.to_lowercase().contains("connection: close"), "{res}");
    assert!(res.to_lowercase().contains("x-content-type-options: nosniff"), "{res}");
    assert!(res.contains("\"code\":\"request_timeout\""), "{res}");
    // A multipart upload that stops inside the file part.
    let key = app.api_key(&app.admin());
    let part = "--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x7fPNG";
    let res = stall_after(
        &app.base,
        &format!("POST /v1/upload HTTP/1.1\r\nHost: {host}\r\nAuthorization: {key}\r\nContent-Type: multipart/form-data; boundary=XB\r\nContent-Length: 100000\r\n\r\n{part}"),
    );
    assert!(res.starts_with("HTTP/1.1 408"), "{res}");
    assert!(res.contains("\"code\":\"request_timeout\""), "{res}");
    // The server is unharmed.
    assert_eq!(app.client().get(app.url("/healthz")).send().unwrap().status(), 200);
}

#[test]
fn stalled_request_heads_are_timed_out_and_closed() {
    // actix-http answers this itself, before any middleware: a bare 408 (see the report on item 10).
    let app = spawn_app_with(&[("IMGCLOUD_SERVER__HEADER_READ_TIMEOUT_SECS", "1")]);
    let res = stall_after(&app.base, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    assert!(res.starts_with("HTTP/1.1 408"), "{res}");
}

#[test]
fn overlong_uri_that_reaches_routing_is_414_json() {
    let app = spawn_app();
    let long = "a".repeat(20_000);
    let r = app.client().get(app.url(&format!("/v1/image/{long}"))).send().unwrap();
    assert!(r.headers().get("content-security-policy").is_some());
    assert_eq!(error_code(r, 414), "uri_too_long");
    let r = app.client().get(app.url(&format!("/healthz?x={long}"))).send().unwrap();
    assert_eq!(error_code(r, 414), "uri_too_long");
}

#[test]
fn wrong_method_answers_405_with_allow() {
    let app = spawn_app();
    let c = app.client();
    let cases: &[(Method, &str, &str)] = &[
        (Method::DELETE, "/v1/auth/login", "POST"),
        (Method::PUT, "/healthz", "GET, HEAD"),
        (Method::POST, "/metrics", "GET, HEAD"),
        (Method::PUT, "/v1/assets/some/id", "GET, HEAD, PATCH, DELETE"),
        (Method::DELETE, "/v1/image/sign", "POST, GET, HEAD"),
        (Method::from_bytes(b"BREW").unwrap(), "/v1/users", "GET, HEAD, POST"),
    ];
    for (m, path, allow) in cases {
        let r = c.request(m.clone(), app.url(path)).send().unwrap();
        assert_eq!(r.headers().get("allow").map(|v| v.to_str().unwrap().to_string()).as_deref(), Some(*allow), "{m} {path}");
        assert!(r.headers().get("x-frame-options").is_some());
        assert_eq!(error_code(r, 405), "method_not_allowed", "{m} {path}");
    }
}

#[test]
fn head_works_wherever_get_does() {
    let app = spawn_app();
    let admin = app.admin();
    let key = app.api_key(&admin);
    app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), "a.png", &[("public_id", "head/probe")]);
    for path in ["/healthz", "/readyz", "/metrics", "/v1/auth/me", "/v1/users", "/v1/api-keys", "/v1/assets", "/v1/assets/head/probe", "/v1/usage/summary", "/v1/image/head/probe"] {
        let get = admin.get(app.url(path)).send().unwrap();
        assert_eq!(get.status(), 200, "GET {path}");
        let get_type = get.headers().get("content-type").cloned();
        let r = admin.head(app.url(path)).send().unwrap();
        assert_eq!(r.status(), 200, "HEAD {path}");
        assert_eq!(r.headers().get("content-type").cloned(), get_type, "HEAD {path}");
        assert!(r.bytes().unwrap().is_empty(), "HEAD {path} sent a body");
    }
    // HEAD is still checked like GET.
    assert_eq!(app.client().head(app.url("/v1/auth/me")).send().unwrap().status(), 401);
}

#[test]
fn framework_errors_carry_a_code() {
    let app = spawn_app();
    let c = app.client();
    assert_eq!(error_code(c.get(app.url("/no/such/route")).send().unwrap(), 404), "not_found");
    assert_eq!(error_code(c.get(app.url("/v1/nope")).send().unwrap(), 404), "not_found");
    assert_eq!(error_code(c.patch(app.url("/v1/auth/me")).send().unwrap(), 405), "method_not_allowed");
    let r = c.post(app.url("/v1/auth/login")).header("content-type", "application/json").body("{not json").send().unwrap();
    assert_eq!(error_code(r, 400), "invalid_request");
    let r = c.post(app.url("/v1/auth/login")).header("content-type", "application/json").body(vec![b' '; 70 * 1024]).send().unwrap();
    assert_eq!(error_code(r, 413), "too_large");
    // Domain errors go through the same builder.
    assert_eq!(error_code(c.get(app.url("/v1/auth/me")).send().unwrap(), 401), "unauthenticated");
}
