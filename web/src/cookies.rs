//! [`CookieOptions`]: the attributes of `set_cookie` (Tornado's keyword arguments), and the
//! `Set-Cookie` values built from them.

use std::time::{Duration, SystemTime};

use cyclone_protocol::httputil::{CookieError, SameSite, SetCookie};

/// Attributes for [`set_cookie`](crate::RequestContext::set_cookie), as Tornado's keyword
/// arguments (`domain`, `expires`, `path`, `expires_days`, `max_age`, `secure`, `httponly`,
/// `samesite`, `partitioned`). Default: a host-only session cookie for path `/`.
///
/// ```
/// use cyclone_web::CookieOptions;
/// use cyclone_protocol::httputil::SameSite;
///
/// let options = CookieOptions::default().http_only(true).secure(true).same_site(SameSite::Strict);
/// # drop(options);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CookieOptions {
    /// `Domain`. Default none (host-only).
    pub domain: Option<String>,
    /// `Path`. Default `/`, as Tornado.
    pub path: Option<String>,
    /// `Expires` at this time. Default none (a session cookie).
    pub expires: Option<SystemTime>,
    /// `Expires` this many days from now (Tornado's `expires_days`). Default none.
    pub expires_days: Option<f64>,
    /// `Max-Age`. Default none.
    pub max_age: Option<Duration>,
    /// `Secure`. Default off.
    pub secure: bool,
    /// `HttpOnly`. Default off.
    pub http_only: bool,
    /// `SameSite`. Default none (browsers apply `Lax`).
    pub same_site: Option<SameSite>,
    /// `Partitioned` (needs `secure`). Default off.
    pub partitioned: bool,
}

impl CookieOptions {
    /// Sets `Domain`.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sets `Path`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets `Expires`.
    pub fn expires(mut self, at: SystemTime) -> Self {
        self.expires = Some(at);
        self
    }

    /// Sets `Expires` to `days` from now.
    pub fn expires_days(mut self, days: f64) -> Self {
        self.expires_days = Some(days);
        self
    }

    /// Sets `Max-Age`.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// Sets `Secure`.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Sets `HttpOnly`.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// Sets `SameSite`.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        self
    }

    /// Sets `Partitioned`.
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = partitioned;
        self
    }

    /// The `Set-Cookie` value for `name=value` with these attributes.
    pub fn header_value(&self, name: &str, value: &str) -> Result<String, CookieError> {
        let mut cookie = SetCookie::new(name, value).path(self.path.as_deref().unwrap_or("/"));
        if let Some(domain) = &self.domain {
            cookie = cookie.domain(domain.clone());
        }
        let expires = self.expires.or_else(|| {
            self.expires_days
                .filter(|days| days.is_finite())
                .and_then(|days| {
                    let seconds = Duration::from_secs_f64(days.abs() * 86_400.0);
                    if days >= 0.0 {
                        SystemTime::now().checked_add(seconds)
                    } else {
                        SystemTime::now().checked_sub(seconds)
                    }
                })
        });
        if let Some(expires) = expires {
            cookie = cookie.expires(expires);
        }
        if let Some(max_age) = self.max_age {
            cookie = cookie.max_age(max_age);
        }
        if let Some(same_site) = self.same_site {
            cookie = cookie.same_site(same_site);
        }
        cookie
            .secure(self.secure)
            .http_only(self.http_only)
            .partitioned(self.partitioned)
            .to_header_value()
    }
}

impl crate::handler::RequestContext {
    /// The value of the request's cookie `name` (Tornado's `get_cookie`).
    pub fn get_cookie(&self, name: &str) -> Option<&str> {
        self.request().cookie(name)
    }

    /// Sets cookie `name` to `value` for the whole site (`Path=/`), a session cookie
    /// (Tornado's `set_cookie(name, value)`). An invalid name or value is an error (500).
    pub fn set_cookie(&mut self, name: &str, value: &str) -> Result<(), crate::HttpError> {
        self.set_cookie_with(name, value, &CookieOptions::default())
    }

    /// Sets cookie `name` to `value` with `options` (`expires_days`, `domain`, `secure`,
    /// `http_only`, `same_site`...: Tornado's `set_cookie` keyword arguments). An invalid name,
    /// value or attribute is an error (500).
    pub fn set_cookie_with(
        &mut self,
        name: &str,
        value: &str,
        options: &CookieOptions,
    ) -> Result<(), crate::HttpError> {
        let header = options.header_value(name, value)?;
        self.add_header("set-cookie", &header)
    }

    /// Deletes cookie `name` (path `/`): sets it empty, expired a year ago, with `Max-Age=0`
    /// (Tornado's `clear_cookie`).
    pub fn clear_cookie(&mut self, name: &str) -> Result<(), crate::HttpError> {
        self.clear_cookie_with(name, &CookieOptions::default())
    }

    /// [`clear_cookie`](Self::clear_cookie) for the path and domain in `options`.
    pub fn clear_cookie_with(
        &mut self,
        name: &str,
        options: &CookieOptions,
    ) -> Result<(), crate::HttpError> {
        let mut expired = options.clone();
        expired.expires = Some(SystemTime::now() - Duration::from_secs(365 * 86_400));
        expired.expires_days = None;
        expired.max_age = Some(Duration::ZERO);
        self.set_cookie_with(name, "", &expired)
    }

    /// Deletes every cookie the request sent (Tornado's `clear_all_cookies`).
    pub fn clear_all_cookies(&mut self) -> Result<(), crate::HttpError> {
        self.clear_all_cookies_with(&CookieOptions::default())
    }

    /// [`clear_all_cookies`](Self::clear_all_cookies) for the path and domain in `options`.
    pub fn clear_all_cookies_with(
        &mut self,
        options: &CookieOptions,
    ) -> Result<(), crate::HttpError> {
        let names: Vec<String> = self
            .request()
            .cookies()
            .iter()
            .map(|(name, _)| name.clone())
            .collect();
        for name in names {
            self.clear_cookie_with(&name, options)?;
        }
        Ok(())
    }
}
