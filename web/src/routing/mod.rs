//! Routing (Tornado's `tornado.routing`): [`Rule`]s compiled once into a [`Router`], host rule
//! sets, named rules reversed into URLs.
//!
//! A router tries its rules in order and the first match wins, as Tornado's. Literal patterns
//! (no regex syntax, the common case) are found with one lookup (`literals.rs`); a regex rule is tried
//! only if it comes before the literal hit and its literal prefix matches the path, so the
//! cost of a lookup does not grow with the number of literal routes.

mod error;
mod host;
mod literals;
mod matcher;
pub(crate) mod reverse;
mod rule;

use std::collections::HashMap;

pub use cyclone_protocol::server::PathArgs;
pub use error::RouteError;
pub(crate) use host::HostRules;
pub use matcher::PathArgError;
pub(crate) use matcher::PathPattern;
pub(crate) use reverse::ReverseTemplate;
pub use rule::{Rule, url};

use std::borrow::Cow;

use cyclone_protocol::server::{HttpRequestMessage, HttpResponse};

use crate::app::AppContext;
use crate::target::{RouteTarget, Target, Work};
use literals::Literals;

/// Compiled rules, tried in order (Tornado's `RuleRouter`). A router is also a
/// [`Target`]: mount one under a rule to nest it (it sees the whole path).
///
/// ```
/// use cyclone_web::{Router, url, function};
/// use cyclone_protocol::server::HttpResponse;
///
/// let api = Router::new([
///     url("/api/ping", function(|_, _| async { HttpResponse::ok().text("pong") })),
/// ])?;
/// let rule = url("/api/.*", api);
/// # drop(rule);
/// # Ok::<(), cyclone_web::RouteError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Router {
    /// The rules in order, compiled.
    rules: Vec<CompiledRule>,
    /// Literal patterns to the index of the first rule with that literal.
    literals: Literals,
    /// Indexes of the regex rules, ascending.
    regex_rules: Vec<usize>,
    /// Named rules' URL templates, for `reverse_url`.
    names: HashMap<String, ReverseTemplate>,
}

/// A rule with its pattern compiled.
#[derive(Debug, Clone)]
struct CompiledRule {
    /// The compiled pattern.
    pattern: PathPattern,
    /// Who answers.
    target: Target,
    /// Whether `target` is a router to descend into (looked up once, not per request).
    nests: bool,
}

/// What a router found for a path.
pub(crate) struct Found<'a> {
    /// The target that answers.
    pub(crate) target: &'a Target,
    /// The groups, or why they could not be decoded (400).
    pub(crate) args: Result<PathArgs, PathArgError>,
}

impl Router {
    /// Compiles `rules`.
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> Result<Router, RouteError> {
        let mut router = Router::default();
        for rule in rules {
            router.push(rule)?;
        }
        Ok(router)
    }

    /// Appends one rule (tried after the others).
    pub(crate) fn push(&mut self, rule: Rule) -> Result<(), RouteError> {
        let pattern = PathPattern::new(&rule.pattern)?;
        if let Some(name) = &rule.name {
            self.names
                .insert(name.clone(), ReverseTemplate::new(&rule.pattern));
        }
        let index = self.rules.len();
        match pattern.literal() {
            Some(literal) => {
                self.literals.insert(literal, index);
            }
            None => self.regex_rules.push(index),
        }
        let nests = rule.target.kind().as_router().is_some();
        self.rules.push(CompiledRule {
            pattern,
            target: rule.target,
            nests,
        });
        Ok(())
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `path` would be routed somewhere (a benchmark and test aid).
    pub fn matches(&self, path: &str) -> bool {
        self.find(path).is_some()
    }

    /// The first rule matching `path`, descending into nested routers (a nested router that
    /// matches nothing lets the search go on, as Tornado's).
    pub(crate) fn find(&self, path: &str) -> Option<Found<'_>> {
        let literal_hit = self.literals.get(path);
        for &index in &self.regex_rules {
            if literal_hit.is_some_and(|hit| hit < index) {
                break;
            }
            if let Some(found) = self.try_rule(index, path) {
                return Some(found);
            }
        }
        let index = literal_hit?;
        let rule = self.rules.get(index)?;
        // The table is keyed by the literal patterns' text: the path is the pattern, and a
        // literal has no groups to decode.
        Self::found(rule, path, Ok(PathArgs::default()))
    }

    fn try_rule(&self, index: usize, path: &str) -> Option<Found<'_>> {
        let rule = self.rules.get(index)?;
        let args = rule.pattern.matches(path)?;
        Self::found(rule, path, args)
    }

    /// `rule` answers `path` (with `args`), or the router it mounts looks further.
    fn found<'a>(
        rule: &'a CompiledRule,
        path: &str,
        args: Result<PathArgs, PathArgError>,
    ) -> Option<Found<'a>> {
        if rule.nests {
            return rule.target.kind().as_router()?.find(path);
        }
        Some(Found {
            target: &rule.target,
            args,
        })
    }

    /// Every named rule's URL template: this router's first, then nested routers' in rule
    /// order (a name found earlier wins, as a lookup here would find it).
    pub(crate) fn named_routes(&self) -> Vec<(&str, &ReverseTemplate)> {
        let mut named: Vec<(&str, &ReverseTemplate)> = self
            .names
            .iter()
            .map(|(name, template)| (name.as_str(), template))
            .collect();
        for rule in &self.rules {
            if let Some(nested) = rule.target.kind().as_router() {
                named.extend(nested.named_routes());
            }
        }
        named
    }

    /// Whether any target under this router streams request bodies.
    pub(crate) fn any_streaming(&self) -> bool {
        self.rules
            .iter()
            .any(|rule| rule.target.kind().may_stream())
    }
}

/// A router mounted under a rule: routing descends into it (it sees the whole path), so it is
/// never delivered to.
impl RouteTarget for Router {
    fn deliver(&self, message: HttpRequestMessage, _app: &AppContext) -> Option<Work> {
        let _ = message
            .writer
            .respond(HttpResponse::new(http::StatusCode::NOT_FOUND));
        None
    }

    fn may_stream(&self) -> bool {
        self.any_streaming()
    }

    fn name(&self) -> Cow<'static, str> {
        "router".into()
    }

    fn as_router(&self) -> Option<&Router> {
        Some(self)
    }
}

impl From<Router> for Target {
    fn from(router: Router) -> Self {
        Target::new(router)
    }
}
