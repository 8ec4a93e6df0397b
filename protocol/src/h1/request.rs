//! The server side of the codec: request heads, their derived facts, and the decoder that turns a
//! read buffer into request events.

use std::mem::MaybeUninit;

use bytes::{Buf, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, Version};

/// The longest field name `http::HeaderName` takes; a longer one is refused when the head is
/// decoded, so that building the map later cannot fail.
const MAX_NAME_LENGTH: usize = (1 << 16) - 1;

use super::Event;
use super::body::{BodyDecoder, BodyEvent, BodyFraming};
use super::encode::ResponseContext;
use super::error::ParseError;
use super::fields::{FieldFacts, TransferFraming};
use super::head::{
    STACK_HEADERS, is_http_version_syntax, leading_empty_lines, offset_in, slice_of,
};
use super::header_block::{HeaderBlock, name_bit};
use super::limits::Limits;

/// One step of a request: its head, then body bytes, then its end.
pub type RequestEvent = Event<RequestHead>;

/// What a request's `Expect` header field asks of the server (RFC 9110 §10.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// No expectation (or `100-continue` from an HTTP/1.0 client, which must be ignored).
    None,
    /// `Expect: 100-continue` from an HTTP/1.1 client: it waits for [`CONTINUE_100`] (or a final
    /// response) before sending its body. Send it before reading the body, unless the body is
    /// empty or the request is refused anyway.
    ///
    /// [`CONTINUE_100`]: super::CONTINUE_100
    Continue,
    /// An expectation this server does not know: answer 417 Expectation Failed and close.
    Unsupported,
}

/// A parsed request line and header fields, with the facts the connection needs derived once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestHead {
    /// The request method.
    pub method: Method,
    /// The request target: origin form (`/path?q`), absolute form (`http://host/path`),
    /// authority form (`host:443`, CONNECT only) or `*` (OPTIONS only).
    pub uri: Uri,
    /// HTTP/1.0 or HTTP/1.1 (HTTP/2 for a request that came over an HTTP/2 stream); the
    /// response is written in the same version.
    pub version: Version,
    /// The header fields in arrival order: [`headers`](Self::headers).
    headers: HeaderBlock,
    /// Whether the connection may carry another request after this one: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub keep_alive: bool,
    /// How the body is delimited; `Length(0)` when the request has neither Content-Length nor
    /// Transfer-Encoding.
    pub framing: BodyFraming,
    /// The `Content-Length`, when one was given.
    pub content_length: Option<u64>,
    /// What the `Expect` header field asks for.
    pub expectation: Expectation,
    /// `Connection: upgrade` with an `Upgrade` field (a WebSocket handshake, for one). If the
    /// server switches protocols, the bytes after this request are no longer HTTP/1.1: stop
    /// decoding and hand the read buffer over.
    pub upgrade: bool,
    /// The `:protocol` of an HTTP/2 extended CONNECT (RFC 8441): `websocket` for a WebSocket
    /// opened on an HTTP/2 stream, the HTTP/2 counterpart of `Upgrade: websocket`. `None` for
    /// every other request, and always on HTTP/1.1.
    pub connect_protocol: Option<Box<str>>,
}

