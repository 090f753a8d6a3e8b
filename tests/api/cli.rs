//! The binary's other faces: `user add`, `render`, first-run admin generation, graceful SIGTERM.
use std::process::Command;
use std::time::Duration;

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
fn sigterm_lets_in_flight_requests_finish() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, noise_png(1500, 1500, 11), "n.png", &[("public_id", "slow")]);
    let url = app.url("/v1/image/w_1400,bl_15,f_webp/slow");
    let h = std::thread::spawn(move || {
        let c = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let r = c.get(url).send().unwrap();
        (r.status().as_u16(), r.bytes().map(|b| b.len()).unwrap_or(0))
    });
    std::thread::sleep(Duration::from_millis(150));
    assert!(Command::new("kill").args(["-TERM", &app.pid().to_string()]).status().unwrap().success());
    let (status, len) = h.join().unwrap();
    assert_eq!(status, 200);
    assert!(len > 0);
}
