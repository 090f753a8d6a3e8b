//! Per-client render fairness: each client's cache misses spend render-seconds from a refilling budget, and
//! at most a few of its misses are queued or running at once, so one client's flood cannot starve the others.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
}

/// Shared by the HTTP layer (admission) and the render pool (charging, on the ticket's drop).
#[derive(Clone)]
pub struct RenderFairness {
    settings: FairnessSettings,
    clients: Arc<Mutex<Clients>>,
}

struct Clients {
    map: HashMap<Key, Client>,
    /// The size at which forgettable clients are next swept out. Doubled past a sweep that left the
    /// map large (everyone in debt), so sweeping stays amortised O(1) a miss under a wide flood.
    next_sweep: usize,
}

/// Clients remembered before a sweep; it forgets those with nothing in flight and a full budget
/// (forgetting them loses nothing). Clients in debt stay, so a flood of new addresses cannot launder
/// one; they are forgotten once earned back, within burst / rate (2 minutes by default).
const MAX_CLIENTS: usize = 100_000;

impl RenderFairness {
    pub fn new(settings: FairnessSettings) -> Self { RenderFairness { settings, clients: Arc::new(Mutex::new(Clients { map: HashMap::new(), next_sweep: MAX_CLIENTS })) } }

    fn refill(&self, c: &mut Client, now: Instant) {
        let rate = self.settings.seconds_per_minute / 60.0;
        c.tokens = (c.tokens + now.saturating_duration_since(c.last).as_secs_f64() * rate).min(self.settings.burst_seconds);
        c.last = now;
    }

    /// Admits one cache miss of `client` ("user:<id>" or "ip:<addr>"), or says when to retry. The cost is
    /// charged when the render ends (`Ticket::charge`), since only then is it known: a client may go into
    /// debt by one render, and waits it off before its next miss.
    pub fn admit(&self, client: &str, now: Instant) -> Result<Ticket, DomainError> {
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
        let c = clients.map.entry(k).or_insert(Client { tokens: s.burst_seconds, last: now, inflight: 0 });
        self.refill(c, now);
        if s.max_inflight > 0 && c.inflight >= s.max_inflight {
            return Err(DomainError::RateLimited {
                message: format!("render budget spent: {} uncached renders of this client are already queued or running; retry shortly", c.inflight),
                retry_after: 1,
            });
        }
        if s.seconds_per_minute > 0.0 && c.tokens <= 0.0 {
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
        if let Some(c) = clients.map.get_mut(&self.key) {
            c.inflight = c.inflight.saturating_sub(1);
            if self.fairness.settings.seconds_per_minute > 0.0 {
                c.tokens -= self.spent.as_secs_f64();
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
        let a1 = f.admit("ip:a", t0).unwrap();
        let _a2 = f.admit("ip:a", t0).unwrap();
        assert!(matches!(f.admit("ip:a", t0), Err(DomainError::RateLimited { retry_after: 1, .. })));
        assert!(f.admit("ip:b", t0).is_ok(), "another client is admitted");
        drop(a1);
        assert!(f.admit("ip:a", t0).is_ok(), "a finished render frees its slot");
    }

    #[test]
    fn spent_render_seconds_refuse_until_earned_back() {
        let f = fair(30.0, 10.0, 0);
        let t0 = Instant::now();
        let mut t = f.admit("user:1", t0).unwrap();
        t.charge(Duration::from_secs(14));
        drop(t);
        // 10 banked - 14 spent = 4 s of debt at 0.5 s/s: 8 s to wait.
        match f.admit("user:1", t0) {
            Err(DomainError::RateLimited { retry_after, message }) => {
                assert_eq!(retry_after, 8);
                assert!(message.contains("render budget spent"), "{message}");
            }
            other => panic!("expected refusal, got {:?}", other.err()),
        }
        assert!(f.admit("user:2", t0).is_ok(), "budgets are per client");
        assert!(f.admit("user:1", t0 + Duration::from_secs(9)).is_ok());
    }

    #[test]
    fn zero_disables_both_limits() {
        let f = fair(0.0, 0.0, 0);
        let t0 = Instant::now();
        let tickets: Vec<_> = (0..100)
            .map(|_| {
                let mut t = f.admit("ip:a", t0).unwrap();
                t.charge(Duration::from_secs(100));
                t
            })
            .collect();
        drop(tickets);
        assert!(f.admit("ip:a", t0).is_ok());
    }

    #[test]
    fn idle_clients_are_forgotten_and_indebted_ones_kept() {
        let f = fair(60.0, 1.0, 0);
        let t0 = Instant::now();
        let mut debtor = f.admit("ip:debtor", t0).unwrap();
        debtor.charge(Duration::from_secs(30));
        drop(debtor);
        for i in 0..(MAX_CLIENTS + 10) {
            drop(f.admit(&format!("ip:{i}"), t0).unwrap());
        }
        let len = f.clients.lock().unwrap().map.len();
        assert!(len < 20, "idle clients swept: {len} left");
        assert!(f.admit("ip:debtor", t0).is_err(), "the debtor is still in debt");
    }

    #[test]
    fn automatic_inflight_leaves_a_thread_for_others() {
        assert_eq!(FairnessSettings::auto_inflight(1), 1);
        assert_eq!(FairnessSettings::auto_inflight(2), 1);
        assert_eq!(FairnessSettings::auto_inflight(8), 4);
    }
}