impl RequestHead {
    /// The header fields in arrival order (case-insensitive names, several values per name),
    /// values sharing the read buffer's allocation.
    ///
    /// The map is built on the first call: the decoder has already read the fields that decide
    /// framing and persistence, and a handler that never looks at headers never pays for it.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.map()
    }

    /// The first value of the header field `name`. Unlike `headers().get(name)`, a name the
    /// head does not carry is answered without building the header map.
    pub fn header(&self, name: &HeaderName) -> Option<&HeaderValue> {
        if self.headers.may_contain(name.as_str().as_bytes()) {
            self.headers().get(name)
        } else {
            None
        }
    }

    /// The first value of the field `name`, as bytes, without building the header map when it
    /// is not built yet (a scan of the head's fields instead): the cheap way to read one field.
    pub fn header_bytes(&self, name: &HeaderName) -> Option<&[u8]> {
        self.headers.first_value(name.as_str().as_bytes())
    }

    /// Whether the head has a field `name`; like [`header`](Self::header), an absent name is
    /// answered without building the header map.
    pub fn contains_header(&self, name: &HeaderName) -> bool {
        self.header(name).is_some()
    }

    /// Whether the head may carry a precondition (RFC 9110 §13.1: `If-None-Match`,
    /// `If-Match`, `If-Modified-Since`, `If-Unmodified-Since`, `If-Range`). `false` is certain
    /// and costs no lookup: the decoder noted each such field as it read the head, so an
    /// unconditional request (most of them) skips the conditional checks at once.
    pub fn may_be_conditional(&self) -> bool {
        self.headers.may_be_conditional()
    }

    /// The header fields, to change (built first if no one has asked for them yet).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.headers.map_mut()
    }

    /// Gives the header map (if one was built) back to this thread's pool for a later head;
    /// the head has no fields after.
    pub(crate) fn recycle_headers(&mut self) {
        self.headers.recycle();
    }

    /// A head for a request that did not come through the HTTP/1.1 decoder (an HTTP/2
    /// stream): its fields already in a map, `content_length` as announced.
    pub(crate) fn from_parts(
        method: Method,
        uri: Uri,
        version: Version,
        headers: HeaderMap,
        content_length: Option<u64>,
        framing: BodyFraming,
    ) -> Self {
        RequestHead {
            method,
            uri,
            version,
            headers: HeaderBlock::from_map(headers),
            keep_alive: true,
            framing,
            content_length,
            expectation: Expectation::None,
            upgrade: false,
            connect_protocol: None,
        }
    }

    /// Whether the client waits for `100 Continue` before sending a non-empty body.
    pub fn expects_continue(&self) -> bool {
        self.expectation == Expectation::Continue && self.framing != BodyFraming::Length(0)
    }

    /// The host the request is for: the authority of an absolute-form target (which takes
    /// precedence, RFC 9112 §3.2.2), else the `Host` field.
    pub fn host(&self) -> Option<&str> {
        if let Some(authority) = self.uri.authority() {
            return Some(authority.as_str());
        }
        // The raw scan when the map is not built: asking for the host (an access log line, a
        // template's `request.host`) need not build the whole map.
        self.header_bytes(&http::header::HOST)
            .and_then(|host| std::str::from_utf8(host).ok())
    }

    /// What the response encoder needs to know about this request.
    pub fn response_context(&self) -> ResponseContext {
        ResponseContext {
            version: self.version,
            head_request: self.method == Method::HEAD,
            keep_alive: self.keep_alive,
        }
    }
}

/// Turns the bytes a client sends into [`RequestEvent`]s: a head, body data, an end; then the
/// next pipelined request.
///
/// The caller owns one read buffer per connection, appends what the socket gives, and calls
/// [`decode`](RequestDecoder::decode) until it returns `Ok(None)`. Bytes of the next pipelined
/// request stay in the buffer. Between calls the caller may only append to the buffer.
#[derive(Debug)]
pub struct RequestDecoder {
    /// Where in the current request the decoder is.
    state: State,
    /// The limits every request on this connection is held to.
    limits: Limits,
    /// Bytes at the front of the buffer already searched for a line end without completing a
    /// head, so that a head trickling in is parsed once per line, not once per read.
    scanned: usize,
    /// The framing facts of the head being parsed, with what carries over between heads.
    facts: FieldFacts,
}

#[derive(Debug)]
enum State {
    /// Waiting for (the rest of) a request head.
    Head,
    /// Reading a body; `keep_alive` says what follows its end.
    Body { body: BodyDecoder, keep_alive: bool },
    /// The last request asked to close; no further request is read (RFC 9112 §9.6).
    Closed,
    /// A parse error happened; the framing of anything after it is unknown.
    Failed(ParseError),
}

