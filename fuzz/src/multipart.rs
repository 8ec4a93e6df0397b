//! `multipart/form-data` bodies (and the `Content-Type` that names their boundary) as a
//! handler's arguments and files are parsed from them. Limits hold, values are slices of the
//! body rather than copies, and a body encoded from fields parses back to those fields.

use bytes::Bytes;
use cyclone_protocol::httputil::{FormLimits, parse_body_arguments, parse_multipart_form_data};

use super::input::Input;

/// The boundary of the round-trip bodies.
const BOUNDARY: &str = "cyclone-fuzz-7MA4YWxkTrZu0gW";

/// Whether `part` lies inside `body`'s allocation.
fn within(part: &Bytes, body: &Bytes) -> bool {
    let start = body.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    part.is_empty() || (at >= start && at + part.len() <= start + body.len())
}

/// Limits small enough for short inputs to reach them.
fn limits(choice: u8) -> FormLimits {
    let mut limits = FormLimits::default();
    if choice & 1 == 1 {
        limits.max_fields = 3;
        limits.max_parts = 4;
        limits.max_part_header_size = 64;
    }
    limits
}

/// Parses the input as a content type and a body; round-trips the fields the input names.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let choice = input.byte();
    let limits = limits(choice);

    if choice & 2 != 0 {
        // Fields from the input, encoded as a browser would, parse back to themselves.
        let mut fields = Vec::new();
        let mut body = Vec::new();
        for index in 0..(input.byte() % 4) {
            let length = usize::from(input.byte());
            let value = input.take(length).to_vec();
            if value
                .windows(BOUNDARY.len())
                .any(|window| window == BOUNDARY.as_bytes())
            {
                return;
            }
            let name = format!("field{index}");
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(&value);
            body.extend_from_slice(b"\r\n");
            fields.push((name, value));
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let body = Bytes::from(body);
        let (arguments, files) =
            parse_multipart_form_data(BOUNDARY.as_bytes(), &body, &FormLimits::default())
                .unwrap_or_else(|error| panic!("our own body refused: {error}"));
        assert!(files.is_empty());
        for (name, value) in &fields {
            assert_eq!(
                arguments.get_all(name),
                [Bytes::from(value.clone())],
                "field {name}"
            );
        }
    }

    let content_type = input.text_until(b'\n');
    let body = Bytes::copy_from_slice(input.rest());
    for result in [
        parse_body_arguments(&content_type, &body, &limits),
        parse_multipart_form_data(content_type.as_bytes(), &body, &limits),
    ] {
        let Ok((arguments, files)) = result else {
            continue;
        };
        assert!(
            arguments.field_count() <= limits.max_fields,
            "more fields than max_fields"
        );
        let file_count: usize = files.iter().map(|(_, files)| files.len()).sum();
        assert!(file_count <= limits.max_parts, "more files than max_parts");
        if content_type.starts_with("multipart") || !content_type.contains('/') {
            for (_, values) in arguments.iter() {
                for value in values {
                    assert!(within(value, &body), "an argument copied out of the body");
                }
            }
        }
        for (_, files) in files.iter() {
            for file in files {
                assert!(within(&file.body, &body), "a file copied out of the body");
            }
        }
    }
}
