//! Cross-site request forgery protection, as Tornado's: a random token in a cookie, sent back
//! masked (a fresh random mask per page, so the token never appears twice in a response,
//! defeating BREACH) in the `_xsrf` form field or the `X-XSRFToken` / `X-CSRFToken` header.
//! With the `xsrf_cookies` setting, every POST/PUT/PATCH/DELETE is checked (403 on mismatch).

use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderName;

use crate::errors::{HttpError, html_escape};
use crate::handler::RequestContext;

/// The format of the XSRF token a page and a new cookie carry (Tornado's
/// `xsrf_cookie_version` setting). Both formats are always read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XsrfCookieVersion {
    /// The token in plain hex, as Tornado before 3.2.2 wrote it: the same text on every page,
    /// so a compressed page that also reflects attacker input can leak it (BREACH). Only for
    /// sharing cookies with old code.
    V1,
    /// `2|mask|masked token|timestamp`, masked afresh for every page. Tornado's default.
    #[default]
    V2,
}

/// Bytes of randomness in a token.
const TOKEN_BYTES: usize = 16;

/// A token as Tornado's `_decode_xsrf_token` returns it.
struct RawToken {
    /// The secret bytes.
    token: Vec<u8>,
    /// When the token was made.
    timestamp: u64,
}

impl RequestContext {
    /// This request's XSRF token (Tornado's `xsrf_token`), masked afresh unless the
    /// `xsrf_cookie_version` setting asks for version 1; sets the XSRF cookie if the request
    /// had none.
    pub fn xsrf_token(&mut self) -> Result<String, HttpError> {
        if let Some(token) = self.rare().and_then(|rare| rare.xsrf_token.as_ref()) {
            return Ok(token.clone());
        }
        let cookie_name = self.settings().xsrf_cookie_name_or_default().to_owned();
        let existing = self.get_cookie(&cookie_name).and_then(decode_token);
        let had_cookie = existing.is_some();
        let raw = match existing {
            Some(raw) => raw,
            None => RawToken {
                token: random_bytes(TOKEN_BYTES)?,
                timestamp: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |since| since.as_secs()),
            },
        };
        let mask = match self.settings().xsrf_cookie_version {
            XsrfCookieVersion::V1 => None,
            XsrfCookieVersion::V2 => Some(random_bytes(4)?),
        };
        let token = encode_token(&raw, mask.as_deref());
        if !had_cookie {
            let mut options = self.settings().xsrf_cookie_kwargs.clone();
            if self.current_user().is_some()
                && options.expires_days.is_none()
                && options.expires.is_none()
            {
                options.expires_days = Some(30.0);
            }
            self.set_cookie_with(&cookie_name, &token, &options)?;
        }
        self.rare_mut().xsrf_token = Some(token.clone());
        Ok(token)
    }

    /// `<input type="hidden" name="_xsrf" value="..."/>` for a form (Tornado's
    /// `xsrf_form_html`); sets the XSRF cookie if the request had none (hence `&mut`). If no
    /// token can be made (the system's random source failed, or a misconfigured
    /// `xsrf_cookie_name`), the error is logged and the field is left out: the form's post
    /// then fails the XSRF check with 403, visibly.
    pub fn xsrf_form_html(&mut self) -> String {
        match self.xsrf_token() {
            Ok(token) => format!(
                "<input type=\"hidden\" name=\"_xsrf\" value=\"{}\"/>",
                html_escape(&token)
            ),
            Err(error) => {
                tracing::error!(%error, "cannot make an XSRF token");
                String::new()
            }
        }
    }

    /// Checks the request's `_xsrf` argument or `X-XSRFToken` / `X-CSRFToken` header against
    /// the XSRF cookie: 403 when missing or different (Tornado's `check_xsrf_cookie`). Called
    /// for unsafe methods when `xsrf_cookies` is on.
    pub fn check_xsrf_cookie(&self) -> Result<(), HttpError> {
        let argument = self.get_argument_or("_xsrf", "")?;
        let header = |name: &'static str| {
            self.request()
                .headers()
                .get(HeaderName::from_static(name))
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let sent = Some(argument)
            .filter(|token| !token.is_empty())
            .or_else(|| header("x-xsrftoken"))
            .or_else(|| header("x-csrftoken"))
            .ok_or_else(|| {
                HttpError::forbidden().log_message("'_xsrf' argument missing from POST")
            })?;
        let sent = decode_token(&sent).ok_or_else(|| {
            HttpError::forbidden().log_message("'_xsrf' argument has invalid format")
        })?;
        let cookie_name = self.settings().xsrf_cookie_name_or_default();
        let expected = self
            .get_cookie(cookie_name)
            .and_then(decode_token)
            .ok_or_else(|| HttpError::forbidden().log_message("'_xsrf' cookie missing"))?;
        if !constant_time_eq(&sent.token, &expected.token) {
            return Err(
                HttpError::forbidden().log_message("XSRF cookie does not match POST argument")
            );
        }
        Ok(())
    }
}

