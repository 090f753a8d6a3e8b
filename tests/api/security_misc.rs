//! Issue 20 items 3, 7, 9, 10: version-shaped ids across owners, usage of deleted users and id
//! reuse, the CSRF origin and forwarded headers, the `__Host-` session cookie.
use image::ImageFormat;
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};

use crate::helpers::*;

fn solid(rgb: [u8; 3]) -> Vec<u8> {
    draw(8, 8, ImageFormat::Png, move |_, _| [rgb[0], rgb[1], rgb[2], 255])
}

const RED: [u8; 3] = [255, 0, 0];
const BLUE: [u8; 3] = [0, 0, 255];

/// A user created through the admin API, with an API key; returns (id, Authorization value).
fn user_with_key(app: &TestApp, email: &str) -> (i64, String) {
    let c = app.user(email);
    let me: Value = c.get(app.url("/v1/auth/me")).send().unwrap().json().unwrap();
    (me["id"].as_i64().unwrap(), app.api_key(&c))
}

/// Anonymous GET of a full URL: its status, centre pixel (on 200) and cache tag.
fn fetch(url: &str) -> (u16, Option<[u8; 4]>, String) {
    let r = Client::new().get(url).send().unwrap();
    let status = r.status().as_u16();
    let tag = r.headers().get("cache-tag").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let pixel = (status == 200).then(|| decode(&r.bytes().unwrap()).get_pixel(4, 4).0);
    (status, pixel, tag)
}

fn upload_as(app: &TestApp, key: &str, rgb: [u8; 3], fields: &[(&str, &str)]) -> Response {
    app.upload(key, solid(rgb), "pic.png", fields)
}

