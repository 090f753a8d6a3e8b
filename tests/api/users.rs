//! Users CRUD as admin, 403 for plain users, the last-admin rule, and users who still own assets.
use serde_json::{json, Value};

use crate::helpers::*;

#[test]
fn admin_manages_users() {
    let app = spawn_app();
    let a = app.admin();
    let r = a.post(app.url("/v1/users")).json(&json!({ "email": "Bob@Test.local", "password": "bob-password", "role": "user" })).send().unwrap();
    assert_eq!(r.status(), 201);
    let bob: Value = r.json().unwrap();
    assert_eq!(bob["email"], "bob@test.local");
    assert_eq!(bob["role"], "user");
    assert!(bob["created_at"].as_str().unwrap().contains('T'));
    assert!(bob.get("password_hash").is_none());
    let id = bob["id"].as_i64().unwrap();

    let dup = a.post(app.url("/v1/users")).json(&json!({ "email": "bob@test.local", "password": "bob-password", "role": "user" })).send().unwrap();
    assert_error(dup, 409);
    let bad = a.post(app.url("/v1/users")).json(&json!({ "email": "nope", "password": "bob-password" })).send().unwrap();
    assert_error(bad, 400);
    let bad = a.post(app.url("/v1/users")).json(&json!({ "email": "c@x.io", "password": "bob-password", "role": "root" })).send().unwrap();
    assert_error(bad, 400);

    let list: Value = a.get(app.url("/v1/users")).send().unwrap().json().unwrap();
    assert_eq!(list["users"].as_array().unwrap().len(), 2);

    let r = a.patch(app.url(&format!("/v1/users/{id}"))).json(&json!({ "role": "admin", "password": "bob-password-2" })).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["role"], "admin");
    app.login("bob@test.local", "bob-password-2");

    assert_eq!(a.delete(app.url(&format!("/v1/users/{id}"))).send().unwrap().status(), 204);
    assert_error(a.delete(app.url(&format!("/v1/users/{id}"))).send().unwrap(), 404);
    assert_error(a.patch(app.url("/v1/users/abc")).json(&json!({})).send().unwrap(), 400);
}

#[test]
fn plain_user_gets_403() {
    let app = spawn_app();
    let u = app.user("carol@test.local");
    assert_error(u.get(app.url("/v1/users")).send().unwrap(), 403);
    assert_error(u.post(app.url("/v1/users")).json(&json!({ "email": "d@x.io", "password": "password1" })).send().unwrap(), 403);
    assert_error(u.delete(app.url("/v1/users/1")).send().unwrap(), 403);
    assert_error(app.client().get(app.url("/v1/users")).send().unwrap(), 401);
}

#[test]
fn last_admin_cannot_be_removed_or_demoted() {
    let app = spawn_app();
    let a = app.admin();
    let me: Value = a.get(app.url("/v1/auth/me")).send().unwrap().json().unwrap();
    let id = me["id"].as_i64().unwrap();
    assert!(assert_error(a.delete(app.url(&format!("/v1/users/{id}"))).send().unwrap(), 409).contains("last admin"));
    assert!(assert_error(a.patch(app.url(&format!("/v1/users/{id}"))).json(&json!({ "role": "user" })).send().unwrap(), 409).contains("last admin"));
}

#[test]
fn a_user_who_owns_assets_is_kept_with_a_message_saying_what_to_do() {
    let app = spawn_app();
    let a = app.admin();
    let dana = app.user("dana@test.local");
    let me: Value = dana.get(app.url("/v1/auth/me")).send().unwrap().json().unwrap();
    let id = me["id"].as_i64().unwrap();
    let key = app.api_key(&dana);
    let png = || quadrants(8, 8, image::ImageFormat::Png);
    app.upload_ok(&key, png(), "one.png", &[("public_id", "dana/one")]);

    // Named by email, in the singular for one asset, with the way out and where to find them.
    let msg = assert_error(a.delete(app.url(&format!("/v1/users/{id}"))).send().unwrap(), 409);
    assert_eq!(msg, format!("dana@test.local still owns 1 asset: delete it first (GET /v1/assets?owner={id} lists it), then delete the user"));
    app.upload_ok(&key, png(), "two.png", &[("public_id", "dana/two")]);
    let msg = assert_error(a.delete(app.url(&format!("/v1/users/{id}"))).send().unwrap(), 409);
    assert_eq!(msg, format!("dana@test.local still owns 2 assets: delete them first (GET /v1/assets?owner={id} lists them), then delete the user"));

    // The listing the message names shows exactly those assets; once they are gone the user goes.
    let listed: Value = a.get(app.url(&format!("/v1/assets?owner={id}"))).send().unwrap().json().unwrap();
    let mut ids: Vec<&str> = listed["assets"].as_array().unwrap().iter().map(|x| x["public_id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["dana/one", "dana/two"]);
    for pid in ids {
        assert_eq!(a.delete(app.url(&format!("/v1/assets/{pid}"))).send().unwrap().status(), 204);
    }
    assert_eq!(a.delete(app.url(&format!("/v1/users/{id}"))).send().unwrap().status(), 204);
}

#[test]
fn a_new_email_shows_on_the_users_assets_at_once() {
    let app = spawn_app();
    let bob = app.user("bob@test.local");
    let asset = app.upload_ok(&app.api_key(&bob), quadrants(32, 32, image::ImageFormat::Png), "b.png", &[("public_id", "bobs-photo")]);
    let admin = app.admin();
    let owner_email = || admin.get(app.url("/v1/assets/bobs-photo")).send().unwrap().json::<Value>().unwrap()["owner_email"].clone();
    // Read through the API and delivered, so the row sits in the server's metadata cache.
    assert_eq!(owner_email(), "bob@test.local");
    assert_eq!(app.client().get(app.url("/v1/image/bobs-photo")).send().unwrap().status(), 200);

    let id = asset["owner"].as_i64().unwrap();
    let r = admin.patch(app.url(&format!("/v1/users/{id}"))).json(&json!({ "email": "robert@test.local" })).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(owner_email(), "robert@test.local");
    let listed: Value = admin.get(app.url("/v1/assets")).send().unwrap().json().unwrap();
    assert_eq!(listed["assets"][0]["owner_email"], "robert@test.local");
}
