//! [`HostRules`]: the rule table for the hosts matching one pattern (Tornado's
//! `add_handlers(host_pattern, handlers)`).

use regex::Regex;

use super::Router;
use super::error::RouteError;

/// Rules that apply to requests whose host name matches `pattern`.
#[derive(Debug, Clone)]
pub(crate) struct HostRules {
    /// `^(?:pattern)$` over the lower-cased host name without port; `None` matches any host
    /// (the rules given to `Application::new`).
    pub(crate) pattern: Option<Regex>,
    /// The rules.
    pub(crate) router: Router,
}

impl HostRules {
    /// Rules for hosts matching `pattern` (anchored like Tornado's, `$` implied).
    pub(crate) fn new(pattern: &str, router: Router) -> Result<HostRules, RouteError> {
        let body = pattern.strip_prefix('^').unwrap_or(pattern);
        let body = body.strip_suffix('$').unwrap_or(body);
        let regex = super::matcher::anchored(pattern, body)?;
        Ok(HostRules {
            pattern: Some(regex),
            router,
        })
    }

    /// Whether these rules apply to `host_name`.
    pub(crate) fn matches(&self, host_name: &str) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|pattern| pattern.is_match(host_name))
    }
}
