//! A real Varnish (Debian's varnish 7) running deploy/varnish/imgcloud.vcl in front of the real server:
//! what enters the shared cache, what never does, f_auto variants per Accept class, and purges.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::ImageFormat;
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};

use crate::formats::sniff_format;
use crate::helpers::*;

/// varnishd, with its process group: dropped, it is stopped (TERM, then KILL) and its work dir removed.
struct Varnish {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for Varnish {
    fn drop(&mut self) {
        // TERM lets the manager stop its cache child; KILL if it does not within a few seconds.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn varnishd() -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join("varnishd"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("varnishd not found: run scripts/system-deps.sh (it installs Debian's varnish package)"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts varnishd on `port` with the deploy VCL, its backend pointed at `backend` (`host:port`).
fn start_varnish(port: u16, backend: &str) -> Varnish {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let vcl = std::fs::read_to_string(root.join("deploy/varnish/imgcloud.vcl")).unwrap();
    let (host, bport) = backend.trim_start_matches("http://").rsplit_once(':').unwrap();
    assert!(vcl.contains(".host = \"127.0.0.1\";") && vcl.contains(".port = \"8080\";"), "the VCL's backend lines changed");
    let vcl = vcl.replace(".host = \"127.0.0.1\";", &format!(".host = \"{host}\";")).replace(".port = \"8080\";", &format!(".port = \"{bport}\";"));
    let dir = tempfile::tempdir().unwrap();
    let vcl_path = dir.path().join("imgcloud.vcl");
    std::fs::write(&vcl_path, vcl).unwrap();
    let log = std::fs::File::create(dir.path().join("varnishd.log")).unwrap();
    // -F: foreground, no daemon, no systemd; -j none: no privilege separation, so the same command
    // works as root and as an ordinary user; -n: a private work dir, so runs never share state.
    let child = Command::new(varnishd())
        .args(["-F", "-j", "none", "-a", &format!("127.0.0.1:{port}"), "-s", "malloc,64m", "-p", "ban_lurker_sleep=0.1"])
        .arg("-f")
        .arg(&vcl_path)
        .arg("-n")
        .arg(dir.path().join("work"))
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start varnishd");
    let v = Varnish { child, base: format!("http://127.0.0.1:{port}"), dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    let c = plain();
    while Instant::now() < deadline {
        if c.get(format!("{}/healthz", v.base)).send().is_ok_and(|r| r.status() == 200) {
            return v;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("varnishd did not answer: {}", std::fs::read_to_string(v.dir.path().join("varnishd.log")).unwrap_or_default());
}

/// The server, with its purger aimed at a Varnish on a port chosen first, then that Varnish.
fn stack() -> (TestApp, Varnish) {
    let port = free_port();
    let purge_url = format!("http://127.0.0.1:{port}/");
    let app = spawn_app_with(&[("IMGCLOUD_CDN_PURGE__KIND", "http"), ("IMGCLOUD_CDN_PURGE__URL", &purge_url)]);
    let v = start_varnish(port, &app.base);
    (app, v)
}

/// No redirects, no cookies: an anonymous visitor.
fn plain() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(60)).build().unwrap()
}

fn x_cache(r: &Response) -> String {
    r.headers().get("x-cache").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

impl Varnish {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    fn get(&self, path: &str) -> Response {
        plain().get(self.url(path)).send().unwrap()
    }
}

#[test]
fn public_images_are_cached_private_and_owner_responses_never() {
    let (app, v) = stack();
    let admin = app.admin();
    let key = app.api_key(&admin);
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "pub")]);
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "priv"), ("visibility", "private")]);

    // Public, unversioned and versioned: the second request is served by Varnish.
    for path in ["/v1/image/w_20/pub", "/v1/image/w_20/v1/pub"] {
        let first = v.get(path);
        assert_eq!((first.status().as_u16(), x_cache(&first)), (200, "MISS".to_string()), "{path}");
        let second = v.get(path);
        assert_eq!((second.status().as_u16(), x_cache(&second)), (200, "HIT".to_string()), "{path}");
        assert_eq!(decode(&second.bytes().unwrap()).width(), 20);
    }

    // Owner credentials (API key, then session cookie) pass through and are never stored: the
    // next anonymous request for the same URL reaches the server and is refused.
    for _ in 0..2 {
        let r = plain().get(v.url("/v1/image/w_20/priv")).header("Authorization", &key).send().unwrap();
        assert_eq!((r.status().as_u16(), x_cache(&r)), (200, "MISS".to_string()));
    }
    let session = Client::builder().cookie_store(true).build().unwrap();
    let r = session.post(v.url("/v1/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })).send().unwrap();
    assert_eq!(r.status(), 200);
    for _ in 0..2 {
        let r = session.get(v.url("/v1/image/w_20/priv")).send().unwrap();
        assert_eq!((r.status().as_u16(), x_cache(&r)), (200, "MISS".to_string()), "a session cookie passes");
    }
    assert_error(v.get("/v1/image/w_20/priv"), 401);
    assert_error(v.get("/v1/image/w_20/priv"), 401);

    // A 404 is not kept: once the asset exists, the same URL through Varnish serves it.
    assert_error(v.get("/v1/image/later"), 404);
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "later")]);
    assert_eq!(v.get("/v1/image/later").status(), 200);
}

