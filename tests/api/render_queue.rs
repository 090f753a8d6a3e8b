//! The render queue drops a queued job once every client waiting for it has hung up (a single-flight joiner keeps it alive), for renders and upload validations alike; upload validation runs under the render deadline and work cap.
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use image::ImageFormat;

use crate::helpers::*;

/// Sends `head` and `body` on a raw connection and leaves the request waiting; `shutdown` hangs up.
fn leave_waiting(app: &TestApp, head: &str, body: &[u8]) -> TcpStream {
    let addr = app.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "{head}Host: {addr}\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
    s.write_all(body).unwrap();
    s
}

/// A multipart upload of `bytes` as the form's `file`, with `public_id`.
fn raw_upload(app: &TestApp, auth: &str, bytes: &[u8], public_id: &str) -> TcpStream {
    let boundary = "render-queue-test-boundary";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"public_id\"\r\n\r\n{public_id}\r\n").into_bytes();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!("POST /v1/upload HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n");
    leave_waiting(app, &head, &body)
}

#[test]
fn queued_jobs_whose_clients_hung_up_are_dropped_unrun() {
    // One render thread, so everything after the first job waits in the queue, deterministically.
    let app = spawn_app_with(&[
        ("IMGCLOUD_RENDER__THREADS", "1"),
        ("IMGCLOUD_RENDER__QUEUE", "8"),
        ("IMGCLOUD_RENDER__TIMEOUT_MS", "120000"),
        ("IMGCLOUD_RENDER__CLIENT_MAX_INFLIGHT", "1000"),
    ]);
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, noise_png(2000, 2000, 7), "n.png", &[("public_id", "big")]);
    app.upload_ok(&key, quadrants(640, 480, ImageFormat::Png), "q.png", &[("public_id", "small")]);

    // A long render, whose client waits, holds the only thread.
    let long = {
        let (c, url) = (reqwest::blocking::Client::builder().timeout(Duration::from_secs(300)).build().unwrap(), app.url("/v1/image/w_1900,f_avif,q_100/big"));
        std::thread::spawn(move || c.get(url).send().unwrap().status().as_u16())
    };
    wait_metric(&app, "render_queue_depth", "the long render started", |v| v >= 1.0);
    // Four renders and an upload queue behind it.
    let mut gone: Vec<_> = (0..4).map(|i| leave_waiting(&app, &format!("GET /v1/image/w_{},f_png/small HTTP/1.1\r\n", 100 + i), b"")).collect();
    gone.push(raw_upload(&app, &key, &quadrants(64, 64, ImageFormat::Png), "never-stored"));
    wait_metric(&app, "render_queue_depth", "five jobs queued behind it", |v| v >= 6.0);
    // One of the renders also has a client that stays: a job runs while any of its waiters is left.
    let patient = {
        let (c, url) = (reqwest::blocking::Client::builder().timeout(Duration::from_secs(300)).build().unwrap(), app.url("/v1/image/w_103,f_png/small"));
        std::thread::spawn(move || {
            let r = c.get(url).send().unwrap();
            (r.status().as_u16(), r.bytes().unwrap())
        })
    };
    wait_metric(&app, "render_coalesced_total", "the patient client joined", |v| v >= 1.0);
    for s in &gone {
        s.shutdown(Shutdown::Both).unwrap();
    }

    assert_eq!(long.join().unwrap(), 200, "the long render");
    let (status, body) = patient.join().unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(decode(&body).width(), 103);
    wait_metric(&app, "render_queue_depth", "the queue drained", |v| v == 0.0);
    assert_eq!(app.metric_sum("render_jobs_abandoned_total"), 4.0, "three renders and the upload nobody waited for");
    assert_eq!(app.metric_sum("renders_total"), 2.0, "only the long render and the patient one ran");
    let r = app.client().get(app.url("/v1/assets/never-stored")).header("Authorization", &key).send().unwrap();
    assert_eq!(r.status(), 404, "the abandoned upload was never validated, so never stored");
    // Nothing about a dropped job is remembered: asking again renders it.
    let again = app.client().get(app.url("/v1/image/w_100,f_png/small")).send().unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(decode(&again.bytes().unwrap()).width(), 100);
}

#[test]
fn upload_validation_has_the_render_work_cap() {
    // 300x300 decodes to 90,000 pixels: over this server's work cap, so no render of it could ever run.
    let app = spawn_app_with(&[("IMGCLOUD_RENDER__MAX_WORK_PIXELS", "50000")]);
    let key = app.api_key(&app.admin());
    let r = app.upload(&key, quadrants(300, 300, ImageFormat::Png), "q.png", &[("public_id", "wide")]);
    assert!(r.headers().get("retry-after").is_none(), "the cap is fixed: retrying cannot help");
    assert!(assert_error(r, 413).contains("pixel budget of 50000"));
    app.upload_ok(&key, quadrants(200, 200, ImageFormat::Png), "q.png", &[("public_id", "fits")]);
}

#[test]
fn upload_validation_has_the_render_deadline() {
    let app = spawn_app_with(&[("IMGCLOUD_RENDER__TIMEOUT_MS", "1")]);
    let key = app.api_key(&app.admin());
    let r = app.upload(&key, noise_png(1500, 1500, 9), "n.png", &[("public_id", "slow")]);
    assert!(r.headers().get("retry-after").is_some(), "a deadline can be load: worth a retry");
    let msg = assert_error(r, 503);
    assert!(msg.contains("validating this upload exceeded its time budget"), "{msg}");
    assert_eq!(app.client().get(app.url("/v1/assets/slow")).header("Authorization", &key).send().unwrap().status(), 404, "nothing stored");
}
