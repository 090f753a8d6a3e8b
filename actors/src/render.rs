//! The render supervisor: single-flight rendering on a bounded rayon pool that fills the rendition
//! caches (`crate::cache`), and remembers failed renders for a short while.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, AsyncContext, Context, Handler, Message};
use imgcloud_engine::{Limits, RenderOptions};
use tokio::sync::oneshot;

use crate::budget::MemoryBudget;
pub use crate::cache::{Rendition, RenditionCache, RenditionKey};
use crate::error::{DomainError, Stage};
use crate::fairness::RenderFairness;

#[derive(Debug, Clone)]
pub struct RenderSettings {
    pub threads: usize,
    pub queue: usize,
    pub timeout: Duration,
    pub max_work_pixels: u64,
    pub max_input_pixels: u64,
    /// Caps on animated originals (frames, pixels over all frames), as at upload.
    pub animation: imgcloud_engine::AnimationLimits,
    pub avif_speed: u8,
    /// How long a failed render is remembered and answered without rendering again.
    pub failure_ttl: Duration,
    /// Bytes all decodes together may hold (`crate::budget`); 0 means derived from the machine.
    pub memory_budget_bytes: u64,
}

type Reply = Result<Arc<Rendition>, DomainError>;

/// Render `original` as `key` says (transform and `f_auto` format); the reply arrives on the returned channel.
pub struct Render {
    pub key: RenditionKey,
    pub original: PathBuf,
    /// Who asks ("user:<id>" or "ip:<addr>"), for the per-client render budget (`crate::fairness`).
    /// Only a request that starts a render is admitted and charged; one that joins another's is not.
    pub client: Option<String>,
}

impl Message for Render {
    type Result = Result<oneshot::Receiver<Reply>, DomainError>;
}

struct Done {
    key: RenditionKey,
    result: Reply,
}

impl Message for Done {
    type Result = ();
}

pub struct RenderSupervisor {
    settings: RenderSettings,
    pool: Arc<rayon::ThreadPool>,
    cache: RenditionCache,
    inflight: HashMap<RenditionKey, Vec<oneshot::Sender<Reply>>>,
    /// Jobs handed to the pool and not yet finished (running plus waiting).
    jobs: Arc<AtomicUsize>,
    /// Renders that failed in the engine, with when they failed. A render past its deadline costs
    /// a thread for the whole deadline; without this, every repeat of the URL would pay it again.
    failures: moka::sync::Cache<RenditionKey, (DomainError, Instant)>,
    budget: MemoryBudget,
    fairness: Option<RenderFairness>,
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
        // Bounded by count: an entry is a key and a short message.
        let failures = moka::sync::Cache::builder().max_capacity(10_000).time_to_live(settings.failure_ttl).build();
        let budget = MemoryBudget::new(settings.memory_budget_bytes);
        tracing::info!(bytes = budget.total(), "render memory budget");
        Ok(Self { settings, pool: Arc::new(pool), cache, inflight: HashMap::new(), jobs: Arc::new(AtomicUsize::new(0)), failures, budget, fairness: None })
    }

    /// Admits each new render against its client's budget (`crate::fairness`).
    pub fn with_fairness(self, fairness: RenderFairness) -> Self { Self { fairness: Some(fairness), ..self } }

    /// Render threads, with 0 ("one per core") resolved.
    pub fn threads(&self) -> usize { self.settings.threads }

    /// Counts a job against the bounded queue; `None` when it is full.
    fn admit(&self) -> Option<Arc<AtomicUsize>> {
        if self.jobs.load(Ordering::SeqCst) >= self.settings.threads + self.settings.queue {
            metrics::counter!("render_rejected_total").increment(1);
            return None;
        }
        self.jobs.fetch_add(1, Ordering::SeqCst);
        metrics::gauge!("render_queue_depth").set(self.jobs.load(Ordering::SeqCst) as f64);
        Some(self.jobs.clone())
    }
}

