//! The outbox table: CDN purges and webhook events, written inside the catalog change's own transaction and read back by the outbound worker.
//!
//! A change and its rows commit together or not at all, so a crash can never keep one without the
//! other. A row leaves the table only when its delivery succeeded (or its endpoint is gone); a row
//! that runs out of attempts stays, marked dead, and is counted.
use std::collections::HashSet;
use std::sync::Arc;

use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::catalog::Asset;
use crate::db::{Conn, Pool};
use crate::error::DomainResult;
use crate::webhooks::{parse_events, Event};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Purge,
    Webhook,
}

impl Kind {
    pub fn as_str(self) -> &'static str { match self { Kind::Purge => "purge", Kind::Webhook => "webhook" } }
}

/// Wakes the worker when rows are committed, so deliveries do not wait for its next poll.
#[derive(Clone, Default)]
pub struct OutboxSignal(Arc<tokio::sync::Notify>);

impl OutboxSignal {
    pub fn notify(&self) { self.0.notify_one() }
    pub async fn notified(&self) { self.0.notified().await }
}

/// What a purge row asks for: the cache tag of this asset, purged at the CDN.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PurgePayload {
    pub public_id: String,
}

/// A webhook row's payload: the event and the asset as it was inside the change's transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventPayload {
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339, when the change committed.
    pub timestamp: String,
    pub asset: Asset,
}

pub fn now_ms() -> i64 { (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64 }

fn message_id() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    format!("msg_{}", hex::encode(b))
}

fn insert(tx: &rusqlite::Transaction<'_>, kind: Kind, target: &str, message_id: &str, payload: &str, now: i64) -> DomainResult<()> {
    tx.execute(
        "INSERT INTO outbox (kind, target, message_id, payload, next_attempt_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![kind.as_str(), target, message_id, payload, now],
    )?;
    Ok(())
}

/// Writes a purge of `public_id`'s cache tag, inside the caller's transaction.
pub(crate) fn enqueue_purge(tx: &rusqlite::Transaction<'_>, public_id: &str) -> DomainResult<()> {
    let payload = serde_json::to_string(&PurgePayload { public_id: public_id.to_string() }).map_err(crate::DomainError::internal)?;
    insert(tx, Kind::Purge, "", &message_id(), &payload, now_ms())
}

/// Writes one row per endpoint subscribed to `event` for this asset, inside the caller's transaction:
/// the owner's endpoints and every admin's (admins see all assets, so they hear of all of them).
/// One message id per event, shared by its rows; it is the `webhook-id` every retry repeats.
/// Returns how many rows were written.
pub(crate) fn enqueue_event(tx: &rusqlite::Transaction<'_>, event: Event, asset: &Asset, timestamp: &str) -> DomainResult<usize> {
    let endpoints: Vec<(String, String)> = {
        let mut st = tx.prepare(
            "SELECT e.id, e.events FROM webhook_endpoints e JOIN users u ON u.id = e.owner_id \
             WHERE e.owner_id = ?1 OR u.role = 'admin' ORDER BY e.created_at, e.rowid",
        )?;
        let rows = st.query_map([asset.owner], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        rows
    };
    let subscribed: Vec<&String> = endpoints
        .iter()
        .filter(|(_, events)| {
            let names: Vec<String> = events.split(',').map(str::to_string).collect();
            parse_events(&names).is_ok_and(|evs| evs.contains(&event))
        })
        .map(|(id, _)| id)
        .collect();
    if subscribed.is_empty() {
        return Ok(0);
    }
    let payload = EventPayload { kind: event.as_str().to_string(), timestamp: timestamp.to_string(), asset: asset.clone() };
    let payload = serde_json::to_string(&payload).map_err(crate::DomainError::internal)?;
    let (id, now) = (message_id(), now_ms());
    for target in &subscribed {
        insert(tx, Kind::Webhook, target, &id, &payload, now)?;
    }
    Ok(subscribed.len())
}

/// One row handed to the worker.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: Kind,
    pub target: String,
    pub message_id: String,
    pub payload: String,
    pub attempts: u32,
}

/// Counts for the gauges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxStats {
    pub pending_purge: i64,
    pub pending_webhook: i64,
    pub dead_purge: i64,
    pub dead_webhook: i64,
    /// Age of the oldest pending row, in milliseconds (0 when none).
    pub oldest_age_ms: i64,
}

