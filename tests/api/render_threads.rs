//! One render occupies one thread: the server's per-thread CPU time (/proc/<pid>/task) while it renders a blurred, colour-converted photo to AVIF.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use image::ImageEncoder;

use crate::helpers::*;

/// utime + stime (clock ticks) of a /proc stat line, and its comm.
fn ticks(stat: &str) -> Option<(String, u64)> {
    let (head, rest) = stat.rsplit_once(") ")?;
    let comm = head.split_once(" (")?.1.to_string();
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((comm, f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?))
}

/// Every live thread of `pid`: tid -> (comm, CPU ticks).
fn threads(pid: u32) -> HashMap<u32, (String, u64)> {
    let mut out = HashMap::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let Ok(tid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        if let Some(t) = std::fs::read_to_string(e.path().join("stat")).ok().as_deref().and_then(ticks) {
            out.insert(tid, t);
        }
    }
    out
}

/// The whole process's CPU ticks, threads that have exited included.
fn process_ticks(pid: u32) -> u64 {
    ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap()).unwrap().1
}

/// A 12 MP RGB PNG tagged with the Adobe RGB (1998) profile, so the render converts its colours.
fn tagged_photo() -> Vec<u8> {
    let (w, h) = (4000u32, 3000u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x / 16) as u8, (y / 12) as u8, ((x + y) / 28) as u8]));
    let mut out = vec![];
    let mut enc = image::codecs::png::PngEncoder::new_with_quality(&mut out, image::codecs::png::CompressionType::Fast, Default::default());
    enc.set_icc_profile(fixture("a98.icc")).unwrap();
    enc.write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8).unwrap();
    out
}

#[test]
fn a_blurred_colour_converted_avif_render_runs_on_one_render_thread() {
    let app = spawn_app_with(&[("IMGCLOUD_RENDER__THREADS", "2")]);
    let c = app.admin();
    let key = app.api_key(&c);
    app.upload_ok(&key, tagged_photo(), "tagged.png", &[("public_id", "tagged")]);
    let pid = app.pid();
    let renders = |t: &HashMap<u32, (String, u64)>| t.values().filter(|(comm, _)| comm.starts_with("render-") && comm != "render-purge").count();
    assert_eq!(renders(&threads(pid)), 2, "render.threads=2: {:?}", threads(pid));

    // Each thread's last ticks seen, sampled during the render so a thread that starts and ends
    // inside it (a codec's own pool) is counted too; the process total covers any missed.
    let seen: Arc<Mutex<HashMap<u32, (String, u64)>>> = Arc::new(Mutex::new(threads(pid)));
    let before = seen.lock().unwrap().clone();
    let process_before = process_ticks(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (seen, stop) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                seen.lock().unwrap().extend(threads(pid));
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let r = c.get(app.url("/v1/image/w_1600,bl_12,f_avif/tagged")).send().unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text());
    assert_eq!(r.headers()["content-type"], "image/avif");
    stop.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    let mut seen = seen.lock().unwrap().clone();
    seen.extend(threads(pid));
    let process = process_ticks(pid) - process_before;

    let mut grew: Vec<(u32, String, u64)> = seen
        .iter()
        .map(|(tid, (comm, t))| (*tid, comm.clone(), t - before.get(tid).map_or(0, |b| b.1)))
        .filter(|(_, _, d)| *d > 0)
        .collect();
    grew.sort_by_key(|g| std::cmp::Reverse(g.2));
    eprintln!("process CPU {process} ticks during the render; threads that ran: {grew:?}");
    let (tid, comm, on_it) = grew.first().cloned().expect("some thread ran the render");
    assert!(comm.starts_with("render-") && before.contains_key(&tid), "the render ran on {comm} ({tid}), not on a render thread: {grew:?}");
    assert!(process >= 20, "the render took {process} ticks: too short to tell where it ran");
    // Everything else the process did meanwhile (HTTP, the other render thread, any thread a codec
    // started) is a sliver of the render's own time.
    let elsewhere = process.saturating_sub(on_it);
    assert!(elsewhere * 10 <= on_it, "{elsewhere} of {process} CPU ticks ran off the render's thread {comm}: {grew:?}");
    let other_renders: u64 = grew.iter().filter(|(t, c, _)| *t != tid && c.starts_with("render-")).map(|g| g.2).sum();
    assert!(other_renders <= 2, "the other render thread ran {other_renders} ticks: {grew:?}");
}
