//! The render supervisor: a bounded crossbeam queue of render and upload-validation jobs drained by the render threads, with single-flight joins, per-client fairness at admission, queued jobs nobody waits for any more dropped unrun, and failed renders remembered for a while.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{Actor, AsyncContext, Context, Handler, Message};
use crossbeam_channel::{Receiver, Sender};
use imgcloud_engine::{Limits, RenderOptions};
use tokio::sync::oneshot;

use crate::budget::MemoryBudget;
pub use crate::cache::{Rendition, RenditionCache, RenditionKey};
use crate::error::{DomainError, Stage};
use crate::fairness::{RenderFairness, Ticket, Weight};

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

impl RenderSettings {
    /// The engine limits of one job that starts now: the same for a render and an upload's validation.
    fn limits(&self, started: Instant) -> Limits {
        Limits { max_input_pixels: self.max_input_pixels, max_work_pixels: self.max_work_pixels, animation: self.animation, deadline: Some(started + self.timeout) }
    }
}

type Reply = Result<Arc<Rendition>, DomainError>;
type Waiters = Vec<oneshot::Sender<Reply>>;

/// Render `original` as `key` says (transform and `f_auto` format); the reply arrives on the returned channel.
/// Dropping that receiver (the HTTP request went away) tells the queue nobody waits for it.
pub struct Render {
    pub key: RenditionKey,
    pub original: PathBuf,
    /// Who asks (`crate::fairness::client_of_user` or `client_of_ip`), for the per-client render budget.
    /// Only a request that starts a render is admitted and charged; one that joins another's is not.
    pub client: Option<String>,
}

impl Message for Render {
    type Result = Result<oneshot::Receiver<Reply>, DomainError>;
}

/// What the render threads take off the queue. Each carries its fairness ticket (charged with the
/// job's own run time, freed when the job ends or is dropped) and a way to see whether anyone still
/// waits: a render's waiters in `Shared::inflight`, a validation's reply sender.
enum Job {
    Render { key: RenditionKey, original: PathBuf, ticket: Option<Ticket> },
    Validate { bytes: Vec<u8>, info: imgcloud_engine::SourceInfo, reply: oneshot::Sender<Result<Validated, DomainError>>, ticket: Option<Ticket> },
}

/// What the supervisor and its render threads share.
struct Shared {
    settings: RenderSettings,
    cache: RenditionCache,
    /// The waiters of every render queued or running, by key (single-flight). The thread that takes a
    /// render off the queue looks here to see whether any waiter is left, and the one that finishes it
    /// replies to all; a request that arrives while the key is here joins instead of rendering again.
    inflight: Mutex<HashMap<RenditionKey, Waiters>>,
    /// Renders that failed in the engine, with when they failed. A render past its deadline costs
    /// a thread for the whole deadline; without this, every repeat of the URL would pay it again.
    failures: moka::sync::Cache<RenditionKey, (DomainError, Instant)>,
    budget: MemoryBudget,
    /// Jobs queued or running, for the `render_queue_depth` gauge only: admission is the channel's.
    depth: AtomicUsize,
}

impl Shared {
    fn inflight(&self) -> std::sync::MutexGuard<'_, HashMap<RenditionKey, Waiters>> { self.inflight.lock().unwrap_or_else(|p| p.into_inner()) }

    fn depth_changed(&self, up: bool) {
        let d = if up { self.depth.fetch_add(1, Ordering::SeqCst) + 1 } else { self.depth.fetch_sub(1, Ordering::SeqCst) - 1 };
        metrics::gauge!("render_queue_depth").set(d as f64);
    }
}

pub struct RenderSupervisor {
    shared: Arc<Shared>,
    /// The bounded queue (`crossbeam_channel::bounded(render.queue)`): a job waits here for a render
    /// thread, so at most `threads + queue` jobs exist; a full `try_send` is the 503.
    queue: Sender<Job>,
    /// Rendition purges: file IO, on their own thread, never behind (or refused by) the render queue.
    purges: Sender<String>,
    fairness: Option<RenderFairness>,
    /// Owns the render threads; they end when `queue` is dropped.
    _pool: rayon::ThreadPool,
}