#[derive(Clone)]
pub struct OutboxStore {
    pool: Pool,
}

impl OutboxStore {
    pub fn new(pool: Pool) -> Self { Self { pool } }

    fn conn(&self) -> DomainResult<Conn> { Ok(self.pool.get()?) }

    /// Pending rows due by `now`, oldest first, leaving out `in_flight`. Webhook rows wait behind
    /// their endpoint's oldest pending row (head of line), so each endpoint gets its events in order,
    /// and a backlog is replayed in order once the receiver is back. Purges have no order to keep.
    pub fn due(&self, now: i64, in_flight: &HashSet<i64>, limit: usize) -> DomainResult<Vec<OutboxRow>> {
        let conn = self.conn()?;
        let mut st = conn.prepare(
            "SELECT o.id, o.kind, o.target, o.message_id, o.payload, o.attempts FROM outbox o \
             WHERE o.state = 'pending' AND o.next_attempt_ms <= ?1 \
               AND (o.kind = 'purge' OR o.id = (SELECT MIN(p.id) FROM outbox p WHERE p.kind = 'webhook' AND p.target = o.target AND p.state = 'pending')) \
             ORDER BY o.id LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![now, (limit + in_flight.len()) as i64], |r| {
                let kind: String = r.get(1)?;
                Ok(OutboxRow {
                    id: r.get(0)?,
                    kind: if kind == "purge" { Kind::Purge } else { Kind::Webhook },
                    target: r.get(2)?,
                    message_id: r.get(3)?,
                    payload: r.get(4)?,
                    attempts: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows.into_iter().filter(|r| !in_flight.contains(&r.id)).take(limit).collect())
    }

    /// Delivered (or no longer deliverable because its endpoint is gone): the row leaves.
    pub fn done(&self, id: i64) -> DomainResult<()> {
        self.conn()?.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    /// A failed attempt: retried at `next_attempt_ms`, or kept as dead when that is `None`.
    pub fn failed(&self, id: i64, attempts: u32, next_attempt_ms: Option<i64>, error: &str) -> DomainResult<()> {
        let error: String = error.chars().take(500).collect();
        let conn = self.conn()?;
        match next_attempt_ms {
            Some(at) => conn.execute(
                "UPDATE outbox SET attempts = ?1, next_attempt_ms = ?2, last_error = ?3 WHERE id = ?4",
                params![attempts, at, error, id],
            )?,
            None => conn.execute("UPDATE outbox SET attempts = ?1, state = 'dead', last_error = ?2 WHERE id = ?3", params![attempts, error, id])?,
        };
        Ok(())
    }

    /// When the next pending row falls due, if any (the worker sleeps until then, or a wake-up).
    pub fn next_due_ms(&self) -> DomainResult<Option<i64>> {
        Ok(self.conn()?.query_row("SELECT MIN(next_attempt_ms) FROM outbox WHERE state = 'pending'", [], |r| r.get(0)).optional()?.flatten())
    }

    pub fn stats(&self, now: i64) -> DomainResult<OutboxStats> {
        let conn = self.conn()?;
        let mut s = OutboxStats::default();
        let mut st = conn.prepare("SELECT kind, state, COUNT(*), MIN(created_ms) FROM outbox GROUP BY kind, state")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)))?;
        let mut oldest: Option<i64> = None;
        for row in rows {
            let (kind, state, n, created) = row?;
            match (kind.as_str(), state.as_str()) {
                ("purge", "pending") => s.pending_purge = n,
                ("webhook", "pending") => s.pending_webhook = n,
                ("purge", _) => s.dead_purge = n,
                _ => s.dead_webhook = n,
            }
            if state == "pending" {
                oldest = Some(oldest.map_or(created, |o: i64| o.min(created)));
            }
        }
        s.oldest_age_ms = oldest.map_or(0, |o| (now - o).max(0));
        Ok(s)
    }
}

/// The body a webhook receiver gets: `{"type", "timestamp", "data"}` with `data` the asset JSON clients see,
/// built by the caller's `asset_json`. Kept here so the payload's shape has one definition.
pub fn webhook_body(payload: &EventPayload, data: serde_json::Value) -> String {
    json!({ "type": payload.kind, "timestamp": payload.timestamp, "data": data }).to_string()
}
