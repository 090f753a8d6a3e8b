//! Which webhook targets we may connect to: URL rules, and the address classes refused unless `webhooks.allow_private_targets`.
//!
//! A webhook URL is chosen by a user but fetched by the server, so it must not reach loopback,
//! the private network or a cloud metadata service. The check runs at registration and again at
//! every delivery, whose connection is then pinned to the addresses just checked: a DNS answer
//! that changes between the check and the connect (rebinding) cannot redirect it.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use imgcloud_actors::webhooks::MAX_URL_LEN;
use imgcloud_actors::DomainError;
use reqwest::Url;

/// Hostnames refused by name, whatever they resolve to: cloud metadata services.
const METADATA_HOSTS: &[&str] = &["metadata.google.internal", "metadata.goog", "metadata"];

fn v4_in(a: Ipv4Addr, net: [u8; 4], prefix: u8) -> bool {
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    (u32::from(a) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn v4_forbidden(a: Ipv4Addr) -> bool {
    a.is_loopback()                      // 127/8
        || a.is_private()                // 10/8, 172.16/12, 192.168/16
        || a.is_link_local()             // 169.254/16, the metadata address 169.254.169.254 included
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || v4_in(a, [0, 0, 0, 0], 8)     // "this network"
        || v4_in(a, [100, 64, 0, 0], 10) // CGNAT, shared address space
        || v4_in(a, [192, 0, 0, 0], 24)  // IETF protocol assignments
        || v4_in(a, [198, 18, 0, 0], 15) // benchmarking
        || v4_in(a, [240, 0, 0, 0], 4) // reserved
}

fn v6_forbidden(a: Ipv6Addr) -> bool {
    let s = a.segments();
    a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        || (s[0] & 0xffc0) == 0xfe80   // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0   // deprecated site-local fec0::/10
        || (s[0] & 0xfe00) == 0xfc00   // unique-local fc00::/7
        || s[..6] == [0; 6]             // IPv4-compatible ::a.b.c.d (deprecated), :: and ::1 included
        || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && v4_forbidden(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8))) // NAT64
}

/// Whether an address is one a user-chosen webhook must not reach.
pub fn is_forbidden(ip: IpAddr) -> bool {
    // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
    match ip.to_canonical() {
        IpAddr::V4(a) => v4_forbidden(a),
        IpAddr::V6(a) => v6_forbidden(a),
    }
}

fn refused(what: &str) -> DomainError {
    DomainError::Invalid(format!(
        "webhook url {what}: loopback, private, link-local and metadata addresses are refused (webhooks.allow_private_targets)"
    ))
}

/// The URL rules that need no DNS: http or https, a host, no credentials, a bounded length.
pub fn parse_target(url: &str) -> Result<Url, DomainError> {
    if url.is_empty() || url.len() > MAX_URL_LEN {
        return Err(DomainError::Invalid(format!("url must be 1 to {MAX_URL_LEN} bytes")));
    }
    let u = Url::parse(url.trim()).map_err(|e| DomainError::Invalid(format!("url is not a valid URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(DomainError::Invalid("url must be http:// or https://".into()));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(DomainError::Invalid("url must not carry credentials; the signature authenticates deliveries".into()));
    }
    if u.host().is_none() {
        return Err(DomainError::Invalid("url must name a host".into()));
    }
    Ok(u)
}

/// Resolves the URL's host and checks every address (all of them: a client may use any).
/// Returns the host name to pin (None for an IP literal) and the checked addresses.
pub async fn resolve_checked(u: &Url, allow_private: bool) -> Result<(Option<String>, Vec<SocketAddr>), DomainError> {
    let port = u.port_or_known_default().unwrap_or(80);
    let (name, addrs) = match u.host() {
        Some(url::Host::Ipv4(a)) => (None, vec![SocketAddr::new(IpAddr::V4(a), port)]),
        Some(url::Host::Ipv6(a)) => (None, vec![SocketAddr::new(IpAddr::V6(a), port)]),
        Some(url::Host::Domain(d)) => {
            // The name is kept exactly as the URL has it: it is the key the pinned connection is looked up by.
            let d = d.to_string();
            let bare = d.trim_end_matches('.').to_ascii_lowercase();
            if !allow_private && METADATA_HOSTS.contains(&bare.as_str()) {
                return Err(refused(&format!("host '{d}' is a metadata service")));
            }
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((d.as_str(), port))
                .await
                .map_err(|e| DomainError::Invalid(format!("webhook url host '{d}' does not resolve: {e}")))?
                .collect();
            if addrs.is_empty() {
                return Err(DomainError::Invalid(format!("webhook url host '{d}' does not resolve")));
            }
            (Some(d), addrs)
        }
        None => return Err(DomainError::Invalid("url must name a host".into())),
    };
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| is_forbidden(a.ip())) {
            return Err(refused(&format!("resolves to {}", bad.ip())));
        }
    }
    Ok((name, addrs))
}

/// The registration check: URL rules, then (unless private targets are allowed) every resolved address.
pub async fn check_target(url: &str, allow_private: bool) -> Result<Url, DomainError> {
    let u = parse_target(url)?;
    if !allow_private {
        resolve_checked(&u, false).await?;
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr { s.parse().unwrap() }

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_refused() {
        for bad in [
            "127.0.0.1", "127.9.9.9", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "169.254.0.1",
            "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3", "255.255.255.255", "224.0.0.1", "192.0.0.1", "198.18.0.1", "240.0.0.1",
            "::1", "::", "fe80::1", "febf::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
            "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::a00:1", "fec0::1",
        ] {
            assert!(is_forbidden(ip(bad)), "{bad} must be refused");
        }
        for ok in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "169.255.0.1", "2606:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8"] {
            assert!(!is_forbidden(ip(ok)), "{ok} is public");
        }
    }

    #[test]
    fn urls_must_be_http_with_a_host_and_no_credentials() {
        assert!(parse_target("https://hooks.example/x?y=1").is_ok());
        for bad in ["ftp://hooks.example/", "file:///etc/passwd", "https://user:pw@hooks.example/", "https://user@hooks.example/", "not a url", ""] {
            assert!(matches!(parse_target(bad), Err(DomainError::Invalid(_))), "{bad}");
        }
        assert!(parse_target(&format!("https://h.example/{}", "a".repeat(MAX_URL_LEN))).is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn literal_and_named_private_hosts_are_refused_unless_allowed() {
        for bad in ["http://127.0.0.1:9/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://localhost/", "http://metadata.google.internal./"] {
            assert!(check_target(bad, false).await.is_err(), "{bad}");
            assert!(check_target(bad, true).await.is_ok(), "{bad} with allow_private_targets");
        }
    }
}
