//! The ordered name-to-values map behind [`Arguments`](super::Arguments) and
//! [`Files`](super::Files).

use std::collections::HashMap;

/// Names in first-seen order, each with its values in arrival order, as Tornado's
/// `dict[str, list]` (whose keys keep insertion order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MultiMap<V> {
    /// The entries in the order their names first appeared; iteration follows it.
    entries: Vec<(String, Vec<V>)>,
    /// Position of each name in `entries`, so that a body with many names stays linear.
    index: HashMap<String, usize>,
}

impl<V> Default for MultiMap<V> {
    fn default() -> Self {
        MultiMap {
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<V> MultiMap<V> {
    pub(crate) fn push(&mut self, name: String, value: V) {
        match self.index.get(&name) {
            Some(&position) => self.entries[position].1.push(value),
            None => {
                self.index.insert(name.clone(), self.entries.len());
                self.entries.push((name, vec![value]));
            }
        }
    }

    pub(crate) fn get_all(&self, name: &str) -> &[V] {
        self.index
            .get(name)
            .map_or(&[], |&position| self.entries[position].1.as_slice())
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    pub(crate) fn names(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn values(&self) -> usize {
        self.entries.iter().map(|(_, values)| values.len()).sum()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &[V])> {
        self.entries
            .iter()
            .map(|(name, values)| (name.as_str(), values.as_slice()))
    }

    pub(crate) fn remove(&mut self, name: &str) -> Vec<V> {
        let Some(position) = self.index.remove(name) else {
            return Vec::new();
        };
        let (_, values) = self.entries.remove(position);
        for later in self.index.values_mut() {
            if *later > position {
                *later -= 1;
            }
        }
        values
    }

    pub(crate) fn merge(&mut self, other: MultiMap<V>) {
        for (name, values) in other.entries {
            match self.index.get(&name) {
                Some(&position) => self.entries[position].1.extend(values),
                None => {
                    self.index.insert(name.clone(), self.entries.len());
                    self.entries.push((name, values));
                }
            }
        }
    }
}
