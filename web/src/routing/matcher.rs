//! [`PathPattern`]: one rule's compiled path pattern, anchored like Tornado's (`$` implied),
//! with a literal fast path, capturing [`PathArgs`].

use std::borrow::Cow;

use cyclone_protocol::server::PathArgs;
use percent_encoding::percent_decode_str;
use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use super::error::RouteError;

/// Why a path matched but its groups cannot be handed over: answered 400 as Tornado does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("path argument {0:?} is not UTF-8 once percent-decoded")]
pub struct PathArgError(pub String);

/// A compiled path pattern.
#[derive(Debug, Clone)]
pub(crate) struct PathPattern {
    /// What is matched, and how.
    kind: PatternKind,
}

/// The ways a pattern matches.
#[derive(Debug, Clone)]
enum PatternKind {
    /// No regex syntax: the path must equal this string (no regex run per request).
    Literal(String),
    /// A literal followed by `.*`: the path must start with this string.
    Prefix(String),
    /// A regex, anchored at both ends.
    Regex {
        /// `^(?:pattern)$`.
        regex: Regex,
        /// What its literals prove: cheap tests before running the regex.
        known: Known,
        /// Whether groups are passed by name (the pattern has named groups).
        named: bool,
    },
}

/// What a pattern's literals prove about every path it matches, found by regex-syntax's
/// literal extractor (the regex crate's own parser, so it reads the pattern as the regex
/// does). Used only to refuse: a path that passes still runs the regex, so an assertion the
/// extractor reads as empty (`\b`) cannot let a wrong path through.
#[derive(Debug, Clone, Default)]
struct Known {
    /// Every match starts with these bytes (UTF-8, maybe cut inside a character).
    prefix: Box<[u8]>,
    /// Every match is one of these, when the pattern can match only a few fixed strings
    /// (`/(favicon\.ico)`, `/(a|b)`); `None` when it can match more.
    exact: Option<Box<[Box<[u8]>]>>,
}

/// Most strings kept in [`Known::exact`]; a pattern with more is tested by prefix alone.
const MAX_EXACT: usize = 16;

impl Known {
    /// What `body` (a pattern without its anchors) proves.
    fn of(body: &str) -> Known {
        let Ok(hir) = regex_syntax::parse(&regex_syntax_of(body)) else {
            return Known::default();
        };
        let literals = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
        let prefix = literals.longest_common_prefix().unwrap_or_default().into();
        let exact = literals
            .literals()
            .filter(|all| literals.is_exact() && all.len() <= MAX_EXACT)
            .map(|all| {
                all.iter()
                    .map(|literal| literal.as_bytes().into())
                    .collect()
            });
        Known { prefix, exact }
    }

    /// Whether `path` could match.
    fn admits(&self, path: &str) -> bool {
        let path = path.as_bytes();
        path.starts_with(&self.prefix)
            && self
                .exact
                .as_ref()
                .is_none_or(|exact| exact.iter().any(|literal| **literal == *path))
    }
}

/// Characters with a meaning in a regex.
const META: &[char] = &[
    '.', '^', '$', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '\\',
];

impl PathPattern {
    /// Compiles `pattern` as Tornado does: matched from the start of the path, `$` implied.
    pub(crate) fn new(pattern: &str) -> Result<PathPattern, RouteError> {
        let body = pattern.strip_prefix('^').unwrap_or(pattern);
        let body = body.strip_suffix('$').unwrap_or(body);
        if let Some(literal) = literal_of(body) {
            return Ok(PathPattern {
                kind: PatternKind::Literal(literal),
            });
        }
        // `/api/.*`: a literal then anything (a path holds no newline for `.` to refuse), with
        // no group to capture: a prefix test, no regex run per request.
        if let Some(prefix) = body.strip_suffix(".*").and_then(literal_of) {
            return Ok(PathPattern {
                kind: PatternKind::Prefix(prefix),
            });
        }
        let regex = anchored(pattern, body)?;
        let named = regex.capture_names().flatten().next().is_some();
        Ok(PathPattern {
            kind: PatternKind::Regex {
                regex,
                known: Known::of(body),
                named,
            },
        })
    }

