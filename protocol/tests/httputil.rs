//! `cyclone_protocol::httputil` through its public API: Tornado's argument, multipart, cookie
//! and URL helpers, with every limit and every truncation of a multipart body.

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use cyclone_protocol::httputil::{
    Arguments, CookieError, Files, FormError, FormLimits, HttpFile, SameSite, SetCookie,
    format_timestamp, parse_body_arguments, parse_cookie, parse_multipart_form_data,
    parse_qs_bytes, parse_qs_bytes_with_limits, split_host_and_port, url_concat,
};
use http::StatusCode;

const MULTIPART: &str = "multipart/form-data";

fn pairs(arguments: &Arguments) -> Vec<(String, Vec<Vec<u8>>)> {
    arguments
        .iter()
        .map(|(name, values)| {
            let values = values.iter().map(|value| value.to_vec()).collect();
            (name.to_owned(), values)
        })
        .collect()
}

fn expect(list: &[(&str, &[&[u8]])]) -> Vec<(String, Vec<Vec<u8>>)> {
    list.iter()
        .map(|(name, values)| {
            let values = values.iter().map(|value| value.to_vec()).collect();
            ((*name).to_owned(), values)
        })
        .collect()
}

fn multipart(boundary: &str, body: &[u8]) -> Result<(Arguments, Files), FormError> {
    parse_body_arguments(
        &format!("{MULTIPART}; boundary={boundary}"),
        &Bytes::copy_from_slice(body),
        &FormLimits::default(),
    )
}

// ---------------------------------------------------------------- query strings

#[test]
fn query_decoding_follows_python_parse_qsl() {
    // Expected values checked against Python 3.11's parse_qsl(keep_blank_values=True).
    let arguments =
        parse_qs_bytes(b"a=1+2&b=%zz&c=&&d&=x&e=b=c&f=1;g=2&h=%&i=%4&j=%%41", true).unwrap();
    assert_eq!(
        pairs(&arguments),
        expect(&[
            ("a", &[b"1 2"]),
            ("b", &[b"%zz"]),
            ("c", &[b""]),
            ("d", &[b""]),
            ("", &[b"x"]),
            ("e", &[b"b=c"]),
            ("f", &[b"1;g=2"]),
            ("h", &[b"%"]),
            ("i", &[b"%4"]),
            ("j", &[b"%A"]),
        ])
    );
}

#[test]
fn blank_values_are_dropped_unless_kept() {
    assert_eq!(
        pairs(&parse_qs_bytes(b"a=&b&c=1", false).unwrap()),
        expect(&[("c", &[b"1"])])
    );
    assert_eq!(
        pairs(&parse_qs_bytes(b"a=&b&c=1", true).unwrap()),
        expect(&[("a", &[b""]), ("b", &[b""]), ("c", &[b"1"])])
    );
    assert!(parse_qs_bytes(b"", true).unwrap().is_empty());
    assert!(parse_qs_bytes(b"&&&", true).unwrap().is_empty());
}

#[test]
fn values_stay_bytes_and_names_become_utf8() {
    let arguments = parse_qs_bytes(b"caf%C3%A9=%FF&%FF=1&q=%E2%82%AC", true).unwrap();
    assert_eq!(arguments.get("café").unwrap().as_ref(), b"\xff");
    assert_eq!(arguments.get_str("\u{FFFD}").unwrap(), Some("1"));
    assert_eq!(arguments.get_str("q").unwrap(), Some("€"));
    assert_eq!(
        arguments.get_str("café").unwrap_err(),
        FormError::InvalidUtf8 {
            name: "café".into()
        }
    );
    assert!(arguments.get_all_str("café").is_err());
}

