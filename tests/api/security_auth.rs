//! Issue 9, group C: email validation before rate limiting, bcrypt floods, logout CSRF, session expiry, cookie flags.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::helpers::*;

fn login_raw(app: &TestApp, email: &str, password: &str) -> reqwest::blocking::Response {
    app.client().post(app.url("/v1/auth/login")).json(&json!({ "email": email, "password": password })).send().unwrap()
}

fn retry_after(r: &reqwest::blocking::Response) -> u64 {
    r.headers().get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap()
}

#[test]
fn invalid_emails_are_400_before_any_rate_limit_bucket() {
    // Two attempts per minute per IP: if malformed emails reached the buckets, the real login
    // at the end would be refused (and before the fix each 60 KB email became a bucket key).
    let app = spawn_app_with(&[("IMGCLOUD_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE", "2")]);
    for i in 0..10 {
        let huge = format!("{}{i}@x.io", "a".repeat(60 * 1024));
        let msg = assert_error(login_raw(&app, &huge, "whatever1"), 400);
        assert!(msg.contains("at most 254"), "{msg}");
        assert!(msg.len() < 200, "the error does not echo the 60 KB input");
    }
    for bad in ["not-an-email", "admin@test.local\n", "ad\u{0}min@test.local"] {
        assert_error(login_raw(&app, bad, ADMIN_PASSWORD), 400);
    }
    assert_eq!(login_raw(&app, ADMIN_EMAIL, ADMIN_PASSWORD).status(), 200);
}

#[test]
fn emails_with_control_characters_are_refused_everywhere() {
    let app = spawn_app();
    let admin = app.admin();
    let bad = ["a\tb@x.io", "ab@x.io\n", "ab@x.io\r", "a\u{0}b@x.io", "a\u{1b}b@x.io", "a\u{7f}b@x.io", "a\u{85}b@x.io", "a\u{9b}b@x.io"];
    for email in bad {
        let r = admin.post(app.url("/v1/users")).json(&json!({ "email": email, "password": "user-password-1", "role": "user" })).send().unwrap();
        assert!(assert_error(r, 400).contains("control characters"), "create {email:?}");
        assert!(assert_error(login_raw(&app, email, "user-password-1"), 400).contains("control characters"), "login {email:?}");
    }
    let u: Value = admin.post(app.url("/v1/users")).json(&json!({ "email": "plain@x.io", "password": "user-password-1" })).send().unwrap().json().unwrap();
    let id = u["id"].as_i64().unwrap();
    for email in bad {
        let r = admin.patch(app.url(&format!("/v1/users/{id}"))).json(&json!({ "email": email })).send().unwrap();
        assert!(assert_error(r, 400).contains("control characters"), "update {email:?}");
    }
    let users: Value = admin.get(app.url("/v1/users")).send().unwrap().json().unwrap();
    let emails: Vec<&str> = users["users"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, [ADMIN_EMAIL, "plain@x.io"]);
}

/// Fires `n` wrong change-password attempts at once from the signed-in client `c`; returns their
/// statuses and Retry-After values, and a counter of answered attempts that moves as they land.
fn flood_change_password(app: &TestApp, c: &Client, n: usize) -> (Vec<std::thread::JoinHandle<(u16, Option<u64>)>>, Arc<AtomicUsize>) {
    let answered = Arc::new(AtomicUsize::new(0));
    let handles = (0..n)
        .map(|i| {
            let (c, url, answered) = (c.clone(), app.url("/v1/auth/change-password"), answered.clone());
            std::thread::spawn(move || {
                let body = json!({ "current_password": format!("wrong-guess-{i}"), "new_password": "new-password-9" });
                let r = c.post(url).json(&body).send().unwrap();
                answered.fetch_add(1, Ordering::SeqCst);
                let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
                (r.status().as_u16(), retry)
            })
        })
        .collect();
    (handles, answered)
}

#[test]
fn change_password_is_rate_limited_per_user() {
    let app = spawn_app_with(&[("IMGCLOUD_RATE_LIMIT__CHANGE_PASSWORD_PER_USER_PER_MINUTE", "5")]);
    let user = app.user("flood@x.io");
    let key = app.api_key(&user);
    let (flood, _) = flood_change_password(&app, &user, 60);
    // An API-key check issued during the flood is answered (generous bound: CI is a loaded box).
    let started = Instant::now();
    let r = app.client().get(app.url("/v1/auth/me")).header("Authorization", key.as_str()).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(10), "API-key check took {:?}", started.elapsed());
    let results: Vec<(u16, Option<u64>)> = flood.into_iter().map(|h| h.join().unwrap()).collect();
    let limited: Vec<_> = results.iter().filter(|(s, _)| *s == 429).collect();
    // 5 get through at once, plus any token that refilled (one each 12 s) while the flood ran.
    assert!((50..=55).contains(&limited.len()), "most attempts are refused: {results:?}");
    assert!(limited.iter().all(|(_, retry)| retry.is_some_and(|s| (1..=60).contains(&s))), "{limited:?}");
    assert!(results.iter().filter(|(s, _)| *s != 429).all(|(s, _)| *s == 403), "the admitted ones are checked: {results:?}");
    // The limit is per user: someone else can still change their password.
    let other = app.user("other@x.io");
    let r = other.post(app.url("/v1/auth/change-password")).json(&json!({ "current_password": "user-password-1", "new_password": "new-password-9" })).send().unwrap();
    assert_eq!(r.status(), 200);
}

