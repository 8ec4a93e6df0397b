//! What some tests need from outside the repository (Python's Tornado to compare against,
//! Python's `http.server`, the IPv6 loopback, a browser), found in one place with one rule:
//!
//! - outside CI, a test whose dependency is missing prints why and what to install, and
//!   returns early (a developer's machine need not have everything);
//! - under CI (`CI=true`), it fails with that message instead: CI must never pass by
//!   skipping, so that a green run means every comparison really ran. `.ci/run` installs
//!   what these need.
//!
//! `web/tests/escape.rs` includes this file by path, so keep it free of other support
//! modules.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The Tornado versions the comparisons are written against.
pub const TORNADO_REQUIREMENT: &str = "tornado>=6.5,<7";

/// Whether this run is CI's (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// Reports that `what` is missing and how to `install` it: under CI a failure, otherwise a
/// line on stderr and `None`, for the test to return early.
#[track_caller]
pub fn missing<T>(what: &str, install: &str) -> Option<T> {
    if in_ci() {
        panic!("{what} is missing; {install}. CI=true: a test may not pass by skipping");
    }
    eprintln!("skipped: {what} is missing; {install}");
    None
}

/// The Python interpreters to try, in order: `$CYCLONE_PYTHON` (set by `.ci/run` to its
/// virtual environment's), `$CYCLONE_TORNADO_PYTHON` (the older name), then `python3`.
fn pythons() -> Vec<String> {
    ["CYCLONE_PYTHON", "CYCLONE_TORNADO_PYTHON"]
        .iter()
        .filter_map(|variable| std::env::var(variable).ok())
        .filter(|python| !python.is_empty())
        .chain(["python3".to_owned()])
        .collect()
}

/// Whether `python` runs `code` successfully.
fn runs(python: &str, code: &str) -> bool {
    Command::new(python)
        .args(["-c", code])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A Python with Tornado 6.5 or newer importable, for the tests that compare cyclone's bytes
/// with Tornado's (signed values, `tornado.escape`).
#[track_caller]
pub fn require_python_tornado() -> Option<String> {
    require_python_with(
        "import tornado, tornado.web, tornado.escape; \
         assert tornado.version_info >= (6, 5), tornado.version",
        "a Python with Tornado 6.5+",
        TORNADO_REQUIREMENT,
    )
}

/// The first Python that runs `check`, or [`missing`] `what`, installed with pip's
/// `requirement`.
#[track_caller]
fn require_python_with(check: &str, what: &str, requirement: &str) -> Option<String> {
    pythons()
        .into_iter()
        .find(|python| runs(python, check))
        .or_else(|| {
            missing(
                what,
                &format!(
                    "`python3 -m venv venv && venv/bin/pip install '{requirement}'`, \
                     then CYCLONE_PYTHON=venv/bin/python (.ci/run does this)"
                ),
            )
        })
}

/// A Python 3 (for `python3 -m http.server`).
#[track_caller]
pub fn require_python() -> Option<String> {
    pythons()
        .into_iter()
        .find(|python| runs(python, "import http.server"))
        .or_else(|| missing("python3", "install python3 (`apt-get install -y python3`)"))
}

/// Whether this host can listen on the IPv6 loopback `::1`.
#[track_caller]
pub fn require_ipv6_loopback() -> Option<()> {
    match std::net::TcpListener::bind("[::1]:0") {
        Ok(_) => Some(()),
        Err(error) => missing(
            &format!("the IPv6 loopback ::1 ({error})"),
            "enable IPv6 on lo (`sysctl -w net.ipv6.conf.lo.disable_ipv6=0`; in Docker, \
             run with `--sysctl net.ipv6.conf.all.disable_ipv6=0`)",
        ),
    }
}

/// An executable: `$variable` if set, else the first of `candidates` that exists.
#[track_caller]
pub fn require_binary(variable: &str, candidates: &[&str], install: &str) -> Option<PathBuf> {
    let found = match std::env::var_os(variable) {
        Some(path) => Some(PathBuf::from(path)).filter(|path| path.is_file()),
        None => candidates
            .iter()
            .map(PathBuf::from)
            .find(|path| path.is_file()),
    };
    found.or_else(|| {
        missing(
            &format!("{} (or ${variable})", candidates.first().unwrap_or(&"")),
            install,
        )
    })
}

/// The `httpx` versions the HTTP/2 interoperability test is written against, with its `h2`
/// extra (Python's HTTP/2 library, which the test also drives directly).
pub const HTTPX_REQUIREMENT: &str = "httpx[http2]>=0.27";

/// A Python with `httpx` and `h2` importable: an HTTP/2 client (ALPN over TLS, or prior
/// knowledge) and the HTTP/2 state machine under it, to interoperate with.
#[track_caller]
pub fn require_python_httpx() -> Option<String> {
    require_python_with(
        "import httpx, h2.connection",
        "a Python with httpx and h2",
        HTTPX_REQUIREMENT,
    )
}

/// The `websockets` versions the interoperability test is written against (its asyncio client
/// appeared in 13).
pub const WEBSOCKETS_REQUIREMENT: &str = "websockets>=13";

/// A Python with the `websockets` library (13 or newer) importable: a WebSocket client with
/// its own permessage-deflate offers, to interoperate with.
#[track_caller]
pub fn require_python_websockets() -> Option<String> {
    require_python_with(
        "import websockets.asyncio.client",
        "a Python with the websockets library (13+)",
        WEBSOCKETS_REQUIREMENT,
    )
}
