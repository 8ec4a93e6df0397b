//! The checks behind cyclone's fuzz targets: one module per parser that reads bytes from the
//! network or from a user, each with a `check(data)` that must not panic for any input.
//!
//! The libFuzzer targets in `fuzz_targets/` are one line each: they call these functions. The
//! workspace's `tests/fuzz_corpus.rs` includes this file too (`#[path]`) and calls the same
//! functions on every file under `corpus/`, so that CI replays the corpora on stable Rust,
//! deterministically, without cargo-fuzz.
//!
//! A check panics (an assertion) when an invariant breaks; libFuzzer reports that as a crash:
//!
//! - decoders fed the same bytes in other pieces (split at points the input chooses, and byte
//!   by byte) produce the same events and the same error ([`feed`]);
//! - limits hold (no body past `max_body_size`, no message past `max_message_size`, inflation
//!   within its memory budget, measured by [`alloc`]);
//! - resolvers never leave their root (static files, templates), joins and redirects never
//!   change the host they were given;
//! - what is encoded decodes back to itself;
//! - what cyclone reads from a client, Tornado would read the same way (XSRF tokens).
//!
//! Everything here uses only crates the workspace's tests already depend on.

#![deny(unsafe_code)]
#![allow(clippy::missing_panics_doc)]

pub mod alloc;
pub mod cookie;
pub mod escape;
pub mod feed;
pub mod h1;
pub mod host;
pub mod http_chunked;
pub mod http_request;
pub mod http_response;
pub mod input;
pub mod multipart;
pub mod routing;
pub mod signed_value;
pub mod static_path;
pub mod template_path;
pub mod tree;
pub mod urlencoded;
pub mod urljoin;
pub mod websocket_deflate;
pub mod websocket_extensions;
pub mod websocket_frames;
pub mod xsrf_token;

/// A target's check: panics if an invariant breaks for this input.
pub type Check = fn(&[u8]);

/// Every target: its name (the folder under `corpus/`, the binary in `fuzz_targets/`) and its
/// check. `run.sh` and the replay test walk this list.
pub const TARGETS: &[(&str, Check)] = &[
    ("http_request", http_request::check),
    ("http_chunked", http_chunked::check),
    ("http_response", http_response::check),
    ("websocket_frames", websocket_frames::check),
    ("websocket_deflate", websocket_deflate::check),
    ("websocket_extensions", websocket_extensions::check),
    ("multipart", multipart::check),
    ("urlencoded", urlencoded::check),
    ("cookie", cookie::check),
    ("signed_value", signed_value::check),
    ("host", host::check),
    ("routing", routing::check),
    ("urljoin", urljoin::check),
    ("template_path", template_path::check),
    ("static_path", static_path::check),
    ("xsrf_token", xsrf_token::check),
    ("escape", escape::check),
];
