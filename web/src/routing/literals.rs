//! [`Literals`]: a router's literal patterns (the common case: `/`, `/login`, `/api/ping`) to
//! the index of the first rule with each, looked up once per request.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Up to this many literals are kept in a list and compared in turn (`str` equality compares
/// the lengths first, and the bytes only of one that fits): for a handful that is cheaper than hashing the path and probing a
/// table (a router's lookup of `/` among one route: 116 instructions → 86 in
/// `bench/callgrind.sh`).
const FEW: usize = 8;

/// Literal patterns to rule indexes: a short list while there are few, a hash table after.
#[derive(Debug, Clone, Default)]
pub(crate) struct Literals {
    /// The literals while there are at most [`FEW`], in the order their rules came.
    few: Vec<(Box<str>, usize)>,
    /// Every literal, once there are more than [`FEW`] (`few` is emptied then).
    many: HashMap<Box<str>, usize, BuildHasherDefault<PathHasher>>,
}

impl Literals {
    /// Records that rule `index` has the literal pattern `literal`; an earlier rule with the
    /// same literal keeps it (the first match wins).
    pub(crate) fn insert(&mut self, literal: &str, index: usize) {
        if self.get(literal).is_some() {
            return;
        }
        if self.many.is_empty() && self.few.len() < FEW {
            self.few.push((literal.into(), index));
            return;
        }
        self.many.extend(self.few.drain(..));
        self.many.insert(literal.into(), index);
    }

    /// The index of the first rule whose literal is `path`.
    #[inline(always)]
    pub(crate) fn get(&self, path: &str) -> Option<usize> {
        if !self.many.is_empty() {
            return self.many.get(path).copied();
        }
        self.few
            .iter()
            .find(|(literal, _)| **literal == *path)
            .map(|(_, index)| *index)
    }
}

/// FNV-1a over a path: the literal table is fixed when the rules are compiled, so a request
/// cannot grow its chains, and a short path hashes in a few instructions where SipHash takes
/// over a hundred.
#[derive(Default)]
struct PathHasher(u64);

impl Hasher for PathHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_rule_with_a_literal_wins_in_the_list_and_in_the_table() {
        let mut literals = Literals::default();
        literals.insert("/", 0);
        literals.insert("/a", 1);
        literals.insert("/", 2);
        assert_eq!(literals.get("/"), Some(0));
        assert_eq!(literals.get("/a"), Some(1));
        assert_eq!(literals.get("/b"), None);
        assert_eq!(literals.get(""), None);
        assert!(literals.many.is_empty());
        for index in 3..3 + FEW {
            literals.insert(&format!("/page/{index}"), index);
        }
        assert!(
            literals.few.is_empty(),
            "past {FEW} literals the table takes over"
        );
        literals.insert("/a", 99);
        assert_eq!(literals.get("/"), Some(0));
        assert_eq!(literals.get("/a"), Some(1));
        assert_eq!(literals.get("/page/5"), Some(5));
        assert_eq!(literals.get("/page/55"), None);
    }
}