/// The text of `raw` as a page and a new cookie carry it (Tornado's `xsrf_token`): version 2
/// (`2|mask|masked|timestamp`) masked with `mask`, or, without one, version 1 (plain hex).
fn encode_token(raw: &RawToken, mask: Option<&[u8]>) -> String {
    match mask {
        None => hex::encode(&raw.token),
        Some(mask) => format!(
            "2|{}|{}|{}",
            hex::encode(mask),
            hex::encode(apply_mask(mask, &raw.token)),
            raw.timestamp
        ),
    }
}

/// `decode_token` for the fuzz target `xsrf_token` (through `cyclone_web::fuzzing`): the token's
/// secret bytes and timestamp (0 for version 1), or `None` when `check_xsrf_cookie` would
/// refuse `text` as the `_xsrf` argument or header, or ignore it as the cookie.
pub fn decode_xsrf_token(text: &str) -> Option<(Vec<u8>, u64)> {
    decode_token(text).map(|raw| (raw.token, raw.timestamp))
}

/// `encode_token` for the fuzz target `xsrf_token` (through `cyclone_web::fuzzing`): `token`
/// and `timestamp` as `xsrf_token` writes them, version 2 masked with `mask`, or version 1
/// without one.
pub fn encode_xsrf_token(token: &[u8], timestamp: u64, mask: Option<[u8; 4]>) -> String {
    let raw = RawToken {
        token: token.to_vec(),
        timestamp,
    };
    encode_token(&raw, mask.as_ref().map(<[u8; 4]>::as_slice))
}

/// Whether `check_xsrf_cookie` accepts `sent` (the `_xsrf` argument or header) against the
/// XSRF cookie `cookie`, for the fuzz target `xsrf_token` (through `cyclone_web::fuzzing`): both
/// decode, and their secret bytes are equal (compared in constant time).
pub fn xsrf_tokens_match(sent: &str, cookie: &str) -> bool {
    match (decode_token(sent), decode_token(cookie)) {
        (Some(sent), Some(expected)) => constant_time_eq(&sent.token, &expected.token),
        _ => false,
    }
}

/// Tornado's `_decode_xsrf_token`: version 2 (`2|mask|masked|timestamp`) or version 1 (the
/// token in hex). An empty token is refused, as Tornado's `check_xsrf_cookie` refuses it.
fn decode_token(text: &str) -> Option<RawToken> {
    let raw = if let Some(rest) = text.strip_prefix("2|") {
        let mut fields = rest.split('|');
        let mask = unhex(fields.next()?)?;
        let masked = unhex(fields.next()?)?;
        let timestamp = fields.next()?.parse().ok()?;
        if fields.next().is_some() || mask.len() != 4 {
            return None;
        }
        RawToken {
            token: apply_mask(&mask, &masked),
            timestamp,
        }
    } else {
        RawToken {
            token: unhex(text)?,
            timestamp: 0,
        }
    };
    // `2|mask||timestamp` holds no secret: sent with a cookie of the same form, it would match.
    (!raw.token.is_empty()).then_some(raw)
}

