//! Webhook endpoints (owner-scoped, admins see all), the event types they subscribe to, and the Standard Webhooks signature.
//!
//! Whether a URL is a safe target needs DNS and lives with the delivery code (src/outbound/ssrf.rs);
//! this store trusts the URL it is handed and owns everything else about an endpoint.
use actix::{Actor, SyncContext};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sha2::Sha256;

use crate::db::{Conn, Pool};
use crate::domain::{now_rfc3339, User};
use crate::error::{DomainError, DomainResult};

/// The events an endpoint can subscribe to, in the order the API lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Uploaded,
    Overwritten,
    Updated,
    Deleted,
}

impl Event {
    pub const ALL: [Event; 4] = [Event::Uploaded, Event::Overwritten, Event::Updated, Event::Deleted];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Uploaded => "asset.uploaded",
            Event::Overwritten => "asset.overwritten",
            Event::Updated => "asset.updated",
            Event::Deleted => "asset.deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Event> { Event::ALL.into_iter().find(|e| e.as_str() == s.trim()) }
}

/// The subscription list of a new endpoint: known names, de-duplicated, in the API's order.
/// An empty list means every event (what "send me everything" usually looks like).
pub fn parse_events(names: &[String]) -> DomainResult<Vec<Event>> {
    let mut picked = Vec::new();
    for n in names {
        let e = Event::parse(n).ok_or_else(|| {
            let known: Vec<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
            DomainError::Invalid(format!("unknown event '{}' (known: {})", n.chars().take(64).collect::<String>(), known.join(", ")))
        })?;
        if !picked.contains(&e) {
            picked.push(e);
        }
    }
    if picked.is_empty() {
        return Ok(Event::ALL.to_vec());
    }
    Ok(Event::ALL.into_iter().filter(|e| picked.contains(e)).collect())
}

/// An endpoint as listings show it: never the secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: String,
    /// The owner's user id.
    pub owner: i64,
    /// false once deliveries stopped (sustained failure, a full backlog, or its owner's PATCH); a PATCH
    /// with `"enabled": true` turns it back on.
    pub enabled: bool,
    /// Why and when it was disabled; both null while enabled.
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<String>,
    /// Events waiting for delivery to it.
    pub pending: i64,
}

/// A just-created endpoint: the only reply that carries its secret.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    pub secret: String,
}

/// What the outbound worker needs to deliver to an endpoint.
#[derive(Debug, Clone)]
pub struct DeliveryTarget {
    pub url: String,
    pub secret: String,
}

/// Longest accepted endpoint URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;
/// Endpoints one user may register; each event fans out to every one of them inside the change's transaction.
pub const MAX_PER_OWNER: i64 = 20;

const COLS: &str = "id, url, events, created_at, owner_id, disabled_reason, disabled_at, pending";

fn endpoint_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Endpoint> {
    let events: String = r.get(2)?;
    Ok(Endpoint {
        id: r.get(0)?,
        url: r.get(1)?,
        events: events.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        created_at: r.get(3)?,
        owner: r.get(4)?,
        enabled: r.get::<_, Option<String>>(5)?.is_none(),
        disabled_reason: r.get(5)?,
        disabled_at: r.get(6)?,
        pending: r.get(7)?,
    })
}

/// Stops deliveries to an endpoint, inside the caller's transaction: no new rows are written for it
/// and its pending rows are dropped (so a dead receiver holds no disk), and `reason` is what its
/// owner is shown. An endpoint already disabled keeps its first reason.
pub(crate) fn disable(tx: &rusqlite::Connection, id: &str, reason: &str) -> DomainResult<()> {
    let dropped = tx.execute("DELETE FROM outbox WHERE kind = 'webhook' AND target = ?1 AND state = 'pending'", [id])?;
    let reason = if dropped > 0 { format!("{reason}; {dropped} undelivered events were dropped") } else { reason.to_string() };
    let reason: String = reason.chars().take(700).collect();
    let changed = tx.execute(
        "UPDATE webhook_endpoints SET disabled_reason = ?2, disabled_at = ?3, failures = 0, failing_since_ms = NULL \
         WHERE id = ?1 AND disabled_reason IS NULL",
        params![id, reason, now_rfc3339()],
    )?;
    if changed > 0 {
        tracing::warn!("webhook endpoint {id} disabled: {reason}");
    }
    Ok(())
}

