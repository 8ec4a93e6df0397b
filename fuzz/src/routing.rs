//! Routing: Tornado-style path patterns compiled into a `Router` (with its literal and prefix
//! fast paths), request paths matched against them, and `reverse_url`. The fast paths agree
//! with the plain regex they stand for, and a reversed literal route routes back to itself.

use cyclone_protocol::server::HttpResponse;
use cyclone_web::{Application, Router, function, url};
use regex::Regex;

use super::input::Input;

/// Patterns longer than this are not compiled (regex compilation, not routing, would be what
/// the fuzzer measures).
const MAX_PATTERN: usize = 64;

/// `body` as Python's `re` (Tornado's) reads it, in the regex crate's syntax: `\<` and `\>` are
/// the characters (the regex crate's word boundaries), `\Z` is the end of text (`\z`). Written
/// apart from the router's own reading (`routing::matcher`), so that it checks it.
fn as_python_reads(body: &str) -> String {
    let mut read = String::with_capacity(body.len());
    let mut after_backslash = false;
    for character in body.chars() {
        match (after_backslash, character) {
            (false, '\\') => {
                after_backslash = true;
                continue;
            }
            (false, _) | (true, '<' | '>') => read.push(character),
            (true, 'Z') => read.push_str("\\z"),
            (true, _) => {
                read.push('\\');
                read.push(character);
            }
        }
        after_backslash = false;
    }
    if after_backslash {
        read.push('\\');
    }
    read
}

/// Compiles the input's pattern, matches its paths, and reverses its name.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let pattern = input.text_until(0);
    if pattern.len() > MAX_PATTERN {
        return;
    }
    let target = || function(|_, _| async { HttpResponse::ok() });
    let Ok(router) = Router::new([url(pattern.clone(), target())]) else {
        return;
    };
    let body = pattern.strip_prefix('^').unwrap_or(&pattern);
    let body = body.strip_suffix('$').unwrap_or(body);
    let reference = Regex::new(&format!("^(?:{})$", as_python_reads(body))).ok();

    let mut paths = Vec::new();
    while !input.rest().is_empty() && paths.len() < 8 {
        paths.push(input.text_until(0));
    }
    for path in &paths {
        // A request path never holds a newline (the target grammar refuses it), and `.` in
        // the reference would refuse it where the prefix fast path does not.
        if path.contains('\n') {
            continue;
        }
        let routed = router.matches(path);
        if let Some(reference) = &reference {
            assert_eq!(
                routed,
                reference.is_match(path),
                "pattern {pattern:?} on path {path:?}: the router and its regex disagree"
            );
        }
    }

    let Ok(app) = Application::new([url(pattern.clone(), target()).name("rule")]) else {
        return;
    };
    let arguments: Vec<&str> = paths.iter().map(String::as_str).collect();
    for count in 0..=arguments.len().min(3) {
        if let Ok(reversed) = app.reverse_url("rule", &arguments[..count]) {
            if count == 0 && !reversed.contains('\n') {
                assert!(
                    router.matches(&reversed),
                    "reverse_url of {pattern:?} gave {reversed:?}, which it does not route"
                );
            }
            // Arguments are percent-encoded: only the pattern's own text can bring these in.
            if !pattern.contains(['\r', '\n', ' ', '?', '#']) {
                assert!(
                    !reversed.contains(['\r', '\n', ' ', '?', '#']),
                    "reverse_url({pattern:?}, {:?}) gave {reversed:?}",
                    &arguments[..count]
                );
            }
        }
    }
}
