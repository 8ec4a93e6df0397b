//! Signed cookies in Tornado's version-2 format, byte for byte: a value signed here verifies
//! in Python Tornado with the same secret and the other way round.
//!
//! `2|1:<key version>|<len>:<timestamp>|<len>:<name>|<len>:<base64 value>|<hex HMAC-SHA256>`,
//! each field length-prefixed, the HMAC over everything before it (trailing `|` included).
//!
//! Tornado's older version 1 (`<base64 value>|<timestamp>|<hex HMAC-SHA1 of name, value and
//! timestamp>`) is read when asked for ([`SignedValueVersion::V1`] as the minimum version),
//! so cookies set by an old Tornado deployment keep working; it is never written.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;

use crate::cookies::CookieOptions;
use crate::errors::HttpError;
use crate::handler::RequestContext;
use crate::settings::{CookieSecret, Settings};

/// Tornado's default lifetime of a signed value when read: 31 days.
pub const DEFAULT_MAX_AGE_DAYS: f64 = 31.0;

/// Tornado's default cookie lifetime of `set_signed_cookie`: 30 days.
pub const DEFAULT_SIGNED_COOKIE_EXPIRES_DAYS: f64 = 30.0;

/// The oldest signed-value format a read accepts (Tornado's `min_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum SignedValueVersion {
    /// Also accept Tornado's version 1 (HMAC-SHA1, no key versions); Tornado's default.
    V1,
    /// Only version 2 (HMAC-SHA256, key versions). cyclone's default: nothing cyclone signs
    /// is version 1, and version 1 binds the name and value without delimiters.
    #[default]
    V2,
}

/// Tornado's sanity bound on a version-1 timestamp: at most 31 days in the future.
const V1_MAX_FUTURE_SECS: f64 = 31.0 * 86_400.0;

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

/// As [`decode_signed_value`], accepting formats down to `min_version` (Tornado's
/// `decode_signed_value(..., min_version=)`). A version-1 value verifies only with a single
/// (unversioned) secret, as in Tornado.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use cyclone_web::CookieSecret;
/// use cyclone_web::signed::{SignedValueVersion, decode_signed_value_with};
///
/// // Made by Tornado: create_signed_value("secret", "name", "value", version=1,
/// //                                      clock=lambda: 1300000000)
/// let v1 = "dmFsdWU=|1300000000|9e7727150808365bebff0a6404df2acfefd24d51";
/// let secret = CookieSecret::new("secret");
/// let now = UNIX_EPOCH + Duration::from_secs(1_300_000_060);
/// let value = decode_signed_value_with(&secret, "name", v1, 31.0, now, SignedValueVersion::V1);
/// assert_eq!(value.as_deref(), Some(&b"value"[..]));
/// let strict = decode_signed_value_with(&secret, "name", v1, 31.0, now, SignedValueVersion::V2);
/// assert_eq!(strict, None);
/// ```
pub fn decode_signed_value_with(
    secret: &CookieSecret,
    name: &str,
    signed: &str,
    max_age_days: f64,
    now: SystemTime,
    min_version: SignedValueVersion,
) -> Option<Vec<u8>> {
    match format_version(signed) {
        2 => decode_signed_value(secret, name, signed, max_age_days, now),
        1 if min_version == SignedValueVersion::V1 => {
            decode_signed_value_v1(secret, name, signed, max_age_days, now)
        }
        _ => None,
    }
}

/// Tornado's `_get_version`: a leading `<n>|` names the version (n up to 999); anything else
/// is version 1, which starts with base64 and has no version field.
fn format_version(signed: &str) -> u32 {
    let Some((digits, _)) = signed.split_once('|') else {
        return 1;
    };
    let well_formed = !digits.is_empty()
        && !digits.starts_with('0')
        && digits.bytes().all(|byte| byte.is_ascii_digit())
        && !signed.contains('\n');
    match digits.parse::<u32>() {
        Ok(version) if well_formed && version <= 999 => version,
        _ => 1,
    }
}

