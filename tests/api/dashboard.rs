//! The dashboard's server side: embedded files, redirects, the SPA fallback, and the API it added
//! (daily usage, folders, tags). The browser tests live in dashboard/tests.
use std::path::{Path, PathBuf};

use image::ImageFormat;
use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::helpers::*;

fn no_redirects() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard/app")
}

fn app_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            app_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn root_and_bare_dashboard_redirect_to_the_app() {
    let app = spawn_app();
    let c = no_redirects();
    let r = c.get(app.url("/")).send().unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "/dashboard/");
    let r = c.get(app.url("/dashboard")).send().unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "/dashboard/");
}

#[test]
fn every_app_file_is_served_from_the_binary_under_the_strict_csp() {
    // The server runs in a temporary directory: the files can only come from the binary itself.
    let app = spawn_app();
    let c = no_redirects();
    let mut files = vec![];
    app_files(&app_dir(), &mut files);
    assert!(files.iter().any(|p| p.ends_with("index.html")));
    for f in &files {
        let rel = f.strip_prefix(app_dir()).unwrap().to_string_lossy().replace('\\', "/");
        let r = c.get(app.url(&format!("/dashboard/{rel}"))).send().unwrap();
        assert_eq!(r.status(), 200, "{rel}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        if rel.ends_with(".js") {
            assert!(ct.starts_with("text/javascript"), "{rel}: {ct}");
        }
        if rel.ends_with(".css") {
            assert!(ct.starts_with("text/css"), "{rel}: {ct}");
        }
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(r.bytes().unwrap().as_ref(), std::fs::read(f).unwrap().as_slice(), "{rel}");
    }
}

#[test]
fn app_files_need_nothing_from_other_origins_and_no_inline_script() {
    let mut files = vec![];
    app_files(&app_dir(), &mut files);
    for f in files.iter().filter(|p| p.extension().is_some_and(|e| e == "html" || e == "js" || e == "css")) {
        let text = std::fs::read_to_string(f).unwrap();
        let lower = text.to_ascii_lowercase();
        for marker in ["src=\"", "href=\"", "from '", "from \"", "import('", "url(", "@import"] {
            for (i, _) in lower.match_indices(marker) {
                let rest = lower[i + marker.len()..].trim_start_matches(['"', '\'', ' ']);
                assert!(!rest.starts_with("http:") && !rest.starts_with("https:") && !rest.starts_with("//"), "{} loads from another origin: {}", f.display(), &text[i..(i + 80).min(text.len())]);
            }
        }
        if f.extension().is_some_and(|e| e == "html") {
            // Every <script> has a src: the CSP refuses inline script, so inline code would silently not run.
            for (i, _) in lower.match_indices("<script") {
                let tag_end = lower[i..].find('>').unwrap() + i;
                assert!(lower[i..tag_end].contains(" src="), "{}: inline <script>", f.display());
            }
            assert!(!lower.contains(" onclick=") && !lower.contains(" onload="), "{}: inline handler", f.display());
        }
    }
}

