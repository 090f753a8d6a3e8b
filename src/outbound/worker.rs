//! The outbound worker: delivers due outbox rows (purges, webhooks) with retries and exponential backoff, and publishes the outbox gauges.
//!
//! Two lanes: purges have slots of their own and are read first, so no webhook receiver (slow,
//! dead or a tarpit) delays a CDN purge; webhook deliveries are one at a time per endpoint and at
//! most `webhooks.max_in_flight_per_owner` per owner, so one user's receivers cannot hold every slot.
//!
//! It runs on its own thread with its own tokio runtime, so slow receivers never occupy an actix
//! worker, and it holds nothing the process must wait for at shutdown: a row being delivered when
//! the process dies is still in the table and is delivered again after a restart (at least once,
//! with the same webhook-id).
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use imgcloud_actors::outbox::{now_ms, webhook_body, DisablePolicy, EventPayload, Failure, Kind, OutboxRow, OutboxSignal, OutboxStore, PurgePayload};
use imgcloud_actors::public_id::cache_tag;
use imgcloud_actors::webhooks::{WebhookStore, MAX_PER_OWNER};
use rand::Rng;

use super::purge::Purger;
use super::webhook;
use crate::config::Settings;
use crate::delivery::asset_json;

/// Wait before the next attempt after `failures` failed ones: `base * 2^(failures-1)`, capped at
/// `max`, then drawn from the upper half of that (`unit` in [0, 1)) so retries of many rows spread out.
pub fn backoff_ms(failures: u32, base_ms: u64, max_ms: u64, unit: f64) -> u64 {
    let exp = base_ms.saturating_mul(1u64 << failures.saturating_sub(1).min(40)).min(max_ms.max(1));
    let half = exp / 2;
    half + ((exp - half) as f64 * unit.clamp(0.0, 1.0)) as u64
}

/// How often the gauges are refreshed (each refresh reads a few rows, but the loop can turn often).
const STATS_EVERY: Duration = Duration::from_millis(250);

/// What is in flight: purge rows, and webhook endpoints (one row each) with their owners' counts.
#[derive(Default)]
struct Lanes {
    purges: HashSet<i64>,
    endpoints: HashMap<String, i64>,
    owners: HashMap<i64, usize>,
}

impl Lanes {
    fn start(&mut self, row: &OutboxRow) {
        match row.kind {
            Kind::Purge => {
                self.purges.insert(row.id);
            }
            Kind::Webhook => {
                self.endpoints.insert(row.target.clone(), row.owner);
                *self.owners.entry(row.owner).or_default() += 1;
            }
        }
    }

    fn finish(&mut self, row: &OutboxRow) {
        match row.kind {
            Kind::Purge => {
                self.purges.remove(&row.id);
            }
            Kind::Webhook => {
                if self.endpoints.remove(&row.target).is_some() {
                    if let Some(n) = self.owners.get_mut(&row.owner) {
                        *n -= 1;
                        if *n == 0 {
                            self.owners.remove(&row.owner);
                        }
                    }
                }
            }
        }
    }
}

pub struct Worker {
    pub outbox: OutboxStore,
    pub webhooks: WebhookStore,
    pub signal: OutboxSignal,
    pub purger: Purger,
    pub settings: Arc<Settings>,
}

