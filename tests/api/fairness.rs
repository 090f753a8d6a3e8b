//! Fair rendering: one client's flood of expensive uncached transforms neither starves another client's
//! small uncached render nor stops cache hits; the flooder is told 429 with Retry-After.
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use image::ImageFormat;
use serde_json::Value;

use crate::helpers::*;

#[test]
fn a_flood_of_expensive_misses_does_not_starve_another_client() {
    let app = spawn_app_with(&[
        ("IMGCLOUD_RENDER__THREADS", "2"),
        ("IMGCLOUD_RENDER__TIMEOUT_MS", "8000"),
        ("IMGCLOUD_RENDER__CLIENT_MAX_INFLIGHT", "1"),
        ("IMGCLOUD_RENDER__CLIENT_RENDER_SECONDS_PER_MINUTE", "6"),
        ("IMGCLOUD_RENDER__CLIENT_RENDER_BURST_SECONDS", "2"),
    ]);
    // Client A is the admin's API key (the user is the client); client B is anonymous (its IP).
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, noise_png(2000, 2000, 11), "noise.png", &[("public_id", "noisy")]);
    app.upload_ok(&key, quadrants(640, 480, ImageFormat::Png), "q.png", &[("public_id", "small")]);
    let warm = app.client().get(app.url("/v1/image/w_8/small")).header("Authorization", &key).send().unwrap();
    assert_eq!(warm.status(), 200);

    let flooders = 8;
    let barrier = Arc::new(Barrier::new(flooders + 1));
    let handles: Vec<_> = (0..flooders)
        .map(|i| {
            let (b, key, base) = (barrier.clone(), key.clone(), app.url(""));
            std::thread::spawn(move || {
                let c = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
                b.wait();
                (0..3)
                    .map(|j| {
                        // Unique per request, so every one is a miss (cache-busting).
                        let url = format!("{base}/v1/image/w_{},f_avif,q_100/noisy", 1900 - i * 10 - j);
                        let r = c.get(url).header("Authorization", &key).send().unwrap();
                        let status = r.status().as_u16();
                        let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                        let body = if status == 200 { Value::Null } else { r.json::<Value>().unwrap_or(Value::Null) };
                        (status, retry, body["error"].as_str().unwrap_or_default().to_string())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    barrier.wait();
    std::thread::sleep(Duration::from_millis(500));

    // B's uncached small render gets the thread A may not hold.
    let t0 = Instant::now();
    let r = app.client().get(app.url("/v1/image/w_64,h_48,c_fill/small")).send().unwrap();
    let took = t0.elapsed();
    assert_eq!(r.status(), 200, "B's render: {:?}", r.text());
    assert_eq!(decode(&r.bytes().unwrap()).dimensions(), (64, 48));
    assert!(took < Duration::from_secs(2), "B waited {took:?} behind A's flood");

    // A's cache hits are never charged or refused, even while its renders are.
    let hit = app.client().get(app.url("/v1/image/w_8/small")).header("Authorization", &key).send().unwrap();
    assert_eq!(hit.status(), 200);
    assert_eq!(app.client().get(app.url("/healthz")).send().unwrap().status(), 200);

    let results: Vec<_> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let refused: Vec<_> = results.iter().filter(|r| r.0 == 429).collect();
    assert!(refused.len() >= flooders, "A was barely refused: {results:?}");
    assert!(refused.iter().all(|r| r.1.is_some_and(|s| s >= 1) && r.2.contains("render budget")), "{refused:?}");
    // Whatever A was admitted for ran (or ran out of its deadline): no other outcome.
    assert!(results.iter().all(|r| matches!(r.0, 200 | 429 | 503)), "{results:?}");
    assert!(results.iter().any(|r| r.0 != 429), "A was admitted at least once");
    assert!(app.metric_sum("render_budget_refused_total") >= refused.len() as f64);
}

#[test]
fn a_client_in_render_debt_waits_it_off_while_others_render() {
    let app = spawn_app_with(&[
        ("IMGCLOUD_RENDER__CLIENT_RENDER_SECONDS_PER_MINUTE", "1"),
        ("IMGCLOUD_RENDER__CLIENT_RENDER_BURST_SECONDS", "0.05"),
    ]);
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, noise_png(1200, 1200, 3), "n.png", &[("public_id", "n")]);
    app.upload_ok(&key, noise_png(2000, 2000, 5), "big.png", &[("public_id", "big")]);
    // The first miss is admitted on the banked burst and costs more than it (an AVIF of 1.4 MP).
    let first = app.client().get(app.url("/v1/image/w_1200,f_avif/n")).header("Authorization", &key).send().unwrap();
    assert_eq!(first.status(), 200);
    // In debt, but alone: nobody waits for the thread it would take, so it is served (work-conserving).
    let alone = app.client().get(app.url("/v1/image/w_1100,f_avif/n")).header("Authorization", &key).send().unwrap();
    assert_eq!(alone.status(), 200);

    // Another client (anonymous, by IP) starts a long render; while it runs, the debt counts.
    let other = {
        let url = app.url("/v1/image/w_1600,f_avif,q_100/big");
        let c = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
        std::thread::spawn(move || c.get(url).send().unwrap().status().as_u16())
    };
    let t0 = Instant::now();
    while app.metric_sum("render_queue_depth") < 1.0 {
        assert!(t0.elapsed() < Duration::from_secs(30), "the other client's render never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = app.client().get(app.url("/v1/image/w_1000,f_avif/n")).header("Authorization", &key).send().unwrap();
    let retry: u64 = r.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert!(assert_error(r, 429).contains("render-seconds"));
    // The same image, already rendered, is a hit: served to the indebted client.
    assert_eq!(app.client().get(app.url("/v1/image/w_1200,f_avif/n")).header("Authorization", &key).send().unwrap().status(), 200);
    // The other client is not refused (its long render may run out of its deadline on a loaded machine: 503).
    let status = other.join().unwrap();
    assert!(status == 200 || status == 503, "the other client's render: {status}");
    assert_eq!(app.client().get(app.url("/v1/image/w_900,f_avif/n")).send().unwrap().status(), 200);
}

#[test]
fn a_lone_client_with_cheap_misses_uses_every_thread_unrefused() {
    // As a load test or a CDN filling its cache: one client, many concurrent thumbnail misses, a
    // per-client cap of 1 and almost no render budget. Nobody else waits, so nothing is refused.
    let app = spawn_app_with(&[
        ("IMGCLOUD_RENDER__CLIENT_MAX_INFLIGHT", "1"),
        ("IMGCLOUD_RENDER__CLIENT_RENDER_SECONDS_PER_MINUTE", "1"),
        ("IMGCLOUD_RENDER__CLIENT_RENDER_BURST_SECONDS", "0.01"),
    ]);
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, noise_png(1600, 1200, 9), "p.png", &[("public_id", "p")]);
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8u32)
        .map(|i| {
            let (b, url, c) = (barrier.clone(), app.url(&format!("/v1/image/w_{},h_300,c_fit,f_webp/p", 300 + i)), app.client());
            std::thread::spawn(move || {
                b.wait();
                let r = c.get(url).send().unwrap();
                (r.status().as_u16(), r.bytes().unwrap())
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let (status, body) = h.join().unwrap();
        assert_eq!(status, 200, "miss {i}: {}", String::from_utf8_lossy(&body));
        assert_eq!(decode(&body).dimensions().0, 300 + i as u32);
    }
    assert_eq!(app.metric_sum("render_budget_refused_total"), 0.0);
}

#[test]
fn a_flood_of_heavy_uploads_from_one_user_leaves_another_users_upload_and_thumbnail_served() {
    // Two render threads and a short queue, the per-client cap at its default (half the threads: 1).
    let app = spawn_app_with(&[
        ("IMGCLOUD_RENDER__THREADS", "2"),
        ("IMGCLOUD_RENDER__QUEUE", "2"),
        ("IMGCLOUD_RENDER__TIMEOUT_MS", "60000"),
        ("IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE", "1000"),
    ]);
    // User A (the admin's API key) floods; user B is another account on the same address.
    let a = app.api_key(&app.admin());
    let b = app.api_key(&app.user("b@test.local"));
    // Valid and within every limit, but its validation decodes 35 MP of 16-bit pixels: seconds of a thread.
    let heavy = sixteen_bit_png(7000, 5000);

    let flooders = 8;
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(flooders + 1));
    let handles: Vec<_> = (0..flooders)
        .map(|i| {
            let (b, a, heavy, url, answered) = (barrier.clone(), a.clone(), heavy.clone(), app.url("/v1/upload"), answered.clone());
            std::thread::spawn(move || {
                let c = reqwest::blocking::Client::builder().timeout(Duration::from_secs(180)).build().unwrap();
                b.wait();
                let r = c.post(url).header("Authorization", a).multipart(upload_form(heavy, &format!("heavy{i}.png"), &[])).send().unwrap();
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let status = r.status().as_u16();
                let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                let body: Value = r.json().unwrap_or(Value::Null);
                (status, retry, body["error"].as_str().unwrap_or_default().to_string())
            })
        })
        .collect();
    barrier.wait();
    // Whatever A was refused has been answered: then the rest of its flood is what holds the render
    // threads and the queue (every one of them, before per-client fairness covered uploads).
    let t0 = Instant::now();
    while answered.load(std::sync::atomic::Ordering::SeqCst) < flooders - 4 || app.metric_sum("render_queue_depth") < 1.0 {
        assert!(t0.elapsed() < Duration::from_secs(60), "A's flood never got going");
        std::thread::sleep(Duration::from_millis(20));
    }

    // B's upload and its uncached thumbnail are served while A's flood is in progress.
    let up = app.upload(&b, quadrants(640, 480, ImageFormat::Png), "mine.png", &[("public_id", "mine")]);
    assert_eq!(up.status(), 201, "B's upload: {:?}", up.text());
    let thumb = app.client().get(app.url("/v1/image/w_64,h_48,c_fill/mine")).header("Authorization", &b).send().unwrap();
    assert_eq!(thumb.status(), 200, "B's thumbnail: {:?}", thumb.text());
    assert_eq!(decode(&thumb.bytes().unwrap()).dimensions(), (64, 48));
    let b_done = answered.load(std::sync::atomic::Ordering::SeqCst);

    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(b_done < flooders, "B was served while A's flood was still running: {results:?}");
    // A's uploads beyond its cap are told to come back, with the reason; the rest are stored.
    let refused: Vec<_> = results.iter().filter(|r| r.0 == 429).collect();
    assert!(refused.len() >= flooders - 2, "A was barely refused: {results:?}");
    assert!(refused.iter().all(|r| r.1.is_some_and(|s| s >= 1) && r.2.contains("render budget")), "{refused:?}");
    assert!(results.iter().all(|r| matches!(r.0, 201 | 429)), "{results:?}");
    assert!(app.metric_sum("render_budget_refused_total") >= refused.len() as f64);
}