/// XOR with a repeating 4-byte mask (Tornado's `_websocket_mask`).
fn apply_mask(mask: &[u8], data: &[u8]) -> Vec<u8> {
    data.iter()
        .enumerate()
        .map(|(index, byte)| byte ^ mask[index % mask.len()])
        .collect()
}

fn random_bytes(count: usize) -> Result<Vec<u8>, HttpError> {
    let mut bytes = vec![0; count];
    getrandom::getrandom(&mut bytes).map_err(HttpError::internal)?;
    Ok(bytes)
}

/// `binascii.a2b_hex`: pairs of hex digits, either case, and nothing else (no sign: `+f` is
/// not a byte, as `u8::from_str_radix` would have it).
fn unhex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> Option<(Vec<u8>, u64)> {
        decode_xsrf_token(text)
    }

    #[test]
    fn both_versions_decode_and_re_encode() {
        let secret = [0x0f, 0x1e, 0x2d, 0x3c, 0x4b];
        let v2 = encode_xsrf_token(&secret, 1_700_000_000, Some([0x12, 0x34, 0x56, 0x78]));
        assert_eq!(v2, "2|12345678|1d2a7b4459|1700000000");
        assert_eq!(decoded(&v2), Some((secret.to_vec(), 1_700_000_000)));
        assert_eq!(decoded(&v2.to_uppercase()), decoded(&v2));
        assert_eq!(encode_xsrf_token(&secret, 7, None), "0f1e2d3c4b");
        assert_eq!(decoded("0F1E2D3C4B"), Some((secret.to_vec(), 0)));
        assert!(xsrf_tokens_match(&v2, "0f1e2d3c4b"));
        assert!(!xsrf_tokens_match(&v2, "0f1e2d3c4a"));
        assert!(!xsrf_tokens_match(&v2, "0f1e2d3c4b00"));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for text in [
            "",
            "2|",
            "2|12345678|1d2a|",
            "2|1234567|1d2a|1",
            "2|123456|1d2a|1",
            "2|1234567890|1d2a|1",
            "2|zz345678|1d2a|1",
            "2|12345678|1d2a|1|",
            "2|12345678|1d2a|-1",
            "2|12345678|1d2a|99999999999999999999999",
            "3|12345678|1d2a|1",
            "02|12345678|1d2a|1",
            "abc",
            "0g",
            "éé",
        ] {
            assert_eq!(decoded(text), None, "{text:?}");
        }
    }

    /// Found by the fuzz target `xsrf_token`: `u8::from_str_radix` takes a leading `+`, so
    /// `+f` read as the byte 0x0f, where Tornado (`binascii.a2b_hex`) refuses it.
    #[test]
    fn a_sign_is_not_a_hex_digit() {
        assert_eq!(decoded("+4"), None);
        assert_eq!(decoded("+f+f"), None);
        assert_eq!(decoded("2|+1+2+3+4|0011|1"), None);
        assert_eq!(decoded("2|12345678|+0+0|1"), None);
        assert!(!xsrf_tokens_match("+f+f", "0f0f"));
    }

    /// Found by the fuzz target `xsrf_token`: a version-2 token with nothing masked
    /// (`2|mask||timestamp`) decoded to an empty secret, and an empty secret in both the
    /// argument and the cookie matched; Tornado refuses an empty token.
    #[test]
    fn an_empty_token_is_refused() {
        assert_eq!(decoded("2|12345678||87811"), None);
        assert!(!xsrf_tokens_match("2|12345678||1", "2|00000000||1"));
        assert!(!xsrf_tokens_match("2|00000000||1", "2|00000000||1"));
    }
}