#[test]
fn signed_urls_are_not_served_past_expiry() {
    let (app, v) = stack();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "priv"), ("visibility", "private")]);
    let s: Value = app.client().post(app.url("/v1/image/sign")).header("Authorization", &key).json(&json!({ "public_id": "priv", "transform": "w_20", "ttl_seconds": 2 })).send().unwrap().json().unwrap();
    let path = s["url"].as_str().unwrap().strip_prefix(&app.base).unwrap().to_string();
    let expires = s["expires"].as_i64().unwrap();
    let r = v.get(&path);
    assert_eq!(r.status(), 200);
    let r = v.get(&path);
    assert_eq!((r.status().as_u16(), x_cache(&r)), (200, "HIT".to_string()), "a signed URL is shared-cacheable while valid");

    // The server refuses from the second after `expires`; Varnish must not answer from its copy then.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let past = Duration::from_secs((expires + 1) as u64).saturating_sub(now) + Duration::from_millis(100);
    std::thread::sleep(past);
    let r = v.get(&path);
    assert_eq!(x_cache(&r), "MISS");
    let msg = assert_error(r, 403);
    assert!(msg.contains("expired"), "{msg}");
}

/// Accept headers a CDN sees; the server's reading of each (direct) must equal what Varnish serves.
const ACCEPTS: &[&str] = &[
    "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    "image/avif,image/webp,*/*",
    "image/webp,*/*",
    "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5",
    "*/*",
    "image/*",
    "",
    "IMAGE/WEBP",
    "Image/AVIF",
    "image/webp;q=0.9, image/avif;q=0",
    "image/avif;q=0.0,image/webp",
    "image/avif ; Q = 0 , image/webp;q=0",
    "image/avif;q=-1, image/webp",
    "image/avif;q=abc",
    "image/avif;q=0.001",
    "image/avif, image/avif;q=0",
    "image/avif;q=0, image/avif",
    "image/avif;level=1;q=0, image/webp",
    "text/html , image/webp ; level=1 ; q=0.9",
    "image/avif2, x-image/webp, image/webpx",
    "text/image/avif",
];

fn format_of(r: Response) -> Option<&'static str> {
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["vary"], "Accept");
    sniff_format(&r.bytes().unwrap())
}

#[test]
fn f_auto_through_varnish_one_variant_per_accept_class() {
    let (app, v) = stack();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Jpeg), "q.jpg", &[("public_id", "auto")]);
    let path = "/v1/image/w_20,f_auto/auto";
    let via = |accept: &str| plain().get(v.url(path)).header("Accept", accept).send().unwrap();

    // One miss per class fills the cache; each class gets its own format.
    for (accept, want) in [("image/avif", "avif"), ("image/webp", "webp"), ("*/*", "jpg")] {
        let r = via(accept);
        assert_eq!(x_cache(&r), "MISS", "{accept}");
        assert_eq!(format_of(r), Some(want), "{accept}");
    }
    // Every other header is one of those three variants (a hit), in the format the server itself chooses.
    for accept in ACCEPTS {
        let direct = format_of(plain().get(app.url(path)).header("Accept", *accept).send().unwrap());
        let r = via(accept);
        assert_eq!(x_cache(&r), "HIT", "'{accept}' made a fourth variant");
        assert_eq!(format_of(r), direct, "'{accept}': Varnish's class differs from the server's");
    }
    // Two Accept lines are one list, for Varnish as for the server.
    let two = |to: &str| plain().get(to).header("Accept", "image/jpeg").header("Accept", "image/webp");
    let direct = format_of(two(&app.url(path)).send().unwrap());
    assert_eq!(direct, Some("webp"));
    assert_eq!(format_of(two(&v.url(path)).send().unwrap()), direct);
}

