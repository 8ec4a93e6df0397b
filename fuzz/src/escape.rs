//! Tornado's `tornado.escape` as cyclone has it: what is escaped unescapes back to itself (HTML,
//! URLs with and without `plus`, JSON), escaped HTML holds no markup, `linkify` writes only its
//! own `<a>` tags around escaped text whatever its options, and `squeeze` leaves one space
//! between words and is idempotent. Unescaping any text never fails.

use cyclone_web::escape::{
    ExtraParams, LinkifyOptions, json_decode, json_encode, linkify_with, squeeze, url_escape,
    url_unescape, url_unescape_bytes, xhtml_escape, xhtml_unescape,
};

use super::input::Input;

/// Runs every function on the text the input holds; the first byte picks `linkify`'s options.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let options = input.byte();
    let text = String::from_utf8_lossy(input.rest()).into_owned();

    let escaped = xhtml_escape(&text);
    assert!(
        !escaped.contains(['<', '>', '"', '\'']),
        "markup left in {escaped:?}"
    );
    assert_eq!(xhtml_unescape(&escaped), text, "HTML round trip");
    let _ = xhtml_unescape(&text);

    for plus in [true, false] {
        let encoded = url_escape(&text, plus);
        assert!(
            encoded
                .bytes()
                .all(|byte| byte.is_ascii_graphic() && byte != b'&' && byte != b'#'),
            "{encoded:?}"
        );
        assert_eq!(
            url_unescape(&encoded, plus),
            text,
            "URL round trip, plus {plus}"
        );
        let _ = url_unescape_bytes(&text, plus);
    }

    if let Ok(json) = json_encode(&text) {
        assert!(json.is_ascii(), "{json:?}");
        assert!(!json.contains("</"), "{json:?} ends a <script>");
        let back: String = json_decode(&json).unwrap_or_else(|error| panic!("{json:?}: {error}"));
        assert_eq!(back, text, "JSON round trip");
    }
    let _ = json_decode::<serde_json::Value>(text.as_bytes());

    let squeezed = squeeze(&text);
    assert!(!squeezed.contains("  "), "{squeezed:?}");
    assert!(
        !squeezed.chars().any(|c| c < ' '),
        "a control character left in {squeezed:?}"
    );
    assert_eq!(squeeze(&squeezed), squeezed, "squeeze is not idempotent");

    let linkify_options = LinkifyOptions {
        shorten: options & 1 == 1,
        extra_params: if options & 2 == 2 {
            ExtraParams::Fixed("rel=\"nofollow\" class=\"x\"".to_owned())
        } else {
            ExtraParams::None
        },
        require_protocol: options & 4 == 4,
        permitted_protocols: if options & 8 == 8 {
            vec!["http".to_owned(), "https".to_owned(), "ftp".to_owned()]
        } else {
            LinkifyOptions::default().permitted_protocols
        },
    };
    let linked = linkify_with(&text, &linkify_options);
    assert_only_links(&linked);
}

/// `html` is escaped text with `<a ...>` and `</a>` tags around parts of it, nothing else.
fn assert_only_links(html: &str) {
    let mut rest = html;
    let mut open = false;
    while let Some(at) = rest.find('<') {
        let tag = &rest[at..];
        if !open && tag.starts_with("<a href=\"") {
            let end = tag
                .find('>')
                .unwrap_or_else(|| panic!("an unclosed tag in {html:?}"));
            assert!(
                !tag[1..end].contains('<'),
                "markup inside a tag in {html:?}"
            );
            open = true;
            rest = &tag[end + 1..];
        } else if open && tag.starts_with("</a>") {
            open = false;
            rest = &tag[4..];
        } else {
            panic!("markup linkify did not write in {html:?}");
        }
    }
    assert!(!open, "a link left open in {html:?}");
}
