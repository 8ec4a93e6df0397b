//! XSRF tokens (Tornado's `_decode_xsrf_token`, as `check_xsrf_cookie` reads the `_xsrf`
//! argument, the `X-XSRFToken` / `X-CSRFToken` header and the `_xsrf` cookie): version 2
//! (`2|mask|masked|timestamp`) and version 1 (hex). cyclone reads exactly what Tornado would
//! accept, narrowed to the forms Tornado writes (see [`tornado`]), with the same secret bytes
//! and timestamp; what it reads re-encodes to an equivalent token; and two tokens match only
//! when their secret bytes are the same.

use cyclone_web::fuzzing::{decode_xsrf_token, encode_xsrf_token, xsrf_tokens_match};

use super::input::Input;

/// Reads the input as a mask (4 bytes), a token sent with a form or header, a NUL, and the
/// token in the XSRF cookie.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let mut mask = [0; 4];
    let taken = input.take(4);
    mask[..taken.len()].copy_from_slice(taken);
    let sent = input.text_until(0);
    let cookie = String::from_utf8_lossy(input.rest()).into_owned();

    for text in [&sent, &cookie] {
        check_one(text, mask);
    }

    let expected = match (decode_xsrf_token(&sent), decode_xsrf_token(&cookie)) {
        (Some((sent_token, _)), Some((cookie_token, _))) => sent_token == cookie_token,
        _ => false,
    };
    assert_eq!(
        xsrf_tokens_match(&sent, &cookie),
        expected,
        "{sent:?} against the cookie {cookie:?}"
    );
}

/// One token: decoded as the model says, then re-encoded.
fn check_one(text: &str, mask: [u8; 4]) {
    let decoded = decode_xsrf_token(text);
    assert_eq!(decoded, tornado(text), "{text:?} decoded unlike Tornado");
    let Some((token, timestamp)) = decoded else {
        return;
    };

    // Masked afresh (a new page), the token decodes to itself and still matches the text.
    let masked = encode_xsrf_token(&token, timestamp, Some(mask));
    assert_eq!(
        decode_xsrf_token(&masked),
        Some((token.clone(), timestamp)),
        "{text:?} re-encoded as {masked:?}"
    );
    assert!(xsrf_tokens_match(&masked, text), "{masked:?} vs {text:?}");
    assert!(xsrf_tokens_match(text, &masked), "{text:?} vs {masked:?}");

    // Version 1 (`xsrf_cookie_version` 1) carries no timestamp.
    let plain = encode_xsrf_token(&token, timestamp, None);
    assert_eq!(decode_xsrf_token(&plain), Some((token.clone(), 0)));
    assert!(xsrf_tokens_match(&plain, text), "{plain:?} vs {text:?}");

    // Version 1 is the secret in lowercase hex; re-encoded with its own mask, a version-2 token
    // is the text it came from, but for the case of its hex digits and the spelling of its
    // timestamp.
    assert_eq!(plain, hex(&token));
    match text.strip_prefix("2|") {
        Some(rest) => {
            let fields: Vec<&str> = rest.split('|').collect();
            let own_mask: [u8; 4] = unhex(fields[0]).unwrap().try_into().unwrap();
            assert_eq!(
                encode_xsrf_token(&token, timestamp, Some(own_mask)),
                format!(
                    "2|{}|{}|{timestamp}",
                    fields[0].to_ascii_lowercase(),
                    fields[1].to_ascii_lowercase()
                ),
                "{text:?} does not re-encode to itself"
            );
        }
        None => assert_eq!(plain, text.to_ascii_lowercase(), "{text:?} re-encoded"),
    }

    // A token whose secret differs by one bit, or by one byte more or less, never matches.
    for other in [
        {
            let mut other = token.clone();
            let at = usize::from(mask[0]) % other.len();
            other[at] ^= 1 << (mask[1] % 8);
            other
        },
        [&token[..], &[mask[2]]].concat(),
        token[..token.len() - 1].to_vec(),
    ] {
        let forged = encode_xsrf_token(&other, timestamp, Some(mask));
        assert!(
            !xsrf_tokens_match(&forged, text),
            "{forged:?} matched {text:?}"
        );
    }
}

/// Lowercase hex, as `binascii.b2a_hex` writes it.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What Tornado's `check_xsrf_cookie` takes from `text` (`_decode_xsrf_token`, then its
/// refusal of an empty token), narrowed to the forms Tornado writes, which is all cyclone
/// reads: Tornado also takes text that is not hex as a version-1 token of its own bytes, and
/// Python's `int` also reads a timestamp with spaces, a `-`, `_` or non-ASCII digits, or past
/// 64 bits. Written from Tornado's `web.py`, independently of cyclone's decoder.
fn tornado(text: &str) -> Option<(Vec<u8>, u64)> {
    // `_signed_value_version_re` (`^([1-9][0-9]*)\|(.*)$`): a version without leading zeros
    // and a pipe, then no line break but perhaps a last one.
    let versioned = text.split_once('|').is_some_and(|(version, rest)| {
        let rest = rest.strip_suffix('\n').unwrap_or(rest);
        version.starts_with(|c: char| matches!(c, '1'..='9'))
            && version.bytes().all(|byte| byte.is_ascii_digit())
            && !rest.contains('\n')
    });
    let (token, timestamp) = if versioned {
        // Any version but 2 is refused ("Unknown xsrf cookie version").
        let ["2", mask, masked, timestamp] = text.split('|').collect::<Vec<_>>()[..] else {
            return None;
        };
        let mask = unhex(mask)?;
        // `_websocket_mask` refuses any mask but 4 bytes.
        if mask.len() != 4 {
            return None;
        }
        let token = unhex(masked)?
            .iter()
            .zip(mask.iter().cycle())
            .map(|(byte, mask)| byte ^ mask)
            .collect();
        (token, timestamp_of(timestamp)?)
    } else {
        // `binascii.a2b_hex`, or (narrowed) nothing.
        (unhex(text)?, 0)
    };
    // `if not token: raise HTTPError(403, ...)`.
    (!token.is_empty()).then_some((token, timestamp))
}

/// `binascii.a2b_hex`: pairs of hex digits, either case; nothing else.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |byte: u8| char::from(byte).to_digit(16).map(|value| value as u8);
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

/// Python's `int`, narrowed to a `+` or nothing, ASCII digits, and 64 bits.
fn timestamp_of(text: &str) -> Option<u64> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.bytes().try_fold(0u64, |value, byte| {
        value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))
    })
}
