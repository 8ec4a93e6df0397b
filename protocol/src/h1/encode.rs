//! Response serialization: the status line, the header block with the framing headers the
//! encoder owns, and body framing (Content-Length, chunked, or close-delimited), all appended to
//! a caller's write buffer so that pipelined responses go out in one write.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::{
    CONNECTION, CONTENT_LENGTH, DATE, ETAG, HeaderName, HeaderValue, TRANSFER_ENCODING,
};
use http::{HeaderMap, StatusCode, Version};

use super::date::DateCache;
use super::error::{EncodeError, ErrorResponse};
use super::fields::list_elements;

/// The exact interim response a client with `Expect: 100-continue` waits for. Write it before
/// reading the body; it does not count as the request's response.
pub const CONTINUE_100: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// What the encoder must know about the request a response answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseContext {
    /// The request's version: an HTTP/1.0 client gets an `HTTP/1.0` status line, no chunked
    /// body, and `Connection: keep-alive` when the connection stays open.
    pub version: Version,
    /// The request was HEAD: the response carries the headers a GET would, but no body.
    pub head_request: bool,
    /// The request allowed the connection to stay open; if `false` the response says
    /// `Connection: close` and the connection must close after it.
    pub keep_alive: bool,
}

impl Default for ResponseContext {
    /// An HTTP/1.1 non-HEAD request that keeps the connection alive.
    fn default() -> Self {
        ResponseContext {
            version: Version::HTTP_11,
            head_request: false,
            keep_alive: true,
        }
    }
}

/// How long the response body will be, as known when the head is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// Exactly this many bytes: sent with `Content-Length`.
    Known(u64),
    /// Not known yet: chunked to an HTTP/1.1 client, close-delimited to an HTTP/1.0 one.
    Streaming,
}

/// Writes a response head into `dst` and returns the encoder for its body.
///
/// The encoder owns the framing: it writes `Content-Length` or `Transfer-Encoding` from
/// `length` and drops those fields from `headers` (except a `Content-Length` the caller gives on
/// a 304, or on a HEAD response with [`BodyLength::Streaming`], which describe the body that is
/// not sent). A [`BodyLength::Streaming`] body whose `headers` carry one valid
/// `Content-Length` is framed with that length, as [`BodyLength::Known`] (a file of known size
/// streamed in pieces); without one it is chunked. It adds `Date` (from `date`, refreshed here) unless `headers` has one, and a
/// `Connection` token when the default for the version is wrong. A `Connection` field in
/// `headers` is written as given, and `close` in it makes the connection close. Every other
/// field is written as given, in order.
///
/// 1xx, 204 and 304 responses and responses to HEAD have no body: the returned encoder discards
/// what it is given. An interim 1xx response gets no `Date` and no `Connection` token; do not
/// send one to an HTTP/1.0 client.
pub fn encode_response_head(
    context: &ResponseContext,
    status: StatusCode,
    headers: &HeaderMap,
    length: BodyLength,
    date: &mut DateCache,
    dst: &mut BytesMut,
) -> BodyEncoder {
    date.refresh();
    encode_response_head_cached(context, status, None, headers, length, date, dst)
}

/// [`encode_response_head`] with `date` as the caller last refreshed it: a connection that
/// encodes a batch of pipelined answers reads the clock once per batch, not once per answer.
pub(crate) fn encode_response_head_cached(
    context: &ResponseContext,
    status: StatusCode,
    reason: Option<&str>,
    headers: &HeaderMap,
    length: BodyLength,
    date: &DateCache,
    dst: &mut BytesMut,
) -> BodyEncoder {
    encode_response_head_with_defaults(
        context, status, reason, headers, None, None, length, date, dst,
    )
}

/// Default header fields for [`encode_response_head_with_defaults`]: written after the
/// answer's own fields, each name only if the answer does not set it. Only maps that
/// [`fit`](Self::fit).
#[derive(Clone, Copy)]
pub(crate) struct DefaultFields<'a> {
    /// The fields.
    map: &'a HeaderMap,
    /// All of them as field lines, written in one copy when the answer sets none of them.
    lines: &'a [u8],
}

