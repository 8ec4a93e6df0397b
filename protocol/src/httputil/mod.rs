//! Tornado's `httputil` parsing helpers without I/O: a request's arguments (query string,
//! urlencoded and multipart bodies), uploaded files, cookies, and the URL and date helpers
//! Tornado users expect.
//!
//! # Layout
//!
//! - [`Arguments`]: ordered `name -> [raw bytes]`, Tornado's `request.arguments`;
//!   [`Files`] of [`HttpFile`]s, Tornado's `request.files`.
//! - [`parse_qs_bytes`] (query strings), [`parse_body_arguments`] (a body by its content
//!   type), [`parse_multipart_form_data`].
//! - [`parse_cookie`] reads a `Cookie` header; [`SetCookie`] writes a `Set-Cookie` value.
//! - [`url_concat`], [`split_host_and_port`], [`format_timestamp`].
//! - [`FormError`] and [`CookieError`]; [`FormError::status`] maps each parse error to its
//!   answer.
//!
//! Everything works on a whole query string or body in memory: the codec has already bounded
//! its size (`h1::Limits::max_body_size`), and file bodies are [`bytes::Bytes`] slices of it.
//!
//! # Example
//!
//! A request's arguments, built the way Tornado builds `request.arguments`: the query's, then
//! the body's.
//!
//! ```
//! use bytes::Bytes;
//! use cyclone_protocol::httputil::{FormLimits, parse_body_arguments, parse_qs_bytes_with_limits};
//!
//! let limits = FormLimits::default();
//! let query_arguments = parse_qs_bytes_with_limits(b"page=2&tag=rust", true, &limits)?;
//! let body = Bytes::from_static(b"tag=tornado&comment=hi+there");
//! let (body_arguments, files) =
//!     parse_body_arguments("application/x-www-form-urlencoded", &body, &limits)?;
//!
//! let mut arguments = query_arguments.clone();
//! arguments.merge(body_arguments);
//! assert_eq!(arguments.get_all_str("tag")?, ["rust", "tornado"]);
//! assert_eq!(arguments.get_str("comment")?, Some("hi there"));
//! assert!(files.is_empty());
//! # Ok::<(), cyclone_protocol::httputil::FormError>(())
//! ```
//!
//! # Limits and defaults
//!
//! | Limit ([`FormLimits`]) | Default | Error |
//! |---|---|---|
//! | `max_fields` (argument values per parse) | 1 000 | [`FormError::TooManyFields`] |
//! | `max_parts` (parts per multipart body) | 100 | [`FormError::TooManyParts`] |
//! | `max_part_header_size` (bytes per part header section) | 10 KiB | [`FormError::PartHeadersTooLarge`] |
//!
//! # Where this differs from Tornado
//!
//! - Malformed or over-limit bodies are errors (all 400) instead of a logged warning and a
//!   partial result: a handler never acts on half a form.
//! - Argument names are decoded as UTF-8 (invalid bytes become U+FFFD) rather than Latin-1.
//! - Pairs split on `&` only, as Python 3.10+ does.
//! - A `Set-Cookie` value is never quoted for you: characters outside RFC 6265 are an error.
//!
//! # Panics
//!
//! Nothing here panics on input from the network; every truncation and malformation of a
//! multipart body is a [`FormError`].

mod arguments;
mod body;
mod cookies;
mod error;
mod file;
mod limits;
mod multimap;
mod multipart;
mod parameters;
mod set_cookie;
mod timestamp;
mod url;
mod urlencoded;

pub use arguments::Arguments;
pub use body::parse_body_arguments;
pub use cookies::parse_cookie;
pub use error::{CookieError, FormError};
pub use file::{Files, HttpFile};
pub use limits::FormLimits;
pub use multipart::parse_multipart_form_data;
pub use set_cookie::{SameSite, SetCookie};
pub use timestamp::format_timestamp;
pub use url::{split_host_and_port, url_concat};
pub use urlencoded::{parse_qs_bytes, parse_qs_bytes_with_limits};