#[test]
fn duplicate_names_keep_first_position_and_arrival_order() {
    let arguments = parse_qs_bytes(b"b=1&a=2&b=3&c=4&a=5", true).unwrap();
    assert_eq!(
        pairs(&arguments),
        expect(&[("b", &[b"1", b"3"]), ("a", &[b"2", b"5"]), ("c", &[b"4"])])
    );
    assert_eq!(
        arguments.get_str("b").unwrap(),
        Some("3"),
        "get is the last value"
    );
    assert_eq!(arguments.get_all_str("a").unwrap(), ["2", "5"]);
    assert_eq!((arguments.len(), arguments.field_count()), (3, 5));
    assert!(arguments.get_all("missing").is_empty());
    assert_eq!(arguments.get_str("missing").unwrap(), None);
}

#[test]
fn too_many_fields_is_an_error() {
    let mut query = b"x=1".to_vec();
    for _ in 1..FormLimits::DEFAULT_MAX_FIELDS {
        query.extend_from_slice(b"&x=1");
    }
    assert_eq!(
        parse_qs_bytes(&query, true).unwrap().field_count(),
        FormLimits::DEFAULT_MAX_FIELDS
    );
    query.extend_from_slice(b"&y=2");
    let error = parse_qs_bytes(&query, true).unwrap_err();
    assert_eq!(error, FormError::TooManyFields { limit: 1000 });
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);

    let mut limits = FormLimits::default();
    limits.max_fields = 2;
    assert!(parse_qs_bytes_with_limits(b"a=1&b=2", true, &limits).is_ok());
    assert_eq!(
        parse_qs_bytes_with_limits(b"a=1&b=2&c=3", true, &limits).unwrap_err(),
        FormError::TooManyFields { limit: 2 }
    );
    // Dropped blanks are not fields.
    assert!(parse_qs_bytes_with_limits(b"a=&b=&c=&d=1", false, &limits).is_ok());
}

#[test]
fn arguments_merge_remove_and_push() {
    let mut arguments = parse_qs_bytes(b"a=1&b=2", true).unwrap();
    arguments.merge(parse_qs_bytes(b"c=3&a=4", true).unwrap());
    assert_eq!(
        pairs(&arguments),
        expect(&[("a", &[b"1", b"4"]), ("b", &[b"2"]), ("c", &[b"3"])])
    );
    assert_eq!(arguments.remove("a").len(), 2);
    assert!(!arguments.contains("a"));
    arguments.push("a", "5");
    arguments.push("c", Bytes::from_static(b"6"));
    assert_eq!(
        pairs(&arguments),
        expect(&[("b", &[b"2"]), ("c", &[b"3", b"6"]), ("a", &[b"5"])])
    );
    assert!(arguments.remove("missing").is_empty());
    assert_eq!(arguments, {
        let mut same = Arguments::new();
        same.push("b", "2");
        same.push("c", "3");
        same.push("c", "6");
        same.push("a", "5");
        same
    });
}

// ---------------------------------------------------------------- bodies by content type

#[test]
fn urlencoded_body_keeps_blanks_and_ignores_media_type_case() {
    let body = Bytes::from_static(b"name=Ada+Lovelace&empty=&flag");
    let (arguments, files) = parse_body_arguments(
        "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
        &body,
        &FormLimits::default(),
    )
    .unwrap();
    assert_eq!(
        pairs(&arguments),
        expect(&[
            ("name", &[b"Ada Lovelace"]),
            ("empty", &[b""]),
            ("flag", &[b""])
        ])
    );
    assert!(files.is_empty());
    // A value with nothing to decode is a slice of the body; a decoded one is a copy.
    let within = |value: &Bytes| {
        let start = body.as_ptr() as usize;
        (start..start + body.len()).contains(&(value.as_ptr() as usize))
    };
    let body_arguments = parse_body_arguments(
        "application/x-www-form-urlencoded",
        &body,
        &FormLimits::default(),
    )
    .unwrap()
    .0;
    assert!(!within(body_arguments.get("name").unwrap()));
    let plain = Bytes::from_static(b"plain=value");
    let (plain_arguments, _) = parse_body_arguments(
        "application/x-www-form-urlencoded",
        &plain,
        &FormLimits::default(),
    )
    .unwrap();
    let value = plain_arguments.get("plain").unwrap();
    assert_eq!(value.as_ptr(), plain[6..].as_ptr());
}