/// A map of default fields with its field lines encoded once: an application hands every
/// answer the same map, and the connection keeps the lines of the last one it saw rather than
/// writing each field (name lookup, four copies) into every head.
pub(crate) struct EncodedDefaults {
    /// The map, kept so that its address identifies it.
    map: Arc<HeaderMap>,
    /// `map`'s fields as field lines, when it [`fit`](DefaultFields::fit)s.
    lines: Option<Vec<u8>>,
}

impl EncodedDefaults {
    /// Encodes `map`'s lines (if the encoder can write them itself).
    pub(crate) fn new(map: Arc<HeaderMap>) -> Self {
        let lines = DefaultFields::fit(&map).then(|| {
            let mut lines = BytesMut::new();
            for (name, value) in map.iter() {
                write_field(name, value, &mut lines);
            }
            lines.to_vec()
        });
        EncodedDefaults { map, lines }
    }

    /// Whether these are `map`'s lines.
    pub(crate) fn is_for(&self, map: &Arc<HeaderMap>) -> bool {
        Arc::ptr_eq(&self.map, map)
    }

    /// The map.
    pub(crate) fn map(&self) -> &HeaderMap {
        &self.map
    }

    /// The fields for the encoder; `None` when they do not fit (they go into the answer's map).
    pub(crate) fn fields(&self) -> Option<DefaultFields<'_>> {
        self.lines.as_deref().map(|lines| DefaultFields {
            map: &self.map,
            lines,
        })
    }
}

impl DefaultFields<'_> {
    /// Whether `fields` can be written this way: at most 64 names (the encoder tracks which
    /// ones the answer sets in one word) and none of the fields the encoder reads for itself
    /// (framing, `Connection`, `Date`).
    pub(crate) fn fit(fields: &HeaderMap) -> bool {
        fields.keys_len() <= 64
            && fields.keys().all(|name| {
                name != CONNECTION
                    && name != DATE
                    && name != CONTENT_LENGTH
                    && name != TRANSFER_ENCODING
            })
    }

    /// One bit per default name (in the map's order) that `name` is.
    fn bits_of(self, name: &HeaderName) -> u64 {
        let mut bits = 0;
        for (index, default) in self.map.keys().enumerate() {
            if default == name {
                bits |= 1 << index;
            }
        }
        bits
    }
}

