//! [`ReverseTemplate`]: a named rule's pattern turned back into a URL (Tornado's
//! `URLSpec.reverse`), groups filled with percent-encoded arguments.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::error::RouteError;

/// What Python's `urllib.parse.quote` leaves alone: unreserved characters and `/`.
const QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/');

/// A pattern as literal pieces and group slots.
#[derive(Debug, Clone)]
pub(crate) struct ReverseTemplate {
    /// The pattern as written, for error messages.
    pattern: String,
    /// Literal text and slots in order; `None` when the pattern cannot be reversed (nested
    /// groups, regex syntax outside groups), as Tornado.
    pieces: Option<Vec<Piece>>,
}

/// One piece of a reversed URL.
#[derive(Debug, Clone)]
enum Piece {
    /// Text written as is.
    Literal(String),
    /// Where the next argument goes.
    Group,
}

impl ReverseTemplate {
    /// Reads `pattern` the way Tornado's `_find_groups` does.
    pub(crate) fn new(pattern: &str) -> Self {
        let body = pattern.strip_prefix('^').unwrap_or(pattern);
        let body = body.strip_suffix('$').unwrap_or(body);
        ReverseTemplate {
            pattern: pattern.to_owned(),
            pieces: pieces_of(body),
        }
    }

    /// The URL with `args` in the groups.
    pub(crate) fn format(&self, args: &[&str]) -> Result<String, RouteError> {
        let Some(pieces) = &self.pieces else {
            return Err(RouteError::NotReversible(self.pattern.clone()));
        };
        let groups = pieces
            .iter()
            .filter(|piece| matches!(piece, Piece::Group))
            .count();
        if groups != args.len() {
            return Err(RouteError::ArgumentCount {
                pattern: self.pattern.clone(),
                expected: groups,
                given: args.len(),
            });
        }
        let mut url = String::new();
        let mut args = args.iter();
        for piece in pieces {
            match piece {
                Piece::Literal(text) => url.push_str(text),
                Piece::Group => {
                    if let Some(arg) = args.next() {
                        url.extend(utf8_percent_encode(arg, QUOTE));
                    }
                }
            }
        }
        Ok(url)
    }
}

fn pieces_of(body: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut characters = body.chars();
    while let Some(character) = characters.next() {
        match character {
            '(' => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                // Skip to the group's end; a nested group makes the pattern irreversible.
                let mut escaped = false;
                loop {
                    match characters.next()? {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '(' => return None,
                        ')' => break,
                        _ => {}
                    }
                }
                pieces.push(Piece::Group);
            }
            '\\' => {
                let escaped = characters.next()?;
                if escaped.is_ascii_alphanumeric() {
                    return None;
                }
                literal.push(escaped);
            }
            '.' | '^' | '$' | '*' | '+' | '?' | ')' | '[' | ']' | '{' | '}' | '|' => return None,
            other => literal.push(other),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Some(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_take_encoded_arguments() {
        let template = ReverseTemplate::new(r"/story/([0-9]+)/(\w+)$");
        assert_eq!(
            template.format(&["7", "a b/c"]).unwrap(),
            "/story/7/a%20b/c"
        );
        assert!(template.format(&["7"]).is_err());
        assert!(ReverseTemplate::new(r"/a/((b)c)").format(&["x"]).is_err());
        assert_eq!(
            ReverseTemplate::new(r"/a\.txt").format(&[]).unwrap(),
            "/a.txt"
        );
    }
}