/// BAN with the asset's tag, as the server's http purger sends it: every rendition of that asset
/// leaves the cache, other assets stay.
#[test]
fn a_ban_by_tag_drops_every_rendition_of_one_asset() {
    let (app, v) = stack();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "a")]);
    app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", "b")]);
    let paths = ["/v1/image/a", "/v1/image/w_10/a", "/v1/image/v1/a", "/v1/image/b"];
    for p in paths {
        // Read the whole miss, so Varnish has the object stored (not still streaming it) before the
        // second request asks for it.
        let first = v.get(p);
        assert_eq!(first.status(), 200, "{p}");
        first.bytes().unwrap();
        assert_eq!(x_cache(&v.get(p)), "HIT", "{p}");
    }
    let tag = v.get("/v1/image/a").headers()["surrogate-key"].to_str().unwrap().to_string();
    // A prefix of the tag is another tag: nothing goes.
    let r = plain().request(reqwest::Method::from_bytes(b"BAN").unwrap(), v.url("/")).header("Surrogate-Key", &tag[..tag.len() - 1]).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(x_cache(&v.get("/v1/image/a")), "HIT");
    // Tags that could be regex syntax are refused.
    let r = plain().request(reqwest::Method::from_bytes(b"BAN").unwrap(), v.url("/")).header("Surrogate-Key", ".*").send().unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(x_cache(&v.get("/v1/image/b")), "HIT");

    let r = plain().request(reqwest::Method::from_bytes(b"PURGE").unwrap(), v.url("/")).header("Surrogate-Key", format!("img-0000000000000000 {tag}")).send().unwrap();
    assert_eq!(r.status(), 200);
    for p in &paths[..3] {
        assert_eq!(x_cache(&v.get(p)), "MISS", "{p} survived the ban");
    }
    assert_eq!(x_cache(&v.get("/v1/image/b")), "HIT", "another asset's renditions stay");
    // Cloudflare's comma-separated Cache-Tag works as well.
    let r = plain().request(reqwest::Method::from_bytes(b"BAN").unwrap(), v.url("/")).header("Cache-Tag", format!("{tag},img-0000000000000000")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(x_cache(&v.get("/v1/image/a")), "MISS");
}

/// Polls through Varnish until `done` holds, for at most 2 s after the change was acknowledged.
fn within_2s(v: &Varnish, path: &str, what: &str, done: impl Fn(&Response) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let r = v.get(path);
        if done(&r) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: Varnish still served the old object 2 s later ({} {})", r.status(), x_cache(&r));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The server's purger (the outbox worker, `cdn_purge.kind = "http"`) through Varnish: overwrite, delete and public→private purge by tag.
#[test]
fn changes_purge_varnish_within_2s() {
    let (app, v) = stack();
    let key = app.api_key(&app.admin());
    for id in ["hero", "gone", "flip"] {
        app.upload_ok(&key, quadrants(40, 40, ImageFormat::Png), "q.png", &[("public_id", id)]);
        let p = format!("/v1/image/{id}");
        v.get(&p);
        assert_eq!(x_cache(&v.get(&p)), "HIT", "{p}");
    }
    v.get("/v1/image/w_20/hero");
    assert_eq!(x_cache(&v.get("/v1/image/w_20/hero")), "HIT");

    app.upload_ok(&key, quadrants(60, 60, ImageFormat::Png), "q.png", &[("public_id", "hero"), ("overwrite", "true")]);
    within_2s(&v, "/v1/image/hero", "overwrite", |r| r.status() == 200 && x_cache(r) == "MISS");
    assert_eq!(decode(&v.get("/v1/image/hero").bytes().unwrap()).width(), 60);
    within_2s(&v, "/v1/image/w_20/hero", "overwrite (a transform)", |r| r.status() == 200 && x_cache(r) == "MISS");

    let r = app.client().delete(app.url("/v1/assets/gone")).header("Authorization", &key).send().unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    within_2s(&v, "/v1/image/gone", "delete", |r| r.status() == 404);

    let r = app.client().patch(app.url("/v1/assets/flip")).header("Authorization", &key).json(&json!({ "visibility": "private" })).send().unwrap();
    assert_eq!(r.status(), 200);
    within_2s(&v, "/v1/image/flip", "public to private", |r| r.status() == 401);
}
