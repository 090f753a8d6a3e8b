//! The outbox table: CDN purges and webhook events, written inside the catalog change's own transaction and read back by the outbound worker.
//!
//! A change and its rows commit together or not at all, so a crash can never keep one without the
//! other. A row leaves the table only when its delivery succeeded (or its endpoint is gone or was
//! disabled); a row that runs out of attempts stays, marked dead, and is counted. Purges and webhooks
//! are read as two lanes, each by index with a limit, so a webhook backlog never delays a purge.
use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::catalog::Asset;
use crate::db::{Conn, Pool};
use crate::domain::Role;
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

/// Pending rows one webhook endpoint may hold before it is disabled (`webhooks.max_pending_per_endpoint`).
/// Set once at start; the catalog's writes read it inside their transactions, so it lives here
/// rather than in every caller's settings.
static MAX_PENDING_PER_ENDPOINT: AtomicU32 = AtomicU32::new(1000);

pub fn set_max_pending_per_endpoint(n: u32) { MAX_PENDING_PER_ENDPOINT.store(n.max(1), Ordering::Relaxed) }

/// Writes one row per enabled endpoint subscribed to `event` for this asset, inside the caller's transaction:
/// the owner's endpoints and every admin's (admins see all assets, so they hear of all of them).
/// One message id per event, shared by its rows; it is the `webhook-id` every retry repeats.
/// An endpoint whose backlog is already at the cap gets no row: it is disabled instead, its backlog
/// dropped, and its owner told why (`webhooks::disable`). Returns how many rows were written.
pub(crate) fn enqueue_event(tx: &rusqlite::Transaction<'_>, event: Event, asset: &Asset, timestamp: &str) -> DomainResult<usize> {
    let endpoints: Vec<(String, String, i64)> = {
        let mut st = tx.prepare(
            "SELECT e.id, e.events, e.pending FROM webhook_endpoints e JOIN users u ON u.id = e.owner_id \
             WHERE (e.owner_id = ?1 OR u.role = ?2) AND e.disabled_reason IS NULL ORDER BY e.created_at, e.rowid",
        )?;
        let rows = st.query_map(params![asset.owner, Role::SEES_ALL], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<_>, _>>()?;
        rows
    };
    let cap = i64::from(MAX_PENDING_PER_ENDPOINT.load(Ordering::Relaxed));
    let mut subscribed = Vec::new();
    for (id, events, pending) in &endpoints {
        let names: Vec<String> = events.split(',').map(str::to_string).collect();
        if !parse_events(&names).is_ok_and(|evs| evs.contains(&event)) {
            continue;
        }
        if *pending >= cap {
            let reason = format!("{pending} events were waiting undelivered, the most one endpoint may hold (webhooks.max_pending_per_endpoint)");
            crate::webhooks::disable(tx, id, &reason)?;
            continue;
        }
        subscribed.push(id);
    }
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
    /// Webhook rows: the endpoint's owner and its current streak of failed attempts (0 for purges).
    pub owner: i64,
    pub endpoint_failures: u32,
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

/// When a failing webhook endpoint is disabled: after `failures` consecutive failed attempts that
/// span at least `for_ms` (both must hold, so neither a short outage nor one slow burst does it).
#[derive(Debug, Clone, Copy)]
pub struct DisablePolicy {
    pub failures: u32,
    pub for_ms: i64,
}

/// What `failed` did with a webhook endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Retry,
    /// The endpoint was disabled with this reason.
    Disabled(String),
}

const ROW_COLS: &str = "o.id, o.kind, o.target, o.message_id, o.payload, o.attempts";

fn row_from(r: &rusqlite::Row<'_>, owner: i64, endpoint_failures: u32) -> rusqlite::Result<OutboxRow> {
    let kind: String = r.get(1)?;
    Ok(OutboxRow {
        id: r.get(0)?,
        kind: if kind == "purge" { Kind::Purge } else { Kind::Webhook },
        target: r.get(2)?,
        message_id: r.get(3)?,
        payload: r.get(4)?,
        attempts: r.get(5)?,
        owner,
        endpoint_failures,
    })
}

/// The purge lane's query: due purges by the (kind, state, next_attempt_ms) index, at most ?2.
const DUE_PURGES: &str = "SELECT o.id, o.kind, o.target, o.message_id, o.payload, o.attempts FROM outbox o \
     WHERE o.kind = 'purge' AND o.state = 'pending' AND o.next_attempt_ms <= ?1 ORDER BY o.next_attempt_ms LIMIT ?2";
/// The webhook lane's query: enabled endpoints with pending rows whose turn has come, by the partial index.
const DUE_ENDPOINTS: &str = "SELECT e.id, e.owner_id, e.failures FROM webhook_endpoints e \
     WHERE e.pending > 0 AND e.disabled_reason IS NULL AND e.next_attempt_ms <= ?1 ORDER BY e.next_attempt_ms LIMIT ?2";

#[derive(Clone)]
pub struct OutboxStore {
    pool: Pool,
}

impl OutboxStore {
    pub fn new(pool: Pool) -> Self { Self { pool } }

    fn conn(&self) -> DomainResult<Conn> { Ok(self.pool.get()?) }

    /// Due purges, by due time, leaving out `in_flight`. Purges have no order to keep.
    pub fn due_purges(&self, now: i64, in_flight: &HashSet<i64>, limit: usize) -> DomainResult<Vec<OutboxRow>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let conn = self.conn()?;
        let mut st = conn.prepare_cached(DUE_PURGES)?;
        let rows = st.query_map(params![now, (limit + in_flight.len()) as i64], |r| row_from(r, 0, 0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows.into_iter().filter(|r| !in_flight.contains(&r.id)).take(limit).collect())
    }

    /// The oldest pending row of each due endpoint that `skip(endpoint, owner)` lets through, at most
    /// `limit`, reading at most `scan` endpoints. Only an endpoint's oldest row is ever attempted, so
    /// each endpoint gets its events in order, and a backlog is replayed in order once it is back.
    pub fn due_webhooks(&self, now: i64, scan: usize, limit: usize, mut skip: impl FnMut(&str, i64) -> bool) -> DomainResult<Vec<OutboxRow>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let conn = self.conn()?;
        let endpoints: Vec<(String, i64, u32)> = {
            let mut st = conn.prepare_cached(DUE_ENDPOINTS)?;
            let rows = st.query_map(params![now, scan.max(limit) as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<_>, _>>()?;
            rows
        };
        let mut head = conn.prepare_cached(&format!(
            "SELECT {ROW_COLS} FROM outbox o WHERE o.kind = 'webhook' AND o.target = ?1 AND o.state = 'pending' ORDER BY o.id LIMIT 1"
        ))?;
        let mut out = Vec::new();
        for (endpoint, owner, failures) in endpoints {
            if out.len() == limit {
                break;
            }
            if skip(&endpoint, owner) {
                continue;
            }
            if let Some(row) = head.query_row([&endpoint], |r| row_from(r, owner, failures)).optional()? {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Delivered (or no longer deliverable because its endpoint is gone): the row leaves, and a
    /// webhook endpoint's failure streak ends.
    pub fn done(&self, row: &OutboxRow) -> DomainResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM outbox WHERE id = ?1", [row.id])?;
        if row.kind == Kind::Webhook {
            tx.execute("UPDATE webhook_endpoints SET failures = 0, failing_since_ms = NULL, next_attempt_ms = 0 WHERE id = ?1", [&row.target])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A failed attempt. The row is retried at `retry_at`, or kept as dead when `dead`. For a webhook
    /// the retry time is the endpoint's (its later rows wait behind this one), and an endpoint whose
    /// streak now meets `policy` is disabled, its backlog dropped.
    pub fn failed(&self, row: &OutboxRow, attempts: u32, retry_at: i64, dead: bool, error: &str, policy: DisablePolicy) -> DomainResult<Failure> {
        let error: String = error.chars().take(500).collect();
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let state = if dead { "dead" } else { "pending" };
        tx.execute(
            "UPDATE outbox SET attempts = ?1, next_attempt_ms = ?2, last_error = ?3, state = ?4 WHERE id = ?5",
            params![attempts, retry_at, error, state, row.id],
        )?;
        let mut verdict = Failure::Retry;
        if row.kind == Kind::Webhook {
            let now = now_ms();
            let streak: Option<(u32, i64)> = tx
                .query_row(
                    "UPDATE webhook_endpoints SET failures = failures + 1, failing_since_ms = COALESCE(failing_since_ms, ?2), next_attempt_ms = ?3 \
                     WHERE id = ?1 RETURNING failures, failing_since_ms",
                    params![row.target, now, retry_at],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((failures, since)) = streak {
                if failures >= policy.failures.max(1) && now - since >= policy.for_ms {
                    let reason = format!(
                        "{failures} consecutive deliveries failed over {}; last error: {error}",
                        span(now - since)
                    );
                    crate::webhooks::disable(&tx, &row.target, &reason)?;
                    verdict = Failure::Disabled(reason);
                }
            }
        }
        tx.commit()?;
        Ok(verdict)
    }

    /// Gauges from the trigger-kept counts and the (state, created_ms) index: a handful of rows read, however deep the outbox.
    pub fn stats(&self, now: i64) -> DomainResult<OutboxStats> {
        let conn = self.conn()?;
        let mut s = OutboxStats::default();
        let mut st = conn.prepare_cached("SELECT kind, state, n FROM outbox_counts")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        for row in rows {
            let (kind, state, n) = row?;
            match (kind.as_str(), state.as_str()) {
                ("purge", "pending") => s.pending_purge = n,
                ("webhook", "pending") => s.pending_webhook = n,
                ("purge", _) => s.dead_purge = n,
                _ => s.dead_webhook = n,
            }
        }
        let oldest: Option<i64> = conn.query_row("SELECT MIN(created_ms) FROM outbox WHERE state = 'pending'", [], |r| r.get(0))?;
        s.oldest_age_ms = oldest.map_or(0, |o| (now - o).max(0));
        Ok(s)
    }
}

/// A duration for people: "45 s", "12 min", "3 h", "2 days".
fn span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

/// The body a webhook receiver gets: `{"type", "timestamp", "data"}` with `data` the asset JSON clients see,
/// built by the caller's `asset_json`. Kept here so the payload's shape has one definition.
pub fn webhook_body(payload: &EventPayload, data: serde_json::Value) -> String {
    json!({ "type": payload.kind, "timestamp": payload.timestamp, "data": data }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthSettings, AuthStore};
    use crate::domain::Role;
    use crate::webhooks::WebhookStore;

    fn plan(conn: &rusqlite::Connection, sql: &str) -> String {
        let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let n = st.parameter_count();
        let args: Vec<i64> = (0..n).map(|_| 0).collect();
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3)).unwrap();
        rows.collect::<Result<Vec<_>, _>>().unwrap().join("\n")
    }

    /// The worker's reads touch what they return and no more: both lanes and the age gauge search an
    /// index (none scans the table), so a deep outbox costs the worker nothing per turn.
    #[test]
    fn due_rows_and_gauges_are_read_by_index_with_a_limit() {
        let (_d, pool) = crate::db::test_pool();
        let conn = pool.get().unwrap();
        for (sql, index) in [
            (DUE_PURGES, "USING INDEX outbox_lane"),
            (DUE_ENDPOINTS, "USING INDEX webhook_endpoints_due"),
            ("SELECT o.id FROM outbox o WHERE o.kind = 'webhook' AND o.target = ?1 AND o.state = 'pending' ORDER BY o.id LIMIT 1", "outbox_target"),
            ("SELECT MIN(created_ms) FROM outbox WHERE state = 'pending'", "outbox_age"),
        ] {
            let p = plan(&conn, sql);
            assert!(p.contains(index) && p.contains("SEARCH") && !p.contains("SCAN"), "{sql}:\n{p}");
            assert!(!p.contains("TEMP B-TREE"), "no sort of the whole result: {sql}:\n{p}");
        }
        assert!(DUE_PURGES.contains("LIMIT") && DUE_ENDPOINTS.contains("LIMIT"));
    }

    #[test]
    fn counts_follow_the_rows_and_a_failing_endpoint_is_disabled_with_its_backlog_dropped() {
        let (_d, pool) = crate::db::test_pool();
        let auth = AuthStore::new(pool.clone(), AuthSettings { bcrypt_cost: 4, session_ttl_secs: 3600 });
        let alice = auth.create_user("alice@x.io", "password1", Role::User).unwrap();
        let hooks = WebhookStore::new(pool.clone());
        let ep = hooks.create(&alice, "https://a.example/hook", &[]).unwrap().endpoint.id;
        let store = OutboxStore::new(pool.clone());
        let now = now_ms();
        {
            let mut conn = pool.get().unwrap();
            let tx = conn.transaction().unwrap();
            for i in 0..3 {
                insert(&tx, Kind::Webhook, &ep, &format!("msg_{i}"), "{}", now).unwrap();
            }
            insert(&tx, Kind::Purge, "", "msg_p", "{}", now).unwrap();
            tx.commit().unwrap();
        }
        let s = store.stats(now).unwrap();
        assert_eq!((s.pending_webhook, s.pending_purge), (3, 1));
        assert_eq!(hooks.list(&alice).unwrap()[0].pending, 3);

        let purge = store.due_purges(now, &HashSet::new(), 8).unwrap();
        assert_eq!(purge.len(), 1);
        store.done(&purge[0]).unwrap();
        assert_eq!(store.stats(now).unwrap().pending_purge, 0);

        let due = store.due_webhooks(now, 10, 10, |_, _| false).unwrap();
        assert_eq!(due.len(), 1, "one row per endpoint: its oldest");
        assert_eq!((due[0].message_id.as_str(), due[0].owner), ("msg_0", alice.id));
        assert!(store.due_webhooks(now, 10, 10, |e, _| e == ep).unwrap().is_empty(), "an endpoint in flight is skipped");
        let policy = DisablePolicy { failures: 2, for_ms: 0 };
        assert_eq!(store.failed(&due[0], 1, now + 60_000, false, "boom", policy).unwrap(), Failure::Retry);
        assert!(store.due_webhooks(now, 10, 10, |_, _| false).unwrap().is_empty(), "the endpoint waits out its backoff");
        let again = store.due_webhooks(now + 61_000, 10, 10, |_, _| false).unwrap();
        assert_eq!((again[0].message_id.as_str(), again[0].endpoint_failures), ("msg_0", 1));
        let Failure::Disabled(reason) = store.failed(&again[0], 2, now + 120_000, false, "boom", policy).unwrap() else { panic!("not disabled") };
        assert!(reason.contains("2 consecutive deliveries failed") && reason.contains("boom"), "{reason}");
        let listed = &hooks.list(&alice).unwrap()[0];
        assert!(!listed.enabled);
        assert_eq!(listed.pending, 0);
        assert!(listed.disabled_reason.as_deref().unwrap().contains("3 undelivered events were dropped"));
        assert_eq!(store.stats(now).unwrap(), OutboxStats::default());
    }
}
