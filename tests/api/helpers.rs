//! spawn_app(): the real binary on port 0 with a fresh data directory, and cookie-keeping clients.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};

pub const ADMIN_EMAIL: &str = "admin@test.local";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct TestApp {
    child: Child,
    pub base: String,
    /// The credential-free metrics listener, when `IMGCLOUD_SERVER__METRICS_LISTEN` was set.
    pub metrics_base: Option<String>,
    pub dir: tempfile::TempDir,
    /// One admin session for reading /metrics, so polling tests do not spend the login rate limit.
    metrics_reader: std::sync::OnceLock<Client>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(&[])
}

pub fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    spawn_in(dir, env)
}

/// Starts the binary over an existing data directory (restart tests reuse one).
pub fn spawn_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> TestApp {
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imgcloud"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IMGCLOUD_LISTEN", "127.0.0.1:0")
        .env("IMGCLOUD_DATA_DIR", dir.path().join("data"))
        .env("IMGCLOUD_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("IMGCLOUD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("IMGCLOUD_AUTH__BCRYPT_COST", "4")
        .env("IMGCLOUD_SERVER__DEBUG_ROUTES", "true")
        .env("IMGCLOUD_SERVER__WORKERS", "2")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start imgcloud");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((who, rest)) = line.split_once(" listening on ") {
                let _ = tx.send((who.to_string(), rest.split_whitespace().next().unwrap_or_default().to_string()));
            }
        }
    });
    // The metrics listener, if any, is announced before the main one.
    let mut metrics_base = None;
    let base = loop {
        let (who, addr) = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            panic!("server did not start: {}", std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default())
        });
        match who.as_str() {
            "metrics" => metrics_base = Some(addr),
            _ => break addr,
        }
    };
    let app = TestApp { child, base, metrics_base, dir, metrics_reader: std::sync::OnceLock::new() };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if app.client().get(app.url("/healthz")).send().is_ok_and(|r| r.status() == 200) {
            return app;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server never became healthy");
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A fresh client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client::builder().cookie_store(true).timeout(Duration::from_secs(60)).build().unwrap()
    }

    pub fn login(&self, email: &str, password: &str) -> Client {
        let c = self.client();
        let r = c.post(self.url("/v1/auth/login")).json(&json!({ "email": email, "password": password })).send().unwrap();
        assert_eq!(r.status(), 200, "login as {email}: {:?}", r.text());
        c
    }

    pub fn admin(&self) -> Client {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    }

    /// Creates a plain user through the admin API and returns a signed-in client for them.
    pub fn user(&self, email: &str) -> Client {
        let r = self.admin().post(self.url("/v1/users")).json(&json!({ "email": email, "password": "user-password-1", "role": "user" })).send().unwrap();
        assert_eq!(r.status(), 201, "{:?}", r.text());
        self.login(email, "user-password-1")
    }

    /// Mints an API key for the signed-in client and returns the Authorization header value.
    pub fn api_key(&self, c: &Client) -> String {
        let k: Value = c.post(self.url("/v1/api-keys")).json(&json!({ "name": "test" })).send().unwrap().json().unwrap();
        format!("ApiKey {}:{}", k["key_id"].as_str().unwrap(), k["key_secret"].as_str().unwrap())
    }
}

/// Asserts the status and that the body is JSON with a non-empty `error`; returns the message.
pub fn assert_error(r: Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status, "unexpected status");
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(ct.starts_with("application/json"), "error content-type was {ct}");
    let v: Value = r.json().unwrap();
    let msg = v["error"].as_str().unwrap_or_default().to_string();
    assert!(!msg.is_empty(), "error body lacks a message: {v}");
    msg
}

/// Encodes an RGBA image drawn by `f` in the given format (png, jpg, webp, gif, bmp, tiff).
pub fn draw(w: u32, h: u32, format: image::ImageFormat, mut f: impl FnMut(u32, u32) -> [u8; 4]) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba(f(x, y)));
    let dynimg = match format {
        image::ImageFormat::Jpeg | image::ImageFormat::Bmp => image::DynamicImage::ImageRgb8(image::DynamicImage::ImageRgba8(img).to_rgb8()),
        _ => image::DynamicImage::ImageRgba8(img),
    };
    let mut out = std::io::Cursor::new(Vec::new());
    dynimg.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// Four solid quadrants: red top-left, green top-right, blue bottom-left, white bottom-right.