#[test]
fn files_map_api() {
    let file = |name: &str| HttpFile {
        filename: name.into(),
        content_type: "text/plain".into(),
        body: Bytes::from_static(b"x"),
    };
    let mut files = Files::new();
    files.push("b", file("1"));
    files.push("a", file("2"));
    let mut more = Files::new();
    more.push("b", file("3"));
    files.merge(more);
    let order: Vec<_> = files
        .iter()
        .map(|(name, files)| (name, files.len()))
        .collect();
    assert_eq!(order, [("b", 2), ("a", 1)]);
    assert_eq!(
        files.get("b").unwrap().filename,
        "1",
        "get is the first file"
    );
    assert!(files.contains("a"));
    assert_eq!(files.remove("a"), [file("2")]);
    assert!(!files.contains("a") && files.len() == 1 && !files.is_empty());
}

#[test]
fn other_content_types_yield_nothing() {
    for content_type in ["application/json", "", "text/plain; boundary=x"] {
        let (arguments, files) = parse_body_arguments(
            content_type,
            &Bytes::from_static(b"a=1"),
            &FormLimits::default(),
        )
        .unwrap();
        assert!(arguments.is_empty() && files.is_empty(), "{content_type}");
    }
}

#[test]
fn multipart_without_boundary_is_an_error() {
    for content_type in [
        MULTIPART,
        "multipart/form-data; charset=utf-8",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
    ] {
        let error =
            parse_body_arguments(content_type, &Bytes::new(), &FormLimits::default()).unwrap_err();
        assert_eq!(error, FormError::MissingBoundary, "{content_type}");
    }
}

// ---------------------------------------------------------------- multipart

/// What `curl -F title=Hello -F 'file=@notes.txt'` sends.
const CURL_BODY: &[u8] = b"--------------------------d74496d66958873e\r\n\
Content-Disposition: form-data; name=\"title\"\r\n\
\r\n\
Hello\r\n\
--------------------------d74496d66958873e\r\n\
Content-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n\
Content-Type: text/plain\r\n\
\r\n\
line one\r\nline two\r\n\r\n\
--------------------------d74496d66958873e--\r\n";
const CURL_BOUNDARY: &str = "------------------------d74496d66958873e";

#[test]
fn curl_body() {
    let (arguments, files) = multipart(CURL_BOUNDARY, CURL_BODY).unwrap();
    assert_eq!(pairs(&arguments), expect(&[("title", &[b"Hello"])]));
    assert_eq!(
        files.get_all("file"),
        [HttpFile {
            filename: "notes.txt".into(),
            content_type: "text/plain".into(),
            body: Bytes::from_static(b"line one\r\nline two\r\n"),
        }]
    );
}

#[test]
fn python_requests_body_with_default_file_type_and_quoted_boundary() {
    // requests.post(url, data={"a": "1"}, files={"f": ("x.bin", b"\x00\xff")}) sends a file
    // part without Content-Type; a quoted boundary parameter is unquoted.
    let body = b"--9b2c6b1a5fd0e2d1b1a8\r\n\
Content-Disposition: form-data; name=\"a\"\r\n\r\n\
1\r\n\
--9b2c6b1a5fd0e2d1b1a8\r\n\
Content-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n\r\n\
\x00\xff\r\n\
--9b2c6b1a5fd0e2d1b1a8--\r\n";
    let (arguments, files) = multipart("\"9b2c6b1a5fd0e2d1b1a8\"", body).unwrap();
    assert_eq!(arguments.get_str("a").unwrap(), Some("1"));
    let file = files.get("f").unwrap();
    assert_eq!(file.content_type, "application/unknown");
    assert_eq!(file.body.as_ref(), b"\x00\xff");
}

#[test]
fn boundary_with_equals_sign_as_javamail_sends_it() {
    let body = b"------=_Part_0_1\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n------=_Part_0_1--";
    let (arguments, _) = multipart("----=_Part_0_1", body).unwrap();
    assert_eq!(arguments.get_str("a").unwrap(), Some("1"));
}

