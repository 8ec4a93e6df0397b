//! Signed cookies in Tornado's version-2 format, byte for byte: a value signed here verifies
//! in Python Tornado with the same secret and the other way round.
//!
//! `2|1:<key version>|<len>:<timestamp>|<len>:<name>|<len>:<base64 value>|<hex HMAC-SHA256>`,
//! each field length-prefixed, the HMAC over everything before it (trailing `|` included).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::cookies::CookieOptions;
use crate::errors::HttpError;
use crate::handler::RequestContext;
use crate::settings::CookieSecret;

/// Tornado's default lifetime of a signed value when read: 31 days.
pub const DEFAULT_MAX_AGE_DAYS: f64 = 31.0;

/// Tornado's default cookie lifetime of `set_signed_cookie`: 30 days.
pub const DEFAULT_SIGNED_COOKIE_EXPIRES_DAYS: f64 = 30.0;

/// Why a value could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The application has no `cookie_secret`.
    #[error("signed cookies need the cookie_secret setting")]
    NoSecret,
    /// `key_version` names no secret in the versioned `cookie_secret`.
    #[error("no cookie secret for key version {0}")]
    UnknownKeyVersion(u32),
}

impl From<SignError> for HttpError {
    fn from(error: SignError) -> Self {
        HttpError::internal(error)
    }
}

/// Signs `value` under `name` (Tornado's `create_signed_value`, version 2) at time `now`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use cyclone_web::{CookieSecret, signed::create_signed_value};
///
/// let secret = CookieSecret::new("secret");
/// let at = UNIX_EPOCH + Duration::from_secs(1_300_000_000);
/// let signed = create_signed_value(&secret, None, "name", b"value", at).unwrap();
/// assert!(signed.starts_with("2|1:0|10:1300000000|4:name|8:dmFsdWU=|"));
/// ```
pub fn create_signed_value(
    secret: &CookieSecret,
    key_version: Option<u32>,
    name: &str,
    value: &[u8],
    now: SystemTime,
) -> Result<String, SignError> {
    let version = key_version.unwrap_or(0);
    let key = secret
        .get(version)
        .ok_or(SignError::UnknownKeyVersion(version))?;
    let timestamp = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
        .to_string();
    let mut signed = String::from("2|");
    for field in [
        version.to_string().as_str(),
        timestamp.as_str(),
        name,
        STANDARD.encode(value).as_str(),
    ] {
        signed.push_str(&format!("{}:{field}|", field.len()));
    }
    let signature = signature(key, signed.as_bytes());
    signed.push_str(&signature);
    Ok(signed)
}

/// Verifies a signed value for `name` and returns what was signed (Tornado's
/// `decode_signed_value`, version 2): `None` if it is malformed, signed with another secret
/// or for another name, or older than `max_age_days` at `now`.
pub fn decode_signed_value(
    secret: &CookieSecret,
    name: &str,
    signed: &str,
    max_age_days: f64,
    now: SystemTime,
) -> Option<Vec<u8>> {
    let rest = signed.strip_prefix("2|")?;
    let (key_version, rest) = consume_field(rest)?;
    let (timestamp, rest) = consume_field(rest)?;
    let (name_field, rest) = consume_field(rest)?;
    let (value_field, passed_signature) = consume_field(rest)?;
    let key = secret.get(key_version.parse().ok()?)?;
    let signed_part = &signed[..signed.len() - passed_signature.len()];
    let expected = signature(key, signed_part.as_bytes());
    if !constant_time_eq(passed_signature.as_bytes(), expected.as_bytes()) {
        return None;
    }
    if name_field != name {
        return None;
    }
    let timestamp: u64 = timestamp.parse().ok()?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    if (timestamp as f64) < now - max_age_days * 86_400.0 {
        return None;
    }
    STANDARD.decode(value_field).ok()
}

/// One `len:value|` field and the rest after it.
fn consume_field(text: &str) -> Option<(&str, &str)> {
    let (length, rest) = text.split_once(':')?;
    let length: usize = length.parse().ok()?;
    let value = rest.get(..length)?;
    let rest = rest.get(length..)?.strip_prefix('|')?;
    Some((value, rest))
}

/// Hex HMAC-SHA256 (Tornado's `_create_signature_v2`).
fn signature(key: &[u8], message: &[u8]) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(message);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

impl RequestContext {
    /// Sets a signed cookie (Tornado's `set_signed_cookie`); it expires in 30 days unless
    /// `options` say otherwise. Needs the `cookie_secret` setting.
    pub fn set_signed_cookie(
        &mut self,
        name: &str,
        value: &str,
        options: &CookieOptions,
    ) -> Result<(), HttpError> {
        let settings = self.settings();
        let secret = settings.cookie_secret.as_ref().ok_or(SignError::NoSecret)?;
        let signed = create_signed_value(
            secret,
            settings.key_version,
            name,
            value.as_bytes(),
            SystemTime::now(),
        )?;
        let mut options = options.clone();
        if options.expires.is_none() && options.expires_days.is_none() && options.max_age.is_none()
        {
            options.expires_days = Some(DEFAULT_SIGNED_COOKIE_EXPIRES_DAYS);
        }
        self.set_cookie(name, &signed, &options)
    }

    /// The verified value of signed cookie `name`, if present, valid, UTF-8 and younger than
    /// `max_age_days` (Tornado's default is 31: [`DEFAULT_MAX_AGE_DAYS`]). `None` without a
    /// `cookie_secret`.
    pub fn get_signed_cookie(&self, name: &str, max_age_days: f64) -> Option<String> {
        let secret = self.settings().cookie_secret.as_ref()?;
        let cookie = self.get_cookie(name)?;
        let value = decode_signed_value(secret, name, cookie, max_age_days, SystemTime::now())?;
        String::from_utf8(value).ok()
    }
}