fn queue_full() -> DomainError {
    DomainError::Overloaded { message: "render queue is full; retry shortly".into(), retry_after: 1 }
}

fn job_done(jobs: &AtomicUsize) {
    jobs.fetch_sub(1, Ordering::SeqCst);
    metrics::gauge!("render_queue_depth").set(jobs.load(Ordering::SeqCst) as f64);
}

impl Actor for RenderSupervisor {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        // Keep moka's eviction (and so disk deletion) moving even when traffic is idle.
        ctx.run_interval(Duration::from_secs(5), |this, _| this.cache.run_pending());
    }
}

impl Handler<Render> for RenderSupervisor {
    type Result = Result<oneshot::Receiver<Reply>, DomainError>;

    fn handle(&mut self, msg: Render, ctx: &mut Context<Self>) -> Self::Result {
        if let Some((e, at)) = self.failures.get(&msg.key) {
            metrics::counter!("render_failures_remembered_total").increment(1);
            return Err(with_retry_after(e, self.settings.failure_ttl.saturating_sub(at.elapsed())));
        }
        let (tx, rx) = oneshot::channel();
        if let Some(waiters) = self.inflight.get_mut(&msg.key) {
            metrics::counter!("render_coalesced_total").increment(1);
            waiters.push(tx);
            return Ok(rx);
        }
        let ticket = match (&self.fairness, &msg.client) {
            (Some(f), Some(client)) => Some(f.admit(client, Instant::now(), crate::fairness::presumed_heavy(&msg.key)).inspect_err(|_| metrics::counter!("render_budget_refused_total").increment(1))?),
            _ => None,
        };
        let jobs = self.admit().ok_or_else(queue_full)?;
        self.inflight.insert(msg.key.clone(), vec![tx]);
        let budget = self.budget.clone();
        let me = ctx.address();
        let cache = self.cache.clone();
        let s = self.settings.clone();
        let failures = self.failures.clone();
        self.pool.spawn(move || {
            let started = Instant::now();
            let result = (|| {
                // Another request may have rendered it to disk while this one waited.
                // Counted as the hit it is, so hits + renders + coalesced add up to the requests.
                if let Some(r) = cache.get_disk(&msg.key) {
                    metrics::counter!("cache_hits_total", "tier" => "disk").increment(1);
                    return Ok(r);
                }
                let bytes = std::fs::read(&msg.original).map_err(|e| DomainError::Internal(format!("reading original: {e}")))?;
                let opts = RenderOptions {
                    auto: msg.key.auto().unwrap_or_default(),
                    limits: Limits {
                        max_input_pixels: s.max_input_pixels,
                        max_work_pixels: s.max_work_pixels,
                        animation: s.animation,
                        deadline: Some(started + s.timeout),
                    },
                    avif_speed: s.avif_speed,
                };
                let stage = Stage::Render { retry_after: s.failure_ttl.as_secs().max(1) };
                // Remembered before the reply goes out, so a client's repeat finds it.
                let remember = |e: DomainError| {
                    metrics::counter!("render_failures_total").increment(1);
                    failures.insert(msg.key.clone(), (e.clone(), Instant::now()));
                    e
                };
                // The estimate reads only headers; what it refuses, the render would refuse too.
                let need = imgcloud_engine::memory::estimate(&bytes, msg.key.transform(), &opts)
                    .map_err(|e| remember(DomainError::from_engine(e, stage)))?;
                // Waiting for memory is load, not a property of the URL: not remembered.
                let reserved = budget.reserve(need, started + s.timeout).map_err(|r| r.into_error(stage))?;
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| imgcloud_engine::render(&bytes, msg.key.transform(), &opts)))
                    .map_err(|_| DomainError::Internal("render panicked".into()))
                    .and_then(|r| r.map_err(|e| DomainError::from_engine(e, stage)))
                    .map_err(remember)?;
                drop(reserved);
                let format = out.format.extension();
                metrics::histogram!("render_duration_seconds", "format" => format).record(started.elapsed().as_secs_f64());
                metrics::counter!("renders_total", "format" => format).increment(1);
                let r = Arc::new(Rendition::new(&msg.key, out.bytes.into(), out.format, out.width, out.height));
                cache.put(&msg.key, r.clone());
                Ok(r)
            })();
            if let Some(mut t) = ticket {
                t.charge(started.elapsed());
            }
            job_done(&jobs);
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

/// Upload bytes that passed the full decode on the render pool. Only `Validate` makes one, so the
/// catalog cannot store bytes that skipped it.
pub struct Validated {
    bytes: Vec<u8>,
    info: imgcloud_engine::SourceInfo,
}

impl Validated {
    pub fn info(&self) -> imgcloud_engine::SourceInfo { self.info }
    pub fn into_bytes(self) -> Vec<u8> { self.bytes }
}

/// Check upload bytes before they are stored: header limits (the same as at render), then a full
/// shrink-on-load decode that catches truncated and corrupt files. It runs on the render pool,
/// through its bounded queue and under the memory budget, never on the catalog's database threads.
pub struct Validate {
    pub bytes: Vec<u8>,
}

impl Message for Validate {
    type Result = Result<oneshot::Receiver<Result<Validated, DomainError>>, DomainError>;
}

impl Handler<Validate> for RenderSupervisor {
    type Result = Result<oneshot::Receiver<Result<Validated, DomainError>>, DomainError>;

    fn handle(&mut self, msg: Validate, _: &mut Context<Self>) -> Self::Result {
        let jobs = self.admit().ok_or_else(queue_full)?;
        let (tx, rx) = oneshot::channel();
        let (budget, s) = (self.budget.clone(), self.settings.clone());
        self.pool.spawn(move || {
            let started = Instant::now();
            let _ = tx.send(validate(msg.bytes, &s, &budget, started + s.timeout));
            job_done(&jobs);
        });
        Ok(rx)
    }
}

fn validate(bytes: Vec<u8>, s: &RenderSettings, budget: &MemoryBudget, deadline: Instant) -> Result<Validated, DomainError> {
    let map = |e| DomainError::from_engine(e, Stage::Upload);
    let info = imgcloud_engine::sniff::probe_with_limits(&bytes, s.max_input_pixels, s.animation).map_err(map)?;
    let t = imgcloud_engine::Transform { w: Some(16), h: Some(16), f: Some(imgcloud_engine::OutputFormat::Png), ..Default::default() };
    let opts = RenderOptions {
        auto: Default::default(),
        // The work cap is a render setting: an original stays acceptable when one transform of it
        // is over it (that render is the 400). No deadline: a slow decode is not a bad file.
        limits: Limits { max_input_pixels: s.max_input_pixels, animation: s.animation, ..Limits::default() },
        avif_speed: s.avif_speed,
    };
    let need = imgcloud_engine::memory::estimate(&bytes, &t, &opts).map_err(map)?;
    let _held = budget.reserve(need, deadline).map_err(|r| r.into_error(Stage::Upload))?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| imgcloud_engine::render(&bytes, &t, &opts)))
        .map_err(|_| DomainError::Internal("upload validation panicked".into()))?
        .map_err(map)?;
    Ok(Validated { bytes, info })
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
        self.pool.spawn(move || match cache.purge(&msg.storage_key) {
            Ok((memory, disk)) => tracing::debug!(storage_key = %msg.storage_key, memory, disk, "renditions purged"),
            Err(e) => tracing::warn!(storage_key = %msg.storage_key, error = %e, "purging renditions left files behind"),
        });
    }
}

/// A remembered overload tells the client when it is forgotten, not the full TTL again.
fn with_retry_after(e: DomainError, left: Duration) -> DomainError {
    match e {
        DomainError::Overloaded { message, .. } => DomainError::Overloaded { message, retry_after: left.as_secs().max(1) },
        e => e,
    }
}
