//! Per-client render fairness: each client's cache misses and upload validations spend render-seconds from a
//! refilling budget, and at most a few of its heavy jobs are queued or running at once, so one client's flood
//! cannot starve the others. Work-conserving: a client alone with cheap jobs is never held back, since nobody waits for it.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use imgcloud_engine::{AutoFormat, OutputFormat, SourceInfo};

use crate::cache::RenditionKey;
use crate::error::DomainError;
use crate::ratelimit::{key, Key};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FairnessSettings {
    /// Render-seconds a client earns per minute; 0 disables the budget.
    pub seconds_per_minute: f64,
    /// The most render-seconds a client can bank (a burst after a quiet spell).
    pub burst_seconds: f64,
    /// Misses of one client queued or running at once; 0 disables the cap.
    pub max_inflight: usize,
}

impl FairnessSettings {
    /// The in-flight cap when configured as 0 ("automatic"): half the render threads, at least one.
    /// Below the thread count on purpose: a render cannot be pre-empted, so another client finds a
    /// free thread only if no single client may hold them all.
    pub fn auto_inflight(threads: usize) -> usize { (threads / 2).max(1) }
}

#[derive(Clone, Copy)]
struct Client {
    tokens: f64,
    last: Instant,
    inflight: usize,
    /// Moving average of this client's render times, in seconds: a client whose renders turn out
    /// slow is held to the in-flight cap even when its URLs do not look heavy.
    mean_secs: f64,
}

/// A client whose renders average this long is capped like one asking for heavy transforms.
const SLOW_RENDER_SECS: f64 = 1.0;

/// Whether a miss is presumed to hold a render thread for long, from its key alone (the source's
/// size is not known before the render): full-size renders (no `w`/`h`: cost grows with the
/// original, up to 100 MP) and AVIF outputs at high quality or beyond 1200 px a side, the slowest
/// encoder we have. A thumbnail-sized JPEG/WebP/PNG/AVIF of any original is cheap.
pub fn presumed_heavy(key: &RenditionKey) -> bool {
    let t = key.transform();
    if t.w.is_none() && t.h.is_none() {
        return true;
    }
    let avif = t.f == Some(OutputFormat::Avif) || key.auto() == Some(AutoFormat::Avif);
    let side = u64::from(t.w.unwrap_or(0).max(t.h.unwrap_or(0))) * u64::from(t.dpr.unwrap_or(100)) / 100;
    avif && (t.q.unwrap_or(0) >= 90 || side > 1200)
}

/// How a new job counts against its client's in-flight cap, judged before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// Presumed to hold a thread for long: capped even when the client is alone.
    Heavy,
    /// A cheap render miss: capped only while another client has jobs in flight.
    Light,
    /// A small upload's validation: milliseconds of decode, and its count is bounded by the upload
    /// rate limit already, so never refused by count (only a slow-running client is capped). Two
    /// users uploading a handful of small files at once must not refuse each other.
    Small,
}

/// Header pixels over all frames from which an upload's validation is presumed heavy. Validation
/// decodes the whole original (a full-size render, but for the encode), so its cost grows with the
/// pixels the header declares; below this (a phone screenshot, an icon, a thumbnail) it takes tens of
/// milliseconds.
pub const HEAVY_UPLOAD_PIXELS: u64 = 4_000_000;

impl Weight {
    /// A render miss, from its key (`presumed_heavy`).
    pub fn of_render(key: &RenditionKey) -> Self { if presumed_heavy(key) { Weight::Heavy } else { Weight::Light } }

    /// An upload's validation, from its header (`HEAVY_UPLOAD_PIXELS`).
    pub fn of_upload(info: &SourceInfo) -> Self {
        let pixels = u64::from(info.width) * u64::from(info.height) * u64::from(info.frames.max(1));
        if pixels >= HEAVY_UPLOAD_PIXELS { Weight::Heavy } else { Weight::Small }
    }
}

/// The fairness client of a signed-in user (session or API key): all of its keys and sessions share one budget.
pub fn client_of_user(user_id: i64) -> String { format!("user:{user_id}") }

/// The fairness client of an anonymous request: its address, as the rate limiter sees it.
pub fn client_of_ip(ip: &str) -> String { format!("ip:{ip}") }

/// Shared by the HTTP layer (admission) and the render pool (charging, on the ticket's drop).
#[derive(Clone)]
pub struct RenderFairness {
    settings: FairnessSettings,
    clients: Arc<Mutex<Clients>>,
}

