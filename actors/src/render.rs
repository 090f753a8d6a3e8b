//! The render supervisor: single-flight rendering on a bounded rayon pool, with a byte-capped moka
//! memory cache in front of a byte-capped, restart-surviving disk cache of renditions.
//!
//! Keys are `<storage_key>/<canonical transform>[|<accept class>]`. A storage key is new for every
//! stored original, so a replaced or deleted original's renditions are unreachable at once; purging
//! only reclaims space.
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, AsyncContext, Context, Handler, Message};
use imgcloud_engine::{Limits, RenderOptions, Transform};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use crate::error::DomainError;

/// A finished rendition, shared between caches and responses.
#[derive(Debug)]
pub struct Rendition {
    /// Shared, so serving a cached rendition never copies it.
    pub bytes: bytes::Bytes,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone)]
pub struct RenderSettings {
    pub threads: usize,
    pub queue: usize,
    pub timeout: Duration,
    pub max_work_pixels: u64,
    pub max_input_pixels: u64,
    pub avif_speed: u8,
}

/// The two cache tiers. Shared with HTTP handlers so hits never touch the supervisor.
#[derive(Clone)]
pub struct RenditionCache {
    memory: moka::sync::Cache<String, Arc<Rendition>>,
    /// Index of files on disk (key -> size); its eviction listener deletes the file.
    disk: moka::sync::Cache<String, u32>,
    dir: PathBuf,
}

fn disk_name(key: &str) -> String { hex::encode(Sha256::digest(key.as_bytes())) }

impl RenditionCache {
    pub fn new(dir: PathBuf, memory_bytes: u64, disk_bytes: u64) -> Self {
        let memory = moka::sync::Cache::builder()
            .weigher(|_k: &String, v: &Arc<Rendition>| v.bytes.len().try_into().unwrap_or(u32::MAX))
            .max_capacity(memory_bytes)
            .build();
        let evict_dir = dir.clone();
        let disk = moka::sync::Cache::builder()
            .weigher(|_k: &String, v: &u32| *v)
            .max_capacity(disk_bytes)
            .eviction_listener(move |k: Arc<String>, _v, cause| {
                // Replaced entries keep their file (it was just rewritten); everything else goes.
                if cause != moka::notification::RemovalCause::Replaced {
                    let _ = std::fs::remove_file(Self::path_in(&evict_dir, &k));
                }
            })
            .build();
        let c = Self { memory, disk, dir };
        c.load_index();
        c
    }

    fn path_in(dir: &Path, key: &str) -> PathBuf {
        let storage = key.split('/').next().unwrap_or("_");
        dir.join(storage).join(disk_name(key))
    }

    /// Rebuilds the disk index after a restart. Files carry their key in the header.
    fn load_index(&self) {
        for sub in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            for f in std::fs::read_dir(sub.path()).into_iter().flatten().flatten() {
                let p = f.path();
                if p.extension().is_some_and(|e| e == "tmp") {
                    let _ = std::fs::remove_file(&p);
                    continue;
                }
                match Self::read_file(&p) {
                    Some((key, r)) => self.disk.insert(key, r.bytes.len() as u32),
                    None => {
                        let _ = std::fs::remove_file(&p);
                    }
                }
            }
        }
    }

    fn read_file(path: &Path) -> Option<(String, Rendition)> {
        let data = std::fs::read(path).ok()?;
        let nl = data.iter().position(|b| *b == b'\n')?;
        let head: serde_json::Value = serde_json::from_slice(&data[..nl]).ok()?;
        let r = Rendition {
            bytes: bytes::Bytes::copy_from_slice(&data[nl + 1..]),
            content_type: head["content_type"].as_str()?.to_string(),
            width: head["width"].as_u64()? as u32,
            height: head["height"].as_u64()? as u32,
        };
        (r.bytes.len() as u64 == head["len"].as_u64()?).then(|| (head["key"].as_str().unwrap_or_default().to_string(), r))
    }

    pub fn get_memory(&self, key: &str) -> Option<Arc<Rendition>> { self.memory.get(key) }

    /// Blocking: reads a disk entry and promotes it to memory.
    pub fn get_disk(&self, key: &str) -> Option<Arc<Rendition>> {
        self.disk.get(key)?;
        let (stored_key, r) = Self::read_file(&Self::path_in(&self.dir, key))?;
        if stored_key != key {
            return None;
        }
        let r = Arc::new(r);
        self.memory.insert(key.to_string(), r.clone());
        Some(r)
    }

    /// Blocking: writes both tiers; the disk file appears whole (temp file + rename) or not at all.
    pub fn put(&self, key: &str, r: Arc<Rendition>) {
        self.memory.insert(key.to_string(), r.clone());
        let path = Self::path_in(&self.dir, key);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().unwrap_or(&self.dir))?;
            let tmp = path.with_extension("tmp");
            let head = serde_json::json!({ "key": key, "content_type": r.content_type, "width": r.width, "height": r.height, "len": r.bytes.len() });
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(head.to_string().as_bytes())?;
            f.write_all(b"\n")?;
            f.write_all(&r.bytes)?;
            std::fs::rename(&tmp, &path)
        };
        if write().is_ok() {
            self.disk.insert(key.to_string(), r.bytes.len() as u32);
        }
    }

    /// Drops every rendition of one original (after overwrite or delete) to reclaim space.
    pub fn purge(&self, storage_key: &str) {
        let prefix = format!("{storage_key}/");
        let p = prefix.clone();
        let _ = self.memory.invalidate_entries_if(move |k, _| k.starts_with(&p));
        let _ = self.disk.invalidate_entries_if(move |k, _| k.starts_with(&prefix));
        let _ = std::fs::remove_dir_all(self.dir.join(storage_key));
    }

    pub fn run_pending(&self) {
        self.memory.run_pending_tasks();
        self.disk.run_pending_tasks();
    }
}