#[test]
fn a_version_shaped_id_never_shadows_another_owners_asset() {
    let app = spawn_app();
    let (_, alice) = user_with_key(&app, "alice@x.io");
    let (_, bob) = user_with_key(&app, "bob@x.io");

    // Alice first, Bob second: Bob's `logo` would turn /v1/image/v1/logo into version 1 of his.
    let a = app.upload_ok(&alice, solid(RED), "a.png", &[("public_id", "v1/logo")]);
    let versioned = app.url(&format!("/v1/image/v{}/v1/logo", a["version"]));
    assert_eq!(a["url"], versioned, "the url of a version-shaped id names its version: {a}");
    assert_eq!(a["versioned_url"], versioned);
    let msg = assert_error(upload_as(&app, &bob, BLUE, &[("public_id", "logo")]), 409);
    assert!(msg.contains("'v1/logo'") && msg.contains("another user"), "{msg}");
    let (status, pixel, alice_tag) = fetch(a["url"].as_str().unwrap());
    assert_eq!((status, pixel), (200, Some([255, 0, 0, 255])));
    // The URL she was given before (unversioned) still serves her image, under her tag.
    let (status, pixel, tag) = fetch(&app.url("/v1/image/v1/logo"));
    assert_eq!((status, pixel, tag), (200, Some([255, 0, 0, 255]), alice_tag.clone()));
    // GET /v1/assets gives the same url as the upload did.
    let got: Value = app.client().get(app.url("/v1/assets/v1/logo")).header("Authorization", &alice).send().unwrap().json().unwrap();
    assert_eq!(got["url"], versioned);

    // Bob first, Alice second: her `v3/photo` would be read as version 3 of his `photo`.
    app.upload_ok(&bob, solid(BLUE), "b.png", &[("public_id", "photo")]);
    let msg = assert_error(upload_as(&app, &alice, RED, &[("public_id", "v3/photo")]), 409);
    assert!(msg.contains("version 3 of 'photo'"), "{msg}");
    assert_error(upload_as(&app, &alice, RED, &[("public_id", "v1/photo")]), 409);

    // A generated id in a `v2/` folder is protected the same way, and its url is versioned.
    let g = app.upload_ok(&alice, solid(RED), "Holiday.png", &[("folder", "v2")]);
    let gid = g["public_id"].as_str().unwrap();
    let rest = gid.strip_prefix("v2/").expect("generated in the folder");
    assert_eq!(g["url"], app.url(&format!("/v1/image/v1/{gid}")));
    let msg = assert_error(upload_as(&app, &bob, BLUE, &[("public_id", rest)]), 409);
    assert!(msg.contains(gid), "{msg}");
    assert_eq!(fetch(&app.url(&format!("/v1/image/{gid}"))).1, Some([255, 0, 0, 255]));

    // One owner may hold both readings (their own urls carry versions); overwrites are unaffected.
    let own = upload_as(&app, &alice, BLUE, &[("public_id", "logo")]);
    assert_eq!(own.status(), 201, "{:?}", own.text());
    let over = upload_as(&app, &alice, BLUE, &[("public_id", "v1/logo"), ("overwrite", "true")]);
    assert_eq!(over.status(), 200, "{:?}", over.text());
    let over: Value = over.json().unwrap();
    assert_eq!(over["url"], app.url("/v1/image/v2/v1/logo"));
    assert_eq!(fetch(over["url"].as_str().unwrap()).1, Some([0, 0, 255, 255]));
    // Nothing Bob tried was stored.
    let listed: Value = app.client().get(app.url("/v1/assets")).header("Authorization", &bob).send().unwrap().json().unwrap();
    let ids: Vec<&str> = listed["assets"].as_array().unwrap().iter().map(|a| a["public_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["photo"]);
}

#[test]
fn signed_urls_and_plain_ids_keep_their_form() {
    let app = spawn_app();
    let (_, alice) = user_with_key(&app, "alice@x.io");
    let a = app.upload_ok(&alice, solid(RED), "a.png", &[("public_id", "albums/v2/cover")]);
    assert_eq!(a["url"], app.url("/v1/image/albums/v2/cover"), "only a first segment reads as a version");
    let p = app.upload_ok(&alice, solid(RED), "a.png", &[("public_id", "v5/secret"), ("visibility", "private")]);
    let signed: Value = app
        .client()
        .post(app.url("/v1/image/sign"))
        .header("Authorization", &alice)
        .json(&json!({ "public_id": "v5/secret" }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(signed["url"].as_str().unwrap().starts_with(&app.url("/v1/image/v1/v5/secret?")), "{signed}");
    assert_eq!(p["url"], app.url("/v1/image/v1/v5/secret"));
}

/// Deliveries of a user deleted before the flush must not block everyone else's counts, and the
/// next user must neither get the deleted id nor its counts.
#[test]
fn usage_of_a_deleted_user_is_dropped_and_ids_are_never_reused() {
    // Only GET /v1/usage/* flushes, so the deletion surely lands between delivery and flush.
    let app = spawn_app_with(&[("IMGCLOUD_SERVER__USAGE_FLUSH_SECS", "3600")]);
    let admin = app.admin();
    let (_, dave) = user_with_key(&app, "dave@x.io");
    let (carol_id, carol) = user_with_key(&app, "carol@x.io");
    let c = app.upload_ok(&carol, solid(RED), "c.png", &[("public_id", "carol-pic")]);
    assert_eq!(fetch(c["url"].as_str().unwrap()).0, 200);
    let d = app.upload_ok(&dave, solid(BLUE), "d.png", &[("public_id", "dave-pic")]);
    for _ in 0..2 {
        assert_eq!(fetch(d["url"].as_str().unwrap()).0, 200);
    }
    let r = app.client().delete(app.url("/v1/assets/carol-pic")).header("Authorization", &carol).send().unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(admin.delete(app.url(&format!("/v1/users/{carol_id}"))).send().unwrap().status(), 204);

    let usage = |key: &str| -> Value { app.client().get(app.url("/v1/usage/summary")).header("Authorization", key).send().unwrap().json().unwrap() };
    let figures = usage(&dave);
    assert_eq!(figures["requests"], 2, "the other users' counts are flushed: {figures}");
    assert!(figures["bandwidth_bytes"].as_i64().unwrap() > 0, "{figures}");
    let daily: Value = app.client().get(app.url("/v1/usage/daily?days=1")).header("Authorization", &dave).send().unwrap().json().unwrap();
    assert_eq!(daily["days"][0]["requests"], 2, "{daily}");

    // Carol was the newest user; the next one gets a new id and starts from zero.
    let (erin_id, erin) = user_with_key(&app, "erin@x.io");
    assert!(erin_id > carol_id, "user id {carol_id} was handed out again ({erin_id})");
    let figures = usage(&erin);
    assert_eq!((figures["requests"].as_i64(), figures["bandwidth_bytes"].as_i64()), (Some(0), Some(0)), "{figures}");
    let all: Value = admin.get(app.url("/v1/usage/summary?all=true")).send().unwrap().json().unwrap();
    assert_eq!(all["totals"]["requests"], 2, "carol's delivery counted nowhere: {all}");

    // API key ids are not reused either.
    let mint = |c: &Client| -> Value { c.post(app.url("/v1/api-keys")).json(&json!({ "name": "k" })).send().unwrap().json().unwrap() };
    let frank = app.user("frank@x.io");
    let k1 = mint(&frank);
    let frank_id = frank.get(app.url("/v1/auth/me")).send().unwrap().json::<Value>().unwrap()["id"].clone();
    assert_eq!(admin.delete(app.url(&format!("/v1/users/{frank_id}"))).send().unwrap().status(), 204);
    let k2 = mint(&app.user("gina@x.io"));
    assert!(k2["id"].as_i64().unwrap() > k1["id"].as_i64().unwrap(), "{k1} {k2}");
}

fn mint_key(c: &Client, app: &TestApp, headers: &[(&str, &str)]) -> Response {
    let mut r = c.post(app.url("/v1/api-keys")).json(&json!({ "name": "x" }));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().unwrap()
}

#[test]
fn forwarded_headers_from_an_untrusted_client_do_not_pass_the_csrf_check() {
    let app = spawn_app();
    let c = app.admin();
    for spoof in [("X-Forwarded-Host", "evil.test"), ("Forwarded", "host=evil.test;proto=http")] {
        let r = mint_key(&c, &app, &[("Origin", "http://evil.test"), spoof]);
        assert!(assert_error(r, 403).contains("CSRF"), "{spoof:?}");
    }
    let r = mint_key(&c, &app, &[("Origin", "https://evil.test"), ("X-Forwarded-Host", "evil.test"), ("X-Forwarded-Proto", "https")]);
    assert_error(r, 403);
    // The server's own origin still passes.
    assert_eq!(mint_key(&c, &app, &[("Origin", &app.base)]).status(), 201);
}

#[test]
fn forwarded_headers_count_only_from_a_trusted_proxy_and_never_beside_a_public_url() {
    // Without a public URL, a trusted proxy (the test client is on loopback) names the host the browser used.
    let app = spawn_app_with(&[("IMGCLOUD_SERVER__TRUSTED_PROXIES", "127.0.0.1")]);
    let c = app.admin();
    let r = mint_key(&c, &app, &[("Origin", "https://img.test"), ("X-Forwarded-Host", "img.test"), ("X-Forwarded-Proto", "https")]);
    assert_eq!(r.status(), 201);
    assert_error(mint_key(&c, &app, &[("Origin", "https://evil.test"), ("X-Forwarded-Host", "img.test"), ("X-Forwarded-Proto", "https")]), 403);

    // With a public URL configured, that origin is the only one, whatever a proxy says.
    let app = spawn_app_with(&[("IMGCLOUD_SERVER__TRUSTED_PROXIES", "127.0.0.1"), ("IMGCLOUD_PUBLIC_URL", "http://img.example")]);
    let c = app.admin();
    let r = mint_key(&c, &app, &[("Origin", "http://evil.test"), ("X-Forwarded-Host", "evil.test")]);
    assert!(assert_error(r, 403).contains("CSRF"));
    assert_error(mint_key(&c, &app, &[("Origin", &app.base)]), 403);
    assert_eq!(mint_key(&c, &app, &[("Origin", "http://img.example")]).status(), 201);
}

fn login_raw(app: &TestApp) -> Response {
    app.client().post(app.url("/v1/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })).send().unwrap()
}

fn set_cookie(r: &Response) -> String {
    r.headers().get("set-cookie").expect("Set-Cookie").to_str().unwrap().to_string()
}

fn attributes(cookie: &str) -> Vec<String> { cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect() }

#[test]
fn an_https_public_url_gets_a_host_prefixed_session_cookie() {
    let app = spawn_app_with(&[("IMGCLOUD_PUBLIC_URL", "https://img.example")]);
    let cookie = set_cookie(&login_raw(&app));
    let pair = cookie.split(';').next().unwrap().to_string();
    assert!(pair.starts_with("__Host-imgcloud_session="), "{cookie}");
    let attrs = attributes(&cookie);
    assert!(attrs.contains(&"secure".into()) && attrs.contains(&"path=/".into()), "{cookie}");
    assert!(!attrs.iter().any(|a| a.starts_with("domain")), "{cookie}");
    // Sent by hand: a cookie jar would not send a Secure cookie to this plain-http test server.
    let token = pair.split_once('=').unwrap().1;
    let me = |cookie: &str| Client::new().get(app.url("/v1/auth/me")).header("Cookie", cookie).send().unwrap();
    assert_eq!(me(&pair).status(), 200);
    // The plain name (what a sibling subdomain could plant) is not read at all.
    assert_error(me(&format!("imgcloud_session={token}")), 401);
    let post = |path: &str| Client::new().post(app.url(path)).header("Cookie", pair.as_str()).header("Origin", "https://img.example");
    assert_eq!(post("/v1/api-keys").json(&json!({ "name": "k" })).send().unwrap().status(), 201);
    let out = post("/v1/auth/logout").send().unwrap();
    assert_eq!(out.status(), 200);
    let cleared = set_cookie(&out);
    assert!(cleared.starts_with("__Host-imgcloud_session=;") && attributes(&cleared).contains(&"max-age=0".into()), "{cleared}");
    assert_error(me(&pair), 401);

    // Plain-http development keeps the plain name, not Secure.
    let app = spawn_app();
    let cookie = set_cookie(&login_raw(&app));
    assert!(cookie.starts_with("imgcloud_session="), "{cookie}");
    assert!(!attributes(&cookie).contains(&"secure".into()), "{cookie}");
}