#[test]
fn browser_body_with_unicode_filenames() {
    let body = "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n\
Content-Disposition: form-data; name=\"cv\"; filename=\"résumé 履歴書.pdf\"\r\n\
Content-Type: application/pdf\r\n\r\n\
%PDF\r\n\
------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n\
content-disposition: form-data; name=\"price\"; filename=\"fallback.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt\r\n\r\n\
1\r\n\
------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n\
Content-Disposition: form-data; name=\"quote\"; filename=\"say \\\"hi\\\".txt\"\r\n\r\n\
hi\r\n\
------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n";
    let (arguments, files) =
        multipart("----WebKitFormBoundary7MA4YWxkTrZu0gW", body.as_bytes()).unwrap();
    assert!(arguments.is_empty());
    assert_eq!(files.get("cv").unwrap().filename, "résumé 履歴書.pdf");
    assert_eq!(files.get("price").unwrap().filename, "€ rates.txt");
    assert_eq!(files.get("quote").unwrap().filename, "say \"hi\".txt");
}

#[test]
fn duplicate_names_and_empty_filenames() {
    let body = b"--b\r\n\
Content-Disposition: form-data; name=\"tag\"\r\n\r\nx\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"up\"; filename=\"1.txt\"\r\n\r\none\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"tag\"\r\n\r\ny\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"up\"; filename=\"2.txt\"\r\n\r\ntwo\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"none\"; filename=\"\"\r\n\
Content-Type: application/octet-stream\r\n\r\n\r\n\
--b--";
    let (arguments, files) = multipart("b", body).unwrap();
    assert_eq!(
        pairs(&arguments),
        expect(&[("tag", &[b"x", b"y"]), ("none", &[b""])])
    );
    let names: Vec<_> = files
        .get_all("up")
        .iter()
        .map(|file| (file.filename.as_str(), file.body.as_ref()))
        .collect();
    assert_eq!(names, [("1.txt", &b"one"[..]), ("2.txt", &b"two"[..])]);
    assert_eq!(files.len(), 1);
}

#[test]
fn file_bodies_are_slices_of_the_request_body() {
    let body = Bytes::copy_from_slice(CURL_BODY);
    let content_type = format!("{MULTIPART}; boundary={CURL_BOUNDARY}");
    let (arguments, files) =
        parse_body_arguments(&content_type, &body, &FormLimits::default()).unwrap();
    let inside = |slice: &Bytes| {
        let start = body.as_ptr() as usize;
        let at = slice.as_ptr() as usize;
        at >= start && at + slice.len() <= start + body.len()
    };
    assert!(inside(&files.get("file").unwrap().body));
    assert!(inside(arguments.get("title").unwrap()));
}

#[test]
fn framing_preamble_padding_epilogue_and_lookalike_boundaries() {
    let body = b"This is a preamble.\r\n--b \t\r\n\
Content-Disposition: form-data; name=\"a\"\r\n\
X-Ignored: folded\r\n  continuation\r\n\r\n\
1\r\n--bX\r\n--b-\r\n\r\n\r\n\x00\xff\r\n\
--b--  trailing\r\nepilogue --b\r\n";
    let (arguments, _) = multipart("b", body).unwrap();
    assert_eq!(
        arguments.get("a").unwrap().as_ref(),
        b"1\r\n--bX\r\n--b-\r\n\r\n\r\n\x00\xff"
    );
}

#[test]
fn empty_form() {
    let (arguments, files) = multipart("b", b"--b--\r\n").unwrap();
    assert!(arguments.is_empty() && files.is_empty());
}

