//! The client's address, for login throttling. Behind a reverse proxy every
//! request comes from the proxy, so `X-Forwarded-For` is read, but only when
//! the peer is a configured trusted proxy: from anyone else it is a header
//! the client wrote itself.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// The address of the client that sent `req`.
pub fn address(req: &HttpRequest, trusted: &[String]) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    match peer {
        Some(peer) => resolve(peer, &forwarded, trusted).to_string(),
        None => "unknown".into(),
    }
}

/// Walks `X-Forwarded-For` from the right (the hop nearest us) past every
/// trusted proxy; the first untrusted hop is the client. A malformed entry
/// stops the walk at the last good hop.
pub fn resolve(peer: IpAddr, forwarded: &[&str], trusted: &[String]) -> IpAddr {
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let hops: Vec<&str> = forwarded
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip, trusted) {
            break;
        }
    }
    client
}

fn is_trusted(ip: IpAddr, trusted: &[String]) -> bool {
    trusted.iter().any(|entry| matches(ip, entry))
}

/// `entry` is an address or a CIDR range (`10.0.0.0/8`, `fd00::/8`).
fn matches(ip: IpAddr, entry: &str) -> bool {
    let (net, bits) = match entry.split_once('/') {
        Some((net, bits)) => (net, bits.parse::<u32>().ok()),
        None => (entry, None),
    };
    let Ok(net) = net.trim().parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            prefix_eq(u32::from(a).into(), u32::from(b).into(), 32, bits)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => prefix_eq(u128::from(a), u128::from(b), 128, bits),
        _ => false,
    }
}

fn prefix_eq(a: u128, b: u128, width: u32, bits: Option<u32>) -> bool {
    let bits = bits.unwrap_or(width).min(width);
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_is_ignored_from_an_untrusted_peer() {
        assert_eq!(
            resolve(ip("203.0.113.9"), &["1.2.3.4"], &[]),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve(ip("203.0.113.9"), &["1.2.3.4"], &["10.0.0.0/8".into()]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_is_the_client() {
        let trusted = vec!["10.0.0.0/8".to_owned(), "192.0.2.7".to_owned()];
        // The client wrote a fake first hop; the proxies appended the rest.
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &["6.6.6.6, 198.51.100.4, 192.0.2.7"],
                &trusted
            ),
            ip("198.51.100.4")
        );
        assert_eq!(resolve(ip("10.0.0.2"), &[], &trusted), ip("10.0.0.2"));
        assert_eq!(resolve(ip("10.0.0.2"), &["junk"], &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn cidr_ranges_match_by_prefix() {
        assert!(matches(ip("10.1.2.3"), "10.0.0.0/8"));
        assert!(!matches(ip("11.1.2.3"), "10.0.0.0/8"));
        assert!(matches(ip("::1"), "::1"));
        assert!(matches(ip("fd00::5"), "fd00::/8"));
        assert!(!matches(ip("10.0.0.1"), "fd00::/8"));
    }
}
