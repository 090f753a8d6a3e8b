//! Layered configuration: compiled defaults, then config files, then IMGCLOUD_* environment variables.
use std::path::PathBuf;

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub admin: AdminSettings,
    pub auth: AuthConfig,
    pub rate_limit: RateLimitConfig,
    pub upload: UploadConfig,
    pub render: RenderConfig,
    pub cache: CacheConfig,
    pub delivery: DeliveryConfig,
    pub outbox: OutboxConfig,
    pub webhooks: WebhooksConfig,
    pub cdn_purge: CdnPurgeConfig,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub listen: String,
    pub data_dir: PathBuf,
    pub public_url: String,
    /// `public_url` was set, not filled in from the bound address: the CSRF check then accepts that
    /// origin alone (`http::extract::same_origin`).
    #[serde(skip)]
    pub public_url_configured: bool,
    pub workers: usize,
    pub trusted_proxy: bool,
    /// Address ranges (CIDR or bare IP) of the proxies in front of us; see `TrustedProxies::from_config`.
    pub trusted_proxies: Vec<String>,
    /// The ranges above, parsed once at load.
    #[serde(skip)]
    pub proxies: TrustedProxies,
    pub shutdown_timeout_secs: u64,
    pub debug_routes: bool,
    pub db_threads: usize,
    pub header_read_timeout_secs: u64,
    pub body_read_timeout_secs: u64,
    pub metrics_listen: String,
    pub access_log: bool,
    pub usage_flush_secs: u64,
}

#[derive(Clone, Deserialize)]
pub struct AdminSettings {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for AdminSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSettings").field("email", &self.email).field("password", &"***").finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthConfig {
    pub bcrypt_cost: u32,
    pub session_ttl_hours: i64,
    pub session_ttl_secs: i64,
    pub password_threads: usize,
}