#[test]
fn malformed_parts_are_typed_errors() {
    let part = |headers: &str| format!("--b\r\n{headers}\r\n\r\nvalue\r\n--b--\r\n");
    let cases: Vec<(Vec<u8>, FormError)> =
        vec![
        (b"no delimiter at all".to_vec(), FormError::NoFinalBoundary),
        (
            b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b\r\n".to_vec(),
            FormError::NoFinalBoundary,
        ),
        (
            b"--b\r\n\r\nvalue\r\n--b--".to_vec(),
            FormError::NotFormData,
        ),
        (
            b"--b\r\nContent-Disposition: form-data; name=a\r\nvalue\r\n--b--".to_vec(),
            FormError::MissingPartHeaders,
        ),
        (
            part("Content-Disposition: attachment; name=\"a\"").into_bytes(),
            FormError::NotFormData,
        ),
        (part("Content-Type: text/plain").into_bytes(), FormError::NotFormData),
        (
            part("Content-Disposition: form-data; filename=\"a.txt\"").into_bytes(),
            FormError::MissingPartName,
        ),
        (
            part("Content-Disposition: form-data; name=\"\"").into_bytes(),
            FormError::MissingPartName,
        ),
        (
            part("Content-Disposition: form-data; name=\"a\"\r\nno colon here").into_bytes(),
            FormError::InvalidPartHeader,
        ),
        (
            part("Content-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b")
                .into_bytes(),
            FormError::InvalidPartHeader,
        ),
        (
            part("Content-Disposition: form-data;\r\n name=a").into_bytes(),
            FormError::InvalidPartHeader,
        ),
        (
            part("Content-Disposition: form-data; name=a; filename*=UTF-8''%FF").into_bytes(),
            FormError::InvalidPartHeader,
        ),
        (
            b"--b\r\nContent-Disposition: form-data; name=\"\xff\"\r\n\r\nv\r\n--b--".to_vec(),
            FormError::InvalidPartHeader,
        ),
    ];
    for (body, expected) in cases {
        let error = multipart("b", &body).unwrap_err();
        assert_eq!(error, expected, "{}", String::from_utf8_lossy(&body));
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    }
}