impl Default for RequestDecoder {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl RequestDecoder {
    /// A decoder for one connection, holding every request to `limits`.
    pub fn new(limits: Limits) -> Self {
        RequestDecoder {
            state: State::Head,
            limits,
            scanned: 0,
            facts: FieldFacts::default(),
        }
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether the decoder is inside a body (a head was returned, its end was not).
    pub fn is_reading_body(&self) -> bool {
        matches!(self.state, State::Body { .. })
    }

    /// Whether no further request will be decoded: the last one did not keep the connection
    /// alive, or a parse error happened. Unread bytes stay in the buffer.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed | State::Failed(_))
    }

    /// Takes the next event off the front of `buf`.
    ///
    /// Returns `Ok(None)` when more bytes are needed, and after a request that closes the
    /// connection. An error is final: every later call returns it again. Map it to a response
    /// with [`ParseError::response`].
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<RequestEvent>, ParseError> {
        // Each arm returns its own result: a head is large, and holding one result to inspect
        // it after the match would copy it once more on the way out.
        match &mut self.state {
            State::Failed(error) => Err(error.clone()),
            State::Closed => Ok(None),
            State::Head => {
                let result = self.decode_head(buf);
                if let Err(error) = &result {
                    self.state = State::Failed(error.clone());
                }
                result
            }
            State::Body { body, keep_alive } => {
                let keep_alive = *keep_alive;
                // Most requests have no body: their end needs no body decoder's step and no
                // copy of its result (~45 instructions a request, callgrind).
                let trailers = if body.end_if_empty() {
                    None
                } else {
                    match body.decode(buf) {
                        Ok(Some(BodyEvent::End { trailers })) => trailers,
                        Ok(Some(BodyEvent::Data(data))) => return Ok(Some(Event::Data(data))),
                        Ok(None) => return Ok(None),
                        Err(error) => {
                            let error = ParseError::Body(error);
                            self.state = State::Failed(error.clone());
                            return Err(error);
                        }
                    }
                };
                self.state = if keep_alive {
                    State::Head
                } else {
                    State::Closed
                };
                Ok(Some(Event::End { trailers }))
            }
        }
    }

