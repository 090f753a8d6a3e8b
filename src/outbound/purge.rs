//! CDN purgers, chosen by `[cdn_purge] kind`: a generic HTTP purge (Varnish, Fastly style) and Cloudflare's purge-by-tag API.
//!
//! Both purge the asset's one cache tag (`imgcloud_actors::public_id::cache_tag`), the token the
//! delivery responses carry in their tag headers. Purge URLs are the operator's, not a user's, so
//! they are not subject to the webhook target rules.
use std::time::Duration;

use crate::config::CdnPurgeConfig;

pub enum Purger {
    /// No CDN configured: the catalog writes no purge rows; leftovers from an earlier config are dropped.
    None,
    /// `<method> <url>` with `<header>: <tag>`; any 2xx is success.
    Http { client: reqwest::Client, url: String, method: reqwest::Method, header: String },
    /// `POST {api_base}/zones/{zone}/purge_cache` with `{"tags": [...]}`; 2xx and `"success": true` is success.
    Cloudflare { client: reqwest::Client, api_base: String, zone_id: String, api_token: String },
}

impl Purger {
    pub fn from_config(c: &CdnPurgeConfig) -> Result<Purger, String> {
        let client = || {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(c.timeout_secs.max(1)))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| format!("cdn purge client: {e}"))
        };
        Ok(match c.kind.as_str() {
            "http" => Purger::Http {
                client: client()?,
                url: c.url.clone(),
                method: reqwest::Method::from_bytes(c.method.as_bytes()).map_err(|e| format!("cdn_purge.method: {e}"))?,
                header: c.header.clone(),
            },
            "cloudflare" => Purger::Cloudflare {
                client: client()?,
                api_base: c.cloudflare_api_base.trim_end_matches('/').to_string(),
                zone_id: c.cloudflare_zone_id.clone(),
                api_token: c.cloudflare_api_token.clone(),
            },
            _ => Purger::None,
        })
    }

    /// Purges one cache tag; `Err` carries what to record as the row's last error.
    pub async fn purge(&self, tag: &str) -> Result<(), String> {
        match self {
            Purger::None => Ok(()),
            Purger::Http { client, url, method, header } => {
                let r = client.request(method.clone(), url).header(header.as_str(), tag).send().await.map_err(|e| format!("purge request: {e}"))?;
                if r.status().is_success() { Ok(()) } else { Err(format!("purge answered {}", r.status())) }
            }
            Purger::Cloudflare { client, api_base, zone_id, api_token } => {
                let r = client
                    .post(format!("{api_base}/zones/{zone_id}/purge_cache"))
                    .bearer_auth(api_token)
                    .json(&serde_json::json!({ "tags": [tag] }))
                    .send()
                    .await
                    .map_err(|e| format!("cloudflare purge request: {e}"))?;
                let status = r.status();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                if status.is_success() && body["success"] == serde_json::Value::Bool(true) {
                    Ok(())
                } else {
                    Err(format!("cloudflare purge answered {status}: {}", body["errors"]))
                }
            }
        }
    }
}
