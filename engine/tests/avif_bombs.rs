//! The checked-in AVIF container bombs (fuzz/seeds/avif/) are refused within a small memory and CPU bound, measured by a counting allocator.
//!
//! This binary has its own `#[global_allocator]` that keeps the bytes live and their peak, so a
//! seed's cost is what the probe, the memory estimate and the render allocate, whatever the
//! machine's RSS. Its tests share one lock: nothing else allocates while a seed is measured.

#[path = "support/avif_bombs.rs"]
mod bombs;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

use bombs::Refusal;
use imgcloud_engine::{memory, probe, render, EngineError, RenderOptions, Transform};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            PEAK.fetch_max(LIVE.fetch_add(l.size(), SeqCst) + l.size(), SeqCst);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            PEAK.fetch_max(LIVE.fetch_add(l.size(), SeqCst) + l.size(), SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), SeqCst);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                PEAK.fetch_max(LIVE.fetch_add(new - l.size(), SeqCst) + new - l.size(), SeqCst);
            } else {
                LIVE.fetch_sub(l.size() - new, SeqCst);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Peak bytes allocated by the engine while it refuses a seed.
const MAX_BYTES: usize = 1 << 20;
/// CPU time (all threads) the refusal may take; /proc ticks are 10 ms.
const MAX_CPU_MS: u64 = 300;

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/avif")
}

/// This process's user + system CPU time in ms (/proc/self/stat fields 14 and 15, in ticks).
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    (fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()) * 10
}

/// Runs `f`, returning its result, the peak bytes it added and the CPU time it took.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize, u64) {
    let base = LIVE.load(SeqCst);
    PEAK.store(base, SeqCst);
    let cpu = cpu_ms();
    let out = f();
    (out, PEAK.load(SeqCst) - base, cpu_ms() - cpu)
}

fn kind(e: &EngineError) -> Option<Refusal> {
    match e {
        EngineError::TooComplex(_) => Some(Refusal::TooComplex),
        EngineError::Corrupt(_) => Some(Refusal::Corrupt),
        _ => None,
    }
}

#[test]
fn every_checked_in_bomb_is_refused_in_little_memory_and_time() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let expected: Vec<(&str, Refusal)> = bombs::SEEDS.to_vec();
    let mut files: Vec<_> = std::fs::read_dir(seeds_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), expected.len(), "every seed in {} has an expected refusal", seeds_dir().display());
    let t = Transform::parse("w_64,f_png").unwrap();
    let opts = RenderOptions::default();
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let want = expected.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{name} has no expected refusal")).1;
        let bytes = std::fs::read(&path).unwrap();
        // What the server does with an upload: probe, estimate, then render.
        let (errors, peak, cpu) = measured(|| [probe(&bytes).err(), memory::estimate(&bytes, &t, &opts).err(), render(&bytes, &t, &opts).err()]);
        eprintln!("{name}: {} bytes in, peak {peak} bytes allocated, {cpu} ms CPU: {:?}", bytes.len(), errors[2]);
        let render_err = errors[2].clone().unwrap_or_else(|| panic!("{name} rendered"));
        assert_eq!(kind(&render_err), Some(want), "{name}: {render_err}");
        // Refused from the header when the header alone tells.
        if want == Refusal::TooComplex || !name.contains("lie") {
            assert!(errors[0].is_some() && errors[1].is_some(), "{name} passed the probe: {errors:?}");
        }
        assert!(peak < MAX_BYTES, "{name}: {peak} bytes allocated at peak, over {MAX_BYTES}");
        assert!(cpu <= MAX_CPU_MS, "{name}: {cpu} ms of CPU, over {MAX_CPU_MS} ms");
    }
}

#[test]
fn the_checked_in_bombs_are_what_the_generator_makes() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let write = std::env::var_os("IMGCLOUD_WRITE_SEEDS").is_some();
    let seeds = bombs::seeds();
    assert_eq!(seeds.iter().map(|s| (s.name, s.refusal)).collect::<Vec<_>>(), bombs::SEEDS.to_vec());
    for s in seeds {
        let path = seeds_dir().join(s.name);
        if write {
            std::fs::create_dir_all(seeds_dir()).unwrap();
            std::fs::write(&path, &s.bytes).unwrap();
        }
        let on_disk = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (IMGCLOUD_WRITE_SEEDS=1 writes it)", path.display()));
        assert!(on_disk == s.bytes, "{} differs from what the generator makes (IMGCLOUD_WRITE_SEEDS=1 rewrites it)", s.name);
    }
}
