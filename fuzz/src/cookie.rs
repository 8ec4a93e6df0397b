//! The `Cookie` request header as Tornado's `parse_cookie` reads it, and `Set-Cookie` values:
//! names are unique in the result, and a cookie we would set reads back as itself.

use cyclone_protocol::httputil::{SetCookie, parse_cookie};

use super::input::Input;

/// Parses the input as a `Cookie` header; round-trips the cookie a prefix of it names.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let name = input.text_until(b'=');
    let value = input.text_until(b'\n');
    if let Ok(header) = SetCookie::new(name.clone(), value.clone()).to_header_value() {
        assert!(
            !header.contains(['\r', '\n', '\0']),
            "a Set-Cookie value that breaks the header: {header:?}"
        );
        let (pair, _) = header.split_once("; ").unwrap_or((&header, ""));
        let expected = value
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(&value);
        assert_eq!(
            parse_cookie(pair),
            [(name, expected.to_owned())],
            "a cookie we set does not read back"
        );
    }

    let header = String::from_utf8_lossy(input.rest());
    let cookies = parse_cookie(&header);
    let mut names: Vec<&str> = cookies.iter().map(|(name, _)| name.as_str()).collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "a name twice in {cookies:?}");
    for (name, _) in &cookies {
        assert_eq!(name.trim(), name, "an untrimmed name");
        assert!(!name.contains(';'));
    }
}
