//! Login, me, logout, change-password, session cookies, login rate limits, CSRF.
use serde_json::{json, Value};

use crate::helpers::*;

#[test]
fn login_me_logout() {
    let app = spawn_app();
    let c = app.client();
    let r = c.post(app.url("/v1/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })).send().unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");
    let me: Value = c.get(app.url("/v1/auth/me")).send().unwrap().json().unwrap();
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["via"], "session");
    assert_eq!(c.post(app.url("/v1/auth/logout")).send().unwrap().status(), 200);
    assert_error(c.get(app.url("/v1/auth/me")).send().unwrap(), 401);
}

#[test]
fn wrong_password_is_401_json() {
    let app = spawn_app();
    let r = app.client().post(app.url("/v1/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": "nope-nope-nope" })).send().unwrap();
    let msg = assert_error(r, 401);
    assert!(msg.contains("invalid email or password"), "{msg}");
}

#[test]
fn change_password_ends_other_sessions() {
    let app = spawn_app();
    let a = app.admin();
    let b = app.admin();
    let r = a.post(app.url("/v1/auth/change-password")).json(&json!({ "current_password": "wrong-one!", "new_password": "new-password-9" })).send().unwrap();
    assert_error(r, 403);
    let r = a.post(app.url("/v1/auth/change-password")).json(&json!({ "current_password": ADMIN_PASSWORD, "new_password": "short" })).send().unwrap();
    assert!(assert_error(r, 400).contains("at least 8"));
    let r = a.post(app.url("/v1/auth/change-password")).json(&json!({ "current_password": ADMIN_PASSWORD, "new_password": "x".repeat(73) })).send().unwrap();
    assert!(assert_error(r, 400).contains("72"));
    let r = a.post(app.url("/v1/auth/change-password")).json(&json!({ "current_password": ADMIN_PASSWORD, "new_password": "new-password-9" })).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(a.get(app.url("/v1/auth/me")).send().unwrap().status(), 200, "own session survives");
    assert_error(b.get(app.url("/v1/auth/me")).send().unwrap(), 401);
    app.login(ADMIN_EMAIL, "new-password-9");
}

#[test]
fn login_is_rate_limited_per_email() {
    let app = spawn_app_with(&[("IMGCLOUD_RATE_LIMIT__LOGIN_PER_EMAIL_PER_MINUTE", "3")]);
    let c = app.client();
    for _ in 0..3 {
        let r = c.post(app.url("/v1/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": "bad-password" })).send().unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = c.post(app.url("/v1/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })).send().unwrap();
    let retry: u64 = r.headers().get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_error(r, 429);
    // A different email is a different bucket.
    let r = c.post(app.url("/v1/auth/login")).json(&json!({ "email": "other@test.local", "password": "whatever1" })).send().unwrap();
    assert_eq!(r.status(), 401);
}

#[test]
fn login_is_rate_limited_per_ip() {
    let app = spawn_app_with(&[("IMGCLOUD_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE", "2")]);
    let c = app.client();
    for i in 0..2 {
        let r = c.post(app.url("/v1/auth/login")).json(&json!({ "email": format!("u{i}@x.io"), "password": "whatever1" })).send().unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = c.post(app.url("/v1/auth/login")).json(&json!({ "email": "u9@x.io", "password": "whatever1" })).send().unwrap();
    assert_error(r, 429);
}

#[test]
fn cross_origin_cookie_post_is_refused() {
    let app = spawn_app();
    let c = app.admin();
    let r = c.post(app.url("/v1/api-keys")).header("Origin", "https://evil.example").json(&json!({ "name": "x" })).send().unwrap();
    assert!(assert_error(r, 403).contains("CSRF"));
    let r = c.post(app.url("/v1/api-keys")).header("Origin", app.base.clone()).json(&json!({ "name": "x" })).send().unwrap();
    assert_eq!(r.status(), 201);
    // API-key requests carry no ambient authority, so Origin does not matter for them.
    let key = app.api_key(&c);
    let r = app.client().get(app.url("/v1/auth/me")).header("Authorization", key).header("Origin", "https://evil.example").send().unwrap();
    assert_eq!(r.status(), 200);
}
