//! `cyclone_web::escape`: Tornado's `tornado.escape`, by example, by property (round trips) and,
//! when a Python with Tornado is at hand, byte for byte against Tornado itself.

/// The workspace's rule for outside dependencies (CI fails where a developer's run skips).
#[allow(dead_code)]
#[path = "../../tests/support/deps.rs"]
mod deps;

use std::process::Command;

use cyclone_web::escape::{
    ExtraParams, LinkifyOptions, json_decode, json_encode, linkify, linkify_with, squeeze,
    url_escape, url_unescape, url_unescape_bytes, xhtml_escape, xhtml_unescape,
};
use proptest::prelude::*;

#[test]
fn xhtml_escape_and_unescape() {
    assert_eq!(
        xhtml_escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#x27;Jerry&#x27;&lt;/a&gt;"
    );
    assert_eq!(xhtml_unescape("&amp;&lt;&gt;&quot;&#39;"), "&<>\"'");
    assert_eq!(
        xhtml_unescape("&copy; &#169; &#xA9; &#Xa9; &copy"),
        "© © © © ©"
    );
    // HTML5's rules: the longest known name, replaced and dropped numbers.
    assert_eq!(
        xhtml_unescape("&notit; &#128; &#0; &#xD800; &#99999999; &#1;"),
        "¬it; € \u{fffd} \u{fffd} \u{fffd} "
    );
    // Unknown names and bare ampersands stay as written.
    assert_eq!(xhtml_unescape("&nosuch; & &;"), "&nosuch; & &;");
    assert_eq!(xhtml_unescape("&apos;"), "'");
}

#[test]
fn url_escape_with_and_without_plus() {
    assert_eq!(
        url_escape("a b&c=d/é~_.-", true),
        "a+b%26c%3Dd%2F%C3%A9~_.-"
    );
    assert_eq!(
        url_escape("a b&c=d/é~_.-", false),
        "a%20b%26c%3Dd/%C3%A9~_.-"
    );
    assert_eq!(url_unescape("a+b%26c%3Dd%2F%C3%A9", true), "a b&c=d/é");
    assert_eq!(url_unescape("a+b%20c", false), "a+b c");
    // Bad escapes stay; bytes that are not UTF-8 become U+FFFD (or stay bytes).
    assert_eq!(url_unescape("100%zz%4", true), "100%zz%4");
    assert_eq!(url_unescape("%ff", true), "\u{fffd}");
    assert_eq!(url_unescape_bytes("%ff+", true), vec![0xff, b' ']);
}

#[test]
fn json_encode_as_python_writes_it() {
    let value = serde_json::json!({"b": [1, 2.5, null, true], "a": "</script>\u{e9}\u{1f600}\n"});
    assert_eq!(
        json_encode(&value).unwrap(),
        r#"{"a": "<\/script>\u00e9\ud83d\ude00\n", "b": [1, 2.5, null, true]}"#
    );
    let back: serde_json::Value = json_decode(json_encode(&value).unwrap()).unwrap();
    assert_eq!(back, value);
    assert!(json_decode::<serde_json::Value>("{nope").is_err());
}

#[test]
fn squeeze_collapses_whitespace_and_controls() {
    assert_eq!(squeeze("  a \t\n b\x00\x01c  "), "a b c");
    assert_eq!(squeeze(""), "");
}

#[test]
fn linkify_with_tornados_options() {
    assert_eq!(
        linkify("Hello http://tornadoweb.org!"),
        r#"Hello <a href="http://tornadoweb.org">http://tornadoweb.org</a>!"#
    );
    assert_eq!(linkify("javascript:alert(1)"), "javascript:alert(1)");
    assert_eq!(
        linkify("(see www.example.com/a_(b))"),
        r#"(see <a href="http://www.example.com/a_(b)">www.example.com/a_(b)</a>)"#
    );
    let require = LinkifyOptions {
        require_protocol: true,
        ..LinkifyOptions::default()
    };
    assert_eq!(linkify_with("www.example.com", &require), "www.example.com");
    let ftp = LinkifyOptions {
        permitted_protocols: vec!["ftp".into()],
        ..LinkifyOptions::default()
    };
    assert_eq!(
        linkify_with("ftp://a.example/x http://b.example", &ftp),
        r#"<a href="ftp://a.example/x">ftp://a.example/x</a> http://b.example"#
    );
    let per_url = LinkifyOptions {
        extra_params: ExtraParams::PerUrl(std::sync::Arc::new(|url: &str| {
            if url.starts_with("http://local") {
                String::new()
            } else {
                r#"rel="nofollow""#.to_owned()
            }
        })),
        ..LinkifyOptions::default()
    };
    assert_eq!(
        linkify_with("http://localhost/x http://far.example", &per_url),
        r#"<a href="http://localhost/x" >http://localhost/x</a> <a href="http://far.example" rel="nofollow">http://far.example</a>"#
    );
    let shorten = LinkifyOptions {
        shorten: true,
        ..LinkifyOptions::default()
    };
    assert_eq!(
        linkify_with(
            "http://www.example.com/a-very-long-path-segment/and/more?query=1&other=2",
            &shorten
        ),
        r#"<a href="http://www.example.com/a-very-long-path-segment/and/more?query=1&amp;other=2" title="http://www.example.com/a-very-long-path-segment/and/more?query=1&amp;other=2">http://www.example.com/a-very-l...</a>"#
    );
}

