//! `multipart/form-data` (RFC 7578 over RFC 2046 framing), parsed from a whole body.

use std::ops::Range;

use bytes::Bytes;
use memchr::memmem;

use super::parameters::Parameterized;
use super::{Arguments, Files, FormError, FormLimits, HttpFile};

/// Content type of a file part that names none (Tornado's default).
const DEFAULT_FILE_CONTENT_TYPE: &str = "application/unknown";

/// Parses a `multipart/form-data` body, as Tornado's `parse_multipart_form_data`.
///
/// `boundary` is the content type's `boundary` parameter, surrounding quotes allowed. Parts
/// whose `Content-Disposition` has a non-empty `filename` (or `filename*`) become
/// [`HttpFile`]s in the returned [`Files`]; the others are arguments (an empty `filename=""`,
/// what browsers send for an empty file input, is an argument with an empty value, as in
/// Tornado). Values and file bodies are slices of `body`, not copies.
///
/// Framing follows RFC 2046: a preamble before the first delimiter and an epilogue after the
/// close delimiter are ignored, spaces or tabs after a delimiter are allowed, and the CRLF
/// before each delimiter belongs to the delimiter. Lines must end in CRLF. `boundary` text that
/// is not followed by `--` or a line end is part content. RFC 2231 continuations
/// (`filename*0=`) are not supported.
///
/// # Errors
///
/// Where Tornado logs and keeps the parts before the damage, this returns an error (a 400, see
/// [`FormError::status`]) and nothing: a handler never acts on half a form.
///
/// - [`FormError::MissingBoundary`]: `boundary` is empty.
/// - [`FormError::NoFinalBoundary`]: the body ends before `--boundary--` (any truncation).
/// - [`FormError::TooManyParts`], [`FormError::TooManyFields`],
///   [`FormError::PartHeadersTooLarge`]: over `limits`.
/// - [`FormError::MissingPartHeaders`], [`FormError::InvalidPartHeader`],
///   [`FormError::NotFormData`], [`FormError::MissingPartName`]: a malformed part.
pub fn parse_multipart_form_data(
    boundary: &[u8],
    body: &Bytes,
    limits: &FormLimits,
) -> Result<(Arguments, Files), FormError> {
    let boundary = match boundary {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    if boundary.is_empty() {
        return Err(FormError::MissingBoundary);
    }
    let delimiters = Delimiters::new(boundary);

    let mut arguments = Arguments::new();
    let mut files = Files::new();
    let mut parts = 0usize;
    let mut fields = 0usize;
    let mut next = delimiters.first(body)?;
    while let Delimiter::Part { content_start, .. } = next {
        parts += 1;
        if parts > limits.max_parts {
            return Err(FormError::TooManyParts {
                limit: limits.max_parts,
            });
        }
        let following = delimiters.find(body, content_start)?;
        let part = parse_part(body, content_start..following.start(), limits)?;
        match part.filename {
            Some(filename) => files.push(
                part.name,
                HttpFile {
                    filename,
                    content_type: part
                        .content_type
                        .unwrap_or_else(|| DEFAULT_FILE_CONTENT_TYPE.to_owned()),
                    body: part.content,
                },
            ),
            None => {
                fields += 1;
                if fields > limits.max_fields {
                    return Err(FormError::TooManyFields {
                        limit: limits.max_fields,
                    });
                }
                arguments.push(part.name, part.content);
            }
        }
        next = following;
    }
    Ok((arguments, files))
}

/// Where a delimiter line starts and what it opens.
#[derive(Debug, Clone, Copy)]
enum Delimiter {
    /// `--boundary` then optional padding and CRLF: a part's headers start at `content_start`.
    Part {
        /// Offset of the delimiter (its leading CRLF, if any): the end of the previous part.
        start: usize,
        /// Offset of the first byte after the delimiter line.
        content_start: usize,
    },
    /// `--boundary--`: the last part ended at `start`; the rest is epilogue.
    Close {
        /// Offset of the delimiter: the end of the previous part.
        start: usize,
    },
}

impl Delimiter {
    fn start(self) -> usize {
        match self {
            Delimiter::Part { start, .. } | Delimiter::Close { start } => start,
        }
    }
}

/// Finds delimiters in linear time.
struct Delimiters {
    /// Searches for `CRLF--boundary`, the delimiter inside a body.
    finder: memmem::Finder<'static>,
    /// `--boundary`, which may open the body without a CRLF before it.
    dash_boundary: Vec<u8>,
}

impl Delimiters {
    fn new(boundary: &[u8]) -> Self {
        let mut dash_boundary = b"--".to_vec();
        dash_boundary.extend_from_slice(boundary);
        let mut delimiter = b"\r\n".to_vec();
        delimiter.extend_from_slice(&dash_boundary);
        Delimiters {
            finder: memmem::Finder::new(&delimiter).into_owned(),
            dash_boundary,
        }
    }

    /// The first delimiter: at offset 0 without a CRLF, or after a preamble.
    fn first(&self, body: &[u8]) -> Result<Delimiter, FormError> {
        if body.starts_with(&self.dash_boundary)
            && let Some(delimiter) = classify(body, 0, self.dash_boundary.len())
        {
            return Ok(delimiter);
        }
        self.find(body, 0)
    }

    /// The next delimiter at or after `from`, skipping boundary text that is content.
    fn find(&self, body: &[u8], from: usize) -> Result<Delimiter, FormError> {
        let mut search = from;
        loop {
            let found = self
                .finder
                .find(&body[search..])
                .ok_or(FormError::NoFinalBoundary)?;
            let start = search + found;
            let after = start + self.finder.needle().len();
            if let Some(delimiter) = classify(body, start, after) {
                return Ok(delimiter);
            }
            search = start + 1;
        }
    }
}

/// What the delimiter text at `start..after` opens, or `None` if it is content.
fn classify(body: &[u8], start: usize, after: usize) -> Option<Delimiter> {
    let rest = &body[after..];
    if rest.starts_with(b"--") {
        return Some(Delimiter::Close { start });
    }
    let padding = rest
        .iter()
        .take_while(|&&byte| byte == b' ' || byte == b'\t')
        .count();
    rest[padding..]
        .starts_with(b"\r\n")
        .then_some(Delimiter::Part {
            start,
            content_start: after + padding + 2,
        })
}

/// One part, its headers read.
struct Part {
    /// The `name` parameter of its `Content-Disposition`.
    name: String,
    /// The non-empty `filename`, if any: it makes the part a file.
    filename: Option<String>,
    /// Its `Content-Type` header, if any.
    content_type: Option<String>,
    /// The bytes after its header section.
    content: Bytes,
}

fn parse_part(body: &Bytes, range: Range<usize>, limits: &FormLimits) -> Result<Part, FormError> {
    let part = &body[range.clone()];
    let (header_section, content_offset) = if part.starts_with(b"\r\n") {
        (&part[..0], 2)
    } else {
        // Look no further than the limit allows, so a huge headerless part costs nothing.
        let window_length = limits.max_part_header_size.saturating_add(4);
        let window = &part[..part.len().min(window_length)];
        match memmem::find(window, b"\r\n\r\n") {
            Some(end) => (&part[..end], end + 4),
            None if part.len() > window_length => {
                return Err(FormError::PartHeadersTooLarge {
                    limit: limits.max_part_header_size,
                });
            }
            None => return Err(FormError::MissingPartHeaders),
        }
    };
    let headers = PartHeaders::parse(header_section)?;

    let disposition = headers.disposition.ok_or(FormError::NotFormData)?;
    let disposition = Parameterized::parse(disposition)?;
    if !disposition.value.eq_ignore_ascii_case("form-data") {
        return Err(FormError::NotFormData);
    }
    let name = disposition
        .get("name")
        .filter(|name| !name.is_empty())
        .ok_or(FormError::MissingPartName)?;
    Ok(Part {
        name: name.to_owned(),
        filename: disposition
            .get("filename")
            .filter(|filename| !filename.is_empty())
            .map(str::to_owned),
        content_type: headers.content_type.map(str::to_owned),
        content: body.slice(range.start + content_offset..range.end),
    })
}

/// The two part headers form-data gives meaning to; others are ignored.
struct PartHeaders<'a> {
    /// `Content-Disposition`, unfolded and trimmed.
    disposition: Option<&'a str>,
    /// `Content-Type`, trimmed.
    content_type: Option<&'a str>,
}

