//! [`AppContext`]: what every route target and handler of one application shares: its
//! [`Settings`] and its named routes (for `reverse_url`).
//!
//! It sits below routing and targets (it knows neither): the [`Application`](crate::Application)
//! builds it from its rules, and hands it to each target with every request.

use std::collections::HashMap;
use std::sync::Arc;

use crate::routing::RouteError;
use crate::routing::reverse::ReverseTemplate;
use crate::settings::Settings;

/// An application's settings and named routes, shared by every worker and every request
/// (handlers reach it through their context; a [`RouteTarget`](crate::RouteTarget) gets it
/// with each request). A cheap handle: clones share one copy.
#[derive(Debug, Clone, Default)]
pub struct AppContext(Arc<Shared>);

/// What the handles share.
#[derive(Debug, Default)]
struct Shared {
    /// The settings.
    settings: Settings,
    /// Named rules' URL templates, the first rule of each name in routing order.
    names: HashMap<String, ReverseTemplate>,
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
        AppContext(Arc::new(Shared { settings, names }))
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