/// Tornado's `_decode_signed_value_v1`.
fn decode_signed_value_v1(
    secret: &CookieSecret,
    name: &str,
    signed: &str,
    max_age_days: f64,
    now: SystemTime,
) -> Option<Vec<u8>> {
    let CookieSecret::Single(key) = secret else {
        return None;
    };
    let mut parts = signed.split('|');
    let (value, timestamp, passed_signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let expected = signature_v1(key, &[name, value, timestamp]);
    if !constant_time_eq(passed_signature.as_bytes(), expected.as_bytes()) {
        return None;
    }
    if timestamp.is_empty() || !timestamp.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let timestamp: f64 = timestamp.parse::<u64>().ok()? as f64;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    if timestamp < now - max_age_days * 86_400.0 || timestamp > now + V1_MAX_FUTURE_SECS {
        return None;
    }
    // The signature has no delimiters: digits moved from the value into the timestamp
    // would keep it valid, so Tornado refuses timestamps with a leading zero.
    if signed.split('|').nth(1)?.starts_with('0') {
        return None;
    }
    STANDARD.decode(value).ok()
}

/// Hex HMAC-SHA1 over the parts in a row (Tornado's `_create_signature_v1`).
fn signature_v1(key: &[u8], parts: &[&str]) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return String::new();
    };
    for part in parts {
        mac.update(part.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
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
    hex::encode(mac.finalize().into_bytes())
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// The value signed cookie `name` carries, if `cookie` verifies with the settings'
/// `cookie_secret`, is younger than `max_age_days`, and is UTF-8.
pub(crate) fn verified_cookie(
    settings: &Settings,
    name: &str,
    cookie: &str,
    max_age_days: f64,
    min_version: SignedValueVersion,
) -> Option<String> {
    let secret = settings.cookie_secret.as_ref()?;
    let value = decode_signed_value_with(
        secret,
        name,
        cookie,
        max_age_days,
        SystemTime::now(),
        min_version,
    )?;
    String::from_utf8(value).ok()
}

impl RequestContext {
    /// Sets a signed cookie that expires in 30 days (Tornado's `set_signed_cookie(name,
    /// value)`). Needs the `cookie_secret` setting (else 500).
    pub fn set_signed_cookie(&mut self, name: &str, value: &str) -> Result<(), HttpError> {
        self.set_signed_cookie_with(name, value, &CookieOptions::default())
    }

    /// [`set_signed_cookie`](Self::set_signed_cookie) with `options`; it expires in 30 days
    /// unless they say otherwise.
    pub fn set_signed_cookie_with(
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
        self.set_cookie_with(name, &signed, &options)
    }

    /// The verified value of signed cookie `name`, if present, valid, UTF-8 and younger than
    /// 31 days ([`DEFAULT_MAX_AGE_DAYS`], Tornado's default). `None` without a
    /// `cookie_secret`.
    ///
    /// Only version-2 values are accepted; see
    /// [`get_signed_cookie_with`](Self::get_signed_cookie_with) for another age or Tornado's
    /// version 1.
    pub fn get_signed_cookie(&self, name: &str) -> Option<String> {
        self.get_signed_cookie_with(name, DEFAULT_MAX_AGE_DAYS, SignedValueVersion::V2)
    }

    /// As [`get_signed_cookie`](Self::get_signed_cookie), with `max_age_days` and accepting
    /// formats down to
    /// `min_version` (Tornado's `get_signed_cookie(name, max_age_days=, min_version=)`): with
    /// [`SignedValueVersion::V1`], cookies an older Tornado set in version 1 verify too (with a
    /// single, unversioned `cookie_secret`).
    pub fn get_signed_cookie_with(
        &self,
        name: &str,
        max_age_days: f64,
        min_version: SignedValueVersion,
    ) -> Option<String> {
        verified_cookie(
            self.settings(),
            name,
            self.get_cookie(name)?,
            max_age_days,
            min_version,
        )
    }
}
