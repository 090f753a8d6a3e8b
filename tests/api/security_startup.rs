//! Startup hardening: key files, private data directory, bind-first, parallel fresh starts, proxy headers, CLI version, plain logs.
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::ImageFormat;
use serde_json::json;

use crate::helpers::*;

fn imgcloud(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_imgcloud"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IMGCLOUD_AUTH__BCRYPT_COST", "4")
        .env("IMGCLOUD_DATA_DIR", data)
        .env("IMGCLOUD_LISTEN", "127.0.0.1:0");
    c
}

/// Runs a `serve` that is expected to refuse to start; a server that starts anyway fails the test instead of hanging it.
fn expect_refusal(mut cmd: Command) -> (String, String) {
    let mut child = cmd.arg("serve").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(!status.success(), "exit status {status}; stderr: {stderr}");
    (stdout, stderr)
}

fn key_file(data: &std::path::Path, text: &str, mode: u32) -> std::path::PathBuf {
    std::fs::create_dir_all(data.join("secrets")).unwrap();
    let p = data.join("secrets/url_signing.key");
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

#[test]
fn an_empty_signing_key_stops_startup_with_a_message_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    key_file(&data, "", 0o600);
    let (_, stderr) = expect_refusal(imgcloud(&data));
    assert!(stderr.contains("url_signing.key"), "{stderr}");
    let errors: Vec<_> = stderr.lines().filter(|l| l.starts_with("imgcloud: ")).collect();
    assert!(errors.len() == 1 && errors[0].contains("url_signing.key"), "one clear line naming the file: {stderr}");
    // A short key is refused the same way.
    key_file(&data, "abcdef", 0o600);
    let (_, stderr) = expect_refusal(imgcloud(&data));
    assert!(stderr.contains("url_signing.key"), "{stderr}");
}

#[test]
fn a_signing_key_readable_by_others_stops_startup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    key_file(&data, &"ab".repeat(32), 0o644);
    let (_, stderr) = expect_refusal(imgcloud(&data));
    assert!(stderr.contains("url_signing.key") && stderr.contains("0644"), "{stderr}");
}

#[test]
fn a_fresh_start_creates_a_private_signing_key_of_the_right_length_and_no_other() {
    let app = spawn_app();
    let p = app.dir.path().join("data/secrets/url_signing.key");
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(text.trim().len(), 64, "32 bytes, hex");
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
    // Sessions are random tokens stored hashed: no key is made that nothing reads.
    let keys: Vec<_> = std::fs::read_dir(app.dir.path().join("data/secrets")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(keys, ["url_signing.key"]);
}

#[test]
fn a_data_directory_with_an_older_versions_session_key_still_starts_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("data/secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let old = secrets.join("session.key");
    std::fs::write(&old, "cd".repeat(32)).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o600)).unwrap();
    let app = spawn_in(dir, &[]);
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(16, 16, ImageFormat::Png), "s.png", &[("public_id", "still-works")]);
    assert_eq!(std::fs::read_to_string(&old).unwrap(), "cd".repeat(32), "left as it was");
}

fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, bool, u32)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let meta = e.metadata().unwrap();
        out.push((e.path(), meta.is_dir(), meta.permissions().mode() & 0o777));
        if meta.is_dir() {
            walk(&e.path(), out);
        }
    }
}

fn has_file(dir: &std::path::Path) -> bool {
    let mut entries = vec![];
    walk(dir, &mut entries);
    entries.iter().any(|e| !e.1)
}

#[test]
fn data_directory_is_private_after_upload_and_render() {
    // A data directory left world-readable by an older version is tightened, not trusted.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("originals")).unwrap();
    for d in [&data, &data.join("originals")] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let app = spawn_in(dir, &[]);
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(64, 64, ImageFormat::Png), "p.png", &[("public_id", "secret"), ("visibility", "private")]);
    app.upload_ok(&key, quadrants(64, 64, ImageFormat::Png), "q.png", &[("public_id", "open")]);
    let r = app.client().get(app.url("/v1/image/w_32,f_webp/open")).send().unwrap();
    assert_eq!(r.status(), 200);
    // The disk tier may be written just after the response; wait for it (the assertions below are about modes).
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && !has_file(&data.join("cache")) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut entries = vec![(data.clone(), true, std::fs::metadata(&data).unwrap().permissions().mode() & 0o777)];
    walk(&data, &mut entries);
    let files: Vec<_> = entries.iter().filter(|e| !e.1).collect();
    assert!(files.iter().any(|e| e.0.starts_with(data.join("originals"))), "an original was stored: {entries:?}");
    assert!(files.iter().any(|e| e.0.starts_with(data.join("cache"))), "a rendition reached the disk cache: {entries:?}");
    assert!(files.iter().any(|e| e.0.to_string_lossy().ends_with("-wal")), "SQLite's WAL file is checked too: {entries:?}");
    for (path, is_dir, mode) in &entries {
        if *is_dir {
            assert_eq!(*mode, 0o700, "{} is {mode:04o}", path.display());
        } else {
            assert_eq!(mode & 0o077, 0, "{} is {mode:04o}", path.display());
        }
    }
}