proptest! {
    #[test]
    fn xhtml_unescape_undoes_xhtml_escape(text in any::<String>()) {
        prop_assert_eq!(xhtml_unescape(&xhtml_escape(&text)), text);
    }

    #[test]
    fn escaped_html_has_no_markup(text in any::<String>()) {
        let escaped = xhtml_escape(&text);
        prop_assert!(!escaped.contains(['<', '>', '"', '\'']));
    }

    #[test]
    fn url_unescape_undoes_url_escape(text in any::<String>(), plus in any::<bool>()) {
        let escaped = url_escape(&text, plus);
        prop_assert!(escaped.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"%+/_.-~".contains(&byte)));
        prop_assert_eq!(url_unescape(&escaped, plus), text);
    }

    #[test]
    fn json_decode_undoes_json_encode(text in any::<String>(), number in any::<i64>()) {
        let value = serde_json::json!({"text": text, "number": number, "list": [text.clone()]});
        let encoded = json_encode(&value).unwrap();
        prop_assert!(encoded.is_ascii());
        prop_assert!(!encoded.contains("</"));
        let decoded: serde_json::Value = json_decode(&encoded).unwrap();
        prop_assert_eq!(decoded, value);
    }

    #[test]
    fn squeeze_leaves_no_runs(text in any::<String>()) {
        let squeezed = squeeze(&text);
        prop_assert!(!squeezed.contains("  "));
        prop_assert!(!squeezed.chars().any(|c| c < ' '));
    }

    #[test]
    fn linkify_output_unescapes_to_plain_text_outside_tags(text in "[a-z :/.&<>\"'()]{0,40}") {
        // Whatever the input, the output is the escaped text with links around URLs: taking
        // the tags away and unescaping gives the text back.
        let linked = linkify(&text);
        let without_tags = regex::Regex::new(r"<a [^>]*>|</a>").unwrap().replace_all(&linked, "");
        prop_assert_eq!(xhtml_unescape(&without_tags), text);
    }
}

#[test]
fn outputs_match_python_tornado() {
    let Some(python) = deps::require_python_tornado() else {
        return;
    };
    let inputs = [
        "plain",
        "<b>\"quoted\" & 'single'</b>",
        "é ü 中文 😀 spaces\tand\nnewlines",
        "&amp; &lt; &copy; &#39; &#x27; &nosuch; &#0; &#65;",
        "visit http://example.com/path?a=1&b=2, or www.example.org.",
        "https://very.long.example.com/with/a/long/path/segment-and-more/stuff?x=1&y=2#frag",
        "(http://example.com/wiki/Foo_(bar)) ftp://files.example.com mailto:x@example.com",
        "a+b c%20d%zz/%2F",
        "  lots   of \x00 white \x1f space  ",
    ];
    let script = r#"
import json, sys
from tornado import escape
for line in sys.stdin.read().split("\n"):
    value = json.loads(line)
    print(json.dumps([
        escape.xhtml_escape(value),
        escape.xhtml_unescape(value),
        escape.url_escape(value),
        escape.url_escape(value, plus=False),
        escape.url_unescape(value),
        escape.url_unescape(value, plus=False),
        escape.json_encode(value),
        escape.squeeze(value),
        escape.linkify(value),
        escape.linkify(value, shorten=True, extra_params='rel="nofollow"'),
        escape.linkify(value, require_protocol=True, permitted_protocols=["http", "ftp"]),
    ]))
"#;
    let stdin: Vec<String> = inputs
        .iter()
        .map(|input| serde_json::to_string(input).unwrap())
        .collect();
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        stdin.join("\n").as_bytes(),
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let lines = String::from_utf8(output.stdout).unwrap();
    let shorten = LinkifyOptions {
        shorten: true,
        extra_params: ExtraParams::Fixed(r#"rel="nofollow""#.into()),
        ..LinkifyOptions::default()
    };
    let strict = LinkifyOptions {
        require_protocol: true,
        permitted_protocols: vec!["http".into(), "ftp".into()],
        ..LinkifyOptions::default()
    };
    for (input, line) in inputs.iter().zip(lines.lines()) {
        let expected: Vec<String> = serde_json::from_str(line).unwrap();
        let ours = vec![
            xhtml_escape(input),
            xhtml_unescape(input),
            url_escape(input, true),
            url_escape(input, false),
            url_unescape(input, true),
            url_unescape(input, false),
            json_encode(input).unwrap(),
            squeeze(input),
            linkify(input),
            linkify_with(input, &shorten),
            linkify_with(input, &strict),
        ];
        assert_eq!(ours, expected, "input {input:?}");
    }
}
