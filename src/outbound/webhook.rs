//! One Standard Webhooks delivery: resolve and check the target again, pin the connection to the checked addresses, sign, POST.
use std::time::Duration;

use imgcloud_actors::webhooks::{sign, DeliveryTarget};

use super::ssrf;

/// How long one delivery may take: `connect` to open the connection (short, so an address that
/// drops SYNs frees its slot quickly), `total` for all of it.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

/// Sends `body` to the endpoint; any 2xx is success. Redirects are failures, never followed.
pub async fn deliver(target: &DeliveryTarget, msg_id: &str, body: String, allow_private: bool, timeouts: Timeouts) -> Result<(), String> {
    let url = ssrf::parse_target(&target.url).map_err(|e| e.to_string())?;
    // Resolved and checked now, not at registration: DNS may have changed since (rebinding).
    let (host, addrs) = ssrf::resolve_checked(&url, allow_private).await.map_err(|e| e.to_string())?;
    let mut client = reqwest::Client::builder().connect_timeout(timeouts.connect).timeout(timeouts.total).redirect(reqwest::redirect::Policy::none()).no_proxy();
    if let Some(h) = &host {
        // The connection goes to the addresses just checked, whatever a second lookup would say.
        client = client.resolve_to_addrs(h, &addrs);
    }
    let client = client.build().map_err(|e| format!("webhook client: {e}"))?;
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature = sign(&target.secret, msg_id, timestamp, body.as_bytes()).map_err(|e| e.to_string())?;
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("imgcloud-webhooks/", env!("CARGO_PKG_VERSION")))
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("webhook request: {e}"))?;
    if r.status().is_success() { Ok(()) } else { Err(format!("receiver answered {}", r.status())) }
}
