//! `Host` values and request-target authorities, as the request decoder checks them and
//! `split_host_and_port` splits them. What the decoder accepts is a host Tornado 6.6 accepts
//! too (its `_ABNF.host` grammar, without commas), and splitting gives back the value's parts.

use bytes::BytesMut;
use cyclone_protocol::h1::{Event, Limits, RequestDecoder};
use cyclone_protocol::httputil::split_host_and_port;

use super::input::Input;

/// Tornado's `_ABNF.host`: unreserved, sub-delims, `%XX`, brackets and colons, then an
/// optional port; and no comma (Tornado refuses those as smuggled duplicate headers).
fn tornado_accepts(host: &str) -> bool {
    let bytes = host.as_bytes();
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let plain = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+;=[]:".contains(&byte);
        if plain {
            index += 1;
        } else if byte == b'%'
            && bytes
                .get(index + 1..index + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
        {
            index += 3;
        } else {
            return false;
        }
    }
    true
}

/// Splits the input as a `host:port`, and decodes a request naming it as `Host` and as an
/// absolute-form target's authority.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let absolute = input.byte() & 1 == 1;
    let value = String::from_utf8_lossy(input.rest()).into_owned();

    let (host, port) = split_host_and_port(&value);
    match port {
        Some(port) => {
            let digits = value
                .strip_prefix(host)
                .and_then(|rest| rest.strip_prefix(':'))
                .unwrap_or_else(|| panic!("{value:?} split into {host:?} and a port"));
            assert!(!host.is_empty());
            assert_eq!(digits.parse::<u16>().ok(), Some(port));
        }
        None => assert_eq!(host, value),
    }

    if value.contains(['\r', '\n']) {
        return;
    }
    let request = if absolute {
        format!("GET http://{value}/path HTTP/1.1\r\nHost: example.com\r\n\r\n")
    } else {
        format!("GET /path HTTP/1.1\r\nHost: {value}\r\n\r\n")
    };
    let mut buf = BytesMut::from(request.as_bytes());
    let mut decoder = RequestDecoder::new(Limits::default());
    if let Ok(Some(Event::Head(head))) = decoder.decode(&mut buf) {
        let seen = head.host().map(str::to_owned);
        if !absolute {
            let seen = seen.unwrap_or_else(|| panic!("accepted Host {value:?} but host() is None"));
            assert_eq!(
                seen,
                value.trim_matches([' ', '\t']),
                "host() is not the Host value"
            );
            assert!(
                tornado_accepts(&seen) && !seen.contains(','),
                "accepted Host {seen:?}, which Tornado refuses"
            );
        }
        let host = head.host().unwrap_or("");
        let (name, _) = split_host_and_port(host);
        let _ = name.to_ascii_lowercase();
    }
}
