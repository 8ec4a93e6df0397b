//! [`RouteError`]: why rules could not be compiled or a URL reversed.

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