fn parts(count: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for index in 0..count {
        body.extend_from_slice(
            format!("--b\r\nContent-Disposition: form-data; name=\"f{index}\"\r\n\r\n{index}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(b"--b--\r\n");
    body
}

#[test]
fn part_and_field_limits() {
    let (arguments, _) = multipart("b", &parts(FormLimits::DEFAULT_MAX_PARTS)).unwrap();
    assert_eq!(arguments.len(), 100);
    assert_eq!(
        multipart("b", &parts(FormLimits::DEFAULT_MAX_PARTS + 1)).unwrap_err(),
        FormError::TooManyParts { limit: 100 }
    );

    let mut limits = FormLimits::default();
    limits.max_fields = 3;
    let body = Bytes::from(parts(4));
    assert_eq!(
        parse_multipart_form_data(b"b", &body, &limits).unwrap_err(),
        FormError::TooManyFields { limit: 3 }
    );
}

#[test]
fn part_header_size_limit_is_exact() {
    let disposition = "Content-Disposition: form-data; name=\"a\"";
    let body = Bytes::from(format!("--b\r\n{disposition}\r\n\r\nv\r\n--b--"));
    let mut limits = FormLimits::default();
    limits.max_part_header_size = disposition.len();
    assert!(parse_multipart_form_data(b"b", &body, &limits).is_ok());
    limits.max_part_header_size = disposition.len() - 1;
    assert_eq!(
        parse_multipart_form_data(b"b", &body, &limits).unwrap_err(),
        FormError::PartHeadersTooLarge {
            limit: disposition.len() - 1
        }
    );
    // A headerless part longer than the limit is "too large", not scanned to its end.
    let huge = Bytes::from(format!("--b\r\n{}\r\n--b--", "x".repeat(100)));
    limits.max_part_header_size = 10;
    assert_eq!(
        parse_multipart_form_data(b"b", &huge, &limits).unwrap_err(),
        FormError::PartHeadersTooLarge { limit: 10 }
    );
}

#[test]
fn every_truncation_is_no_final_boundary_then_the_whole_form() {
    let full = multipart(CURL_BOUNDARY, CURL_BODY).unwrap();
    let close = format!("--{CURL_BOUNDARY}--");
    let close_end = CURL_BODY
        .windows(close.len())
        .position(|window| window == close.as_bytes())
        .unwrap()
        + close.len();
    for cut in 0..=CURL_BODY.len() {
        let result = multipart(CURL_BOUNDARY, &CURL_BODY[..cut]);
        if cut < close_end {
            assert_eq!(
                result.unwrap_err(),
                FormError::NoFinalBoundary,
                "cut at {cut}"
            );
        } else {
            assert_eq!(result.unwrap(), full, "cut at {cut}");
        }
    }
}

#[test]
fn corrupted_bodies_never_panic() {
    // Overwrite, delete and duplicate every byte with bytes that matter to the framing; any
    // result is fine as long as it is a result. Files must stay within the body.
    let body = CURL_BODY;
    let mut outcomes = [0usize; 2];
    for at in 0..body.len() {
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for byte in [b'\r', b'\n', b'-', b'"', b';', b'=', b':', b' ', 0, 0xff] {
            let mut changed = body.to_vec();
            changed[at] = byte;
            variants.push(changed);
        }
        let mut deleted = body.to_vec();
        deleted.remove(at);
        variants.push(deleted);
        let mut doubled = body.to_vec();
        doubled.insert(at, body[at]);
        variants.push(doubled);
        for variant in variants {
            let bytes = Bytes::from(variant);
            let content_type = format!("{MULTIPART}; boundary={CURL_BOUNDARY}");
            match parse_body_arguments(&content_type, &bytes, &FormLimits::default()) {
                Ok((_, files)) => {
                    outcomes[0] += 1;
                    for (_, files) in files.iter() {
                        for file in files {
                            assert!(file.body.len() <= bytes.len());
                        }
                    }
                }
                Err(error) => {
                    outcomes[1] += 1;
                    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
                }
            }
        }
    }
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}

// ---------------------------------------------------------------- cookies

fn cookie_pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

#[test]
fn parse_cookie_is_as_lenient_as_tornado() {
    // Cases from Tornado's ParseCookieTest (after Django's).
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "chips=ahoy; vienna=finger",
            &[("chips", "ahoy"), ("vienna", "finger")],
        ),
        (
            r#"keebler="E=mc2; L=\"Loves\"; fudge=\012;""#,
            &[
                ("keebler", "\"E=mc2"),
                ("L", r#"\"Loves\""#),
                ("fudge", r"\012"),
                ("", "\""),
            ],
        ),
        ("keebler=E=mc2", &[("keebler", "E=mc2")]),
        ("key:term=value:term", &[("key:term", "value:term")]),
        (
            "a=b; c=[; d=r; f=h",
            &[("a", "b"), ("c", "["), ("d", "r"), ("f", "h")],
        ),
        ("", &[]),
        ("   ;  ; ", &[]),
        ("  a  =  b  ", &[("a", "b")]),
        ("lonely", &[("", "lonely")]),
        ("a=1; b=2; a=3", &[("a", "3"), ("b", "2")]),
        ("a=", &[("a", "")]),
    ];
    for (header, expected) in cases {
        assert_eq!(parse_cookie(header), cookie_pairs(expected), "{header}");
    }
}

#[test]
fn quoted_cookie_values_unquote_like_python() {
    // Checked against Python 3.11's http.cookies._unquote.
    let cases = [
        (r#"a="\101\"b\\c""#, "A\"b\\c"),
        (r#"a="\400""#, "400"),
        (r#"a="a\""#, "a\\"),
        ("a=\"\\\n\"", "\\\n"),
        (r#"a="""#, ""),
        (r#"a=""#, "\""),
        (r#"a="x"y"#, "\"x\"y"),
    ];
    for (header, value) in cases {
        assert_eq!(
            parse_cookie(header),
            cookie_pairs(&[("a", value)]),
            "{header}"
        );
    }
}

#[test]
fn set_cookie_writes_every_attribute() {
    let header = SetCookie::new("__Host-sid", "\"a1|b2=\"")
        .path("/")
        .expires(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .max_age(Duration::from_millis(86_400_999))
        .secure(true)
        .http_only(true)
        .same_site(SameSite::None)
        .partitioned(true)
        .to_header_value()
        .unwrap();
    assert_eq!(
        header,
        "__Host-sid=\"a1|b2=\"; Path=/; Expires=Tue, 14 Nov 2023 22:13:20 GMT; Max-Age=86400; \
         Secure; HttpOnly; SameSite=None; Partitioned"
    );
    assert_eq!(
        SetCookie::new("theme", "")
            .domain(".example.com")
            .max_age(Duration::ZERO)
            .same_site(SameSite::Strict)
            .to_header_value()
            .unwrap(),
        "theme=; Domain=.example.com; Max-Age=0; SameSite=Strict"
    );
    assert_eq!(SetCookie::new("a", "b").to_header_value().unwrap(), "a=b");
    let cookie = SetCookie::new("n", "v").same_site(SameSite::Lax);
    assert_eq!((cookie.name(), cookie.value()), ("n", "v"));
    assert_eq!(cookie.to_header_value().unwrap(), "n=v; SameSite=Lax");
}

#[test]
fn set_cookie_round_trips_through_parse_cookie() {
    let value = "2|1:0|10:1700000000|3:sid|8:YWJjZA==|0123abcd";
    let header = SetCookie::new("sid", value).to_header_value().unwrap();
    assert_eq!(parse_cookie(&header), cookie_pairs(&[("sid", value)]));
}

#[test]
fn set_cookie_rejects_what_would_break_the_header() {
    for name in [
        "",
        "a b",
        "a;b",
        "a,b",
        "a=b",
        "a\tb",
        "a\u{7f}",
        "caf\u{e9}",
        "(a)",
    ] {
        assert_eq!(
            SetCookie::new(name, "v").to_header_value().unwrap_err(),
            CookieError::InvalidName(name.into())
        );
    }
    for value in [
        "a b", "a;b", "a,b", "a\"b", "a\\b", "\u{e9}", "a\nb", "\"", "\"a\"b\"",
    ] {
        assert_eq!(
            SetCookie::new("n", value).to_header_value().unwrap_err(),
            CookieError::InvalidValue(value.into()),
            "{value:?}"
        );
    }
    assert_eq!(
        SetCookie::new("n", "v")
            .domain("example.com; Secure")
            .to_header_value()
            .unwrap_err(),
        CookieError::InvalidAttribute {
            attribute: "Domain",
            value: "example.com; Secure".into()
        }
    );
    assert_eq!(
        SetCookie::new("n", "v")
            .path("/a\r\nX: y")
            .to_header_value()
            .unwrap_err(),
        CookieError::InvalidAttribute {
            attribute: "Path",
            value: "/a\r\nX: y".into()
        }
    );
}

#[test]
fn set_cookie_enforces_what_browsers_require() {
    let insecure = [
        SetCookie::new("n", "v").same_site(SameSite::None),
        SetCookie::new("n", "v").partitioned(true),
        SetCookie::new("__Secure-n", "v"),
        SetCookie::new("__secure-n", "v"),
        SetCookie::new("__Host-n", "v").path("/"),
    ];
    for cookie in insecure {
        assert_eq!(
            cookie.to_header_value().unwrap_err(),
            CookieError::SecureRequired(cookie.name().into())
        );
        assert!(cookie.secure(true).to_header_value().is_ok());
    }
    for cookie in [
        SetCookie::new("__Host-n", "v").secure(true),
        SetCookie::new("__Host-n", "v").secure(true).path("/a"),
        SetCookie::new("__HOST-n", "v")
            .secure(true)
            .path("/")
            .domain("example.com"),
    ] {
        assert_eq!(
            cookie.to_header_value().unwrap_err(),
            CookieError::HostPrefixViolated(cookie.name().into())
        );
    }
}

// ---------------------------------------------------------------- URLs and dates

#[test]
fn url_concat_matches_tornado() {
    let args = [("y", "y"), ("z", "z")];
    let cases = [
        ("https://localhost/path", "https://localhost/path?y=y&z=z"),
        (
            "https://localhost/path?x",
            "https://localhost/path?x=&y=y&z=z",
        ),
        (
            "https://localhost/path?x&",
            "https://localhost/path?x=&y=y&z=z",
        ),
        (
            "https://localhost/path?a=1&b=2",
            "https://localhost/path?a=1&b=2&y=y&z=z",
        ),
        (
            "https://localhost/path#tag",
            "https://localhost/path?y=y&z=z#tag",
        ),
        (
            "https://localhost/path?x#tag?q",
            "https://localhost/path?x=&y=y&z=z#tag?q",
        ),
        ("https://localhost/path?#", "https://localhost/path?y=y&z=z"),
    ];
    for (url, expected) in cases {
        assert_eq!(url_concat(url, args), expected, "{url}");
    }
    let none: [(&str, &str); 0] = [];
    assert_eq!(
        url_concat("https://localhost/path?r=1&t=2", none),
        "https://localhost/path?r=1&t=2"
    );
    assert_eq!(
        url_concat("https://localhost/path?", none),
        "https://localhost/path"
    );
    // Python's urlencode: quote_plus with only letters, digits and "_.-~" safe.
    assert_eq!(
        url_concat("/p?q=a%20b+c", [("a b&c=d/é~*_.-", "x y"), ("y", "z")]),
        "/p?q=a+b+c&a+b%26c%3Dd%2F%C3%A9~%2A_.-=x+y&y=z"
    );
    assert_eq!(
        url_concat("/p", [(b"k".to_vec(), b"\xff".to_vec())]),
        "/p?k=%FF"
    );
}

#[test]
fn split_host_and_port_matches_tornado() {
    let cases = [
        ("example.com:8888", ("example.com", Some(8888))),
        ("example.com", ("example.com", None)),
        ("[::1]:80", ("[::1]", Some(80))),
        ("[::1]", ("[::1]", None)),
        ("::1", (":", Some(1))),
        ("a:1:2", ("a:1", Some(2))),
        ("example.com:", ("example.com:", None)),
        (":80", (":80", None)),
        ("example.com:12a", ("example.com:12a", None)),
        ("example.com:99999", ("example.com:99999", None)),
        ("example.com:065535", ("example.com", Some(65535))),
    ];
    for (netloc, expected) in cases {
        assert_eq!(split_host_and_port(netloc), expected, "{netloc}");
    }
}

#[test]
fn format_timestamp_writes_imf_fixdate() {
    let at = |seconds| UNIX_EPOCH + Duration::from_secs(seconds);
    assert_eq!(format_timestamp(at(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(
        format_timestamp(at(784_111_777)),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );
    assert_eq!(
        format_timestamp(at(951_782_400)),
        "Tue, 29 Feb 2000 00:00:00 GMT"
    );
    assert_eq!(
        format_timestamp(at(1_700_000_000) + Duration::from_millis(999)),
        "Tue, 14 Nov 2023 22:13:20 GMT"
    );
    assert_eq!(
        format_timestamp(UNIX_EPOCH - Duration::from_secs(86_400)),
        "Thu, 01 Jan 1970 00:00:00 GMT"
    );
}

#[test]
fn every_form_error_is_a_bad_request() {
    let errors = [
        FormError::TooManyFields { limit: 1 },
        FormError::TooManyParts { limit: 1 },
        FormError::PartHeadersTooLarge { limit: 1 },
        FormError::MissingBoundary,
        FormError::NoFinalBoundary,
        FormError::MissingPartHeaders,
        FormError::InvalidPartHeader,
        FormError::NotFormData,
        FormError::MissingPartName,
        FormError::InvalidUtf8 { name: "a".into() },
    ];
    for error in errors {
        assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{error}");
    }
}