impl Worker {
    /// Starts the worker thread. Nothing joins it: at exit the rows it had not finished are still in the table.
    pub fn spawn(self) -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("outbound runtime: {e}"))?;
        std::thread::Builder::new()
            .name("outbound".into())
            .spawn(move || runtime.block_on(Arc::new(self).run()))
            .map_err(|e| format!("outbound thread: {e}"))?;
        Ok(())
    }

    async fn run(self: Arc<Self>) {
        let cfg = &self.settings.outbox;
        let per_owner = self.settings.webhooks.max_in_flight_per_owner.max(1);
        let mut lanes = Lanes::default();
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<OutboxRow>();
        let mut stats_at = std::time::Instant::now() - STATS_EVERY;
        loop {
            while let Ok(row) = done_rx.try_recv() {
                lanes.finish(&row);
            }
            let now = now_ms();
            // The purge lane first, with slots of its own: no webhook receiver can hold them.
            let room = cfg.purge_concurrency.max(1).saturating_sub(lanes.purges.len());
            let purges = self.outbox.due_purges(now, &lanes.purges, room);
            // The webhook lane: one row per endpoint at a time, at most `per_owner` per owner.
            let room = cfg.concurrency.max(1).saturating_sub(lanes.endpoints.len());
            let scan = room + lanes.endpoints.len() + MAX_PER_OWNER as usize * (lanes.endpoints.len() / per_owner + 1);
            // Counted as they are picked: one read can return several endpoints of one owner.
            let mut picked: HashMap<i64, usize> = HashMap::new();
            let hooks = self.outbox.due_webhooks(now, scan, room, |e, owner| {
                let n = picked.entry(owner).or_insert_with(|| lanes.owners.get(&owner).copied().unwrap_or(0));
                let skip = lanes.endpoints.contains_key(e) || *n >= per_owner;
                if !skip {
                    *n += 1;
                }
                skip
            });
            for rows in [purges, hooks] {
                match rows {
                    Ok(rows) => {
                        for row in rows {
                            lanes.start(&row);
                            let (me, done) = (self.clone(), done_tx.clone());
                            tokio::spawn(async move {
                                me.attempt(&row).await;
                                let _ = done.send(row);
                            });
                        }
                    }
                    Err(e) => tracing::warn!("outbox: reading due rows: {e}"),
                }
            }
            if stats_at.elapsed() >= STATS_EVERY {
                stats_at = std::time::Instant::now();
                self.publish_stats();
            }
            tokio::select! {
                _ = self.signal.notified() => {}
                Some(row) = done_rx.recv() => lanes.finish(&row),
                _ = tokio::time::sleep(Duration::from_millis(cfg.poll_ms.max(10))) => {}
            }
        }
    }

    /// One delivery attempt of one row, and its bookkeeping.
    async fn attempt(&self, row: &OutboxRow) {
        let result = match row.kind {
            Kind::Purge => match serde_json::from_str::<PurgePayload>(&row.payload) {
                Ok(p) => self.purger.purge(&cache_tag(&p.public_id)).await,
                Err(e) => Err(format!("unreadable purge payload: {e}")),
            },
            Kind::Webhook => match self.webhooks.target(&row.target) {
                Ok(None) => {
                    // The endpoint was deleted (with its user, say): nobody is left to deliver to.
                    self.record(row, Ok(()));
                    return;
                }
                Ok(Some(target)) => match serde_json::from_str::<EventPayload>(&row.payload) {
                    Ok(p) => {
                        let body = webhook_body(&p, asset_json(&p.asset, self.settings.public_url()));
                        let w = &self.settings.webhooks;
                        let timeouts = webhook::Timeouts {
                            connect: Duration::from_millis(w.connect_timeout_ms.max(1)),
                            total: Duration::from_secs(w.timeout_secs.max(1)),
                        };
                        webhook::deliver(&target, &row.message_id, body, w.allow_private_targets, timeouts).await
                    }
                    Err(e) => Err(format!("unreadable event payload: {e}")),
                },
                Err(e) => Err(e.to_string()),
            },
        };
        self.record(row, result);
    }

    fn record(&self, row: &OutboxRow, result: Result<(), String>) {
        let kind = row.kind.as_str();
        let outcome = match result {
            Ok(()) => {
                metrics::counter!("outbox_delivered_total", "kind" => kind).increment(1);
                self.outbox.done(row).map(|()| Failure::Retry)
            }
            Err(e) => {
                metrics::counter!("outbox_failures_total", "kind" => kind).increment(1);
                let (cfg, w) = (&self.settings.outbox, &self.settings.webhooks);
                let attempts = row.attempts + 1;
                // A webhook's wait grows with its endpoint's streak: the endpoint is what is down.
                let streak = if row.kind == Kind::Webhook { row.endpoint_failures + 1 } else { attempts };
                let wait = backoff_ms(streak, cfg.retry_base_ms, cfg.retry_max_secs.saturating_mul(1000), rand::thread_rng().gen());
                let dead = attempts >= cfg.max_attempts;
                if dead {
                    tracing::error!("outbox: {kind} {} is dead after {attempts} attempts: {e}", row.message_id);
                } else {
                    tracing::warn!("outbox: {kind} {} attempt {attempts} failed: {e}", row.message_id);
                }
                let policy = DisablePolicy { failures: w.disable_after_failures, for_ms: w.disable_after_secs.saturating_mul(1000) as i64 };
                self.outbox.failed(row, attempts, now_ms() + wait as i64, dead, &e, policy)
            }
        };
        match outcome {
            Ok(Failure::Retry) => {}
            Ok(Failure::Disabled(_)) => metrics::counter!("webhook_endpoints_disabled_total").increment(1),
            // The row stays as it was and is attempted again: at least once, never lost.
            Err(e) => tracing::warn!("outbox: recording row {}: {e}", row.id),
        }
    }

    fn publish_stats(&self) {
        match self.outbox.stats(now_ms()) {
            Ok(s) => {
                metrics::gauge!("outbox_depth", "kind" => "purge").set(s.pending_purge as f64);
                metrics::gauge!("outbox_depth", "kind" => "webhook").set(s.pending_webhook as f64);
                metrics::gauge!("outbox_dead", "kind" => "purge").set(s.dead_purge as f64);
                metrics::gauge!("outbox_dead", "kind" => "webhook").set(s.dead_webhook as f64);
                metrics::gauge!("outbox_oldest_age_seconds").set(s.oldest_age_ms as f64 / 1000.0);
            }
            Err(e) => tracing::warn!("outbox: reading stats: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap_with_jitter_in_the_upper_half() {
        assert_eq!(backoff_ms(1, 1000, 3_600_000, 1.0), 1000);
        assert_eq!(backoff_ms(1, 1000, 3_600_000, 0.0), 500);
        assert_eq!(backoff_ms(2, 1000, 3_600_000, 1.0), 2000);
        assert_eq!(backoff_ms(5, 1000, 3_600_000, 1.0), 16_000);
        assert_eq!(backoff_ms(13, 1000, 3_600_000, 1.0), 3_600_000);
        assert_eq!(backoff_ms(200, 1000, 3_600_000, 0.0), 1_800_000, "no overflow, still capped");
        for u in [0.0, 0.3, 0.999] {
            let w = backoff_ms(3, 1000, 3_600_000, u);
            assert!((2000..=4000).contains(&w), "{w}");
        }
    }
}
