//! The caching headers of delivery (and the dashboard's files): Cache-Control per access kind, CDN cache tags, and `If-None-Match`.
use actix_web::http::header::HeaderValue;

use crate::config::DeliveryConfig;

/// How a delivery request was allowed, which decides who may cache the response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Access {
    Public,
    Signed { seconds_left: i64 },
    Owner,
}

/// The caching policy of a delivery response, in one place (the README's table):
/// a versioned public URL names bytes that never change, so shared caches keep it a year and
/// browsers never revalidate (`immutable`); an unversioned one keeps its URL across overwrites, so
/// it lives `max_age_secs` and is then revalidated by ETag. A signed URL may be cached only until it
/// expires; owner-credential responses never enter a shared cache.
pub fn cache_control(access: Access, versioned: bool, d: &DeliveryConfig) -> String {
    match access {
        Access::Public if versioned => format!("public, max-age={}, immutable", d.versioned_max_age_secs),
        Access::Public => format!("public, max-age={}", d.max_age_secs),
        Access::Signed { seconds_left } => format!("public, max-age={}", seconds_left.max(0)),
        Access::Owner => "private, no-store".to_string(),
    }
}

/// Adds the asset's CDN cache tag under each configured header, so a purge by tag reaches every
/// transform, format and version of it.
pub fn tagged(b: &mut actix_web::HttpResponseBuilder, d: &DeliveryConfig, tag: &HeaderValue) {
    for name in &d.tag_headers {
        b.insert_header((name.clone(), tag.clone()));
    }
}

/// `If-None-Match` with the weak comparison RFC 9110 13.1.2 asks for: `W/"x"` matches `"x"`.
pub fn none_match(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|v| {
        v.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_per_access_and_version() {
        let d = DeliveryConfig { max_age_secs: 300, versioned_max_age_secs: 31_536_000, default_sign_ttl_secs: 3600, cache_tag_headers: vec![], tag_headers: vec![] };
        assert_eq!(cache_control(Access::Public, true, &d), "public, max-age=31536000, immutable");
        assert_eq!(cache_control(Access::Public, false, &d), "public, max-age=300");
        assert_eq!(cache_control(Access::Signed { seconds_left: 42 }, true, &d), "public, max-age=42");
        assert_eq!(cache_control(Access::Signed { seconds_left: -1 }, false, &d), "public, max-age=0");
        assert_eq!(cache_control(Access::Owner, true, &d), "private, no-store");
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = "\"abc\"";
        for header in ["\"abc\"", "W/\"abc\"", "\"x\", W/\"abc\"", " W/\"y\" ,\"abc\" ", "*"] {
            assert!(none_match(Some(header), etag), "{header}");
        }
        for header in ["\"abcd\"", "W/\"ab\"", "abc", "w/\"abc\"", ""] {
            assert!(!none_match(Some(header), etag), "{header}");
        }
        assert!(!none_match(None, etag));
    }
}