impl AuthConfig {
    /// The one session lifetime: the server-side expiry and the cookie's Max-Age both come from here.
    pub fn session_ttl(&self) -> i64 {
        if self.session_ttl_secs > 0 { self.session_ttl_secs } else { self.session_ttl_hours * 3600 }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitConfig {
    pub login_per_ip_per_minute: u32,
    pub login_per_email_per_minute: u32,
    pub upload_per_ip_per_minute: u32,
    pub change_password_per_user_per_minute: u32,
    pub catalog_writes_per_principal_per_minute: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UploadConfig {
    pub max_bytes: u64,
    pub max_pixels: u64,
    pub max_frames: u32,
    pub max_animation_pixels: u64,
}

impl UploadConfig {
    /// The caps on animated originals, judged at upload and again at every render.
    pub fn animation(&self) -> imgcloud_engine::AnimationLimits {
        imgcloud_engine::AnimationLimits { max_frames: self.max_frames, max_pixels: self.max_animation_pixels }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RenderConfig {
    pub threads: usize,
    pub queue: usize,
    pub timeout_ms: u64,
    pub max_work_pixels: u64,
    pub avif_speed: u8,
    pub failure_ttl_secs: u64,
    pub memory_budget_bytes: u64,
    pub client_render_seconds_per_minute: f64,
    pub client_render_burst_seconds: f64,
    pub client_max_inflight: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CacheConfig {
    pub memory_bytes: u64,
    pub disk_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeliveryConfig {
    pub max_age_secs: u64,
    pub versioned_max_age_secs: u64,
    pub default_sign_ttl_secs: u64,
    pub cache_tag_headers: Vec<String>,
    /// The names above, checked once at load.
    #[serde(skip)]
    pub tag_headers: Vec<actix_web::http::header::HeaderName>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OutboxConfig {
    pub retry_base_ms: u64,
    pub retry_max_secs: u64,
    pub max_attempts: u32,
    pub poll_ms: u64,
    pub concurrency: usize,
    pub purge_concurrency: usize,
    pub checkpoint_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhooksConfig {
    pub allow_private_targets: bool,
    pub timeout_secs: u64,
    pub connect_timeout_ms: u64,
    pub max_in_flight_per_owner: usize,
    pub max_pending_per_endpoint: u32,
    pub disable_after_failures: u32,
    pub disable_after_secs: u64,
}

#[derive(Clone, Deserialize)]
pub struct CdnPurgeConfig {
    pub kind: String,
    pub url: String,
    pub method: String,
    pub header: String,
    pub cloudflare_zone_id: String,
    pub cloudflare_api_token: String,
    pub cloudflare_api_base: String,
    pub timeout_secs: u64,
}

impl std::fmt::Debug for CdnPurgeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CdnPurgeConfig")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("method", &self.method)
            .field("header", &self.header)
            .field("cloudflare_zone_id", &self.cloudflare_zone_id)
            .field("cloudflare_api_token", &"***")
            .field("cloudflare_api_base", &self.cloudflare_api_base)
            .finish()
    }
}

impl CdnPurgeConfig {
    /// Whether changes should write purge rows at all.
    pub fn enabled(&self) -> bool { self.kind != "none" }

    /// Refuses a purger that could never work, at start rather than at the first purge.
    fn check(&self) -> Result<(), String> {
        let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        match self.kind.as_str() {
            "none" => Ok(()),
            "http" if !(self.url.starts_with("http://") || self.url.starts_with("https://")) => {
                Err("cdn_purge.url must be an http:// or https:// URL when cdn_purge.kind = \"http\"".into())
            }
            "http" if !token(&self.method) || !token(&self.header) => Err("cdn_purge.method and cdn_purge.header must be HTTP tokens".into()),
            "http" => Ok(()),
            "cloudflare" if self.cloudflare_zone_id.is_empty() || self.cloudflare_api_token.is_empty() => {
                Err("cdn_purge.cloudflare_zone_id and cdn_purge.cloudflare_api_token are required when cdn_purge.kind = \"cloudflare\"".into())
            }
            "cloudflare" => Ok(()),
            other => Err(format!("cdn_purge.kind must be \"none\", \"http\" or \"cloudflare\" (got \"{other}\")")),
        }
    }
}

/// The peers whose forwarding headers (X-Forwarded-For, CF-Connecting-IP) are believed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// `server.trusted_proxies` when given; otherwise `server.trusted_proxy = true` keeps its old meaning for the
    /// common set-up, a proxy on the same host, and trusts loopback only; otherwise nobody.
    pub fn from_config(enabled: bool, ranges: &[String]) -> Result<Self, String> {
        let ranges: Vec<&str> = ranges.iter().map(|r| r.trim()).filter(|r| !r.is_empty()).collect();
        if ranges.is_empty() {
            let loopback = if enabled { vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()] } else { vec![] };
            return Ok(TrustedProxies(loopback));
        }
        ranges.into_iter().map(parse_range).collect::<Result<_, _>>().map(TrustedProxies)
    }

    pub fn contains(&self, ip: &std::net::IpAddr) -> bool {
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; they must match IPv4 ranges.
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool { self.0.is_empty() }
}

fn parse_range(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .map(|n| n.trunc())
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("server.trusted_proxies: '{s}' is not an IP address or CIDR range"))
}

/// The short environment names the contract promises, and the keys they set.
const SHORT_ENV: &[(&str, &str)] = &[
    ("IMGCLOUD_LISTEN", "server.listen"),
    ("IMGCLOUD_DATA_DIR", "server.data_dir"),
    ("IMGCLOUD_PUBLIC_URL", "server.public_url"),
    ("IMGCLOUD_ADMIN_EMAIL", "admin.email"),
    ("IMGCLOUD_ADMIN_PASSWORD", "admin.password"),
];

impl Settings {
    /// Loads the layers from the real environment.
    pub fn load() -> Result<Settings, config::ConfigError> {
        Self::load_from(|k| std::env::var(k).ok())
    }

    pub fn load_from(env: impl Fn(&str) -> Option<String>) -> Result<Settings, config::ConfigError> {
        let mut b = Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .add_source(File::with_name("config/local.toml").required(false));
        if let Some(extra) = env("IMGCLOUD_CONFIG") {
            b = b.add_source(File::with_name(&extra).required(true));
        }
        b = b.add_source(
            Environment::with_prefix("IMGCLOUD")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.trusted_proxies")
                .with_list_parse_key("delivery.cache_tag_headers"),
        );
        for (var, key) in SHORT_ENV {
            b = b.set_override_option(*key, env(var))?;
        }
        let mut s: Settings = b.build()?.try_deserialize()?;
        s.server.proxies = TrustedProxies::from_config(s.server.trusted_proxy, &s.server.trusted_proxies).map_err(config::ConfigError::Message)?;
        // An empty public_url is filled in by startup from the address actually bound (port 0 included).
        s.server.public_url = s.server.public_url.trim_end_matches('/').to_string();
        s.server.public_url_configured = !s.server.public_url.is_empty();
        s.delivery.tag_headers = s
            .delivery
            .cache_tag_headers
            .iter()
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
            .map(|h| {
                actix_web::http::header::HeaderName::from_bytes(h.as_bytes())
                    .map_err(|_| config::ConfigError::Message(format!("delivery.cache_tag_headers: '{h}' is not a header name")))
            })
            .collect::<Result<_, _>>()?;
        imgcloud_actors::limits::SIGN_TTL_SECS.check(s.delivery.default_sign_ttl_secs).map_err(|e| config::ConfigError::Message(e.to_string()))?;
        s.cdn_purge.check().map_err(config::ConfigError::Message)?;
        if s.outbox.max_attempts == 0 || s.outbox.retry_base_ms == 0 {
            return Err(config::ConfigError::Message("outbox.max_attempts and outbox.retry_base_ms must be above 0".into()));
        }
        Ok(s)
    }

    pub fn public_url(&self) -> &str {
        &self.server.public_url
    }

    pub fn public_url_is_https(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_then_env_layers() {
        let s = Settings::load_from(|_| None).unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:8080");
        assert_eq!(s.server.public_url, "");
        assert_eq!(s.upload.max_bytes, 50 * 1024 * 1024);
        assert_eq!(s.server.metrics_listen, "", "no credential-free metrics address unless asked for");
        assert!((15..=30).contains(&s.server.body_read_timeout_secs));
        assert!(s.server.header_read_timeout_secs > 0);
        assert_eq!((s.delivery.max_age_secs, s.delivery.versioned_max_age_secs), (300, 31_536_000));
        let tags: Vec<&str> = s.delivery.tag_headers.iter().map(|h| h.as_str()).collect();
        assert_eq!(tags, ["cache-tag", "surrogate-key"]);
        let s = Settings::load_from(|k| match k {
            "IMGCLOUD_LISTEN" => Some("0.0.0.0:9000".into()),
            "IMGCLOUD_PUBLIC_URL" => Some("https://img.example/".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.server.listen, "0.0.0.0:9000");
        assert_eq!(s.server.public_url, "https://img.example");
        assert!(s.public_url_is_https());
    }

    #[test]
    fn trusted_proxies_from_the_list_or_loopback_for_the_old_bool() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let s = Settings::load_from(|_| None).unwrap();
        assert!(s.server.proxies.is_empty(), "nobody is trusted by default");
        let old_bool = TrustedProxies::from_config(true, &[]).unwrap();
        assert!(old_bool.contains(&ip("127.0.0.1")) && old_bool.contains(&ip("::1")));
        assert!(old_bool.contains(&ip("::ffff:127.0.0.1")));
        assert!(!old_bool.contains(&ip("10.0.0.1")));
        let p = TrustedProxies::from_config(false, &["10.1.0.0/16".into(), " 192.0.2.7 ".into(), "fd00::/8".into()]).unwrap();
        assert!(p.contains(&ip("10.1.255.3")) && !p.contains(&ip("10.2.0.1")));
        assert!(p.contains(&ip("192.0.2.7")) && !p.contains(&ip("192.0.2.8")));
        assert!(p.contains(&ip("fd12::1")) && !p.contains(&ip("fe80::1")));
        assert!(!p.contains(&ip("127.0.0.1")), "a list replaces the loopback default");
        assert!(TrustedProxies::from_config(false, &["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::from_config(false, &["proxy.local".into()]).is_err());
        assert!(TrustedProxies::from_config(false, &[" ".into()]).unwrap().is_empty(), "an empty env value means no list");
    }

    #[test]
    fn a_purger_that_could_never_work_stops_startup() {
        // `load_from` runs `check`; the IMGCLOUD_* layer reads the real process environment, so
        // the variations are made on the loaded defaults.
        let s = Settings::load_from(|_| None).unwrap();
        assert!(!s.cdn_purge.enabled() && !s.webhooks.allow_private_targets);
        let with = |f: &dyn Fn(&mut CdnPurgeConfig)| {
            let mut c = s.cdn_purge.clone();
            f(&mut c);
            c.check()
        };
        assert!(with(&|c| c.kind = "varnish".into()).is_err());
        assert!(with(&|c| c.kind = "http".into()).is_err(), "http needs a url");
        assert!(with(&|c| {
            c.kind = "http".into();
            c.url = "http://127.0.0.1:6081/".into();
        })
        .is_ok());
        assert!(with(&|c| {
            c.kind = "http".into();
            c.url = "http://127.0.0.1:6081/".into();
            c.header = "Surrogate Key".into();
        })
        .is_err(), "header must be a token");
        assert!(with(&|c| {
            c.kind = "cloudflare".into();
            c.cloudflare_zone_id = "z".into();
        })
        .is_err(), "and a token");
        let mut c = s.cdn_purge.clone();
        c.cloudflare_api_token = "sekrit".into();
        assert!(!format!("{c:?}").contains("sekrit"));
    }

    #[test]
    fn session_ttl_in_seconds_overrides_hours() {
        let s = Settings::load_from(|_| None).unwrap();
        assert_eq!(s.auth.session_ttl(), 168 * 3600);
        let mut a = s.auth.clone();
        a.session_ttl_secs = 5;
        assert_eq!(a.session_ttl(), 5);
    }

    /// The figures config/default.toml, the README and the decisions state for a limit are the
    /// table's (`imgcloud_actors::limits`): its value, any `(min..max)` range in the comment above
    /// it, and every "`key` (N)" or "`key` (N MP" in the docs. Edit the table, then these.
    #[test]
    fn config_defaults_and_docs_agree_with_the_limits_table() {
        use imgcloud_actors::limits::ALL;
        let defaults = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml)).build().unwrap();
        let lines: Vec<&str> = DEFAULTS.lines().collect();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let docs: Vec<(String, String)> = ["README.md", "docs/decisions.md"]
            .iter()
            .map(|f| (f.to_string(), std::fs::read_to_string(root.join(f)).unwrap()))
            .collect();
        let mut checked = 0;
        for l in ALL {
            let Some((section, key)) = l.name.split_once('.') else { continue };
            assert_eq!(defaults.get::<u64>(l.name).unwrap(), l.default, "config/default.toml {}", l.name);
            // The comment block right above `key = ...` in its section.
            let sec = lines.iter().position(|x| *x == format!("[{section}]")).unwrap();
            let at = sec + lines[sec..].iter().position(|x| x.starts_with(&format!("{key} ="))).unwrap();
            let above = lines[..at].iter().rev().take_while(|x| x.starts_with('#')).count();
            let comment = lines[at - above..at].join(" ");
            if let Some(range) = comment.split('(').nth(1).and_then(|r| r.split_once(')')).map(|r| r.0).filter(|r| r.contains("..")) {
                assert_eq!(range, format!("{}..{}", l.min, l.max), "range in the comment of {}", l.name);
            }
            for (file, text) in &docs {
                for (i, _) in text.match_indices(&format!("`{}` (", l.name)) {
                    let rest = &text[i + l.name.len() + 4..];
                    let n: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                    if n.is_empty() {
                        continue; // the key named in passing, not a figure
                    }
                    let stated: u64 = n.parse().unwrap();
                    let stated = if rest[n.len()..].starts_with(" MP") { stated * 1_000_000 } else { stated };
                    assert_eq!(stated, l.default, "{file} states {} as {stated}", l.name);
                    checked += 1;
                }
            }
        }
        assert!(checked >= 3, "the docs' figures were not found ({checked})");
        // The dashboard's longest signed-URL choice and the Node SDK's documented range.
        let ttl = imgcloud_actors::limits::SIGN_TTL_SECS;
        let playground = std::fs::read_to_string(root.join("dashboard/app/js/views/playground.js")).unwrap();
        assert!(playground.contains(&format!("[{}, '7 days (longest)']", ttl.max)), "playground.js longest TTL");
        let dts = std::fs::read_to_string(root.join("sdk/node/index.d.ts")).unwrap();
        assert!(dts.contains(&format!("/** {}..{}, default {}. */", ttl.min, ttl.max, ttl.default)), "index.d.ts ttl_seconds");
    }
}