/// A `whsec_` secret: 32 random bytes, base64 (the Standard Webhooks form, 24 to 64 bytes of key).
fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
}

/// The Standard Webhooks signature header value of one delivery attempt:
/// `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), the key being the base64 after `whsec_`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> DomainResult<String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| DomainError::Internal(format!("webhook secret is not base64: {e}")))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(DomainError::internal)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

/// Checks that `caller` may manage endpoint `id`; a missing one and someone else's answer alike.
fn owned(tx: &rusqlite::Connection, caller: &User, id: &str) -> DomainResult<()> {
    let owner: Option<i64> = tx.query_row("SELECT owner_id FROM webhook_endpoints WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    match owner {
        Some(o) if caller.may_manage(o) => Ok(()),
        _ => Err(DomainError::NotFound(format!("webhook '{}'", id.chars().take(64).collect::<String>()))),
    }
}

#[derive(Clone)]
pub struct WebhookStore {
    pool: Pool,
}

impl WebhookStore {
    pub fn new(pool: Pool) -> Self { Self { pool } }

    fn conn(&self) -> DomainResult<Conn> { Ok(self.pool.get()?) }

    /// Registers an endpoint for `owner`. `url` must already have passed the target check
    /// (`outbound::ssrf::parse_target`, the one place its rules, length included, are enforced).
    pub fn create(&self, owner: &User, url: &str, events: &[String]) -> DomainResult<CreatedEndpoint> {
        let events = parse_events(events)?;
        let conn = self.conn()?;
        let count: i64 = conn.query_row("SELECT COUNT(*) FROM webhook_endpoints WHERE owner_id = ?1", [owner.id], |r| r.get(0))?;
        if count >= MAX_PER_OWNER {
            return Err(DomainError::Conflict(format!("at most {MAX_PER_OWNER} webhook endpoints per user; delete one first")));
        }
        let mut id = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut id);
        let id = format!("we_{}", hex::encode(id));
        let secret = new_secret();
        let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
        conn.execute(
            "INSERT INTO webhook_endpoints (id, owner_id, url, events, secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, owner.id, url, names.join(","), secret, now_rfc3339()],
        )?;
        let endpoint = conn.query_row(&format!("SELECT {COLS} FROM webhook_endpoints WHERE id = ?1"), [&id], endpoint_from_row)?;
        Ok(CreatedEndpoint { endpoint, secret })
    }

    /// The caller's endpoints; every endpoint for an admin. Oldest first.
    pub fn list(&self, caller: &User) -> DomainResult<Vec<Endpoint>> {
        let owner = caller.owner_scope();
        let conn = self.conn()?;
        let mut st = conn.prepare(&format!("SELECT {COLS} FROM webhook_endpoints WHERE (?1 IS NULL OR owner_id = ?1) ORDER BY created_at, rowid"))?;
        let rows = st.query_map([owner], endpoint_from_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Removes an endpoint and the deliveries still waiting for it, in one transaction.
    /// Someone else's endpoint answers as a missing one (admins may delete any).
    pub fn delete(&self, caller: &User, id: &str) -> DomainResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        owned(&tx, caller, id)?;
        // The endpoint's rows go with it (trigger webhook_endpoints_gone, migrations/0006).
        tx.execute("DELETE FROM webhook_endpoints WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// Turns deliveries to an endpoint on again (from the next event on, after a clean slate) or off.
    /// Someone else's endpoint answers as a missing one (admins may change any).
    pub fn set_enabled(&self, caller: &User, id: &str, enabled: bool) -> DomainResult<Endpoint> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        owned(&tx, caller, id)?;
        if enabled {
            tx.execute(
                "UPDATE webhook_endpoints SET disabled_reason = NULL, disabled_at = NULL, failures = 0, failing_since_ms = NULL, next_attempt_ms = 0 WHERE id = ?1",
                [id],
            )?;
        } else {
            disable(&tx, id, "disabled by a PATCH")?;
        }
        let endpoint = tx.query_row(&format!("SELECT {COLS} FROM webhook_endpoints WHERE id = ?1"), [id], endpoint_from_row)?;
        tx.commit()?;
        Ok(endpoint)
    }

    /// Where and with which secret to deliver; `None` once the endpoint is gone.
    pub fn target(&self, id: &str) -> DomainResult<Option<DeliveryTarget>> {
        Ok(self
            .conn()?
            .query_row("SELECT url, secret FROM webhook_endpoints WHERE id = ?1", [id], |r| Ok(DeliveryTarget { url: r.get(0)?, secret: r.get(1)? }))
            .optional()?)
    }
}

pub struct WebhookActor(pub WebhookStore);

impl Actor for WebhookActor {
    type Context = SyncContext<Self>;
}

crate::store_messages! { WebhookActor;
    CreateEndpoint { owner: User, url: String, events: Vec<String> } -> CreatedEndpoint => |s, m| s.create(&m.owner, &m.url, &m.events);
    ListEndpoints { caller: User } -> Vec<Endpoint> => |s, m| s.list(&m.caller);
    DeleteEndpoint { caller: User, id: String } -> () => |s, m| s.delete(&m.caller, &m.id);
    SetEndpointEnabled { caller: User, id: String, enabled: bool } -> Endpoint => |s, m| s.set_enabled(&m.caller, &m.id, m.enabled);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthSettings, AuthStore};
    use crate::domain::Role;

    /// The published Standard Webhooks vector: a receiver's library must accept what we send.
    #[test]
    fn signature_matches_the_standard_webhooks_vector() {
        let sig = sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_whsec_base64_of_32_bytes() {
        let s = new_secret();
        let key = base64::engine::general_purpose::STANDARD.decode(s.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(s, new_secret());
    }

    #[test]
    fn events_are_known_names_and_empty_means_all() {
        let all: Vec<&str> = parse_events(&[]).unwrap().iter().map(|e| e.as_str()).collect();
        assert_eq!(all, ["asset.uploaded", "asset.overwritten", "asset.updated", "asset.deleted"]);
        let two = parse_events(&["asset.deleted".into(), "asset.uploaded".into(), "asset.deleted".into()]).unwrap();
        assert_eq!(two, [Event::Uploaded, Event::Deleted]);
        assert!(matches!(parse_events(&["asset.*".into()]), Err(DomainError::Invalid(_))));
    }

    #[test]
    fn endpoints_are_owner_scoped_and_admins_see_all() {
        let (_d, pool) = crate::db::test_pool();
        let auth = AuthStore::new(pool.clone(), AuthSettings { bcrypt_cost: 4, session_ttl_secs: 3600 });
        let alice = auth.create_user("alice@x.io", "password1", Role::User).unwrap();
        let bob = auth.create_user("bob@x.io", "password1", Role::User).unwrap();
        let admin = auth.create_user("root@x.io", "password1", Role::Admin).unwrap();
        let s = WebhookStore::new(pool);
        let a = s.create(&alice, "https://a.example/hook", &[]).unwrap();
        assert!(a.secret.starts_with("whsec_"));
        assert_eq!(s.list(&alice).unwrap().len(), 1);
        assert!(s.list(&bob).unwrap().is_empty());
        assert_eq!(s.list(&admin).unwrap()[0].owner, alice.id);
        assert!(matches!(s.delete(&bob, &a.endpoint.id), Err(DomainError::NotFound(_))));
        assert_eq!(s.target(&a.endpoint.id).unwrap().unwrap().secret, a.secret);
        s.delete(&admin, &a.endpoint.id).unwrap();
        assert!(s.target(&a.endpoint.id).unwrap().is_none());
    }
}