impl RenderSupervisor {
    pub fn new(settings: RenderSettings, cache: RenditionCache) -> Result<Self, DomainError> {
        let threads = if settings.threads == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { settings.threads };
        let settings = RenderSettings { threads, ..settings };
        // Bounded by count: an entry is a key and a short message.
        let failures = moka::sync::Cache::builder().max_capacity(10_000).time_to_live(settings.failure_ttl).build();
        let budget = MemoryBudget::new(settings.memory_budget_bytes);
        tracing::info!(bytes = budget.total(), "render memory budget");
        let (queue, jobs) = crossbeam_channel::bounded(settings.queue);
        let shared = Arc::new(Shared { settings, cache: cache.clone(), inflight: Mutex::new(HashMap::new()), failures, budget, depth: AtomicUsize::new(0) });
        // The render threads are a rayon pool, each running one drain loop for good. One render
        // occupies one thread: the engine runs no parallel loop (its codecs are built without their
        // rayon features, Cargo.toml), so a render never waits in rayon where it could pick up
        // another job, and nothing starts rayon's global pool (tests/api/render_threads.rs).
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).thread_name(|i| format!("render-{i}")).build().map_err(DomainError::internal)?;
        {
            let shared = shared.clone();
            pool.spawn_broadcast(move |_| drain(&jobs, &shared));
        }
        let (purges, purge_rx) = crossbeam_channel::unbounded::<String>();
        std::thread::Builder::new()
            .name("render-purge".into())
            .spawn(move || {
                for storage_key in purge_rx {
                    match cache.purge(&storage_key) {
                        Ok((memory, disk)) => tracing::debug!(%storage_key, memory, disk, "renditions purged"),
                        Err(e) => tracing::warn!(%storage_key, error = %e, "purging renditions left files behind"),
                    }
                }
            })
            .map_err(DomainError::internal)?;
        Ok(Self { shared, queue, purges, fairness: None, _pool: pool })
    }

    /// Admits each new render and upload against its client's budget (`crate::fairness`).
    pub fn with_fairness(self, fairness: RenderFairness) -> Self { Self { fairness: Some(fairness), ..self } }

    /// Render threads, with 0 ("one per core") resolved.
    pub fn threads(&self) -> usize { self.shared.settings.threads }

    /// Charges a new job to its client's fairness budget, or says when to retry.
    fn admit(&self, client: Option<&str>, weight: Weight) -> Result<Option<Ticket>, DomainError> {
        match (&self.fairness, client) {
            (Some(f), Some(client)) => {
                f.admit(client, Instant::now(), weight).map(Some).inspect_err(|_| metrics::counter!("render_budget_refused_total").increment(1))
            }
            _ => Ok(None),
        }
    }

    /// Puts a job on the bounded queue; a full queue is 503 with Retry-After (the job, and its
    /// ticket, are dropped with the error).
    fn enqueue(&self, job: Job) -> Result<(), DomainError> {
        self.shared.depth_changed(true);
        self.queue.try_send(job).map_err(|_| {
            self.shared.depth_changed(false);
            metrics::counter!("render_rejected_total").increment(1);
            DomainError::Overloaded { message: "render queue is full; retry shortly".into(), retry_after: 1 }
        })
    }
}

impl Actor for RenderSupervisor {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        // Keep moka's eviction (and so disk deletion) moving even when traffic is idle.
        ctx.run_interval(Duration::from_secs(5), |this, _| this.shared.cache.run_pending());
    }
}

impl Handler<Render> for RenderSupervisor {
    type Result = Result<oneshot::Receiver<Reply>, DomainError>;

