//! The binary's other faces: `user add`, `render`, first-run admin generation, graceful SIGTERM.
use std::process::Command;
use std::time::{Duration, Instant};

use image::ImageFormat;
use serde_json::json;

use crate::helpers::*;

fn imgcloud() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_imgcloud"));
    c.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("IMGCLOUD_AUTH__BCRYPT_COST", "4");
    c
}

#[test]
fn user_add_then_login() {
    let dir = tempfile::tempdir().unwrap();
    let out = imgcloud()
        .args(["user", "add", "--email", "ops@test.local", "--admin"])
        .env("IMGCLOUD_DATA_DIR", dir.path().join("data"))
        .env("IMGCLOUD_NEW_PASSWORD", "ops-password-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin ops@test.local"));
    let app = spawn_in(dir, &[]);
    let c = app.login("ops@test.local", "ops-password-1");
    assert_eq!(c.get(app.url("/v1/users")).send().unwrap().status(), 200, "the CLI user is an admin");
    let bad = imgcloud().args(["user", "add", "--email", "x@y.z"]).env("IMGCLOUD_DATA_DIR", app.dir.path().join("data")).env("IMGCLOUD_NEW_PASSWORD", "short").output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("at least 8"));
}

#[test]
fn first_start_generates_and_prints_an_admin_password() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = imgcloud()
        .arg("serve")
        .env("IMGCLOUD_DATA_DIR", dir.path().join("data"))
        .env("IMGCLOUD_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let created = lines.next().unwrap();
    let password = created.split("generated password: ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let base = lines.next().unwrap().split("listening on ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let c = reqwest::blocking::Client::builder().cookie_store(true).build().unwrap();
    let mut ok = false;
    for _ in 0..100 {
        if let Ok(r) = c.post(format!("{base}/v1/auth/login")).json(&json!({ "email": "admin@localhost", "password": password })).send() {
            ok = r.status() == 200;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    assert!(ok, "could not log in with the printed password");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.path().join("data/secrets/url_signing.key")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn render_subcommand_writes_the_transformed_image() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    std::fs::write(&input, quadrants(300, 200, ImageFormat::Png)).unwrap();
    let output = dir.path().join("out.webp");
    let out = imgcloud().args(["render", input.to_str().unwrap(), "w_150,h_150,c_fill,f_webp", output.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = decode(&std::fs::read(&output).unwrap());
    assert_eq!(img.dimensions(), (150, 150));
    let bad = imgcloud().args(["render", input.to_str().unwrap(), "w_0", output.to_str().unwrap()]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid transform"));
}

#[test]
fn render_takes_the_format_from_the_output_extension() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jpg");
    std::fs::write(&input, quadrants(120, 80, ImageFormat::Jpeg)).unwrap();
    let render = |t: &str, out: &str| imgcloud().args(["render", input.to_str().unwrap(), t, dir.path().join(out).to_str().unwrap()]).output().unwrap();
    // No f_: the extension decides, whatever the input was.
    for (t, out, magic) in [("w_60", "a.png", &b"\x89PNG"[..]), ("-", "b.webp", b"RIFF"), ("w_60", "c.JPEG", b"\xFF\xD8\xFF"), ("w_60,f_auto", "d.gif", b"GIF8")] {
        let r = render(t, out);
        assert!(r.status.success(), "{t} {out}: {}", String::from_utf8_lossy(&r.stderr));
        let bytes = std::fs::read(dir.path().join(out)).unwrap();
        assert!(bytes.starts_with(magic), "{out} starts with {:?}", &bytes[..4]);
        assert_eq!(decode(&bytes).width(), if t == "-" { 120 } else { 60 }, "{out}");
    }
    // An f_ that agrees is fine; one that contradicts the extension, or no way to tell, is an error.
    assert!(render("f_png", "e.png").status.success());
    let r = render("f_webp", "f.png");
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("f_webp"), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!dir.path().join("f.png").exists());
    let r = render("w_10", "g.out");
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("output format"), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(render("w_10,f_jpg", "h.out").status.success(), "an explicit f_ needs no extension");
}

/// Starts `serve` as our own child (the test needs its exit status) and returns it with its base URL.
fn serve_child(dir: &std::path::Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut cmd = imgcloud();
    cmd.arg("serve")
        .env("IMGCLOUD_DATA_DIR", dir.join("data"))
        .env("IMGCLOUD_LISTEN", "127.0.0.1:0")
        .env("IMGCLOUD_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("IMGCLOUD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(dir.join("server.log")).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let base = lines.filter_map(|l| l.split("listening on ").nth(1).map(|r| r.split_whitespace().next().unwrap().to_string())).next().unwrap();
    (child, base)
}

#[test]
fn sigterm_lets_in_flight_requests_finish() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve_child(dir.path(), &[("IMGCLOUD_SERVER__SHUTDOWN_TIMEOUT_SECS", "30")]);
    let c = reqwest::blocking::Client::builder().cookie_store(true).timeout(Duration::from_secs(60)).build().unwrap();
    assert_eq!(c.post(format!("{base}/v1/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })).send().unwrap().status(), 200);
    let k: serde_json::Value = c.post(format!("{base}/v1/api-keys")).json(&json!({ "name": "t" })).send().unwrap().json().unwrap();
    let auth = format!("ApiKey {}:{}", k["key_id"].as_str().unwrap(), k["key_secret"].as_str().unwrap());

    // An upload whose body we hold back: it is in flight for as long as we like.
    let boundary = "sigtermboundary";
    let body = [
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"public_id\"\r\n\r\ninflight\r\n").into_bytes(),
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes(),
        quadrants(64, 64, ImageFormat::Png),
        format!("\r\n--{boundary}--\r\n").into_bytes(),
    ]
    .concat();
    let addr = base.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    let head = format!(
        "POST /v1/upload HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    conn.write_all(first).unwrap();
    conn.flush().unwrap();

    // Server side: authenticating the upload stamps the new key's last_used_at, so the request is being served.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let keys: serde_json::Value = c.get(format!("{base}/v1/api-keys")).send().unwrap().json().unwrap();
        let key = keys["api_keys"].as_array().unwrap().iter().find(|x| x["key_id"] == k["key_id"]).cloned().unwrap();
        if !key["last_used_at"].is_null() {
            break;
        }
        assert!(Instant::now() < deadline, "the held-back upload never reached the server: {key}");
        std::thread::sleep(Duration::from_millis(20));
    }

    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    // The listener closes at once; the held-back request is still open.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&addr).is_ok() {
        assert!(Instant::now() < deadline, "still accepting new connections after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.try_wait().unwrap().is_none(), "the server exited with a request in flight");

    conn.write_all(rest).unwrap();
    let mut status_line = String::new();
    std::io::BufReader::new(&conn).read_line(&mut status_line).unwrap();
    assert!(status_line.starts_with("HTTP/1.1 201"), "the in-flight upload completed: {status_line:?}");

    // It exits by itself, cleanly, well within the 30 s shutdown window plus slack for a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    assert!(std::net::TcpStream::connect(&addr).is_err());
    let stored = std::fs::read_dir(dir.path().join("data/originals")).unwrap().count();
    assert_eq!(stored, 1, "the upload finished during shutdown was stored");
}