#[test]
fn a_taken_port_fails_before_the_first_admin_is_created() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut cmd = imgcloud(&data);
    cmd.env("IMGCLOUD_LISTEN", &addr);
    let (stdout, stderr) = expect_refusal(cmd);
    assert!(stderr.contains(&addr), "stderr names the address: {stderr}");
    assert!(!stdout.to_lowercase().contains("password"), "nothing about a password was printed: {stdout}");
    drop(taken);
    // Had the failed start created the first admin, this password would not be the one that works.
    let app = spawn_in(dir, &[("IMGCLOUD_ADMIN_PASSWORD", "second-start-password")]);
    app.login(ADMIN_EMAIL, "second-start-password");
}

#[test]
fn six_fresh_servers_started_together_all_come_up_and_accept_a_login() {
    let handles: Vec<_> = (0..6)
        .map(|_| {
            std::thread::spawn(|| {
                let app = spawn_app();
                app.admin();
                std::fs::read_to_string(app.dir.path().join("server.log")).unwrap()
            })
        })
        .collect();
    for h in handles {
        let log = h.join().expect("a server failed to start or to log in");
        assert!(!log.contains("locked"), "SQLite lock contention at startup: {log}");
    }
}

#[test]
fn version_flag_prints_the_name_and_version() {
    for flag in ["--version", "-V"] {
        let out = Command::new(env!("CARGO_BIN_EXE_imgcloud")).arg(flag).env_clear().output().unwrap();
        assert!(out.status.success(), "{flag}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("imgcloud {}", env!("CARGO_PKG_VERSION")), "{flag}");
    }
}

#[test]
fn log_lines_have_no_colour_codes_when_stderr_is_a_file() {
    let app = spawn_app();
    app.admin();
    assert_eq!(app.client().get(app.url("/healthz")).send().unwrap().status(), 200);
    let log = std::fs::read_to_string(app.dir.path().join("server.log")).unwrap();
    assert!(!log.trim().is_empty(), "the server logged something");
    assert!(!log.contains("\x1b["), "ANSI escapes in {log:?}");
}

fn wrong_login(app: &TestApp, xff: &str) -> u16 {
    app.client()
        .post(app.url("/v1/auth/login"))
        .header("X-Forwarded-For", xff)
        .json(&json!({ "email": ADMIN_EMAIL, "password": "wrong-password" }))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn x_forwarded_for_is_ignored_without_a_trusted_proxy() {
    let app = spawn_app_with(&[("IMGCLOUD_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE", "3"), ("IMGCLOUD_RATE_LIMIT__LOGIN_PER_EMAIL_PER_MINUTE", "100")]);
    let statuses: Vec<u16> = (0..4).map(|i| wrong_login(&app, &format!("198.51.100.{i}"))).collect();
    assert_eq!(statuses, [401, 401, 401, 429], "a new X-Forwarded-For each time must not buy a new bucket");
}

#[test]
fn a_client_chosen_left_most_hop_does_not_escape_the_limit() {
    // The list form, and the old boolean, which now means "trust loopback".
    for trust in [("IMGCLOUD_SERVER__TRUSTED_PROXIES", "127.0.0.1/32,::1/128"), ("IMGCLOUD_SERVER__TRUSTED_PROXY", "true")] {
        let app = spawn_app_with(&[
            ("IMGCLOUD_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE", "3"),
            ("IMGCLOUD_RATE_LIMIT__LOGIN_PER_EMAIL_PER_MINUTE", "100"),
            trust,
        ]);
        let statuses: Vec<u16> = (0..4).map(|i| wrong_login(&app, &format!("10.9.8.{i}, 203.0.113.7"))).collect();
        assert_eq!(statuses, [401, 401, 401, 429], "{trust:?}: all four count as 203.0.113.7");
        // The proxy is believed, so another real client behind it has its own bucket.
        assert_eq!(wrong_login(&app, "203.0.113.8"), 401, "{trust:?}");
    }
}
