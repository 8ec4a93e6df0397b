//! OAuth 1.0a request signing (RFC 5849), HMAC-SHA1: what Twitter's v1.1 API and other
//! OAuth 1 services check on every request (Tornado's `_oauth10a_signature` and
//! `_oauth_request_parameters`).
//!
//! ```
//! use cyclone_web::auth::oauth1::{Credentials, signature};
//!
//! // The example of OAuth Core 1.0, appendix A.5.
//! let consumer = Credentials::new("dpf43f3p2l4k3l03", "kd94hf93k423kf44");
//! let token = Credentials::new("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00");
//! let parameters = [
//!     ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
//!     ("oauth_token", "nnch734d00sl2jdk"),
//!     ("oauth_signature_method", "HMAC-SHA1"),
//!     ("oauth_timestamp", "1191242096"),
//!     ("oauth_nonce", "kllo9940pd9333jh"),
//!     ("oauth_version", "1.0"),
//! ];
//! let url = "http://photos.example.net/photos?file=vacation.jpg&size=original";
//! assert_eq!(signature("GET", url, &parameters, &consumer, Some(&token)), "tR3+Ty81lMeYAr/Fid0kMTYa/WM=");
//! ```

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha1::Sha1;

/// A key and its secret: the consumer's (the application's) or a token's.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The public part (`oauth_consumer_key`, `oauth_token`).
    pub key: String,
    /// The secret part, which signs and is never sent.
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Credentials from a key and its secret.
    pub fn new(key: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials {
            key: key.into(),
            secret: secret.into(),
        }
    }
}

/// RFC 3986's unreserved characters: the only ones OAuth leaves unescaped (§3.6).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// OAuth's percent-encoding (RFC 5849 §3.6).
pub fn escape(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// The signature base string (RFC 5849 §3.4.1): the method, the URL without query or
/// fragment (scheme and host lowercased, default ports dropped), and every parameter (the
/// URL's query and `parameters`: the `oauth_*` ones and any form body), encoded and sorted.
pub fn signature_base_string(method: &str, url: &str, parameters: &[(&str, &str)]) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query.split('#').next().unwrap_or("")),
        None => (url.split('#').next().unwrap_or(url), ""),
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (escape(&form_decode(name)), escape(&form_decode(value)))
        })
        .chain(
            parameters
                .iter()
                .map(|(name, value)| (escape(name), escape(value))),
        )
        .collect();
    pairs.sort();
    let normalized: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!(
        "{}&{}&{}",
        escape(&method.to_ascii_uppercase()),
        escape(&base_uri(base)),
        escape(&normalized.join("&"))
    )
}

/// The HMAC-SHA1 signature, base64 (RFC 5849 §3.4.2): the base string signed with
/// `consumer_secret&token_secret`.
pub fn signature(
    method: &str,
    url: &str,
    parameters: &[(&str, &str)],
    consumer: &Credentials,
    token: Option<&Credentials>,
) -> String {
    let key = format!(
        "{}&{}",
        escape(&consumer.secret),
        token.map(|token| escape(&token.secret)).unwrap_or_default()
    );
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(signature_base_string(method, url, parameters).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The `Authorization` field of a signed request (RFC 5849 §3.5.1): `OAuth` and the
/// `oauth_*` parameters with the signature, over `method`, `url` and `body_parameters` (a
/// form body's, which are signed but not repeated). `nonce` must be unique per timestamp and
/// `timestamp` is Unix seconds; [`authorization_now`] picks both.
pub fn authorization(
    method: &str,
    url: &str,
    body_parameters: &[(&str, &str)],
    consumer: &Credentials,
    token: Option<&Credentials>,
    nonce: &str,
    timestamp: u64,
) -> String {
    let timestamp = timestamp.to_string();
    let mut oauth: Vec<(&str, &str)> = vec![
        ("oauth_consumer_key", &consumer.key),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", &timestamp),
        ("oauth_version", "1.0"),
    ];
    if let Some(token) = token {
        oauth.push(("oauth_token", &token.key));
    }
    let mut signed = oauth.clone();
    signed.extend_from_slice(body_parameters);
    let signature = signature(method, url, &signed, consumer, token);
    oauth.push(("oauth_signature", &signature));
    let fields: Vec<String> = oauth
        .iter()
        .map(|(name, value)| format!("{}=\"{}\"", escape(name), escape(value)))
        .collect();
    format!("OAuth {}", fields.join(", "))
}

/// [`authorization`] with a fresh random nonce and the clock's timestamp.
pub fn authorization_now(
    method: &str,
    url: &str,
    body_parameters: &[(&str, &str)],
    consumer: &Credentials,
    token: Option<&Credentials>,
) -> Result<String, super::AuthError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|error| super::AuthError::Internal(error.to_string()))?;
    let nonce = hex::encode(bytes);
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    Ok(authorization(
        method,
        url,
        body_parameters,
        consumer,
        token,
        &nonce,
        timestamp,
    ))
}

/// `scheme://host[:port]/path` as the base string wants it: scheme and host lowercased, the
/// default port (80 for http, 443 for https) dropped.
fn base_uri(base: &str) -> String {
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let mut authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => Some(":80"),
        "https" => Some(":443"),
        _ => None,
    };
    if let Some(port) = default_port
        && authority.ends_with(port)
    {
        authority.truncate(authority.len() - port.len());
    }
    format!("{scheme}://{authority}{path}")
}

/// A query component decoded as a form (`+` is a space).
fn form_decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_uri_is_normalized() {
        assert_eq!(
            base_uri("HTTP://Example.COM:80/r%20v/X"),
            "http://example.com/r%20v/X"
        );
        assert_eq!(
            base_uri("https://www.example.net:8080/?q=1"),
            "https://www.example.net:8080/?q=1"
        );
        assert_eq!(base_uri("https://example.com:443"), "https://example.com/");
    }
}
