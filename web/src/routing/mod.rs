//! Routing (Tornado's `tornado.routing`): [`Rule`]s compiled once into a [`Router`], host rule
//! sets, named rules reversed into URLs.
//!
//! A router tries its rules in order and the first match wins, as Tornado's. Literal patterns
//! (no regex syntax, the common case) are found with one hash lookup; a regex rule is tried
//! only if it comes before the literal hit and its literal prefix matches the path, so the
//! cost of a lookup does not grow with the number of literal routes.

mod host;
mod matcher;
mod reverse;
mod rule;

use std::collections::HashMap;

pub(crate) use host::HostRules;
pub(crate) use matcher::PathPattern;
pub use matcher::{PathArgError, PathArgs};
pub(crate) use reverse::ReverseTemplate;
pub use rule::{Rule, url};

use crate::target::{Target, TargetKind};

/// Why rules could not be compiled or a URL reversed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// A path or host pattern is not a valid regex.
    #[error("invalid route pattern {pattern:?}: {message}")]
    Pattern {
        /// The pattern as written.
        pattern: String,
        /// The regex compiler's complaint.
        message: String,
    },
    /// No rule has this name.
    #[error("no rule named {0:?}")]
    UnknownName(String),
    /// The named rule's pattern has nested groups or regex syntax outside its groups.
    #[error("cannot reverse route pattern {0:?}")]
    NotReversible(String),
    /// `reverse_url` got a different number of arguments than the pattern has groups.
    #[error("route pattern {pattern:?} has {expected} groups, {given} arguments given")]
    ArgumentCount {
        /// The pattern as written.
        pattern: String,
        /// Its groups.
        expected: usize,
        /// The arguments given.
        given: usize,
    },
}

/// Compiled rules, tried in order (Tornado's `RuleRouter`). A router is also a
/// [`Target`]: mount one under a rule to nest it (it sees the whole path).
///
/// ```
/// use cyclone_web::{Router, url, function};
/// use cyclone_web::httpserver::HttpResponse;
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
    literals: HashMap<String, usize>,
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
                self.literals.entry(literal.to_owned()).or_insert(index);
            }
            None => self.regex_rules.push(index),
        }
        self.rules.push(CompiledRule {
            pattern,
            target: rule.target,
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
        let literal_hit = self.literals.get(path).copied();
        for &index in &self.regex_rules {
            if literal_hit.is_some_and(|hit| hit < index) {
                break;
            }
            if let Some(found) = self.try_rule(index, path) {
                return Some(found);
            }
        }
        literal_hit.and_then(|index| self.try_rule(index, path))
    }

    fn try_rule(&self, index: usize, path: &str) -> Option<Found<'_>> {
        let rule = &self.rules[index];
        let args = rule.pattern.matches(path)?;
        match &rule.target.kind {
            TargetKind::Router(nested) => nested.find(path),
            _ => Some(Found {
                target: &rule.target,
                args,
            }),
        }
    }

    /// The URL template of the rule named `name`, here or in a nested router.
    pub(crate) fn reverse(&self, name: &str) -> Option<&ReverseTemplate> {
        self.names.get(name).or_else(|| {
            self.rules.iter().find_map(|rule| match &rule.target.kind {
                TargetKind::Router(nested) => nested.reverse(name),
                _ => None,
            })
        })
    }

    /// Whether any target under this router streams request bodies.
    pub(crate) fn any_streaming(&self) -> bool {
        self.rules.iter().any(|rule| rule.target.may_stream())
    }
}
