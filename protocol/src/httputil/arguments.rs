//! [`Arguments`]: a request's `name -> [value]` arguments, as Tornado's `request.arguments`.

use bytes::Bytes;

use super::FormError;
use super::multimap::MultiMap;

/// Request arguments: names in first-seen order, each with all its raw byte values in arrival
/// order.
///
/// This is Tornado's `dict[str, list[bytes]]` used for `request.arguments`,
/// `query_arguments` and `body_arguments`. Values stay bytes because a form's charset is the
/// application's business; [`get_str`](Arguments::get_str) and
/// [`get_all_str`](Arguments::get_all_str) decode UTF-8 as `RequestHandler.get_argument` does
/// (without its whitespace stripping, which belongs to the web layer).
///
/// ```
/// use cyclone_protocol::httputil::parse_qs_bytes;
///
/// let arguments = parse_qs_bytes(b"tag=a&q=caf%C3%A9&tag=b", true)?;
/// assert_eq!(arguments.get_str("q")?, Some("café"));
/// assert_eq!(arguments.get_all_str("tag")?, ["a", "b"]);
/// assert_eq!(arguments.get_str("missing")?, None);
/// # Ok::<(), cyclone_protocol::httputil::FormError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arguments {
    /// The values by name; a shared private map so that [`Files`](super::Files) orders the same
    /// way.
    map: MultiMap<Bytes>,
}

impl Arguments {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `value` to `name`'s values (the name keeps its first position). No limit
    /// applies here: the parsers count fields as they push.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Bytes>) {
        self.map.push(name.into(), value.into());
    }

    /// All of `name`'s values in arrival order; empty if it is absent (Tornado's
    /// `get_arguments`).
    pub fn get_all(&self, name: &str) -> &[Bytes] {
        self.map.get_all(name)
    }

    /// `name`'s last value, the one Tornado's `get_argument` returns.
    pub fn get(&self, name: &str) -> Option<&Bytes> {
        self.map.get_all(name).last()
    }

    /// `name`'s last value as UTF-8 text; `Ok(None)` if it is absent.
    ///
    /// # Errors
    ///
    /// [`FormError::InvalidUtf8`] if the value is not UTF-8 (a 400, as in Tornado).
    pub fn get_str(&self, name: &str) -> Result<Option<&str>, FormError> {
        self.get(name).map(|value| utf8(name, value)).transpose()
    }

    /// All of `name`'s values as UTF-8 text, in arrival order.
    ///
    /// # Errors
    ///
    /// [`FormError::InvalidUtf8`] if any value is not UTF-8.
    pub fn get_all_str(&self, name: &str) -> Result<Vec<&str>, FormError> {
        self.get_all(name)
            .iter()
            .map(|value| utf8(name, value))
            .collect()
    }

    /// Whether `name` has at least one value.
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains(name)
    }

    /// Removes `name` and returns its values (empty if it was absent).
    pub fn remove(&mut self, name: &str) -> Vec<Bytes> {
        self.map.remove(name)
    }

    /// Number of distinct names.
    pub fn len(&self) -> usize {
        self.map.names()
    }

    /// Whether there are no arguments at all.
    pub fn is_empty(&self) -> bool {
        self.map.names() == 0
    }

    /// Number of values over all names (what [`FormLimits::max_fields`](super::FormLimits::max_fields)
    /// counts).
    pub fn field_count(&self) -> usize {
        self.map.values()
    }

    /// Names with their values, in the order the names first appeared.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Bytes])> {
        self.map.iter()
    }

    /// Appends every value of `other` after this map's values of the same name, as Tornado
    /// builds `request.arguments` from `query_arguments` then `body_arguments`.
    pub fn merge(&mut self, other: Arguments) {
        self.map.merge(other.map);
    }
}

fn utf8<'a>(name: &str, value: &'a Bytes) -> Result<&'a str, FormError> {
    std::str::from_utf8(value).map_err(|_| FormError::InvalidUtf8 {
        name: name.to_owned(),
    })
}