    fn decode_head(&mut self, buf: &mut BytesMut) -> Result<Option<RequestEvent>, ParseError> {
        let line_start = leading_empty_lines(buf);
        // Past the limit, the head must be complete within its first `max_head_size` bytes.
        let over_limit = buf.len() > self.limits.max_head_size;
        // Only a new line end can complete a head, or reveal an error in a complete line.
        let search_from = self.scanned.max(line_start).min(buf.len());
        let found = memchr::memchr(b'\n', &buf[search_from..]);
        if found.is_none() && !over_limit {
            self.scanned = buf.len();
            return self.check_request_line(buf, line_start).map(|()| None);
        }
        // When the search began at the line's start, its first line end is the request line's.
        let line_end = found.filter(|_| search_from == line_start);
        self.check_request_line_ending(buf, line_start, line_end)?;

        let max_headers = self.limits.max_headers;
        let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
        let mut heap = Vec::new();
        let storage = if max_headers <= STACK_HEADERS {
            &mut stack[..max_headers]
        } else {
            heap.resize_with(max_headers, MaybeUninit::uninit);
            &mut heap[..]
        };
        // What is parsed must not depend on how the bytes were split into reads:
        // - below the limit, the complete lines only (httparse would also judge the partial
        //   line after the last LF, so an error in it would show or not depending on the
        //   reads; it is judged when its LF arrives);
        // - past it, exactly the first `max_head_size` bytes, once: a head complete in them
        //   is fine, an error in them is that error (it comes before the limit), anything
        //   else is 431.
        let bytes: &[u8] = if over_limit {
            &buf[..self.limits.max_head_size]
        } else {
            let last_line_end =
                search_from + memchr::memrchr(b'\n', &buf[search_from..]).unwrap_or_default();
            &buf[..=last_line_end]
        };
        let mut request = httparse::Request::new(&mut []);
        let head_length = match request.parse_with_uninit_headers(bytes, storage) {
            Ok(httparse::Status::Complete(length)) => length,
            Ok(httparse::Status::Partial) if over_limit => return Err(ParseError::HeadTooLarge),
            Ok(httparse::Status::Partial) => {
                self.scanned = buf.len();
                return Ok(None);
            }
            Err(httparse::Error::Version) => {
                return Err(version_error(&buf[line_start..]));
            }
            Err(error) => return Err(error.into()),
        };
        if head_length > self.limits.max_head_size {
            return Err(ParseError::HeadTooLarge);
        }
        let method = request
            .method
            .and_then(|method| Method::from_bytes(method.as_bytes()).ok())
            .ok_or(ParseError::InvalidRequestLine)?;
        let target = offset_in(bytes, request.path.unwrap_or_default().as_bytes());
        let version = match request.version {
            Some(0) => Version::HTTP_10,
            _ => Version::HTTP_11,
        };
        // The framing facts come straight from httparse's slices; the header map itself is
        // built only if someone asks for it (see `HeaderBlock`).
        self.facts.next_head();
        let mut names = 0;
        for field in request.headers.iter() {
            if field.name.len() > MAX_NAME_LENGTH {
                return Err(ParseError::InvalidHeaderName);
            }
            names |= name_bit(field.name.as_bytes());
            self.facts.observe(field.name.as_bytes(), field.value)?;
        }
        let field_count = request.headers.len();
        let fields_start = request.headers.first().map_or(head_length, |field| {
            offset_in(bytes, field.name.as_bytes()).start
        });

        self.scanned = 0;
        // Each slice of the head bumps the read buffer's shared reference count (an atomic
        // add, and a subtract when dropped): the target takes one slice, and the head itself,
        // advanced past the request line, becomes the header section.
        let mut head = buf.split_to(head_length).freeze();
        let target_bytes = slice_of(&head, &target).ok_or(ParseError::InvalidRequestLine)?;
        let uri = Uri::from_maybe_shared(target_bytes).map_err(|_| ParseError::InvalidUri)?;
        let target = head.get(target).ok_or(ParseError::InvalidRequestLine)?;
        check_target_form(&method, target, &uri)?;
        let headers = if field_count > 0 && fields_start <= head.len() {
            head.advance(fields_start);
            HeaderBlock::new(head, field_count, names, self.facts.precondition)
        } else {
            HeaderBlock::default()
        };
        let facts = derive_facts(version, &self.facts, &self.limits)?;

        self.state = State::Body {
            body: BodyDecoder::new(facts.framing, &self.limits),
            keep_alive: facts.keep_alive,
        };
        // Built in the result itself: a head is ~220 bytes, and each function returning it
        // whole copied it once more (~30 instructions a copy, callgrind).
        Ok(Some(Event::Head(RequestHead {
            method,
            uri,
            version,
            headers,
            keep_alive: facts.keep_alive,
            framing: facts.framing,
            content_length: self.facts.content_length,
            expectation: facts.expectation,
            upgrade: facts.upgrade,
            connect_protocol: None,
        })))
    }

    /// 414 for a request line over the limit, whether or not its end has arrived; checked before
    /// parsing so that the answer does not depend on how the line was split across reads.
    fn check_request_line(&self, buf: &[u8], line_start: usize) -> Result<(), ParseError> {
        self.check_request_line_ending(buf, line_start, None)
    }

