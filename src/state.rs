//! Shared application state handed to every handler: settings, actor addresses and the shared caches.
use std::sync::Arc;

use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Handler, Message};
use imgcloud_actors::auth::{AuthActor, PasswordActor};
use imgcloud_actors::catalog::{AddUsage, CatalogActor, CatalogStore};
use imgcloud_actors::ratelimit::{Check, Limit, RateLimiter};
use imgcloud_actors::render::{Purge, RenderSupervisor, RenditionCache};
use imgcloud_actors::signing::UrlSigner;
use imgcloud_actors::usage::UsageMeter;
use imgcloud_actors::webhooks::WebhookActor;
use imgcloud_actors::{DomainError, DomainResult};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Settings;
use crate::http::error::{ApiError, ApiResult};

pub struct AppState {
    pub settings: Arc<Settings>,
    /// Session and API-key checks: never queued behind bcrypt.
    pub auth: Addr<AuthActor>,
    /// Everything that runs bcrypt, on threads of its own.
    pub passwords: Addr<PasswordActor>,
    pub catalog: Addr<CatalogActor>,
    /// Webhook endpoints (registration, listing, removal).
    pub webhooks: Addr<WebhookActor>,
    /// Read-only view for the delivery fast path (metadata cache hits skip the actor hop).
    pub catalog_view: CatalogStore,
    pub limiter: Addr<RateLimiter>,
    pub render: Addr<RenderSupervisor>,
    pub renditions: RenditionCache,
    pub signer: UrlSigner,
    pub usage: Arc<UsageMeter>,
    pub metrics: Option<PrometheusHandle>,
}

/// Sends a message and waits for the reply, keeping the `actor_mailbox_depth` gauge honest
/// (messages sent but not yet answered: queued plus in progress).
pub async fn ask<A, M, T>(name: &'static str, addr: &Addr<A>, msg: M) -> ApiResult<T>
where
    A: Actor + Handler<M>,
    A::Context: ToEnvelope<A, M>,
    M: Message<Result = DomainResult<T>> + Send + 'static,
    T: Send + 'static,
{
    let gauge = metrics::gauge!("actor_mailbox_depth", "actor" => name);
    gauge.increment(1.0);
    let reply = addr.send(msg).await;
    gauge.decrement(1.0);
    Ok(reply??)
}

impl AppState {
    /// Takes a token from each named bucket in order ("<scope>:<who>", per-minute limit), stopping
    /// at the first empty one; 429 with Retry-After then. Put the caller's own bucket (its IP) first.
    pub async fn rate_limit(&self, keys: Vec<(String, u32)>) -> ApiResult<()> {
        let keys = keys.into_iter().map(|(k, n)| (k, Limit { per_minute: n })).collect();
        match self.limiter.send(Check { keys }).await? {
            Ok(()) => Ok(()),
            Err(retry_after) => Err(ApiError(DomainError::rate_limited(retry_after))),
        }
    }

    /// Reclaims the cache space of a replaced or deleted original (its keys are already unreachable).
    /// Runs in the background; the supervisor logs a purge that could not remove its files.
    pub fn purge_renditions(&self, storage_key: &str) {
        self.render.do_send(Purge { storage_key: storage_key.to_string() });
    }

    /// Writes batched delivery counters to the catalog; on failure they go back for the next flush.
    pub async fn flush_usage(&self) {
        let counts = self.usage.drain();
        if counts.is_empty() {
            return;
        }
        match ask("catalog", &self.catalog, AddUsage { counts: counts.clone() }).await {
            Ok(0) => {}
            Ok(dropped) => tracing::info!("dropped the delivery counts of {dropped} deleted user(s)"),
            Err(_) => self.usage.restore(counts),
        }
    }
}
