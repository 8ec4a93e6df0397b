//! [`AppContext`]: what every route target and handler of one application shares: its
//! [`Settings`] and its named routes (for `reverse_url`).
//!
//! It sits below routing and targets (it knows neither): the [`Application`](crate::Application)
//! builds it from its rules, and hands it to each target with every request.

use std::collections::HashMap;
use std::sync::Arc;

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue};

use crate::routing::RouteError;
use crate::routing::reverse::ReverseTemplate;
use crate::settings::Settings;

/// An application's settings and named routes, shared by every worker and every request
/// (handlers reach it through their context; a [`RouteTarget`](crate::RouteTarget) gets it
/// with each request). A cheap handle: clones share one copy.
#[derive(Debug, Clone)]
pub struct AppContext(Arc<Shared>);

/// What the handles share.
#[derive(Debug)]
struct Shared {
    /// The settings.
    settings: Settings,
    /// Named rules' URL templates, the first rule of each name in routing order.
    names: HashMap<String, ReverseTemplate>,
    /// The fields every answer gets where it sets none (`Server`, `default_headers`), made
    /// once from the settings.
    answer_defaults: Option<Arc<HeaderMap>>,
    /// `answer_defaults` and the `Content-Type` a handler's page gets where it sets none
    /// (Tornado's `text/html; charset=UTF-8`), unless `default_headers` names one.
    page_defaults: Arc<HeaderMap>,
}

/// The `Content-Type` of a handler's answer that sets none (Tornado's `clear()` sets it).
pub(crate) const DEFAULT_CONTENT_TYPE: HeaderValue =
    HeaderValue::from_static("text/html; charset=UTF-8");

impl Default for AppContext {
    fn default() -> Self {
        AppContext::new(Settings::default(), [])
    }
}

impl AppContext {
    /// An application context with `settings` and the named `routes` (name, pattern), the
    /// first of each name winning, as the router tries them.
    pub(crate) fn new<'a>(
        settings: Settings,
        routes: impl IntoIterator<Item = (&'a str, &'a ReverseTemplate)>,
    ) -> Self {
        let mut names = HashMap::new();
        for (name, template) in routes {
            names
                .entry(name.to_owned())
                .or_insert_with(|| template.clone());
        }
        let answer_defaults = settings.answer_defaults();
        let mut page_defaults = answer_defaults.clone().unwrap_or_default();
        page_defaults
            .entry(CONTENT_TYPE)
            .or_insert(DEFAULT_CONTENT_TYPE);
        AppContext(Arc::new(Shared {
            settings,
            names,
            answer_defaults: answer_defaults.map(Arc::new),
            page_defaults: Arc::new(page_defaults),
        }))
    }

    /// The fields every answer gets where it sets none: the `Server` field and
    /// `default_headers` ([`Settings::answer_defaults`]).
    pub(crate) fn answer_defaults(&self) -> Option<&Arc<HeaderMap>> {
        self.0.answer_defaults.as_ref()
    }

    /// [`answer_defaults`](Self::answer_defaults) and the default `Content-Type` of a page: a
    /// handler's answer with a body gets them from the connection's encoder, which writes the
    /// ones the answer lacks straight into the head instead of inserting each into the
    /// answer's map.
    pub(crate) fn page_defaults(&self) -> &Arc<HeaderMap> {
        &self.0.page_defaults
    }

    /// The application's settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The URL of the rule named `name` with `args` in its groups, percent-encoded (Tornado's
    /// `reverse_url`).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, RouteError> {
        self.0
            .names
            .get(name)
            .ok_or_else(|| RouteError::UnknownName(name.to_owned()))?
            .format(args)
    }
}