    /// [`check_request_line`](Self::check_request_line) with the line's end (offset of its LF
    /// from `line_start`) when the caller already found it.
    fn check_request_line_ending(
        &self,
        buf: &[u8],
        line_start: usize,
        line_end: Option<usize>,
    ) -> Result<(), ParseError> {
        let limit = self
            .limits
            .max_request_line_size
            .min(self.limits.max_head_size);
        let line = &buf[line_start.min(buf.len())..];
        let too_long = match line_end.or_else(|| memchr::memchr(b'\n', line)) {
            Some(end) => {
                let length = if end > 0 && line[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                length > limit
            }
            // Even if the last byte is the CR of the line end, the line is longer than `limit`.
            None => line.len() > limit.saturating_add(1),
        };
        if too_long {
            return Err(ParseError::RequestLineTooLong);
        }
        Ok(())
    }
}

/// 505 for a well-formed `HTTP/x.y` that is not 1.0 or 1.1, 400 for anything else.
fn version_error(line: &[u8]) -> ParseError {
    let line = match memchr::memchr(b'\n', line) {
        Some(end) => &line[..end],
        None => line,
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let version = line.rsplit(|byte| *byte == b' ').next().unwrap_or_default();
    let parts = line.split(|byte| *byte == b' ').count();
    if parts == 3 && is_http_version_syntax(version) {
        ParseError::UnsupportedVersion
    } else {
        ParseError::InvalidRequestLine
    }
}

/// RFC 9112 §3.2: each request-target form belongs to certain methods.
fn check_target_form(method: &Method, target: &[u8], uri: &Uri) -> Result<(), ParseError> {
    let allowed = match target {
        [b'/', ..] => method != Method::CONNECT,
        b"*" => method == Method::OPTIONS,
        _ if uri.scheme().is_some() => method != Method::CONNECT && uri.authority().is_some(),
        _ => method == Method::CONNECT && uri.authority().is_some(),
    };
    if allowed {
        Ok(())
    } else {
        Err(ParseError::InvalidUri)
    }
}

/// Applies RFC 9112's rules on Host, framing and persistence to a parsed head.
fn derive_facts(
    version: Version,
    facts: &FieldFacts,
    limits: &Limits,
) -> Result<HeadFacts, ParseError> {
    if facts.host_count > 1 {
        return Err(ParseError::DuplicateHost);
    }
    if facts.host_count == 0 && version == Version::HTTP_11 {
        return Err(ParseError::MissingHost);
    }
    let framing = match (facts.transfer_encoding, facts.content_length) {
        (Some(_), Some(_)) => return Err(ParseError::ContentLengthWithTransferEncoding),
        (Some(_), None) if version == Version::HTTP_10 => {
            return Err(ParseError::TransferEncodingInHttp10);
        }
        (Some(codings), None) => match codings.framing() {
            TransferFraming::Chunked => BodyFraming::Chunked,
            TransferFraming::UnsupportedCoding => {
                return Err(ParseError::UnsupportedTransferCoding);
            }
            TransferFraming::NotChunkedFinal => return Err(ParseError::InvalidTransferEncoding),
        },
        (None, Some(length)) if length > limits.max_body_size => {
            return Err(ParseError::ContentLengthTooLarge);
        }
        (None, Some(length)) => BodyFraming::Length(length),
        (None, None) => BodyFraming::Length(0),
    };
    let keep_alive = if version == Version::HTTP_11 {
        !facts.connection_close
    } else {
        facts.connection_keep_alive && !facts.connection_close
    };
    let expectation = if facts.expect_other {
        Expectation::Unsupported
    } else if facts.expect_continue && version == Version::HTTP_11 {
        Expectation::Continue
    } else {
        Expectation::None
    };
    Ok(HeadFacts {
        keep_alive,
        framing,
        expectation,
        upgrade: facts.connection_upgrade && facts.upgrade,
    })
}

/// What [`derive_facts`] concludes from a head's fields: the [`RequestHead`] fields of the
/// same names.
struct HeadFacts {
    keep_alive: bool,
    framing: BodyFraming,
    expectation: Expectation,
    upgrade: bool,
}
