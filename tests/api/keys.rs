//! API keys: mint, use, list without secrets, revoke, and no plaintext secret on disk.
use serde_json::{json, Value};

use crate::helpers::*;

#[test]
fn mint_use_list_revoke() {
    let app = spawn_app();
    let c = app.admin();
    let r = c.post(app.url("/v1/api-keys")).json(&json!({ "name": "ci" })).send().unwrap();
    assert_eq!(r.status(), 201);
    let k: Value = r.json().unwrap();
    let (key_id, secret) = (k["key_id"].as_str().unwrap().to_string(), k["key_secret"].as_str().unwrap().to_string());
    assert!(key_id.starts_with("ck_") && secret.starts_with("cs_"));
    // >= 128 random bits: 32 hex digits or more after the prefix.
    assert!(secret.len() - 3 >= 32);
    let auth = format!("ApiKey {key_id}:{secret}");

    let me: Value = app.client().get(app.url("/v1/auth/me")).header("Authorization", &auth).send().unwrap().json().unwrap();
    assert_eq!(me["via"], "api_key");
    assert_eq!(me["email"], ADMIN_EMAIL);

    let list_text = c.get(app.url("/v1/api-keys")).send().unwrap().text().unwrap();
    assert!(!list_text.contains(&secret), "list leaks the secret");
    let list: Value = serde_json::from_str(&list_text).unwrap();
    let entry = &list["api_keys"][0];
    assert_eq!(entry["key_id"], key_id.as_str());
    assert!(entry["last_used_at"].is_string(), "last_used_at recorded: {entry}");
    assert!(entry.get("key_secret").is_none());

    // No plaintext secret anywhere in the data directory (database, WAL, secrets).
    for f in walk(&app.dir.path().join("data")) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "secret in {}", f.display());
    }

    // Keys cannot mint keys: that needs a browser session.
    assert_error(app.client().post(app.url("/v1/api-keys")).header("Authorization", &auth).json(&json!({ "name": "x" })).send().unwrap(), 403);

    let id = k["id"].as_i64().unwrap();
    let r = c.post(app.url(&format!("/v1/api-keys/{id}/revoke"))).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().unwrap()["revoked_at"].is_string());
    assert_error(app.client().get(app.url("/v1/auth/me")).header("Authorization", &auth).send().unwrap(), 401);
}

#[test]
fn bad_keys_are_401() {
    let app = spawn_app();
    let c = app.admin();
    let auth = app.api_key(&c);
    let key_id = auth.trim_start_matches("ApiKey ").split(':').next().unwrap().to_string();
    for bad in [format!("ApiKey {key_id}:cs_wrong"), "ApiKey ck_nope:cs_nope".into(), "Bearer abc".into(), "ApiKey nocolon".into()] {
        assert_error(app.client().get(app.url("/v1/auth/me")).header("Authorization", bad).send().unwrap(), 401);
    }
    // revoke by key_id also works, and another user's key is not found for them
    let other = app.user("eve@test.local");
    assert_error(other.post(app.url(&format!("/v1/api-keys/{key_id}/revoke"))).send().unwrap(), 404);
    assert_eq!(c.post(app.url(&format!("/v1/api-keys/{key_id}/revoke"))).send().unwrap().status(), 200);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
