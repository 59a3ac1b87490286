//! Which URLs a delivery may go to: http(s) only, https unless allowed otherwise, and (unless private
//! targets are allowed) never a host that is or resolves to a loopback, private, link-local, unique-local,
//! shared, documentation, multicast or cloud-metadata address. Checked when a subscription is saved, and
//! again on every attempt (DNS can change between the two).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use url::{Host, Url};

/// Longest accepted target URL.
pub const MAX_URL_LEN: usize = 2048;

/// The operator's settings for targets.
#[derive(Debug, Clone, Copy, Default)]
pub struct TargetPolicy {
    /// Allow loopback and private-network targets (development and tests).
    pub allow_private: bool,
    /// Allow plain `http://` targets (always allowed with `allow_private`).
    pub allow_http: bool,
}

/// Parses a target URL and applies the checks that need no DNS: scheme, https rule, no credentials-only
/// oddities, and IP-literal or `localhost` hosts. The message says what is wrong.
pub fn parse(input: &str, policy: TargetPolicy) -> Result<Url, String> {
    if input.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let url =
        Url::parse(input.trim()).map_err(|e| format!("must be an absolute http(s) URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http || policy.allow_private => {}
        "http" => {
            return Err(
                "must use https (plain http is allowed only when the server is configured \
                        for it)"
                    .into(),
            );
        }
        other => return Err(format!("must be an http(s) URL, not `{other}:`")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not carry credentials: verify the signature of each delivery instead".into(),
        );
    }
    let host = url.host().ok_or_else(|| "must have a host".to_string())?;
    if !policy.allow_private {
        match host {
            Host::Ipv4(ip) => check_ip(IpAddr::V4(ip))?,
            Host::Ipv6(ip) => check_ip(IpAddr::V6(ip))?,
            Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost"
                    || name.ends_with(".localhost")
                    || name.ends_with(".internal")
                    || name.ends_with(".local")
                    || !name.contains('.')
                {
                    return Err(format!(
                        "`{name}` is a local or private host name: webhook targets must be public"
                    ));
                }
            }
        }
    }
    Ok(url)
}

/// [`parse`], then resolves a host name and refuses it when any of its addresses is not public.
pub async fn check(input: &str, policy: TargetPolicy) -> Result<Url, String> {
    let url = parse(input, policy)?;
    if policy.allow_private {
        return Ok(url);
    }
    if let Some(Host::Domain(name)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = resolve(name, port).await?;
        for ip in addrs {
            check_ip(ip)?;
        }
    }
    Ok(url)
}

/// The addresses of a host name (bounded in time).
pub async fn resolve(name: &str, port: u16) -> Result<Vec<IpAddr>, String> {
    let lookup = tokio::net::lookup_host((name, port));
    match tokio::time::timeout(Duration::from_secs(5), lookup).await {
        Ok(Ok(addrs)) => {
            let addrs: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
            if addrs.is_empty() {
                Err(format!("host `{name}` has no addresses"))
            } else {
                Ok(addrs)
            }
        }
        Ok(Err(_)) => Err(format!("host `{name}` could not be resolved")),
        Err(_) => Err(format!("resolving host `{name}` timed out")),
    }
}

/// `Ok` for a public address; otherwise why it is refused.
pub fn check_ip(ip: IpAddr) -> Result<(), String> {
    match forbidden_reason(ip) {
        None => Ok(()),
        Some(why) => Err(format!(
            "{ip} is {why}: webhook targets must be public addresses"
        )),
    }
}

/// Why an address may not be a webhook target, or `None` when it is a public unicast address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "a cloud metadata address",
        (0, _, _) => "an unspecified address",
        (127, _, _) => "a loopback address",
        (10, _, _) | (192, 168, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (169, 254, _) => "a link-local address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (192, 0, 0) => "an IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved address",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address: judge that one.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return v4_reason(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if s[0] == 0x2002 {
        return v4_reason(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    Some(match s[0] {
        _ if ip.is_unspecified() => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        // IPv4-compatible (deprecated) ::a.b.c.d
        0 if s[1..6] == [0, 0, 0, 0, 0] => "an IPv4-compatible address",
        x if x & 0xfe00 == 0xfc00 => "a unique-local address",
        x if x & 0xffc0 == 0xfe80 => "a link-local address",
        x if x & 0xffc0 == 0xfec0 => "a site-local address",
        x if x & 0xff00 == 0xff00 => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        0x0100 if s[1..4] == [0, 0, 0] => "a discard-only address",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> TargetPolicy {
        TargetPolicy::default()
    }

    #[test]
    fn refuses_private_and_special_addresses() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.0.10",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "ff02::1",
        ] {
            let ip: IpAddr = bad.parse().unwrap();
            assert!(forbidden_reason(ip).is_some(), "{bad} should be refused");
        }
        for good in ["1.1.1.1", "93.184.216.34", "2606:4700::1111", "172.32.0.1"] {
            let ip: IpAddr = good.parse().unwrap();
            assert_eq!(forbidden_reason(ip), None, "{good} should be allowed");
        }
    }

    #[test]
    fn parses_and_applies_scheme_rules() {
        assert!(parse("https://1.1.1.1/hook", strict()).is_ok());
        assert!(parse("http://1.1.1.1/hook", strict()).is_err());
        assert!(
            parse(
                "http://1.1.1.1/hook",
                TargetPolicy {
                    allow_http: true,
                    ..strict()
                }
            )
            .is_ok()
        );
        assert!(parse("ftp://1.1.1.1/x", strict()).is_err());
        assert!(parse("not a url", strict()).is_err());
        assert!(parse("https://localhost/x", strict()).is_err());
        assert!(parse("https://[::1]/x", strict()).is_err());
        assert!(parse("https://metadata.google.internal/x", strict()).is_err());
        assert!(parse("https://intranet/x", strict()).is_err());
        assert!(parse("https://user:pw@1.1.1.1/x", strict()).is_err());
        let open = TargetPolicy {
            allow_private: true,
            allow_http: false,
        };
        assert!(parse("http://127.0.0.1:9/x", open).is_ok());
    }
}