type Reply = Result<Arc<Rendition>, DomainError>;

/// Render `original` with `transform` under `key`; the reply arrives on the returned channel.
pub struct Render {
    pub key: String,
    pub original: PathBuf,
    pub transform: Transform,
    pub accept: Option<String>,
}

impl Message for Render {
    type Result = Result<oneshot::Receiver<Reply>, DomainError>;
}

struct Done {
    key: String,
    result: Reply,
}

impl Message for Done {
    type Result = ();
}

pub struct RenderSupervisor {
    settings: RenderSettings,
    pool: Arc<rayon::ThreadPool>,
    cache: RenditionCache,
    inflight: HashMap<String, Vec<oneshot::Sender<Reply>>>,
    /// Jobs handed to the pool and not yet finished (running plus waiting).
    jobs: Arc<AtomicUsize>,
}

impl RenderSupervisor {
    pub fn new(settings: RenderSettings, cache: RenditionCache) -> Result<Self, DomainError> {
        let threads = if settings.threads == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { settings.threads };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("render-{i}"))
            .build()
            .map_err(DomainError::internal)?;
        let settings = RenderSettings { threads, ..settings };
        Ok(Self { settings, pool: Arc::new(pool), cache, inflight: HashMap::new(), jobs: Arc::new(AtomicUsize::new(0)) })
    }
}

impl Actor for RenderSupervisor {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        // Keep moka's eviction (and so disk deletion) moving even when traffic is idle.
        ctx.run_interval(Duration::from_secs(5), |this, _| this.cache.run_pending());
    }
}

fn engine_error(e: imgcloud_engine::EngineError) -> DomainError {
    use imgcloud_engine::EngineError as E;
    match e {
        E::Transform(t) => DomainError::Invalid(format!("invalid transform: {t}")),
        e @ (E::Deadline(_) | E::PixelBudget(_)) => DomainError::Overloaded { message: e.to_string(), retry_after: 5 },
        e @ E::TooManyPixels { .. } => DomainError::TooLarge(e.to_string()),
        E::Unsupported(m) => DomainError::Internal(format!("stored original is unsupported: {m}")),
        e => DomainError::Internal(e.to_string()),
    }
}

impl Handler<Render> for RenderSupervisor {
    type Result = Result<oneshot::Receiver<Reply>, DomainError>;

    fn handle(&mut self, msg: Render, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        if let Some(waiters) = self.inflight.get_mut(&msg.key) {
            metrics::counter!("render_coalesced_total").increment(1);
            waiters.push(tx);
            return Ok(rx);
        }
        let capacity = self.settings.threads + self.settings.queue;
        if self.jobs.load(Ordering::SeqCst) >= capacity {
            metrics::counter!("render_rejected_total").increment(1);
            return Err(DomainError::Overloaded { message: "render queue is full; retry shortly".into(), retry_after: 1 });
        }
        self.inflight.insert(msg.key.clone(), vec![tx]);
        let jobs = self.jobs.clone();
        jobs.fetch_add(1, Ordering::SeqCst);
        metrics::gauge!("render_queue_depth").set(jobs.load(Ordering::SeqCst) as f64);
        let me = ctx.address();
        let cache = self.cache.clone();
        let s = self.settings.clone();
        self.pool.spawn(move || {
            let started = Instant::now();
            let result = (|| {
                // Another request may have rendered it to disk while this one waited.
                if let Some(r) = cache.get_disk(&msg.key) {
                    return Ok(r);
                }
                let bytes = std::fs::read(&msg.original).map_err(|e| DomainError::Internal(format!("reading original: {e}")))?;
                let opts = RenderOptions {
                    accept: msg.accept.clone(),
                    limits: Limits { max_input_pixels: s.max_input_pixels, max_work_pixels: s.max_work_pixels, deadline: Some(started + s.timeout) },
                    avif_speed: s.avif_speed,
                };
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| imgcloud_engine::render(&bytes, &msg.transform, &opts)))
                    .map_err(|_| DomainError::Internal("render panicked".into()))?
                    .map_err(engine_error)?;
                let format = out.format.extension();
                metrics::histogram!("render_duration_seconds", "format" => format).record(started.elapsed().as_secs_f64());
                metrics::counter!("renders_total", "format" => format).increment(1);
                let r = Arc::new(Rendition { bytes: out.bytes.into(), content_type: out.content_type.to_string(), width: out.width, height: out.height });
                cache.put(&msg.key, r.clone());
                Ok(r)
            })();
            jobs.fetch_sub(1, Ordering::SeqCst);
            metrics::gauge!("render_queue_depth").set(jobs.load(Ordering::SeqCst) as f64);
            me.do_send(Done { key: msg.key, result });
        });
        Ok(rx)
    }
}

impl Handler<Done> for RenderSupervisor {
    type Result = ();
    fn handle(&mut self, msg: Done, _: &mut Context<Self>) {
        for tx in self.inflight.remove(&msg.key).unwrap_or_default() {
            let _ = tx.send(msg.result.clone());
        }
    }
}

/// Purge one original's renditions from both tiers.
pub struct Purge {
    pub storage_key: String,
}

impl Message for Purge {
    type Result = ();
}

impl Handler<Purge> for RenderSupervisor {
    type Result = ();
    fn handle(&mut self, msg: Purge, _: &mut Context<Self>) {
        let cache = self.cache.clone();
        // Directory removal is blocking IO: keep it off the actor's thread.
        self.pool.spawn(move || cache.purge(&msg.storage_key));
    }
}