#[test]
fn client_routes_fall_back_to_the_app_but_missing_files_are_404() {
    let app = spawn_app();
    let c = no_redirects();
    let index = std::fs::read(app_dir().join("index.html")).unwrap();
    // Client routes may hold dots: public_ids do.
    for path in ["/dashboard/", "/dashboard/keys", "/dashboard/assets/folder/deep/photo-1", "/dashboard/users?x=1", "/dashboard/assets/brand/logo.v2.png", "/dashboard/assets/logo.png"] {
        let r = c.get(app.url(path)).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        assert_eq!(r.headers()["cache-control"], "no-cache");
        assert_eq!(r.bytes().unwrap().as_ref(), index.as_slice(), "{path}");
    }
    // A file-like path that does not exist must not come back as HTML a browser would refuse as a module.
    assert_error(c.get(app.url("/dashboard/js/no-such-module.js")).send().unwrap(), 404);
    assert_error(c.get(app.url("/dashboard/no-such.css")).send().unwrap(), 404);

    // Revalidation: the ETag answers 304, and HEAD works as for every GET route.
    let r = c.get(app.url("/dashboard/")).send().unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let r = c.get(app.url("/dashboard/")).header("if-none-match", &etag).send().unwrap();
    assert_eq!(r.status(), 304);
    let r = c.head(app.url("/dashboard/keys")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_error(c.post(app.url("/dashboard/")).send().unwrap(), 405);
}

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

#[test]
fn daily_usage_has_every_day_and_counts_todays_deliveries() {
    let app = spawn_app();
    let admin = app.admin();
    let alice = app.user("alice@test.local");
    let bob = app.user("bob@test.local");
    let akey = app.api_key(&alice);
    app.upload_ok(&akey, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "daily")]);
    let mut bytes = 0;
    for t in ["w_20", "w_30", "w_20"] {
        bytes += app.client().get(app.url(&format!("/v1/image/{t}/daily"))).send().unwrap().bytes().unwrap().len() as i64;
    }

    let d: Value = alice.get(app.url("/v1/usage/daily?days=7")).send().unwrap().json().unwrap();
    let days = d["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(d["all"], false);
    // Consecutive UTC dates, oldest first, ending today; only today has traffic.
    let parse = |v: &Value| time::Date::parse(v["date"].as_str().unwrap(), time::macros::format_description!("[year]-[month]-[day]")).unwrap();
    for w in days.windows(2) {
        assert_eq!(parse(&w[1]) - parse(&w[0]), time::Duration::days(1), "{d}");
    }
    assert_eq!(days[6]["date"], today());
    assert_eq!(days[6]["bandwidth_bytes"].as_i64(), Some(bytes));
    assert_eq!(days[6]["requests"].as_i64(), Some(3));
    assert!(days[..6].iter().all(|x| x["bandwidth_bytes"] == 0 && x["requests"] == 0), "{d}");

    // The same figures through an API key; the default window is 30 days.
    let d: Value = app.client().get(app.url("/v1/usage/daily")).header("Authorization", &akey).send().unwrap().json().unwrap();
    assert_eq!(d["days"].as_array().unwrap().len(), 30);
    assert_eq!(d["days"][29]["bandwidth_bytes"].as_i64(), Some(bytes));

    // Bob's traffic is his own; everyone's is for the admin only.
    let d: Value = bob.get(app.url("/v1/usage/daily?days=1")).send().unwrap().json().unwrap();
    assert_eq!(d["days"], json!([{ "date": today(), "bandwidth_bytes": 0, "requests": 0 }]));
    assert_error(bob.get(app.url("/v1/usage/daily?all=true")).send().unwrap(), 403);
    let d: Value = admin.get(app.url("/v1/usage/daily?days=2&all=true")).send().unwrap().json().unwrap();
    assert_eq!(d["all"], true);
    assert_eq!(d["days"][1]["bandwidth_bytes"].as_i64(), Some(bytes));
    let d: Value = admin.get(app.url("/v1/usage/daily?days=2")).send().unwrap().json().unwrap();
    assert_eq!(d["days"][1]["bandwidth_bytes"], 0, "the admin's own traffic is zero");

    for bad in ["days=0", "days=367", "days=abc"] {
        assert_error(alice.get(app.url(&format!("/v1/usage/daily?{bad}"))).send().unwrap(), 400);
    }
    assert_error(app.client().get(app.url("/v1/usage/daily")).send().unwrap(), 401);
}

#[test]
fn folders_and_tags_list_only_what_the_caller_may_list() {
    let app = spawn_app();
    let admin = app.admin();
    let akey = app.api_key(&app.user("alice@test.local"));
    let bkey = app.api_key(&app.user("bob@test.local"));
    let png = || quadrants(8, 8, ImageFormat::Png);
    app.upload_ok(&akey, png(), "a.png", &[("folder", "trips/2024"), ("tags", "beach,sun")]);
    app.upload_ok(&akey, png(), "b.png", &[("folder", "trips/2024"), ("tags", "beach")]);
    app.upload_ok(&akey, png(), "c.png", &[("folder", "trips"), ("tags", "")]);
    app.upload_ok(&akey, png(), "root.png", &[]);
    // `archive` and `archive/2023` hold no asset themselves, only a sub-folder that does.
    app.upload_ok(&akey, png(), "e.png", &[("folder", "archive/2023/jan")]);
    app.upload_ok(&bkey, png(), "d.png", &[("folder", "secret"), ("tags", "bob-only")]);

    let get = |auth: &str, path: &str| -> Value { app.client().get(app.url(path)).header("Authorization", auth).send().unwrap().json().unwrap() };
    // Every folder and its parents: `count` directly inside, `total` with sub-folders.
    assert_eq!(
        get(&akey, "/v1/folders"),
        json!({ "folders": [
            { "folder": "archive", "count": 0, "total": 1 },
            { "folder": "archive/2023", "count": 0, "total": 1 },
            { "folder": "archive/2023/jan", "count": 1, "total": 1 },
            { "folder": "trips", "count": 1, "total": 3 },
            { "folder": "trips/2024", "count": 2, "total": 2 },
        ] })
    );
    // A parent from the list, used as folder_prefix, finds exactly its `total`.
    let under: Value = get(&akey, "/v1/assets?folder_prefix=archive");
    assert_eq!(under["assets"].as_array().unwrap().len(), 1, "{under}");
    assert_eq!(under["assets"][0]["folder"], "archive/2023/jan");
    assert_eq!(get(&akey, "/v1/tags"), json!({ "tags": [{ "tag": "beach", "count": 2 }, { "tag": "sun", "count": 1 }] }));
    assert_eq!(get(&bkey, "/v1/folders"), json!({ "folders": [{ "folder": "secret", "count": 1, "total": 1 }] }));
    let all: Value = admin.get(app.url("/v1/tags")).send().unwrap().json().unwrap();
    assert_eq!(all["tags"].as_array().unwrap().len(), 3, "{all}");
    assert_error(app.client().get(app.url("/v1/folders")).send().unwrap(), 401);
}