/// Sum of a gauge over its label sets, read with an admin session (so it works whether or not /metrics is open).
fn gauge_sum(app: &TestApp, admin: &Client, name: &str) -> f64 {
    let text = admin.get(app.url("/metrics")).send().unwrap().text().unwrap();
    text.lines()
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn api_key_checks_do_not_queue_behind_bcrypt() {
    // No change-password limit here, one bcrypt thread and a real cost: the flood takes seconds
    // to drain. Before the fix the API-key check waited in the same queue behind all of it.
    let app = spawn_app_with(&[
        ("IMGCLOUD_AUTH__BCRYPT_COST", "11"),
        ("IMGCLOUD_AUTH__PASSWORD_THREADS", "1"),
        ("IMGCLOUD_RATE_LIMIT__CHANGE_PASSWORD_PER_USER_PER_MINUTE", "0"),
    ]);
    let admin = app.admin();
    let user = app.user("flood@x.io");
    let key = app.api_key(&user);
    const N: usize = 30;
    let (flood, answered) = flood_change_password(&app, &user, N);
    // Wait until most of the flood is waiting in an actor's queue (the mailbox gauge counts it).
    let deadline = Instant::now() + Duration::from_secs(60);
    while gauge_sum(&app, &admin, "actor_mailbox_depth") < 20.0 {
        assert!(Instant::now() < deadline, "the flood never queued up");
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = app.client().get(app.url("/v1/auth/me")).header("Authorization", key.as_str()).send().unwrap();
    let pending = N - answered.load(Ordering::SeqCst);
    assert_eq!(r.status(), 200);
    assert!(pending >= 8, "the key check was answered only after the flood drained ({pending} attempts still pending)");
    let statuses: Vec<u16> = flood.into_iter().map(|h| h.join().unwrap().0).collect();
    assert!(statuses.iter().all(|&s| s == 403), "{statuses:?}");
}

#[test]
fn cross_origin_logout_is_refused_and_the_session_survives() {
    let app = spawn_app();
    let c = app.admin();
    let r = c.post(app.url("/v1/auth/logout")).header("Origin", "https://evil.example").send().unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none(), "a refused logout does not clear the cookie");
    let v: Value = r.json().unwrap();
    assert_eq!(v["code"], "forbidden");
    assert!(v["error"].as_str().unwrap().contains("CSRF"), "{v}");
    assert_eq!(c.get(app.url("/v1/auth/me")).send().unwrap().status(), 200, "the session still works");
    // A Referer from elsewhere is refused the same way; the server's own Origin logs out.
    let r = c.post(app.url("/v1/auth/logout")).header("Referer", "https://evil.example/page").send().unwrap();
    assert_error(r, 403);
    assert_eq!(c.post(app.url("/v1/auth/logout")).header("Origin", app.base.clone()).send().unwrap().status(), 200);
    assert_error(c.get(app.url("/v1/auth/me")).send().unwrap(), 401);
}

fn session_cookie(r: &reqwest::blocking::Response) -> String {
    r.headers().get("set-cookie").expect("Set-Cookie").to_str().unwrap().to_string()
}

#[test]
fn sessions_expire_server_side() {
    let app = spawn_app_with(&[("IMGCLOUD_AUTH__SESSION_TTL_SECS", "5")]);
    let r = login_raw(&app, ADMIN_EMAIL, ADMIN_PASSWORD);
    let logged_in = Instant::now();
    assert_eq!(r.status(), 200);
    let set_cookie = session_cookie(&r);
    assert!(set_cookie.contains("Max-Age=5"), "the cookie lives as long as the session: {set_cookie}");
    // Sent by hand from a client without a cookie jar, so the client's own expiry of the cookie
    // cannot hide whether the server still honours it.
    let pair = set_cookie.split(';').next().unwrap().to_string();
    let me = || Client::new().get(app.url("/v1/auth/me")).header("Cookie", pair.as_str()).send().unwrap();
    assert_eq!(me().status(), 200);
    // expires_at is stored in whole seconds: 5 s after the reply the clock is past it whatever the rounding.
    std::thread::sleep(Duration::from_secs(7).saturating_sub(logged_in.elapsed()));
    let msg = assert_error(me(), 401);
    assert!(msg.contains("expired"), "{msg}");
    // Still refused for mutations, and a fresh login works again.
    let r = Client::new().post(app.url("/v1/api-keys")).header("Cookie", pair.as_str()).json(&json!({ "name": "late" })).send().unwrap();
    assert_error(r, 401);
    assert_eq!(login_raw(&app, ADMIN_EMAIL, ADMIN_PASSWORD).status(), 200);
}

#[test]
fn uploads_are_rate_limited_per_ip() {
    let app = spawn_app_with(&[("IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE", "2")]);
    let key = app.api_key(&app.admin());
    for i in 0..2 {
        app.upload_ok(&key, quadrants(8, 8, image::ImageFormat::Png), &format!("q{i}.png"), &[]);
    }
    let r = app.upload(&key, quadrants(8, 8, image::ImageFormat::Png), "q2.png", &[]);
    let retry = retry_after(&r);
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_error(r, 429);
    let listed: Value = app.admin().get(app.url("/v1/assets")).send().unwrap().json().unwrap();
    assert_eq!(listed["assets"].as_array().unwrap().len(), 2, "the refused upload stored nothing");
}

#[test]
fn session_cookie_is_secure_only_under_an_https_public_url() {
    let https = spawn_app_with(&[("IMGCLOUD_PUBLIC_URL", "https://img.example")]);
    let cookie = session_cookie(&login_raw(&https, ADMIN_EMAIL, ADMIN_PASSWORD));
    assert!(cookie.split(';').any(|a| a.trim() == "Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let http = spawn_app_with(&[("IMGCLOUD_PUBLIC_URL", "http://img.example")]);
    let cookie = session_cookie(&login_raw(&http, ADMIN_EMAIL, ADMIN_PASSWORD));
    assert!(!cookie.split(';').any(|a| a.trim() == "Secure"), "{cookie}");
}
