//! [`PathArgs`]: the groups a route's pattern captured, carried by every
//! [`HttpRequestMessage`](super::HttpRequestMessage).
//!
//! The protocol layer does no routing: a bare `HttpServer` service gets empty arguments. The
//! type lives here so that one request message serves every route target, whatever routed it.

/// The groups a route's pattern captured, percent-decoded (Tornado's `path_args` /
/// `path_kwargs`).
///
/// A pattern with named groups passes only those (as Tornado passes only keyword arguments
/// then); otherwise every group is positional. A group that did not take part in the match is
/// `None`.
///
/// ```
/// use cyclone_protocol::server::PathArgs;
///
/// let args = PathArgs::new(vec![Some("42".into()), None], Vec::new());
/// assert_eq!(args.get(0), Some("42"));
/// assert_eq!(args.get(1), None);
/// assert_eq!(args.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathArgs {
    /// The groups; `None` for a pattern without any (most routes, and every request outside a
    /// router), so that the empty case costs one word in every request message.
    groups: Option<Box<Groups>>,
}

/// The groups of a pattern that has some.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Groups {
    /// Unnamed groups in order.
    positional: Vec<Option<String>>,
    /// Named groups by name, in pattern order.
    named: Vec<(String, Option<String>)>,
}

/// Dropping the groups out of line keeps the drop of a `PathArgs` (in every request message,
/// nearly always empty) small enough to inline: a test and no call.
impl Drop for PathArgs {
    #[inline]
    fn drop(&mut self) {
        if let Some(groups) = self.groups.take() {
            drop_groups(groups);
        }
    }
}

/// Drops a pattern's groups.
#[inline(never)]
fn drop_groups(groups: Box<Groups>) {
    drop(groups);
}

impl PathArgs {
    /// Arguments from `positional` groups (in order) and `named` groups (in pattern order).
    pub fn new(positional: Vec<Option<String>>, named: Vec<(String, Option<String>)>) -> Self {
        if positional.is_empty() && named.is_empty() {
            return PathArgs::default();
        }
        PathArgs {
            groups: Some(Box::new(Groups { positional, named })),
        }
    }

    /// The `index`th positional group, if it matched.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.positional()
            .get(index)
            .and_then(|value| value.as_deref())
    }

    /// The group named `name`, if it matched.
    pub fn named(&self, name: &str) -> Option<&str> {
        self.named_groups()
            .iter()
            .find(|(group, _)| group == name)
            .and_then(|(_, value)| value.as_deref())
    }

    /// Positional groups.
    pub fn positional(&self) -> &[Option<String>] {
        self.groups
            .as_deref()
            .map_or(&[], |groups| groups.positional.as_slice())
    }

    /// Named groups.
    pub fn named_groups(&self) -> &[(String, Option<String>)] {
        self.groups
            .as_deref()
            .map_or(&[], |groups| groups.named.as_slice())
    }

    /// Number of groups (positional and named).
    pub fn len(&self) -> usize {
        self.positional().len() + self.named_groups().len()
    }

    /// Whether the pattern captured nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