    fn handle(&mut self, msg: Render, _: &mut Context<Self>) -> Self::Result {
        if let Some((e, at)) = self.shared.failures.get(&msg.key) {
            metrics::counter!("render_failures_remembered_total").increment(1);
            return Err(with_retry_after(e, self.shared.settings.failure_ttl.saturating_sub(at.elapsed())));
        }
        let (tx, rx) = oneshot::channel();
        // Held until the waiter list is in place, so the thread that takes the job finds it.
        let mut inflight = self.shared.inflight();
        if let Some(waiters) = inflight.get_mut(&msg.key) {
            metrics::counter!("render_coalesced_total").increment(1);
            waiters.push(tx);
            return Ok(rx);
        }
        let ticket = self.admit(msg.client.as_deref(), Weight::of_render(&msg.key))?;
        self.enqueue(Job::Render { key: msg.key.clone(), original: msg.original, ticket })?;
        inflight.insert(msg.key, vec![tx]);
        Ok(rx)
    }
}

/// A render thread: takes jobs off the queue until the supervisor is gone.
fn drain(jobs: &Receiver<Job>, shared: &Shared) {
    for job in jobs {
        match job {
            Job::Render { key, original, ticket } => {
                let abandoned = {
                    let mut inflight = shared.inflight();
                    let gone = inflight.get(&key).is_none_or(|w| w.iter().all(|tx| tx.is_closed()));
                    if gone {
                        inflight.remove(&key);
                    }
                    gone
                };
                if abandoned {
                    skipped(shared, "render", ticket);
                    continue;
                }
                let started = Instant::now();
                let result = render(shared, &key, &original, started);
                charge(ticket, started);
                shared.depth_changed(false);
                let waiters = shared.inflight().remove(&key).unwrap_or_default();
                for tx in waiters {
                    let _ = tx.send(result.clone());
                }
            }
            Job::Validate { bytes, info, reply, ticket } => {
                if reply.is_closed() {
                    skipped(shared, "upload", ticket);
                    continue;
                }
                let started = Instant::now();
                let result = validate(bytes, info, &shared.settings, &shared.budget, started);
                charge(ticket, started);
                shared.depth_changed(false);
                let _ = reply.send(result);
            }
        }
    }
}

/// A queued job whose every waiter went away (the client disconnected or timed out) is dropped
/// unrun: nobody would see its result, and running it would only delay everyone queued behind it.
fn skipped(shared: &Shared, kind: &'static str, ticket: Option<Ticket>) {
    metrics::counter!("render_jobs_abandoned_total", "kind" => kind).increment(1);
    drop(ticket);
    shared.depth_changed(false);
}

/// Charges a job's own run time (not its wait in the queue) to its client, and frees its slot.
fn charge(ticket: Option<Ticket>, started: Instant) {
    if let Some(mut t) = ticket {
        t.charge(started.elapsed());
    }
}

fn render(shared: &Shared, key: &RenditionKey, original: &std::path::Path, started: Instant) -> Reply {
    let s = &shared.settings;
    // Another request may have rendered it to disk while this one waited.
    // Counted as the hit it is, so hits + renders + coalesced add up to the requests.
    if let Some(r) = shared.cache.get_disk(key) {
        metrics::counter!("cache_hits_total", "tier" => "disk").increment(1);
        return Ok(r);
    }
    let bytes = std::fs::read(original).map_err(|e| DomainError::Internal(format!("reading original: {e}")))?;
    let opts = RenderOptions { auto: key.auto().unwrap_or_default(), limits: s.limits(started), avif_speed: s.avif_speed };
    let stage = Stage::Render { retry_after: s.failure_ttl.as_secs().max(1) };
    // Remembered before the reply goes out, so a client's repeat finds it.
    let remember = |e: DomainError| {
        metrics::counter!("render_failures_total").increment(1);
        shared.failures.insert(key.clone(), (e.clone(), Instant::now()));
        e
    };
    // The estimate reads only headers; what it refuses, the render would refuse too.
    let need = imgcloud_engine::memory::estimate(&bytes, key.transform(), &opts).map_err(|e| remember(DomainError::from_engine(e, stage)))?;
    // Waiting for memory is load, not a property of the URL: not remembered.
    let reserved = shared.budget.reserve(need, started + s.timeout).map_err(|r| r.into_error(stage))?;
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| imgcloud_engine::render(&bytes, key.transform(), &opts)))
        .map_err(|_| DomainError::Internal("render panicked".into()))
        .and_then(|r| r.map_err(|e| DomainError::from_engine(e, stage)))
        .map_err(remember)?;
    drop(reserved);
    let format = out.format.extension();
    metrics::histogram!("render_duration_seconds", "format" => format).record(started.elapsed().as_secs_f64());
    metrics::counter!("renders_total", "format" => format).increment(1);
    let r = Arc::new(Rendition::new(key, out.bytes.into(), out.format, out.width, out.height));
    shared.cache.put(key, r.clone());
    Ok(r)
}

