//! HTTP Digest access authentication (RFC 7616), Tornado's `auth_mode="digest"`: the answer
//! to a server's `WWW-Authenticate: Digest` challenge.

use md5::Md5;
use sha2::{Digest, Sha256};

/// How a request's credentials are sent (Tornado's `auth_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuthMode {
    /// `Authorization: Basic`, sent with the first request. Default.
    #[default]
    Basic,
    /// RFC 7616 Digest: the first request goes without credentials; a `401` with a `Digest`
    /// challenge is answered once, with MD5 or SHA-256 as the server asks and `qop=auth`.
    Digest,
}

/// The `Authorization` value answering `challenge` (a `WWW-Authenticate` value starting with
/// `Digest`) for `method` and `uri` (the request target), with the client nonce `cnonce` and
/// nonce count `nc`. `None` if the challenge is not a Digest one this client can answer (an
/// unknown algorithm, `qop=auth-int` only, no realm or nonce).
///
/// ```
/// use cyclone_protocol::client::digest_authorization;
///
/// // RFC 7616 §3.9.1.
/// let challenge = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
/// let answer = digest_authorization(
///     challenge, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
///     "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", 1,
/// ).unwrap();
/// assert!(answer.contains(r#"response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1""#));
/// ```
pub fn digest_authorization(
    challenge: &str,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
    nc: u32,
) -> Option<String> {
    let parameters = challenge
        .trim_start()
        .strip_prefix("Digest")
        .or_else(|| challenge.trim_start().strip_prefix("digest"))?;
    let parameters = parse_parameters(parameters);
    let get = |name: &str| {
        parameters
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    let realm = get("realm")?;
    let nonce = get("nonce")?;
    let algorithm = get("algorithm").unwrap_or("MD5");
    let hash: fn(&str) -> String = match algorithm.to_ascii_uppercase().as_str() {
        "MD5" => md5_hex,
        "SHA-256" => sha256_hex,
        _ => return None,
    };
    let qop = match get("qop") {
        None => None,
        Some(offered) => {
            if offered.split(',').any(|option| option.trim() == "auth") {
                Some("auth")
            } else {
                return None;
            }
        }
    };
    let ha1 = hash(&format!("{username}:{realm}:{password}"));
    let ha2 = hash(&format!("{method}:{uri}"));
    let nc = format!("{nc:08x}");
    let response = match qop {
        Some(qop) => hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")),
        None => hash(&format!("{ha1}:{nonce}:{ha2}")),
    };
    let quote = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    let mut answer = format!(
        "Digest username=\"{}\", realm=\"{}\", uri=\"{}\", algorithm={algorithm}, nonce=\"{}\"",
        quote(username),
        quote(realm),
        quote(uri),
        quote(nonce)
    );
    if let Some(qop) = qop {
        answer.push_str(&format!(
            ", nc={nc}, cnonce=\"{}\", qop={qop}",
            quote(cnonce)
        ));
    }
    answer.push_str(&format!(", response=\"{response}\""));
    if let Some(opaque) = get("opaque") {
        answer.push_str(&format!(", opaque=\"{}\"", quote(opaque)));
    }
    Some(answer)
}

/// `name=value` and `name="quoted, value"` pairs, comma-separated.
fn parse_parameters(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else {
            break;
        };
        let name = name.trim().trim_start_matches(',').trim().to_owned();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((index, character)) = chars.next() {
                match character {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = index + 1;
                        break;
                    }
                    other => value.push(other),
                }
            }
            (value, &quoted[end.min(quoted.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        pairs.push((name, value));
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    pairs
}

/// MD5 in lowercase hex.
fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

/// SHA-256 in lowercase hex.
fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 §3.9.1, with MD5.
    #[test]
    fn the_rfc_7616_md5_example() {
        let challenge = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let answer = digest_authorization(
            challenge,
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            1,
        )
        .unwrap();
        assert_eq!(
            answer,
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", \
             algorithm=MD5, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, \
             cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, \
             response=\"8ca523f5e9506fed4657c9700eebdbec\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        );
    }

    #[test]
    fn challenges_this_client_cannot_answer() {
        let answer = |challenge| digest_authorization(challenge, "u", "p", "GET", "/", "c", 1);
        assert!(answer("Basic realm=\"x\"").is_none());
        assert!(answer("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512-256").is_none());
        assert!(answer("Digest realm=\"x\", nonce=\"n\", qop=\"auth-int\"").is_none());
        assert!(answer("Digest nonce=\"n\"").is_none());
        // No qop: RFC 2069's form.
        assert!(answer("Digest realm=\"x\", nonce=\"n\"").is_some_and(|a| !a.contains("qop")));
    }
}