struct Clients {
    map: HashMap<Key, Client>,
    /// Misses in flight over all clients: whoever has none of them is alone.
    inflight: usize,
    /// The size at which forgettable clients are next swept out. Doubled past a sweep that left the
    /// map large (everyone in debt), so sweeping stays amortised O(1) a miss under a wide flood.
    next_sweep: usize,
}

/// Clients remembered before a sweep; it forgets those with nothing in flight and a full budget
/// (forgetting them loses nothing). Clients in debt stay, so a flood of new addresses cannot launder
/// one; they are forgotten once earned back, within burst / rate (2 minutes by default).
const MAX_CLIENTS: usize = 100_000;

impl RenderFairness {
    pub fn new(settings: FairnessSettings) -> Self { RenderFairness { settings, clients: Arc::new(Mutex::new(Clients { map: HashMap::new(), inflight: 0, next_sweep: MAX_CLIENTS })) } }

    fn refill(&self, c: &mut Client, now: Instant) {
        let rate = self.settings.seconds_per_minute / 60.0;
        c.tokens = (c.tokens + now.saturating_duration_since(c.last).as_secs_f64() * rate).min(self.settings.burst_seconds);
        c.last = now;
    }

    /// Admits one cache miss or upload validation of `client` (`client_of_user`, `client_of_ip`), or says when to retry. The cost is
    /// charged when the render ends (`Ticket::charge`), since only then is it known: a client may go into
    /// debt by one render, and waits it off before its next miss.
    ///
    /// Both limits protect other clients, so both hold only where someone could be starved:
    /// - the in-flight cap, for `Weight::Heavy` jobs or a client whose jobs run slow
    ///   (a render cannot be pre-empted, so these must leave threads free for whoever comes next),
    ///   and for any `Weight::Light` miss while another client has jobs in flight (`Weight::Small` uploads never);
    /// - the render-seconds budget, while another client has renders in flight.
    ///
    /// A lone client with cheap renders (a load test, a CDN filling its cache) uses every thread.
    pub fn admit(&self, client: &str, now: Instant, weight: Weight) -> Result<Ticket, DomainError> {
        let s = self.settings;
        let k = key(client);
        let mut guard = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let clients = &mut *guard;
        if clients.map.len() >= clients.next_sweep && !clients.map.contains_key(&k) {
            clients.map.retain(|_, c| {
                self.refill(c, now);
                c.inflight > 0 || c.tokens < s.burst_seconds
            });
            clients.next_sweep = MAX_CLIENTS.max(clients.map.len() * 2);
        }
        let total = clients.inflight;
        let c = clients.map.entry(k).or_insert(Client { tokens: s.burst_seconds, last: now, inflight: 0, mean_secs: 0.0 });
        self.refill(c, now);
        let others = total > c.inflight;
        let capped = match weight {
            Weight::Heavy => true,
            Weight::Light => others,
            Weight::Small => false,
        } || c.mean_secs >= SLOW_RENDER_SECS;
        if s.max_inflight > 0 && c.inflight >= s.max_inflight && capped {
            return Err(DomainError::RateLimited {
                message: format!("render budget spent: {} uncached renders of this client are already queued or running; retry shortly", c.inflight),
                retry_after: 1,
            });
        }
        if s.seconds_per_minute > 0.0 && c.tokens <= 0.0 && others {
            let retry_after = ((-c.tokens) / (s.seconds_per_minute / 60.0)).ceil().max(1.0) as u64;
            return Err(DomainError::RateLimited {
                message: format!(
                    "render budget spent: this client may use {} render-seconds a minute for uncached images; retry after {retry_after} s",
                    s.seconds_per_minute
                ),
                retry_after,
            });
        }
        c.inflight += 1;
        clients.inflight += 1;
        Ok(Ticket { fairness: self.clone(), key: k, spent: Duration::ZERO })
    }
}

/// One admitted miss. Dropping it (render done, coalesced into another, or refused later) frees the
/// client's in-flight slot and charges what `charge` recorded.
pub struct Ticket {
    fairness: RenderFairness,
    key: Key,
    spent: Duration,
}