/// Upload bytes that passed the full decode on a render thread. Only `Validate` makes one, so the
/// catalog cannot store bytes that skipped it.
pub struct Validated {
    bytes: Vec<u8>,
    info: imgcloud_engine::SourceInfo,
}

impl Validated {
    pub fn info(&self) -> imgcloud_engine::SourceInfo { self.info }
    pub fn into_bytes(self) -> Vec<u8> { self.bytes }
}

/// Check upload bytes before they are stored: header limits (the same as at render, judged here
/// before the job takes a queue slot), then a full decode (`imgcloud_engine::validate`) that catches truncated and
/// corrupt files. The decode is a job like a render: on a render thread, through the bounded queue,
/// charged to the uploader's fairness budget, under the memory budget and the render deadline and
/// work cap, and dropped unrun if the uploader has gone by the time a thread takes it.
pub struct Validate {
    pub bytes: Vec<u8>,
    /// The uploader (`crate::fairness::client_of_user`); `None` is not charged.
    pub client: Option<String>,
}

impl Message for Validate {
    type Result = Result<oneshot::Receiver<Result<Validated, DomainError>>, DomainError>;
}

impl Handler<Validate> for RenderSupervisor {
    type Result = Result<oneshot::Receiver<Result<Validated, DomainError>>, DomainError>;

    fn handle(&mut self, msg: Validate, _: &mut Context<Self>) -> Self::Result {
        let s = &self.shared.settings;
        // Headers only, so cheap on this thread; it tells how heavy the decode will be.
        let info = imgcloud_engine::sniff::probe_with_limits(&msg.bytes, s.max_input_pixels, s.animation).map_err(|e| DomainError::from_engine(e, Stage::Upload))?;
        let ticket = self.admit(msg.client.as_deref(), Weight::of_upload(&info))?;
        let (reply, rx) = oneshot::channel();
        self.enqueue(Job::Validate { bytes: msg.bytes, info, reply, ticket })?;
        Ok(rx)
    }
}

fn validate(bytes: Vec<u8>, info: imgcloud_engine::SourceInfo, s: &RenderSettings, budget: &MemoryBudget, started: Instant) -> Result<Validated, DomainError> {
    let map = |e| DomainError::from_engine(e, Stage::Upload);
    // The render's limits: an original whose decode is over the work cap or the deadline could
    // never be rendered here, so it is refused now rather than stored and failed at every render.
    let opts = RenderOptions { auto: Default::default(), limits: s.limits(started), avif_speed: s.avif_speed };
    // What the validation decode itself holds (a GIF's frames only, not its logical screen).
    let need = imgcloud_engine::validate::estimate(&bytes, &opts).map_err(map)?;
    let _held = budget.reserve(need, started + s.timeout).map_err(|r| r.into_error(Stage::Upload))?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| imgcloud_engine::validate::validate(&bytes, &opts)))
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
        if self.purges.send(msg.storage_key).is_err() {
            tracing::warn!("the purge thread is gone; renditions are left to the caches' eviction");
        }
    }
}

/// A remembered overload tells the client when it is forgotten, not the full TTL again.
fn with_retry_after(e: DomainError, left: Duration) -> DomainError {
    match e {
        DomainError::Overloaded { message, .. } => DomainError::Overloaded { message, retry_after: left.as_secs().max(1) },
        e => e,
    }
}
