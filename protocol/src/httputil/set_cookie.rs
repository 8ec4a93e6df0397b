//! [`SetCookie`]: a `Set-Cookie` header value with every attribute browsers honour.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::CookieError;
use super::format_timestamp;

/// The `SameSite` attribute: when a browser sends the cookie on cross-site requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// Only on same-site requests.
    Strict,
    /// On same-site requests and top-level cross-site navigations (the browsers' default).
    Lax,
    /// On every request; browsers require `Secure` with it.
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// A builder for one `Set-Cookie` header value (RFC 6265, with `SameSite` and
/// `Partitioned`).
///
/// Nothing is quoted or escaped: a value must already be made of RFC 6265 `cookie-octet`s
/// (printable ASCII except space, `"`, `,`, `;` and `\`), optionally wrapped in one pair of
/// double quotes, which is then sent as is. Encode anything else (base64, percent-encoding)
/// before; Tornado's signed cookies already are. Checks run in
/// [`to_header_value`](SetCookie::to_header_value), so a bad cookie is an error there rather
/// than one a browser silently drops.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use cyclone_protocol::httputil::{SameSite, SetCookie};
///
/// let header = SetCookie::new("sid", "abc123")
///     .path("/")
///     .expires(UNIX_EPOCH + Duration::from_secs(784_111_777))
///     .max_age(Duration::from_secs(3600))
///     .secure(true)
///     .http_only(true)
///     .same_site(SameSite::Lax)
///     .to_header_value()?;
/// assert_eq!(
///     header,
///     "sid=abc123; Path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=3600; Secure; \
///      HttpOnly; SameSite=Lax"
/// );
/// # Ok::<(), cyclone_protocol::httputil::CookieError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// The cookie's name: an RFC 9110 token.
    name: String,
    /// The cookie's value, sent verbatim.
    value: String,
    /// `Domain`: lets subdomains receive the cookie; without it only the exact host does.
    domain: Option<String>,
    /// `Path`: the path prefix the cookie is sent for; without it, the request's directory.
    path: Option<String>,
    /// `Expires`: when the browser forgets the cookie; without it (and `Max-Age`), at the end
    /// of the session.
    expires: Option<SystemTime>,
    /// `Max-Age`: a lifetime that wins over `Expires` where both are understood.
    max_age: Option<Duration>,
    /// `Secure`: only sent over HTTPS.
    secure: bool,
    /// `HttpOnly`: hidden from page scripts.
    http_only: bool,
    /// `SameSite`: cross-site sending policy; without it, browsers apply `Lax`.
    same_site: Option<SameSite>,
    /// `Partitioned` (CHIPS): kept per top-level site in third-party contexts.
    partitioned: bool,
}

impl SetCookie {
    /// A session cookie with no attributes.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        SetCookie {
            name: name.into(),
            value: value.into(),
            domain: None,
            path: None,
            expires: None,
            max_age: None,
            secure: false,
            http_only: false,
            same_site: None,
            partitioned: false,
        }
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie's value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Sets `Domain`. Default: none (host-only cookie).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sets `Path`. Default: none (the browser uses the request path's directory); Tornado's
    /// `set_cookie` passes `/`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets `Expires`, written as an IMF-fixdate (whole seconds; times before 1970 are written
    /// as 1970, which still expires the cookie). Default: none.
    pub fn expires(mut self, expires: SystemTime) -> Self {
        self.expires = Some(expires);
        self
    }

    /// Sets `Max-Age` in whole seconds (`Duration::ZERO` deletes the cookie). Default: none.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Sets `Secure`. Default: false.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Sets `HttpOnly`. Default: false.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// Sets `SameSite`. Default: none (browsers apply `Lax`).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        self
    }

    /// Sets `Partitioned`. Default: false.
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = partitioned;
        self
    }

    /// The header value: `name=value` then, when set, `Domain`, `Path`, `Expires`, `Max-Age`,
    /// `Secure`, `HttpOnly`, `SameSite`, `Partitioned`, in that order.
    ///
    /// # Errors
    ///
    /// - [`CookieError::InvalidName`], [`CookieError::InvalidValue`],
    ///   [`CookieError::InvalidAttribute`]: a byte that would break the header (see the type's
    ///   docs).
    /// - [`CookieError::SecureRequired`]: `SameSite=None`, `Partitioned`, or a `__Secure-` /
    ///   `__Host-` name without `Secure`.
    /// - [`CookieError::HostPrefixViolated`]: a `__Host-` name with a `Domain` or a `Path`
    ///   other than `/`.
    pub fn to_header_value(&self) -> Result<String, CookieError> {
        self.validate()?;
        let mut out = format!("{}={}", self.name, self.value);
        if let Some(domain) = &self.domain {
            let _ = write!(out, "; Domain={domain}");
        }
        if let Some(path) = &self.path {
            let _ = write!(out, "; Path={path}");
        }
        if let Some(expires) = self.expires {
            let _ = write!(out, "; Expires={}", format_timestamp(expires));
        }
        if let Some(max_age) = self.max_age {
            let _ = write!(out, "; Max-Age={}", max_age.as_secs());
        }
        if self.secure {
            out.push_str("; Secure");
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if let Some(same_site) = self.same_site {
            let _ = write!(out, "; SameSite={}", same_site.as_str());
        }
        if self.partitioned {
            out.push_str("; Partitioned");
        }
        Ok(out)
    }

    fn validate(&self) -> Result<(), CookieError> {
        if self.name.is_empty() || !self.name.bytes().all(is_token_byte) {
            return Err(CookieError::InvalidName(self.name.clone()));
        }
        let unquoted = match self.value.as_bytes() {
            [b'"', inner @ .., b'"'] => inner,
            other => other,
        };
        if !unquoted.iter().copied().all(is_cookie_octet) {
            return Err(CookieError::InvalidValue(self.value.clone()));
        }
        for (attribute, value) in [("Domain", &self.domain), ("Path", &self.path)] {
            if let Some(value) = value
                && !value.bytes().all(is_attribute_byte)
            {
                return Err(CookieError::InvalidAttribute {
                    attribute,
                    value: value.clone(),
                });
            }
        }
        let secure_prefix = has_prefix(&self.name, "__Secure-");
        let host_prefix = has_prefix(&self.name, "__Host-");
        let needs_secure = self.same_site == Some(SameSite::None)
            || self.partitioned
            || secure_prefix
            || host_prefix;
        if needs_secure && !self.secure {
            return Err(CookieError::SecureRequired(self.name.clone()));
        }
        if host_prefix && (self.domain.is_some() || self.path.as_deref() != Some("/")) {
            return Err(CookieError::HostPrefixViolated(self.name.clone()));
        }
        Ok(())
    }
}

/// Browsers match cookie-name prefixes without regard to case.
fn has_prefix(name: &str, prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// RFC 9110 `tchar`.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// RFC 6265 `cookie-octet`.
fn is_cookie_octet(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// RFC 6265 `av-octet` (any CHAR but controls and `;`), narrowed to ASCII so that the value
/// is a valid `http::HeaderValue`.
fn is_attribute_byte(byte: u8) -> bool {
    (0x20..0x7F).contains(&byte) && byte != b';'
}