pub fn quadrants(w: u32, h: u32, format: image::ImageFormat) -> Vec<u8> {
    draw(w, h, format, move |x, y| match (x < w / 2, y < h / 2) {
        (true, true) => [255, 0, 0, 255],
        (false, true) => [0, 255, 0, 255],
        (true, false) => [0, 0, 255, 255],
        (false, false) => [255, 255, 255, 255],
    })
}

pub fn decode(bytes: &[u8]) -> image::RgbaImage {
    image::load_from_memory(bytes).expect("response decodes as an image").to_rgba8()
}

/// Per-channel closeness, for lossy formats.
pub fn near(a: [u8; 4], b: [u8; 4], tol: u8) -> bool {
    a.iter().zip(b.iter()).all(|(x, y)| x.abs_diff(*y) <= tol)
}

pub fn upload_form(bytes: Vec<u8>, file_name: &str, fields: &[(&str, &str)]) -> reqwest::blocking::multipart::Form {
    let mut form = reqwest::blocking::multipart::Form::new().part("file", reqwest::blocking::multipart::Part::bytes(bytes).file_name(file_name.to_string()));
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form
}

impl TestApp {
    /// Uploads through the API with the given Authorization header; returns the response.
    pub fn upload(&self, auth: &str, bytes: Vec<u8>, file_name: &str, fields: &[(&str, &str)]) -> Response {
        self.client().post(self.url("/v1/upload")).header("Authorization", auth).multipart(upload_form(bytes, file_name, fields)).send().unwrap()
    }

    /// Uploads and asserts success; returns the asset JSON.
    pub fn upload_ok(&self, auth: &str, bytes: Vec<u8>, file_name: &str, fields: &[(&str, &str)]) -> Value {
        let r = self.upload(auth, bytes, file_name, fields);
        let status = r.status().as_u16();
        let v: Value = r.json().unwrap();
        assert!(status == 201 || status == 200, "upload failed: {status} {v}");
        v
    }
}

/// A real third-party photo fetched by scripts/fetch-fixtures.sh (fails, never skips, when absent).
pub fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cache").join(name);
    std::fs::read(&p).unwrap_or_else(|_| panic!("missing fixture {}: run scripts/fetch-fixtures.sh", p.display()))
}

impl TestApp {
    /// SIGKILLs the server and hands back its data directory for a restart.
    pub fn crash(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The Prometheus text, read with an admin session (the public /metrics needs one).
    pub fn metrics_text(&self) -> String {
        let r = self.metrics_reader.get_or_init(|| self.admin()).get(self.url("/metrics")).send().unwrap();
        assert_eq!(r.status(), 200, "admin reads /metrics");
        r.text().unwrap()
    }

    /// Sum of a Prometheus counter over all its label sets.
    pub fn metric_sum(&self, name: &str) -> f64 {
        let text = self.metrics_text();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| l.split(['{', ' ']).next() == Some(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// Polls a metric (summed over its label sets) until `pred` holds, for at most 20 s.
pub fn wait_metric(app: &TestApp, name: &str, what: &str, pred: impl Fn(f64) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = app.metric_sum(name);
        if pred(v) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {name} is {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Noise that does not compress: a PNG of roughly w*h*3 bytes.
pub fn noise_png(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let mut s = seed.wrapping_mul(2654435761).max(1);
    draw(w, h, image::ImageFormat::Png, move |_, _| {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        let b = s.to_le_bytes();
        [b[0], b[1], b[2], 255]
    })
}

/// A 16-bit RGB PNG of `w x h`, mostly flat so it is small on disk but slow to decode.
pub fn sixteen_bit_png(w: u32, h: u32) -> Vec<u8> {
    let mut px = vec![0u16; (w * h * 3) as usize];
    for (i, v) in px.iter_mut().enumerate().step_by(997) {
        *v = (i % 65_536) as u16;
    }
    let img = image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(w, h, px).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb16(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}