    /// The literal this pattern is, if it has no regex syntax.
    pub(crate) fn literal(&self) -> Option<&str> {
        match &self.kind {
            PatternKind::Literal(literal) => Some(literal),
            PatternKind::Prefix(_) | PatternKind::Regex { .. } => None,
        }
    }

    /// The groups if `path` matches.
    pub(crate) fn matches(&self, path: &str) -> Option<Result<PathArgs, PathArgError>> {
        match &self.kind {
            PatternKind::Literal(literal) => (literal == path).then(|| Ok(PathArgs::default())),
            PatternKind::Prefix(prefix) => path
                .starts_with(prefix.as_str())
                .then(|| Ok(PathArgs::default())),
            PatternKind::Regex {
                regex,
                known,
                named,
            } => {
                if !known.admits(path) {
                    return None;
                }
                let captures = regex.captures(path)?;
                Some(args_of(regex, &captures, *named))
            }
        }
    }
}

/// `^(?:body)$`, compiled, for `pattern` (whose `^`/`$` were taken off to make `body`).
///
/// `body` must be a regex on its own first: wrapped unchecked, a `)` in it would close the
/// wrapper's group (`/a)|(b` would become `^(?:/a)|(b)$`, which matches any path ending in
/// `b`), turning an unbalanced pattern, which Tornado refuses, into one that is not anchored.
pub(crate) fn anchored(pattern: &str, body: &str) -> Result<Regex, RouteError> {
    let refused = |error: regex::Error| RouteError::Pattern {
        pattern: pattern.to_owned(),
        message: error.to_string(),
    };
    let body = regex_syntax_of(body);
    Regex::new(&body).map_err(refused)?;
    Regex::new(&format!("^(?:{body})$")).map_err(refused)
}

