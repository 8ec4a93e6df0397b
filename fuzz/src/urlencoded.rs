//! Query strings and `application/x-www-form-urlencoded` bodies, and `url_concat` that writes
//! them: limits hold, and pairs written by `url_concat` parse back to themselves.

use cyclone_protocol::httputil::{FormLimits, parse_qs_bytes_with_limits, url_concat};

use super::input::Input;

/// Parses the input as a query; round-trips the pairs a prefix of it names.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let choice = input.byte();
    let mut limits = FormLimits::default();
    if choice & 1 == 1 {
        limits.max_fields = 4;
    }

    if choice & 2 != 0 {
        let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
        for _ in 0..(input.byte() % 4) {
            let name = input.text_until(0);
            let value = input.until(0).to_vec();
            if !name.is_empty() {
                pairs.push((name, value));
            }
        }
        let url = url_concat(
            "/path#fragment",
            pairs.iter().map(|(n, v)| (n.as_bytes(), v)),
        );
        let query = url
            .strip_prefix("/path")
            .and_then(|rest| rest.strip_suffix("#fragment"))
            .unwrap_or_else(|| panic!("url_concat moved the path or fragment: {url:?}"));
        let query = query.strip_prefix('?').unwrap_or(query);
        assert!(
            !query.contains(['#', ' ']),
            "an unescaped byte in {query:?}"
        );
        let parsed = parse_qs_bytes_with_limits(query.as_bytes(), true, &FormLimits::default())
            .unwrap_or_else(|error| panic!("our own query refused: {error}"));
        let mut back: Vec<(String, Vec<u8>)> = Vec::new();
        for (name, values) in parsed.iter() {
            for value in values {
                back.push((name.to_owned(), value.to_vec()));
            }
        }
        let mut expected = pairs.clone();
        expected.sort();
        back.sort();
        assert_eq!(
            back, expected,
            "url_concat then parse_qs_bytes changed the pairs"
        );
    }

    for keep_blank_values in [true, false] {
        if let Ok(arguments) = parse_qs_bytes_with_limits(input.rest(), keep_blank_values, &limits)
        {
            assert!(arguments.field_count() <= limits.max_fields);
            if !keep_blank_values {
                for (name, values) in arguments.iter() {
                    assert!(
                        values.iter().all(|value| !value.is_empty()),
                        "a blank value for {name:?} kept"
                    );
                }
            }
        }
    }
}
