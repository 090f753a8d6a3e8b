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

/// The IPv4 address in two IPv6 segments.
fn v4_of(hi: u16, lo: u16) -> Ipv4Addr { Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)) }

/// The IPv4 addresses an IPv6 transition address routes to, which must pass the IPv4 rules: 6to4
/// (2002:AABB:CCDD::/48 reaches A.B.C.D through a relay) and Teredo (2001:0::/32: the server in
/// bits 32-63, the client in the last 32 bits, inverted). NAT64, IPv4-mapped and IPv4-compatible
/// forms are judged in `v6_forbidden` and `is_forbidden`.
fn v4_embedded(a: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = a.segments();
    match (s[0], s[1]) {
        (0x2002, _) => vec![v4_of(s[1], s[2])],
        (0x2001, 0) => vec![v4_of(s[2], s[3]), v4_of(!s[6], !s[7])],
        _ => vec![],
    }
}

fn v6_forbidden(a: Ipv6Addr) -> bool {
    let s = a.segments();
    v4_embedded(a).into_iter().any(v4_forbidden)
        || a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        || (s[0] & 0xffc0) == 0xfe80   // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0   // deprecated site-local fec0::/10
        || (s[0] & 0xfe00) == 0xfc00   // unique-local fc00::/7
        || s[..6] == [0; 6]             // IPv4-compatible ::a.b.c.d (deprecated), :: and ::1 included
        || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && v4_forbidden(v4_of(s[6], s[7]))) // NAT64 well-known prefix
        || s[..3] == [0x64, 0xff9b, 1]  // RFC 8215 local-use NAT64 64:ff9b:1::/48: a translator of the operator's choosing, any embedding
        || (s[..6] == [0, 0, 0, 0, 0xffff, 0] && v4_forbidden(v4_of(s[6], s[7]))) // IPv4-translated (SIIT) ::ffff:0:a.b.c.d
}

/// Whether an address is one a user-chosen webhook must not reach.
pub fn is_forbidden(ip: IpAddr) -> bool {
    // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
    match ip.to_canonical() {
        IpAddr::V4(a) => v4_forbidden(a),
        IpAddr::V6(a) => v6_forbidden(a),
    }
}

/// The one refusal, whatever the host resolved to: naming the address (or which rule it broke)
/// would turn registration into a probe of the server's DNS and network.
fn refused() -> DomainError {
    DomainError::Invalid(
        "webhook url target is not allowed: loopback, private, link-local and metadata addresses are refused (webhooks.allow_private_targets)".into(),
    )
}

/// The URL rules that need no DNS: http or https, a host, no credentials, a bounded length.
pub fn parse_target(url: &str) -> Result<Url, DomainError> {
    let too_long = |n: usize| n == 0 || n > MAX_URL_LEN;
    if too_long(url.len()) {
        return Err(DomainError::Invalid(format!("url must be 1 to {MAX_URL_LEN} bytes")));
    }
    let u = Url::parse(url.trim()).map_err(|e| DomainError::Invalid(format!("url is not a valid URL: {e}")))?;
    // The normalised form is what is stored and delivered to (a bare host gains its '/'), so it is held to the cap too.
    if too_long(u.as_str().len()) {
        return Err(DomainError::Invalid(format!("url must be 1 to {MAX_URL_LEN} bytes")));
    }
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
                return Err(refused());
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
        if addrs.iter().any(|a| is_forbidden(a.ip())) {
            return Err(refused());
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
            "64:ff9b:1::7f00:1", "64:ff9b:1::a9fe:a9fe", "64:ff9b:1:ffff::808:808", "64:ff9b:1::",
        ] {
            assert!(is_forbidden(ip(bad)), "{bad} must be refused");
        }
        for ok in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "169.255.0.1", "2606:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8"] {
            assert!(!is_forbidden(ip(ok)), "{ok} is public");
        }
    }

    /// Transition addresses reach the IPv4 address they embed, so they are judged by it.
    #[test]
    fn ipv6_forms_embedding_a_private_ipv4_are_refused() {
        for bad in [
            "::ffff:192.168.0.1",       // IPv4-mapped
            "::ffff:0:10.0.0.1",        // IPv4-translated
            "2002:7f00:1::",            // 6to4 of 127.0.0.1
            "2002:a00:1::1",            // 6to4 of 10.0.0.1
            "2002:c0a8:101:5::9",       // 6to4 of 192.168.1.1, any subnet and host
            "2002:a9fe:a9fe::",         // 6to4 of 169.254.169.254
            "2001:0:4136:e378:8000:63bf:f5ff:fffe", // Teredo, client 10.0.0.1 (inverted)
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
            "2001:0:c0a8:101::",        // Teredo, server 192.168.1.1
        ] {
            assert!(is_forbidden(ip(bad)), "{bad} must be refused");
        }
        for ok in [
            "2002:808:808::1",                      // 6to4 of 8.8.8.8
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo, server 65.54.227.120, client 8.8.8.8
            "2001:db8::1",                          // not Teredo (2001:0::/32 only)
            "2001:4860:4860::8888",
            "::ffff:0:8.8.8.8",
        ] {
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
        let msg = check_target("http://localhost/", false).await.unwrap_err().to_string();
        assert!(msg.contains("not allowed") && !msg.contains("127.0.0.1") && !msg.contains("::1"), "{msg}");
    }
}
