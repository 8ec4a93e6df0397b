//! Header values with parameters: `form-data; name="a"; filename*=UTF-8''%E2%82%AC.txt` and
//! `multipart/form-data; boundary=...`.

use percent_encoding::percent_decode_str;

use super::FormError;

/// A header value split at its top-level `;`s: the leading item and its `name=value`
/// parameters.
#[derive(Debug)]
pub(crate) struct Parameterized<'a> {
    /// The item before the first `;`, trimmed (`form-data`, `multipart/form-data`).
    pub(crate) value: &'a str,
    /// Parameters with lowercase names and unquoted values; an extended `name*` parameter
    /// (RFC 5987) is decoded and stored as `name`, ahead of any plain `name`.
    parameters: Vec<(String, String)>,
}

impl<'a> Parameterized<'a> {
    /// Splits `header`. Parameters without `=` are skipped, as Tornado's `_parse_header` does.
    ///
    /// # Errors
    ///
    /// [`FormError::InvalidPartHeader`] if an extended parameter is not
    /// `charset'language'percent-encoded` in UTF-8 or ISO-8859-1.
    pub(crate) fn parse(header: &'a str) -> Result<Self, FormError> {
        let mut items = split_outside_quotes(header);
        let value = items.next().unwrap_or_default().trim();
        let mut plain: Vec<(String, String)> = Vec::new();
        let mut extended: Vec<(String, String)> = Vec::new();
        for item in items {
            let Some((name, raw)) = item.split_once('=') else {
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            let raw = raw.trim();
            match name.strip_suffix('*') {
                Some(base) => extended.push((base.to_owned(), decode_extended(raw)?)),
                None => plain.push((name, unquote(raw))),
            }
        }
        // Lookups take the last match, so extended values (RFC 6266 §4.3: preferred) go last.
        plain.extend(extended);
        Ok(Parameterized {
            value,
            parameters: plain,
        })
    }

    /// The value of parameter `name` (lowercase); the last one wins, as in a Python dict.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .rev()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Splits at `;` outside double quotes; a backslash inside quotes escapes the next byte.
fn split_outside_quotes(header: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut done = false;
    let bytes = header.as_bytes();
    let mut position = 0;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        while position < bytes.len() {
            let byte = bytes[position];
            position += 1;
            if escaped {
                escaped = false;
            } else if in_quotes && byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_quotes = !in_quotes;
            } else if byte == b';' && !in_quotes {
                // ';' is ASCII, so both slice ends are char boundaries.
                let item = &header[start..position - 1];
                start = position;
                return Some(item);
            }
        }
        done = true;
        Some(&header[start..])
    })
}

/// Strips one pair of surrounding double quotes, undoing `\\` and `\"` inside; other
/// backslashes stay, since browsers send Windows paths unescaped.
fn unquote(raw: &str) -> String {
    let Some(inner) = raw
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return raw.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next @ ('\\' | '"')) = chars.peek()
        {
            out.push(next);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

/// Decodes an RFC 5987 `ext-value`: `UTF-8'en'%E2%82%AC` (the language is ignored).
fn decode_extended(raw: &str) -> Result<String, FormError> {
    let mut fields = raw.splitn(3, '\'');
    let (Some(charset), Some(_language), Some(encoded)) =
        (fields.next(), fields.next(), fields.next())
    else {
        return Err(FormError::InvalidPartHeader);
    };
    let bytes = percent_decode_str(encoded);
    if charset.eq_ignore_ascii_case("utf-8") {
        bytes
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| FormError::InvalidPartHeader)
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Ok(bytes.map(char::from).collect())
    } else {
        Err(FormError::InvalidPartHeader)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_semicolons_and_escapes() {
        let parsed =
            Parameterized::parse(r#" form-data ; name="a;b"; filename="x\"y\\z.txt"; bare"#)
                .unwrap();
        assert_eq!(parsed.value, "form-data");
        assert_eq!(parsed.get("name"), Some("a;b"));
        assert_eq!(parsed.get("filename"), Some(r#"x"y\z.txt"#));
        assert_eq!(parsed.get("bare"), None);
    }

    #[test]
    fn extended_parameter_wins_in_either_order() {
        for header in [
            "form-data; filename*=UTF-8''%E2%82%AC.txt; filename=\"e.txt\"",
            "form-data; filename=\"e.txt\"; FILENAME*=utf-8'en'%E2%82%AC.txt",
        ] {
            let parsed = Parameterized::parse(header).unwrap();
            assert_eq!(parsed.get("filename"), Some("€.txt"), "{header}");
        }
        let latin = Parameterized::parse("a; f*=iso-8859-1''caf%E9").unwrap();
        assert_eq!(latin.get("f"), Some("café"));
    }

    #[test]
    fn rejects_bad_extended_values() {
        for header in ["a; f*=UTF-8%E2", "a; f*=UTF-8''%FF", "a; f*=koi8-r''%E9"] {
            assert_eq!(
                Parameterized::parse(header).unwrap_err(),
                FormError::InvalidPartHeader,
                "{header}"
            );
        }
    }

    #[test]
    fn unterminated_quote_runs_to_the_end() {
        let parsed = Parameterized::parse("form-data; name=\"a; b").unwrap();
        assert_eq!(parsed.get("name"), Some("\"a; b"));
    }
}
