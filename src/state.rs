//! Shared application state handed to every handler: settings and actor addresses.
use std::sync::Arc;

use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Handler, Message};
use imgcloud_actors::auth::AuthActor;
use imgcloud_actors::ratelimit::{Check, Limit, RateLimiter};
use imgcloud_actors::{DomainError, DomainResult};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Settings;
use crate::http::error::{ApiError, ApiResult};

pub struct AppState {
    pub settings: Arc<Settings>,
    pub auth: Addr<AuthActor>,
    pub limiter: Addr<RateLimiter>,
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
    /// Takes a token from every named bucket; 429 with Retry-After when any is empty.
    pub async fn rate_limit(&self, keys: Vec<(String, u32)>) -> ApiResult<()> {
        let keys = keys.into_iter().map(|(k, n)| (k, Limit { per_minute: n })).collect();
        match self.limiter.send(Check { keys }).await? {
            Ok(()) => Ok(()),
            Err(retry_after) => Err(ApiError(DomainError::RateLimited { retry_after })),
        }
    }
}