impl<'a> PartHeaders<'a> {
    /// Reads `name: value` lines. Obsolete line folding is accepted only as part of values we
    /// ignore: a folded `Content-Disposition` is rejected rather than rebuilt.
    fn parse(section: &'a [u8]) -> Result<Self, FormError> {
        let text = std::str::from_utf8(section).map_err(|_| FormError::InvalidPartHeader)?;
        let mut headers = PartHeaders {
            disposition: None,
            content_type: None,
        };
        if text.is_empty() {
            return Ok(headers);
        }
        let mut last_name = "";
        for line in text.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                let folds_known = last_name.eq_ignore_ascii_case("content-disposition")
                    || last_name.eq_ignore_ascii_case("content-type");
                if last_name.is_empty() || folds_known {
                    return Err(FormError::InvalidPartHeader);
                }
                continue;
            }
            let (name, value) = line.split_once(':').ok_or(FormError::InvalidPartHeader)?;
            let name = name.trim();
            if name.is_empty() {
                return Err(FormError::InvalidPartHeader);
            }
            let slot = if name.eq_ignore_ascii_case("content-disposition") {
                Some(&mut headers.disposition)
            } else if name.eq_ignore_ascii_case("content-type") {
                Some(&mut headers.content_type)
            } else {
                None
            };
            if let Some(slot) = slot {
                // Two answers to "what is this part" is an ambiguity a proxy and the
                // application could resolve differently.
                if slot.replace(value.trim()).is_some() {
                    return Err(FormError::InvalidPartHeader);
                }
            }
            last_name = name;
        }
        Ok(headers)
    }
}
