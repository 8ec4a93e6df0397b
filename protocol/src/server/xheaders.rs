//! Tornado's `xheaders`: the client address and scheme a reverse proxy reports.
//!
//! Only applied when the server is configured with `xheaders(true)`, since any client can send
//! these fields; behind a proxy that sets them, they are the only way to learn the real client.

use std::net::IpAddr;

use http::HeaderMap;

/// The client's IP as Tornado computes it: `X-Real-Ip` if valid, else the rightmost
/// `X-Forwarded-For` entry not in `trusted_downstream`, else `peer`.
pub(crate) fn remote_ip(
    headers: &HeaderMap,
    peer: IpAddr,
    trusted_downstream: &[IpAddr],
) -> IpAddr {
    if let Some(ip) = headers
        .get("x-real-ip")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
    {
        return ip;
    }
    let Some(forwarded) = headers
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok())
    else {
        return peer;
    };
    // Proxies append the address they received from; the rightmost untrusted one is the first
    // that no proxy of ours vouches for.
    let mut candidate = None;
    for entry in forwarded.rsplit(',').map(str::trim) {
        candidate = Some(entry);
        match entry.parse::<IpAddr>() {
            Ok(ip) if trusted_downstream.contains(&ip) => continue,
            _ => break,
        }
    }
    candidate
        .and_then(|entry| entry.parse().ok())
        .unwrap_or(peer)
}

/// The scheme: the last element of `X-Scheme` (or else `X-Forwarded-Proto`) when it is `http`
/// or `https`, else `default`.
pub(crate) fn protocol(headers: &HeaderMap, default: &'static str) -> &'static str {
    let reported = headers
        .get("x-scheme")
        .or_else(|| headers.get("x-forwarded-proto"))
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .map(str::trim);
    match reported {
        Some(scheme) if scheme.eq_ignore_ascii_case("https") => "https",
        Some(scheme) if scheme.eq_ignore_ascii_case("http") => "http",
        _ => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in fields {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn forwarded_for_skips_trusted_proxies_from_the_right() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let trusted: Vec<IpAddr> = vec!["10.0.0.2".parse().unwrap()];
        let map = headers(&[("x-forwarded-for", "1.1.1.1, 2.2.2.2, 10.0.0.2")]);
        assert_eq!(
            remote_ip(&map, peer, &trusted),
            "2.2.2.2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            remote_ip(&map, peer, &[]),
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
        let real = headers(&[("x-real-ip", "3.3.3.3"), ("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(
            remote_ip(&real, peer, &[]),
            "3.3.3.3".parse::<IpAddr>().unwrap()
        );
        let junk = headers(&[("x-forwarded-for", "not an ip")]);
        assert_eq!(remote_ip(&junk, peer, &[]), peer);
    }

    #[test]
    fn scheme_is_http_or_https_only() {
        assert_eq!(
            protocol(&headers(&[("x-forwarded-proto", "https")]), "http"),
            "https"
        );
        assert_eq!(protocol(&headers(&[("x-scheme", "ftp")]), "http"), "http");
        assert_eq!(
            protocol(&headers(&[("x-forwarded-proto", "http, https")]), "http"),
            "https"
        );
        assert_eq!(protocol(&HeaderMap::new(), "https"), "https");
    }
}