impl Ticket {
    /// Records the render's own time (not its wait in the queue), charged on drop.
    pub fn charge(&mut self, spent: Duration) { self.spent += spent; }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut clients = self.fairness.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.inflight = clients.inflight.saturating_sub(1);
        if let Some(c) = clients.map.get_mut(&self.key) {
            c.inflight = c.inflight.saturating_sub(1);
            let spent = self.spent.as_secs_f64();
            if self.fairness.settings.seconds_per_minute > 0.0 {
                c.tokens -= spent;
            }
            if spent > 0.0 {
                c.mean_secs = if c.mean_secs == 0.0 { spent } else { 0.7 * c.mean_secs + 0.3 * spent };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fair(per_minute: f64, burst: f64, inflight: usize) -> RenderFairness {
        RenderFairness::new(FairnessSettings { seconds_per_minute: per_minute, burst_seconds: burst, max_inflight: inflight })
    }

    #[test]
    fn inflight_cap_is_per_client_and_freed_on_drop() {
        let f = fair(60.0, 60.0, 2);
        let t0 = Instant::now();
        let a1 = f.admit("ip:a", t0, Weight::Heavy).unwrap();
        let _a2 = f.admit("ip:a", t0, Weight::Heavy).unwrap();
        assert!(matches!(f.admit("ip:a", t0, Weight::Heavy), Err(DomainError::RateLimited { retry_after: 1, .. })));
        assert!(f.admit("ip:b", t0, Weight::Heavy).is_ok(), "another client is admitted");
        drop(a1);
        assert!(f.admit("ip:a", t0, Weight::Heavy).is_ok(), "a finished render frees its slot");
    }

    #[test]
    fn spent_render_seconds_refuse_until_earned_back() {
        let f = fair(30.0, 10.0, 0);
        let t0 = Instant::now();
        // Someone else is rendering: the budget is what keeps user 1 from crowding them out.
        let _other = f.admit("user:3", t0, Weight::Light).unwrap();
        let mut t = f.admit("user:1", t0, Weight::Light).unwrap();
        t.charge(Duration::from_secs(14));
        drop(t);
        // 10 banked - 14 spent = 4 s of debt at 0.5 s/s: 8 s to wait.
        match f.admit("user:1", t0, Weight::Light) {
            Err(DomainError::RateLimited { retry_after, message }) => {
                assert_eq!(retry_after, 8);
                assert!(message.contains("render budget spent"), "{message}");
            }
            other => panic!("expected refusal, got {:?}", other.err()),
        }
        assert!(f.admit("user:2", t0, Weight::Light).is_ok(), "budgets are per client");
        assert!(f.admit("user:1", t0 + Duration::from_secs(9), Weight::Light).is_ok());
    }

    #[test]
    fn zero_disables_both_limits() {
        let f = fair(0.0, 0.0, 0);
        let t0 = Instant::now();
        let tickets: Vec<_> = (0..100)
            .map(|_| {
                let mut t = f.admit("ip:a", t0, Weight::Heavy).unwrap();
                t.charge(Duration::from_secs(100));
                t
            })
            .collect();
        drop(tickets);
        assert!(f.admit("ip:a", t0, Weight::Heavy).is_ok());
    }

    #[test]
    fn idle_clients_are_forgotten_and_indebted_ones_kept() {
        let f = fair(60.0, 1.0, 0);
        let t0 = Instant::now();
        let _other = f.admit("ip:other", t0, Weight::Light).unwrap();
        let mut debtor = f.admit("ip:debtor", t0, Weight::Light).unwrap();
        debtor.charge(Duration::from_secs(30));
        drop(debtor);
        for i in 0..(MAX_CLIENTS + 10) {
            drop(f.admit(&format!("ip:{i}"), t0, Weight::Light).unwrap());
        }
        let len = f.clients.lock().unwrap().map.len();
        assert!(len < 20, "idle clients swept: {len} left");
        assert!(f.admit("ip:debtor", t0, Weight::Light).is_err(), "the debtor is still in debt");
    }

    #[test]
    fn small_uploads_are_never_refused_by_count_unless_their_client_runs_slow() {
        let f = fair(60.0, 60.0, 1);
        let t0 = Instant::now();
        let _other = f.admit("user:2", t0, Weight::Small).unwrap();
        let held: Vec<_> = (0..4).map(|_| f.admit("user:1", t0, Weight::Small).unwrap()).collect();
        assert!(f.admit("user:1", t0, Weight::Light).is_err(), "a render miss counts them, while user 2 has one in flight");
        assert!(f.admit("user:1", t0, Weight::Heavy).is_err());
        drop(held);
        let mut slow = f.admit("user:1", t0, Weight::Small).unwrap();
        slow.charge(Duration::from_secs(3));
        drop(slow);
        let _one = f.admit("user:1", t0, Weight::Small).unwrap();
        assert!(f.admit("user:1", t0, Weight::Small).is_err(), "a client whose validations run slow is capped");
    }

    #[test]
    fn automatic_inflight_leaves_a_thread_for_others() {
        assert_eq!(FairnessSettings::auto_inflight(1), 1);
        assert_eq!(FairnessSettings::auto_inflight(2), 1);
        assert_eq!(FairnessSettings::auto_inflight(8), 4);
    }

    #[test]
    fn a_lone_client_with_cheap_renders_is_never_held_back() {
        let f = fair(30.0, 1.0, 1);
        let t0 = Instant::now();
        // Over the cap and deep in debt, but nobody else is waiting for a thread.
        let mut held: Vec<_> = (0..8).map(|_| f.admit("ip:loadtest", t0, Weight::Light).unwrap()).collect();
        for t in &mut held {
            t.charge(Duration::from_millis(200));
        }
        drop(held);
        assert!(f.admit("ip:loadtest", t0, Weight::Light).is_ok(), "in debt but alone");
    }

    #[test]
    fn heavy_renders_are_capped_even_alone() {
        // A heavy render would keep the next client from any thread, so the cap holds with nobody else in flight.
        let f = fair(30.0, 1.0, 1);
        let t0 = Instant::now();
        let first = f.admit("ip:flood", t0, Weight::Heavy).unwrap();
        assert!(
            matches!(f.admit("ip:flood", t0, Weight::Heavy), Err(DomainError::RateLimited { retry_after: 1, .. })),
            "a second heavy render of a lone client is over the cap of 1"
        );
        assert!(f.admit("ip:flood", t0, Weight::Light).is_ok(), "a cheap miss of the same lone client is not capped");
        drop(first);
        assert!(f.admit("ip:flood", t0, Weight::Heavy).is_ok(), "its slot comes back when the first ends");
    }

    #[test]
    fn another_clients_render_brings_the_limits_back() {
        let f = fair(30.0, 0.2, 1);
        let t0 = Instant::now();
        let mut a = f.admit("ip:a", t0, Weight::Light).unwrap();
        let _a2 = f.admit("ip:a", t0, Weight::Light).unwrap();
        let b = f.admit("ip:b", t0, Weight::Light).unwrap();
        assert!(f.admit("ip:a", t0, Weight::Light).is_err(), "over the cap while b renders");
        a.charge(Duration::from_millis(500));
        drop(a);
        assert!(matches!(f.admit("ip:a", t0, Weight::Light), Err(DomainError::RateLimited { .. })), "in debt while b renders");
        drop(b);
        assert!(f.admit("ip:a", t0, Weight::Light).is_ok(), "alone again");
    }

    #[test]
    fn a_client_whose_renders_run_slow_is_capped_alone() {
        let f = fair(0.0, 0.0, 1);
        let t0 = Instant::now();
        let mut t = f.admit("ip:s", t0, Weight::Light).unwrap();
        t.charge(Duration::from_secs(3));
        drop(t);
        let _one = f.admit("ip:s", t0, Weight::Light).unwrap();
        assert!(f.admit("ip:s", t0, Weight::Light).is_err());
    }

    #[test]
    fn heavy_means_full_size_or_a_large_or_fine_avif() {
        let k = |t: &str, accept: Option<&str>| RenditionKey::new("s", imgcloud_engine::Transform::parse(t).unwrap(), accept);
        assert!(presumed_heavy(&k("f_webp", None)), "no w/h: the original's full size");
        assert!(presumed_heavy(&k("w_1900,f_avif", None)));
        assert!(presumed_heavy(&k("w_800,dpr_2,f_avif", None)));
        assert!(presumed_heavy(&k("w_400,f_avif,q_100", None)));
        assert!(presumed_heavy(&k("w_1900,f_auto", Some("image/avif,image/webp"))), "f_auto that became AVIF");
        assert!(!presumed_heavy(&k("w_1900,f_auto", Some("image/webp"))));
        assert!(!presumed_heavy(&k("w_512,h_512,c_fit,f_avif,q_50", None)));
        assert!(!presumed_heavy(&k("w_4000,f_jpg", None)));
    }

    #[test]
    fn an_upload_is_heavy_by_its_header_pixels_over_all_frames() {
        let info = |width, height, frames| SourceInfo { format: imgcloud_engine::InputFormat::Png, width, height, orientation: 1, has_alpha: false, frames, plays: 0 };
        assert_eq!(Weight::of_upload(&info(1920, 1080, 1)), Weight::Small, "a screenshot");
        assert_eq!(Weight::of_upload(&info(2000, 2000, 1)), Weight::Heavy);
        assert_eq!(Weight::of_upload(&info(6000, 4000, 1)), Weight::Heavy, "a camera photo");
        assert_eq!(Weight::of_upload(&info(500, 500, 16)), Weight::Heavy, "an animation's frames add up");
        assert_eq!(Weight::of_upload(&info(4, 4, 0)), Weight::Small);
    }
}