/// [`encode_response_head_cached`] with `defaults` written where the answer lacks them, and
/// `etag` (an [`EntityTag`](crate::server::EntityTag) kept out of the map) as the `ETag` field
/// unless `headers` holds one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_response_head_with_defaults(
    context: &ResponseContext,
    status: StatusCode,
    reason: Option<&str>,
    headers: &HeaderMap,
    defaults: Option<DefaultFields<'_>>,
    etag: Option<&[u8]>,
    length: BodyLength,
    date: &DateCache,
    dst: &mut BytesMut,
) -> BodyEncoder {
    let interim = status.is_informational();
    let (kind, framing) = if interim || status == StatusCode::NO_CONTENT {
        (Kind::Discard, Framing::None)
    } else if status == StatusCode::NOT_MODIFIED {
        (Kind::Discard, Framing::CallersLength)
    } else if context.head_request {
        match length {
            BodyLength::Known(length) => (Kind::Discard, Framing::Length(length)),
            BodyLength::Streaming => (Kind::Discard, Framing::CallersLength),
        }
    } else {
        // A streamed body whose length the caller knows (a file) goes out with that
        // `Content-Length`, checked like any other, rather than chunked.
        let length = match length {
            BodyLength::Streaming => {
                callers_content_length(headers).map_or(length, BodyLength::Known)
            }
            known => known,
        };
        match length {
            BodyLength::Known(length) => (
                Kind::Length {
                    announced: length,
                    remaining: length,
                },
                Framing::Length(length),
            ),
            BodyLength::Streaming if context.version == Version::HTTP_10 => {
                (Kind::CloseDelimited, Framing::None)
            }
            BodyLength::Streaming => (Kind::Chunked, Framing::Chunked),
        }
    };

    // One pass over the caller's fields finds what the encoder must know about them; looking
    // each up by name would hash every name again.
    let mut callers_close = false;
    let mut callers_keep_alive = false;
    let mut callers_date = false;
    let mut callers_etag = false;
    let mut fields_size = etag.map_or(0, |tag| tag.len() + 8);
    // Which default names the answer sets itself.
    let mut defaults_set = 0u64;
    for (name, value) in headers {
        if let Some(defaults) = defaults {
            defaults_set |= defaults.bits_of(name);
        }
        if name == CONNECTION {
            for token in list_elements(value.as_bytes()) {
                callers_close |= token.eq_ignore_ascii_case(b"close");
                callers_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name == DATE {
            callers_date = true;
        } else if etag.is_some() && name == ETAG {
            callers_etag = true;
        }
        fields_size += name.as_str().len() + value.len() + 4;
    }
    let must_close = !context.keep_alive || kind == Kind::CloseDelimited || callers_close;

    dst.reserve(128 + fields_size);
    write_status_line(context.version, status, reason, dst);
    if !interim && !callers_date {
        dst.extend_from_slice(date.line());
    }
    for (name, value) in headers {
        let framing_field = name == TRANSFER_ENCODING
            || (name == CONTENT_LENGTH && framing != Framing::CallersLength);
        if framing_field {
            continue;
        }
        write_field(name, value, dst);
    }
    if let Some(tag) = etag
        && !callers_etag
    {
        write_etag(tag, dst);
    }
    if let Some(DefaultFields { lines, .. }) = defaults
        && defaults_set == 0
    {
        dst.extend_from_slice(lines);
    } else if let Some(DefaultFields { map, .. }) = defaults {
        // The map yields a name's values together, names in the order `bits_of` counts them.
        let mut index = 0;
        let mut last: Option<&HeaderName> = None;
        for (name, value) in map {
            if last.is_some_and(|last| last != name) {
                index += 1;
            }
            last = Some(name);
            if defaults_set & (1 << index) == 0 {
                write_field(name, value, dst);
            }
        }
    }
    match framing {
        Framing::Length(length) => {
            let mut digits = itoa::Buffer::new();
            let digits = digits.format(length).as_bytes();
            // The whole field line in one append.
            let mut line = [0u8; 16 + 20 + 2];
            line[..16].copy_from_slice(b"content-length: ");
            line[16..16 + digits.len()].copy_from_slice(digits);
            line[16 + digits.len()..16 + digits.len() + 2].copy_from_slice(b"\r\n");
            dst.extend_from_slice(&line[..16 + digits.len() + 2]);
        }
        Framing::Chunked => dst.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        Framing::None | Framing::CallersLength => {}
    }
    if !interim {
        if context.version == Version::HTTP_10 {
            if !must_close && !callers_keep_alive {
                dst.extend_from_slice(b"connection: keep-alive\r\n");
            }
        } else if must_close && !callers_close {
            dst.extend_from_slice(b"connection: close\r\n");
        }
    }
    dst.extend_from_slice(b"\r\n");

    BodyEncoder { kind, must_close }
}

/// Appends `name: value` and its line end.
fn write_field(name: &HeaderName, value: &HeaderValue, dst: &mut BytesMut) {
    dst.extend_from_slice(name.as_str().as_bytes());
    dst.extend_from_slice(b": ");
    dst.extend_from_slice(value.as_bytes());
    dst.extend_from_slice(b"\r\n");
}

/// Appends the `ETag` field line: in one copy when the tag is as short as a hash's.
fn write_etag(tag: &[u8], dst: &mut BytesMut) {
    const NAME: &[u8] = b"etag: ";
    let mut line = [0u8; NAME.len() + 24 + 2];
    if tag.len() > 24 {
        dst.extend_from_slice(NAME);
        dst.extend_from_slice(tag);
        dst.extend_from_slice(b"\r\n");
        return;
    }
    let end = NAME.len() + tag.len();
    line[..NAME.len()].copy_from_slice(NAME);
    line[NAME.len()..end].copy_from_slice(tag);
    line[end..end + 2].copy_from_slice(b"\r\n");
    dst.extend_from_slice(&line[..end + 2]);
}

/// The one `Content-Length` among `headers`, if there is exactly one and it is a number.
fn callers_content_length(headers: &HeaderMap) -> Option<u64> {
    let mut values = headers.get_all(CONTENT_LENGTH).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let digits = value.to_str().ok()?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether `reason` may be sent as a status line's reason phrase (RFC 9112 §4:
/// `*( HTAB / SP / VCHAR / obs-text )`; obs-text is refused, as RFC 9110 asks senders not to
/// generate it): no CR or LF that would split the head, no other control character.
pub(crate) fn is_reason_phrase(reason: &str) -> bool {
    reason
        .bytes()
        .all(|byte| byte == b'\t' || byte == b' ' || byte.is_ascii_graphic())
}

/// `HTTP/1.x CODE Reason\r\n`, in one append for the statuses most answers carry. A custom
/// `reason` (already checked by [`is_reason_phrase`]) replaces the standard one.
fn write_status_line(
    version: Version,
    status: StatusCode,
    reason: Option<&str>,
    dst: &mut BytesMut,
) {
    let common: Option<&[u8]> = match (version == Version::HTTP_10, status.as_u16()) {
        _ if reason.is_some() => None,
        (false, 200) => Some(b"HTTP/1.1 200 OK\r\n"),
        (false, 404) => Some(b"HTTP/1.1 404 Not Found\r\n"),
        (false, 304) => Some(b"HTTP/1.1 304 Not Modified\r\n"),
        (true, 200) => Some(b"HTTP/1.0 200 OK\r\n"),
        _ => None,
    };
    if let Some(line) = common {
        dst.extend_from_slice(line);
        return;
    }
    dst.extend_from_slice(if version == Version::HTTP_10 {
        b"HTTP/1.0 "
    } else {
        b"HTTP/1.1 "
    });
    dst.extend_from_slice(status.as_str().as_bytes());
    dst.extend_from_slice(b" ");
    let reason = reason.or(status.canonical_reason()).unwrap_or("");
    dst.extend_from_slice(reason.as_bytes());
    dst.extend_from_slice(b"\r\n");
}

impl ErrorResponse {
    /// Writes this answer as an HTTP/1.1 response with an empty body into `dst`.
    ///
    /// The request's version is unknown when its head failed to parse, so the answer is always
    /// HTTP/1.1, which RFC 9110 §6.2 allows a server to send to any HTTP/1.x client.
    pub fn encode(&self, date: &mut DateCache, dst: &mut BytesMut) {
        let context = ResponseContext {
            version: Version::HTTP_11,
            head_request: false,
            keep_alive: !self.close,
        };
        encode_response_head(
            &context,
            self.status,
            &HeaderMap::new(),
            BodyLength::Known(0),
            date,
            dst,
        );
    }
}

/// Which framing header the encoder writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// None: the status has no body, or the body is close-delimited.
    None,
    /// None of its own; a `Content-Length` among the caller's headers is kept.
    CallersLength,
    /// `content-length: N`.
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked,
}

/// Frames the body of one response as its head announced.
#[derive(Debug)]
pub struct BodyEncoder {
    /// How body bytes are framed, and how many are still due.
    kind: Kind,
    /// The connection must close after this response: the client asked, the caller asked, or
    /// the body is delimited by the close.
    must_close: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Length { announced: u64, remaining: u64 },
    Chunked,
    CloseDelimited,
    Discard,
    Finished,
}

impl BodyEncoder {
    /// Whether the connection must close once this response is written.
    pub fn must_close(&self) -> bool {
        self.must_close
    }

    /// Whether [`encode_end`](BodyEncoder::encode_end) has completed the body.
    pub fn is_finished(&self) -> bool {
        self.kind == Kind::Finished
    }

    /// Appends body bytes to `dst`, framed. Empty `data` writes nothing (an empty chunk would
    /// end a chunked body). For a response without a body the bytes are dropped.
    pub fn encode_data(&mut self, data: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        match &mut self.kind {
            Kind::Length {
                announced,
                remaining,
            } => {
                let length = data.len() as u64;
                if length > *remaining {
                    return Err(EncodeError::BodyTooLong {
                        announced: *announced,
                    });
                }
                *remaining -= length;
                dst.extend_from_slice(data);
            }
            Kind::Chunked => {
                if !data.is_empty() {
                    dst.reserve(data.len() + 20);
                    write_chunk_size(data.len() as u64, dst);
                    dst.extend_from_slice(data);
                    dst.extend_from_slice(b"\r\n");
                }
            }
            Kind::CloseDelimited => dst.extend_from_slice(data),
            Kind::Discard => {}
            Kind::Finished => return Err(EncodeError::BodyFinished),
        }
        Ok(())
    }

    /// [`encode_data`](Self::encode_data) for a piece held in `Bytes`, without copying it:
    /// the framing before the piece goes into `dst`, and the piece comes back to be sent as it
    /// is, right after `dst`'s bytes, followed by the returned suffix (`\r\n` after a chunk).
    /// `Ok(None)`: nothing of it is sent (a response without a body, an empty piece).
    pub fn encode_data_shared(
        &mut self,
        data: Bytes,
        dst: &mut BytesMut,
    ) -> Result<Option<(Bytes, &'static [u8])>, EncodeError> {
        if data.is_empty() {
            return Ok(None);
        }
        match &mut self.kind {
            Kind::Length {
                announced,
                remaining,
            } => {
                let length = data.len() as u64;
                if length > *remaining {
                    return Err(EncodeError::BodyTooLong {
                        announced: *announced,
                    });
                }
                *remaining -= length;
                Ok(Some((data, b"")))
            }
            Kind::Chunked => {
                write_chunk_size(data.len() as u64, dst);
                Ok(Some((data, b"\r\n")))
            }
            Kind::CloseDelimited => Ok(Some((data, b""))),
            Kind::Discard => Ok(None),
            Kind::Finished => Err(EncodeError::BodyFinished),
        }
    }

    /// Ends the body: the last chunk and `trailers` for a chunked body (trailers are dropped
    /// for any other framing, which cannot carry them), nothing otherwise.
    ///
    /// Fails if a `Content-Length` body is short; the connection must then close, since the
    /// client still waits for the missing bytes.
    pub fn encode_end(
        &mut self,
        trailers: Option<&HeaderMap>,
        dst: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        match self.kind {
            Kind::Length { remaining, .. } if remaining > 0 => {
                self.must_close = true;
                self.kind = Kind::Finished;
                return Err(EncodeError::BodyTooShort { missing: remaining });
            }
            Kind::Chunked => {
                dst.extend_from_slice(b"0\r\n");
                for (name, value) in trailers.into_iter().flatten() {
                    dst.extend_from_slice(name.as_str().as_bytes());
                    dst.extend_from_slice(b": ");
                    dst.extend_from_slice(value.as_bytes());
                    dst.extend_from_slice(b"\r\n");
                }
                dst.extend_from_slice(b"\r\n");
            }
            Kind::Finished => return Err(EncodeError::BodyFinished),
            Kind::Length { .. } | Kind::CloseDelimited | Kind::Discard => {}
        }
        self.kind = Kind::Finished;
        Ok(())
    }
}

fn write_chunk_size(size: u64, dst: &mut BytesMut) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    let mut start = digits.len();
    let mut rest = size;
    loop {
        start -= 1;
        digits[start] = HEX[(rest & 0xf) as usize];
        rest >>= 4;
        if rest == 0 {
            break;
        }
    }
    dst.extend_from_slice(&digits[start..]);
    dst.extend_from_slice(b"\r\n");
}