/// `body`, a pattern written for Python's `re` (Tornado's), in the regex crate's syntax where
/// the two read an escape differently: `\<` and `\>` are the characters `<` and `>` to Python
/// but word boundaries to the regex crate (so `/a\<b` routed `/a<b` by the literal fast path
/// and nothing by the regex); `\Z`, Python's end of text, is the regex crate's `\z` (the
/// crate refuses `\Z`). Every other escape means the same to both, or is refused by both.
fn regex_syntax_of(body: &str) -> Cow<'_, str> {
    if !body.contains(['<', '>', 'Z']) {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut characters = body.chars();
    while let Some(character) = characters.next() {
        if character != '\\' {
            out.push(character);
            continue;
        }
        match characters.next() {
            Some(bracket @ ('<' | '>')) => out.push(bracket),
            Some('Z') => out.push_str("\\z"),
            Some(escaped) => {
                out.push('\\');
                out.push(escaped);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Percent-decodes each group (never `+`, as Tornado's `_unquote_or_none`).
fn args_of(
    regex: &Regex,
    captures: &regex::Captures<'_>,
    named: bool,
) -> Result<PathArgs, PathArgError> {
    let decode = |index: usize| -> Result<Option<String>, PathArgError> {
        match captures.get(index) {
            None => Ok(None),
            Some(group) => percent_decode_str(group.as_str())
                .decode_utf8()
                .map(|text| Some(text.into_owned()))
                .map_err(|_| PathArgError(group.as_str().to_owned())),
        }
    };
    let mut positional = Vec::new();
    let mut named_groups = Vec::new();
    for (index, name) in regex.capture_names().enumerate().skip(1) {
        match (named, name) {
            (true, Some(name)) => named_groups.push((name.to_owned(), decode(index)?)),
            (true, None) => {}
            (false, _) => positional.push(decode(index)?),
        }
    }
    Ok(PathArgs::new(positional, named_groups))
}

/// The string `body` matches exactly, if it is a literal (escaped punctuation allowed).
fn literal_of(body: &str) -> Option<String> {
    let mut literal = String::with_capacity(body.len());
    let mut characters = body.chars();
    while let Some(character) = characters.next() {
        if character == '\\' {
            let escaped = characters.next()?;
            if escaped.is_ascii_alphanumeric() {
                return None; // \d, \w, ...: a class, not a character
            }
            literal.push(escaped);
        } else if META.contains(&character) {
            return None;
        } else {
            literal.push(character);
        }
    }
    Some(literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `routing` fuzz target: `\<` is `<` to Python's `re`, and to the literal
    /// fast path, but was a word boundary to the regex crate.
    #[test]
    fn escapes_read_as_pythons_re_reads_them() {
        assert_eq!(PathPattern::new(r"/a\<b").unwrap().literal(), Some("/a<b"));
        let group = PathPattern::new(r"/(\d+)\<\>").unwrap();
        assert!(group.matches("/12<>").is_some());
        assert!(group.matches("/12").is_none());
        let ended = PathPattern::new(r"/(\w+)\Z").unwrap();
        assert!(ended.matches("/abc").is_some());
        assert!(ended.matches("/abc/").is_none());
        let class = PathPattern::new(r"/([\<\>]+)").unwrap();
        assert!(class.matches("/<><").is_some());
        // An escaped backslash before `<` stays a backslash, and `<` a character.
        let backslash = PathPattern::new(r"/(a)\\<").unwrap();
        assert!(backslash.matches("/a\\<").is_some());
        assert_eq!(regex_syntax_of(r"\\<\<\Z"), r"\\<<\z");
    }

    #[test]
    fn literal_patterns_skip_the_regex() {
        assert_eq!(PathPattern::new("/a/b").unwrap().literal(), Some("/a/b"));
        assert_eq!(
            PathPattern::new(r"/a\.txt$").unwrap().literal(),
            Some("/a.txt")
        );
        assert_eq!(PathPattern::new(r"/a/(\d+)").unwrap().literal(), None);
    }

    fn prefix(body: &str) -> String {
        String::from_utf8_lossy(&Known::of(body).prefix).into_owned()
    }

    fn exact(body: &str) -> Option<Vec<String>> {
        let exact = Known::of(body).exact?;
        Some(
            exact
                .iter()
                .map(|literal| String::from_utf8_lossy(literal).into_owned())
                .collect(),
        )
    }

    #[test]
    fn prefixes_stop_before_optional_characters() {
        assert_eq!(prefix(r"/story/([0-9]+)"), "/story/");
        assert_eq!(prefix(r"/ab?c"), "/a");
        assert_eq!(prefix(r"/a|/b"), "/");
        assert_eq!(prefix(r"/a|b"), "");
        // Found by the routing fuzz target: `@+*` may match nothing, so `@` is not certain.
        assert_eq!(prefix(r"@++*"), "");
        // Found by the routing fuzz target: an unbalanced `)` closed the anchoring group.
        assert!(PathPattern::new(r"/)?(").is_err());
        assert!(PathPattern::new(r"/a)|(b").is_err());
        assert_eq!(prefix(r"/a+b"), "/a");
    }

    #[test]
    fn patterns_of_a_few_strings_refuse_every_other_path_before_the_regex() {
        // Tornado's static routes, tried before the application's own on every request.
        assert_eq!(exact(r"/(favicon\.ico)"), Some(vec!["/favicon.ico".into()]));
        assert_eq!(exact(r"/(a|bc)"), Some(vec!["/a".into(), "/bc".into()]));
        assert_eq!(exact(r"/(\d+)"), None);
        assert_eq!(exact(r"/static/(.*)"), None);
        let favicon = PathPattern::new(r"/(favicon\.ico)").unwrap();
        assert!(favicon.matches("/fortunes").is_none());
        assert!(favicon.matches("/favicon.icox").is_none());
        let Some(Ok(args)) = favicon.matches("/favicon.ico") else {
            panic!("/favicon.ico is refused");
        };
        assert_eq!(args.positional(), [Some("favicon.ico".to_owned())]);
        // An assertion reads as empty to the extractor; the regex still decides.
        let bounded = PathPattern::new(r"/a\B").unwrap();
        assert!(bounded.matches("/a").is_none());
        let case = PathPattern::new(r"(?i)/(abc)").unwrap();
        assert!(case.matches("/ABC").is_some());
        assert!(case.matches("/abd").is_none());
    }
}
